/**
 * Passkeys over JSON (docs/api.md "Passkeys"): a signed-in user registers one (options, then the browser's
 * answer), and anyone signs in with one alone. Each ceremony is two calls: the options (with a sealed
 * `ceremony` to send back) for `navigator.credentials.create` / `.get`, then the browser's answer as
 * `@simplewebauthn/browser` (or `PublicKeyCredential.toJSON()`) gives it.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth } from '../auth.js'
import { serializeCookie } from '../core/cookie.js'
import { AuthError } from '../core/errors.js'
import { principalOf } from './guard.js'
import { appendSetCookies } from './reply-cookies.js'
import { sessionJSON, userJSON } from './session-json.js'
import { clientContextOf } from './sign-in.js'

const SIGNED_IN = { auth: 'required', csrf: 'by-credential' } as const
/** The longest passkey name, in characters (as the account page's rename allows). */
const MAX_NAME_LENGTH = 64

export async function passkeyRoutes(app: FastifyInstance, { auth }: { auth: Auth }): Promise<void> {
  app.post('/auth/session/passkey/options', async (_request, reply) => {
    const { options, ceremony } = await auth.passkeys.beginSignIn()
    return reply.header('cache-control', 'no-store').send({ options, ceremony })
  })

  app.post('/auth/session/passkey', async (request, reply) => {
    const { ceremony, response } = readCeremonyAnswer(request.body)
    const result = await auth.signInWithPasskey({
      ceremony,
      response,
      cookieHeader: request.headers.cookie,
      ...clientContextOf(request),
    })
    appendSetCookies(reply, [serializeCookie(result.cookie)])
    reply.header('cache-control', 'no-store')
    return { user: userJSON(result.user), session: sessionJSON(result.principal) }
  })

  app.post('/auth/passkeys/options', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)!
    // Adding a way in: a recent browser sign-in, with the second factor when the account has one.
    await auth.requireStepUp(principal)
    const user = await auth.findUser(principal.userId)
    if (!user)
      throw new AuthError('invalid_session', 'The session has ended.', { reason: 'user_unavailable' })
    const { options, ceremony } = await auth.passkeys.beginRegistration(user)
    return reply.header('cache-control', 'no-store').send({ options, ceremony })
  })

  app.post('/auth/passkeys', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)!
    await auth.requireStepUp(principal)
    const { ceremony, response, name } = readCeremonyAnswer(request.body)
    const passkey = await auth.passkeys.finishRegistration(principal.userId, ceremony, response, name)
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        passkey: {
          id: passkey.id,
          name: passkey.name,
          created_at: new Date(passkey.createdAt * 1000).toISOString(),
        },
      })
  })
  // Removing one takes the same step-up as adding one; the last way in is kept (`last_sign_in_method`).
  app.delete<{ Params: { id: string } }>(
    '/auth/passkeys/:id',
    { config: SIGNED_IN },
    async (request, reply) => {
      const principal = principalOf(request)!
      await auth.requireStepUp(principal)
      const held = await auth.secondFactors.status(principal.userId)
      if (!held.factors.some((factor) => factor.kind === 'passkey' && factor.id === request.params.id)) {
        throw new AuthError('not_found', 'There is no such passkey on this account.')
      }
      await auth.secondFactors.remove(principal.userId, request.params.id)
      return reply.code(204).send()
    },
  )
}

/** `{ "ceremony": "…", "response": { … }, "name"? }`; anything else is `invalid_request` naming the field. */
function readCeremonyAnswer(body: unknown): { ceremony: string; response: object; name: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AuthError('invalid_request', 'The request body must be a JSON object.')
  }
  const { ceremony, response, name } = body as Record<string, unknown>
  if (typeof ceremony !== 'string')
    throw new AuthError('invalid_request', 'The "ceremony" field is required.')
  if (typeof response !== 'object' || response === null || Array.isArray(response)) {
    throw new AuthError(
      'invalid_request',
      'The "response" field must be the browser\'s answer, a JSON object.',
    )
  }
  if (
    name !== undefined &&
    !(
      typeof name === 'string' &&
      name.trim().length >= 1 &&
      [...name.trim()].length <= MAX_NAME_LENGTH &&
      !/\p{Cc}/u.test(name)
    )
  ) {
    throw new AuthError(
      'invalid_request',
      `The "name" field must be 1 to ${MAX_NAME_LENGTH} characters, without control characters.`,
    )
  }
  return { ceremony, response, name: typeof name === 'string' ? name.trim() : 'Passkey' }
}
