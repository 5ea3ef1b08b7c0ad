/**
 * The JSON API for accounts and cookie sessions (shared/API.md): sign-up, sign-in, sign-out, and "who am I".
 * Each handler reads fields, calls the engine, and writes the result; rules live in the engine.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth, PublicUser } from '../auth.js'
import { AuthError, isAuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import type { CsrfGuard } from './csrf.js'
import { isoTime } from './iso-time.js'
import { setCookie } from './reply-cookies.js'
import { readRequiredStringFields } from './request-fields.js'
import { authenticateAnyRequest, clientContext } from './session-request.js'

export interface ApiRoutesOptions {
  auth: Auth
  csrf: CsrfGuard
}

/** Registers `/auth/signup`, `/auth/session` and `/auth/me` (which accepts a cookie or a bearer token). */
export async function apiRoutes(app: FastifyInstance, { auth, csrf }: ApiRoutesOptions): Promise<void> {
  app.post('/auth/signup', async (request, reply) => {
    csrf.requireSameOrigin(request)
    const { email, password } = readRequiredStringFields(request.body, ['email', 'password'])
    const user = await auth.signUp({ email, password, ip: request.ip })
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ user: userJSON(user) })
  })

  app.post('/auth/session', async (request, reply) => {
    csrf.requireSameOrigin(request)
    const { email, password } = readRequiredStringFields(request.body, ['email', 'password'])
    const result = await auth.signIn({
      email,
      password,
      cookieHeader: request.headers.cookie,
      ...clientContext(request),
    })
    setCookie(reply, result.cookie)
    return { user: userJSON(result.user), session: sessionJSON(result.principal) }
  })

  app.delete('/auth/session', async (request, reply) => {
    csrf.requireSameOrigin(request)
    const { cookie } = await auth.signOut(request.headers.cookie)
    setCookie(reply, cookie)
    return reply.code(204).send()
  })

  app.get('/auth/me', { schema: { response: { 200: ME_RESPONSE } } }, async (request, reply) => {
    const result = await authenticateAnyRequest(auth, request, reply)
    if (!result) throw new AuthError('unauthenticated', 'No session cookie or bearer token was sent.')
    reply.header('cache-control', 'no-store')
    const session = sessionJSON(result.principal)
    if (result.user) return { user: userJSON(result.user), session }
    let user: PublicUser | null
    try {
      user = await auth.findUser(result.principal.userId)
    } catch (error) {
      // The token itself is valid until it expires, store or no store: answer with what it proves.
      if (isAuthError(error, 'store_unavailable')) return { user: { id: result.principal.userId }, session }
      throw error
    }
    if (!user)
      throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'user_unavailable' })
    return { user: userJSON(user), session }
  })
}

/**
 * The 200 body of `GET /auth/me`, declared so that Fastify compiles a serializer for it (fast-json-stringify):
 * the route is the one every client calls on every page, and generic `JSON.stringify` was a tenth of its
 * CPU in its profile (`npm run bench:profile`). `email` is absent when the store is down and the token's word
 * is all there is.
 */
const ME_RESPONSE = {
  type: 'object',
  required: ['user', 'session'],
  additionalProperties: false,
  properties: {
    user: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string' }, email: { type: 'string' } },
    },
    session: {
      type: 'object',
      required: ['id', 'method', 'created_at', 'expires_at'],
      additionalProperties: false,
      properties: {
        id: { type: 'string' },
        method: { type: 'string' },
        created_at: { type: 'string' },
        expires_at: { type: 'string' },
      },
    },
  },
} as const

function userJSON(user: PublicUser): { id: string; email: string } {
  return { id: user.id, email: user.email }
}

function sessionJSON(principal: Principal): {
  id: string
  method: string
  created_at: string
  expires_at: string
} {
  return {
    id: principal.sessionId,
    method: principal.method,
    created_at: isoTime(principal.issuedAt),
    expires_at: isoTime(principal.expiresAt),
  }
}
