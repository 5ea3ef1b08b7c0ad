/**
 * The JSON API for accounts and cookie sessions (docs/api.md): sign-up, sign-in, sign-out, and "who am I".
 * Each handler reads fields, calls the engine, and writes the result; rules live in the engine, and who may call
 * a route (and how it proves its origin) is declared on the route for the pipeline (`pipeline.ts`).
 */
import type { FastifyInstance } from 'fastify'
import {
  type Auth,
  type PublicUser,
  type RequestAuthentication,
  type SecondFactorProof,
  isSecondFactorRequired,
} from '../auth.js'
import { AuthError, isAuthError } from '../core/errors.js'
import { isoTime } from './iso-time.js'
import { sessionJSON, userJSON } from './session-json.js'
import { authenticationOf } from './pipeline.js'
import { appendSetCookies, setCookie } from './reply-cookies.js'
import { readRequiredStringFields, readStringFields } from './request-fields.js'
import {
  checkSecondFactorProof,
  clientContextOf,
  completeSignInFromRequest,
  signInFromRequest,
} from './sign-in.js'
import { requestContext } from './pages/language.js'

export interface ApiRoutesOptions {
  auth: Auth
}

/** Registers `/auth/signup`, `/auth/session` and `/auth/me` (which accepts a cookie or a bearer token). */
export async function apiRoutes(app: FastifyInstance, { auth }: ApiRoutesOptions): Promise<void> {
  app.post('/auth/signup', async (request, reply) => {
    const { email, password } = readRequiredStringFields(request.body, ['email', 'password'])
    const user = await auth.signUp({ email, password, ...requestContext(request) })
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ user: userJSON(user) })
  })

  app.post('/auth/session', async (request, reply) => {
    const credentials = readRequiredStringFields(request.body, ['email', 'password'])
    const result = await signInFromRequest(auth, request, credentials)
    appendSetCookies(reply, [result.setCookie])
    reply.header('cache-control', 'no-store')
    if (isSecondFactorRequired(result)) {
      // Not signed in yet: the pending sign-in is in its cookie, finished at /auth/session/second-factor.
      return {
        second_factor_required: true,
        methods: result.secondFactor.methods,
        expires_at: isoTime(result.secondFactor.expiresAt),
      }
    }
    return { user: userJSON(result.user), session: sessionJSON(result.principal) }
  })

  app.post('/auth/session/second-factor/passkey/options', async (request, reply) => {
    const { options, ceremony } = await auth.secondFactorPasskeyOptions(request.headers.cookie)
    return reply.header('cache-control', 'no-store').send({ options, ceremony })
  })

  app.post('/auth/session/second-factor', async (request, reply) => {
    const result = await completeSignInFromRequest(auth, request, readSecondFactorProof(request.body))
    appendSetCookies(reply, result.setCookies)
    reply.header('cache-control', 'no-store')
    return { user: userJSON(result.user), session: sessionJSON(result.principal) }
  })

  app.delete('/auth/session', async (request, reply) => {
    const { cookie } = await auth.signOut(request.headers.cookie, clientContextOf(request))
    setCookie(reply, cookie)
    return reply.code(204).send()
  })

  app.get(
    '/auth/me',
    { config: { auth: 'required' }, schema: { response: { 200: ME_RESPONSE } } },
    async (request, reply) => {
      const { principal, user: sessionUser } = authenticationOf<RequestAuthentication>(request)!
      reply.header('cache-control', 'no-store')
      const session = sessionJSON(principal)
      if (sessionUser) return { user: userJSON(sessionUser), session }
      let user: PublicUser | null
      try {
        user = await auth.findUser(principal.userId)
      } catch (error) {
        // The token itself is valid until it expires, store or no store: answer with what it proves.
        if (isAuthError(error, 'store_unavailable')) return { user: { id: principal.userId }, session }
        throw error
      }
      if (!user)
        throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'user_unavailable' })
      return { user: userJSON(user), session }
    },
  )
}

/**
 * The 200 body of `GET /auth/me`, declared so that Fastify compiles a serializer for it (fast-json-stringify):
 * the route is the one every client calls on every page, and generic `JSON.stringify` was a tenth of its
 * CPU in its profile (`npm run bench:profile`). `email` is absent when the store is down and the token's word
 * is all there is (and so is `email_verified`).
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
      properties: { id: { type: 'string' }, email: { type: 'string' }, email_verified: { type: 'boolean' } },
    },
    session: {
      type: 'object',
      required: ['id', 'method', 'amr', 'created_at', 'expires_at'],
      additionalProperties: false,
      properties: {
        id: { type: 'string' },
        method: { type: 'string' },
        amr: { type: 'array', items: { type: 'string' } },
        created_at: { type: 'string' },
        expires_at: { type: 'string' },
      },
    },
  },
} as const

/** `{"code": …}` (the authenticator app), `{"recovery_code": …}` or `{"passkey": {…}}`: exactly one. */
function readSecondFactorProof(body: unknown): SecondFactorProof {
  const { code, recovery_code: recoveryCode } = readStringFields(body, ['code', 'recovery_code'])
  const passkey = (body as Record<string, unknown>)['passkey']
  return checkSecondFactorProof({ code, recoveryCode, passkey })
}
