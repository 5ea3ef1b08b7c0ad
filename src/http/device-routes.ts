/**
 * A user's devices (API.md "Either way in"): list sessions and token families, end one, end all others, or log
 * out everywhere; and changing the password, which ends every other device. Each route accepts a session cookie or a bearer token, and state changes pass the CSRF check.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, Device } from '../auth.js'
import { AuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import type { CsrfGuard } from './csrf.js'
import { setCookie } from './reply-cookies.js'
import { readRequiredStringFields } from './request-fields.js'
import { authenticateAnyRequest } from './session-request.js'

export interface DeviceRoutesOptions {
  auth: Auth
  csrf: CsrfGuard
}

export async function deviceRoutes(app: FastifyInstance, { auth, csrf }: DeviceRoutesOptions): Promise<void> {
  /** A bearer token is no ambient credential; a cookie is, and must come from a page of this origin. */
  function checkOrigin(request: FastifyRequest): void {
    if (request.headers.authorization !== undefined) csrf.refuseCrossOrigin(request)
    else csrf.requireSameOrigin(request)
  }

  async function principalOf(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const result = await authenticateAnyRequest(auth, request, reply)
    if (!result) throw new AuthError('unauthenticated', 'No session cookie or bearer token was sent.')
    return result.principal
  }

  app.get('/auth/sessions', async (request, reply) => {
    const principal = await principalOf(request, reply)
    const devices = await auth.devices.list(principal)
    return reply.header('cache-control', 'no-store').send({ sessions: devices.map(deviceJSON) })
  })

  app.delete<{ Params: { id: string } }>('/auth/sessions/:id', async (request, reply) => {
    checkOrigin(request)
    const principal = await principalOf(request, reply)
    if (!(await auth.devices.end(principal, request.params.id))) {
      throw new AuthError('not_found', 'No session of yours has this id.')
    }
    if (principal.method === 'cookie' && principal.sessionId === request.params.id) {
      setCookie(reply, auth.blankSessionCookie())
    }
    return reply.code(204).send()
  })

  app.post('/auth/sessions/revoke-others', async (request, reply) => {
    checkOrigin(request)
    const principal = await principalOf(request, reply)
    const ended = await auth.devices.endOthers(principal)
    return reply.header('cache-control', 'no-store').send({ ended })
  })

  app.post('/auth/password', async (request, reply) => {
    checkOrigin(request)
    const principal = await principalOf(request, reply)
    const fields = readRequiredStringFields(request.body, ['current_password', 'new_password'])
    const ended = await auth.changePassword(principal, {
      currentPassword: fields.current_password,
      newPassword: fields.new_password,
      ip: request.ip,
    })
    return reply.header('cache-control', 'no-store').send({ ended })
  })

  app.post('/auth/logout-everywhere', async (request, reply) => {
    checkOrigin(request)
    const principal = await principalOf(request, reply)
    await auth.devices.endAll(principal)
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
