/**
 * A user's devices (docs/api.md "Devices"): list sessions and token families, end one, end all others, or log
 * out everywhere; and changing the password, which ends every other device. Each route accepts a session cookie
 * or a bearer token; a state change by cookie must come from a trusted page (`by-credential`, `pipeline.ts`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Auth, Device } from '../auth.js'
import { AuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import { principalOf as attachedPrincipal } from './guard.js'
import { setCookie } from './reply-cookies.js'
import { clientContextOf } from './sign-in.js'
import { readRequiredStringFields, readStringFields } from './request-fields.js'

export interface DeviceRoutesOptions {
  auth: Auth
}

/** A signed-in caller; a state change by cookie proves its origin, one by bearer token needs not. */
const SIGNED_IN = { auth: 'required', csrf: 'by-credential' } as const

/** The principal the pipeline authenticated (`auth: 'required'` guarantees one). */
function principalOf(request: FastifyRequest): Principal {
  return attachedPrincipal(request)!
}

export async function deviceRoutes(app: FastifyInstance, { auth }: DeviceRoutesOptions): Promise<void> {
  app.get('/auth/sessions', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)
    const devices = await auth.devices.list(principal)
    return reply.header('cache-control', 'no-store').send({ sessions: devices.map(deviceJSON) })
  })

  app.delete<{ Params: { id: string } }>(
    '/auth/sessions/:id',
    { config: SIGNED_IN },
    async (request, reply) => {
      const principal = principalOf(request)
      if (!(await auth.devices.end(principal, request.params.id, clientContextOf(request)))) {
        throw new AuthError('not_found', 'No session of yours has this id.')
      }
      if (principal.method === 'cookie' && principal.sessionId === request.params.id) {
        setCookie(reply, auth.blankSessionCookie())
      }
      return reply.code(204).send()
    },
  )

  app.post('/auth/sessions/revoke-others', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)
    const ended = await auth.devices.endOthers(principal, clientContextOf(request))
    return reply.header('cache-control', 'no-store').send({ ended })
  })

  app.post('/auth/password', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)
    // `current_password` is left out when setting the first password of an account made through a provider.
    const { new_password } = readRequiredStringFields(request.body, ['new_password'])
    const { current_password } = readStringFields(request.body, ['current_password'])
    const ended = await auth.changePassword(principal, {
      currentPassword: current_password,
      newPassword: new_password,
      ...clientContextOf(request),
    })
    return reply.header('cache-control', 'no-store').send({ ended })
  })

  app.post('/auth/logout-everywhere', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)
    await auth.devices.endAll(principal, clientContextOf(request))
    if (principal.method === 'cookie') setCookie(reply, auth.blankSessionCookie())
    return reply.code(204).send()
  })
}

function deviceJSON(device: Device): Record<string, unknown> {
  return {
    id: device.id,
    type: device.kind,
    user_agent: device.userAgent,
    ip: device.ip,
    created_at: new Date(device.createdAt * 1000).toISOString(),
    last_seen_at: new Date(device.lastSeenAt * 1000).toISOString(),
    expires_at: new Date(device.expiresAt * 1000).toISOString(),
    current: device.current,
  }
}
