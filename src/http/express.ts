/**
 * Sesame for Express 4 and 5: middleware that authenticates each request (session cookie or bearer token) and
 * guards routes by rule. Typed structurally, so it needs neither `express` nor `@types/express` at run time.
 *
 * ```js
 * const sesame = sesameExpress({ authenticator: auth })   // the engine, or createVerifier(...)
 * app.get('/api/me', sesame.requireAuth(), (req, res) => res.json(principalOf(req)))
 * app.post('/api/admin', sesame.requireRole('admin'), handler)
 * ```
 * Failures answer with Sesame's JSON error shape: `401 unauthenticated` / `invalid_token` / `invalid_session`
 * (with the RFC 6750 challenge for bearer), `403 insufficient_scope` for a token without the role,
 * `403 forbidden` for a session without it, `403 csrf_rejected` for a cross-site state change by cookie.
 */
import {
  type Auth,
  type PublicUser,
  type SecondFactorMethod,
  type SecondFactorProof,
  isSecondFactorRequired,
} from '../auth.js'
import { AuthError, isAuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import { serializeCookie } from '../core/cookie.js'
import { createCsrfGuard } from './csrf.js'
import {
  type SignInRequest,
  checkSecondFactorProof,
  completeSignInFromRequest,
  signInFromRequest,
} from './sign-in.js'
import { type ErrorResponse, describeError, toAuthError } from './error-reply.js'
import {
  type GuardOptions,
  type GuardRequest,
  type RouteGuards,
  createRouteGuards,
  principalOf,
} from './guard.js'

export { principalOf }

/** The parts of an Express request the middleware reads (and `principal`, which it sets). */
export interface ExpressLikeRequest {
  method: string
  headers: Record<string, string | string[] | undefined>
  principal?: Principal | null
}

/** The parts of an Express response the middleware writes. */
export interface ExpressLikeResponse {
  append(field: string, value: string | string[]): unknown
  set(field: string, value: string): unknown
  status(code: number): { json(body: unknown): unknown }
}

export type ExpressLikeNext = (error?: unknown) => void
export type ExpressMiddleware = (
  request: ExpressLikeRequest,
  response: ExpressLikeResponse,
  next: ExpressLikeNext,
) => void

export type SesameExpress = RouteGuards<ExpressMiddleware, ExpressLikeRequest>

/** Builds the middleware; options are checked now, so a mistake fails at start-up, not on the first request. */
export function sesameExpress(options: GuardOptions): SesameExpress {
  return createRouteGuards<ExpressLikeRequest, ExpressMiddleware>(
    options,
    toGuardRequest,
    (step) => (request, response, next) => {
      step(request)
        .then((decision) => {
          appendSetCookies(response, decision.setCookies)
          if (!decision.pass) return sendErrorResponse(response, decision.error)
          request.principal = principalOf(request)
          next()
        })
        .catch(next) // a throwing rule or an unexpected error reaches the app's error handler, never escapes
    },
  )
}

export interface SesameExpressSessions {
  /**
   * Signs in with an email and password (a new session id every time; one the browser had is ended), after
   * the same-origin check that stops login CSRF; sets the session cookie on success. Never throws for bad
   * input: the error answer comes back for the app to render.
   */
  signIn(
    request: ExpressLikeRequest & { ip?: string | undefined },
    response: ExpressLikeResponse,
    credentials: { email: unknown; password: unknown },
  ): Promise<
    | { ok: true; user: PublicUser }
    /**
     * The account has a second factor: not signed in yet (so `ok` is false, and `error` is
     * `second_factor_required` for an app that only shows errors), but the pending sign-in's cookie is set: ask
     * for a code, then call `completeSignIn`.
     */
    | { ok: false; secondFactorRequired: { methods: SecondFactorMethod[] }; error: ErrorResponse }
    | { ok: false; error: ErrorResponse }
  >
  /**
   * The second step: a code from the authenticator app or a recovery code for the pending sign-in in the
   * request's cookie; sets the session cookie on success. Never throws for bad input.
   */
  completeSignIn(
    request: ExpressLikeRequest & { ip?: string | undefined },
    response: ExpressLikeResponse,
    proof: SecondFactorProof,
  ): Promise<{ ok: true; user: PublicUser } | { ok: false; error: ErrorResponse }>
  /** Ends the request's session (if any) server-side and clears the cookie; throws `csrf_rejected` cross-site. */
  signOut(
    request: ExpressLikeRequest & { ip?: string | undefined },
    response: ExpressLikeResponse,
  ): Promise<void>
}

/** Sign-in and sign-out for an Express app that runs the engine in-process (cookie sessions). */
export function sesameExpressSessions(
  auth: Pick<Auth, 'signIn' | 'completeSignIn' | 'signOut'>,
  options: { trustedOrigins?: readonly string[] } = {},
): SesameExpressSessions {
  if (typeof auth?.signIn !== 'function')
    throw new TypeError('sesameExpressSessions needs the Sesame engine.')
  const csrf = createCsrfGuard(options.trustedOrigins ?? [])
  /**
   * A sign-in step for a request from this origin (login CSRF), with the cookie and client the engine reads;
   * a refusal comes back as the error answer, never thrown.
   */
  async function step<T>(
    request: ExpressLikeRequest & { ip?: string | undefined },
    run: (signInRequest: SignInRequest) => Promise<T>,
  ): Promise<T | { ok: false; error: ErrorResponse }> {
    const guardRequest = toGuardRequest(request)
    try {
      csrf.requireSameOrigin(guardRequest)
      return await run({
        headers: { cookie: guardRequest.headers.cookie, 'user-agent': request.headers['user-agent'] },
        ip: request.ip,
      })
    } catch (error) {
      if (!isAuthError(error)) throw error
      return { ok: false, error: describeError(toAuthError(error)) }
    }
  }

  return {
    signIn: (request, response, credentials) =>
      step(request, async (signInRequest) => {
        const result = await signInFromRequest(auth, signInRequest, credentials)
        appendSetCookies(response, [result.setCookie])
        if (isSecondFactorRequired(result)) {
          const error = new AuthError(
            'second_factor_required',
            'Enter the code from your authenticator app to finish signing in.',
          )
          return {
            ok: false,
            secondFactorRequired: { methods: result.secondFactor.methods },
            error: describeError(error),
          } as const
        }
        return { ok: true, user: result.user } as const
      }),
    completeSignIn: (request, response, proof) =>
      step(request, async (signInRequest) => {
        const result = await completeSignInFromRequest(auth, signInRequest, checkSecondFactorProof(proof))
        appendSetCookies(response, result.setCookies)
        return { ok: true, user: result.user } as const
      }),
    async signOut(request, response) {
      const guardRequest = toGuardRequest(request)
      csrf.requireSameOrigin(guardRequest)
      const userAgent = request.headers['user-agent']
      const { cookie } = await auth.signOut(guardRequest.headers.cookie, {
        ip: request.ip,
        userAgent: typeof userAgent === 'string' ? userAgent : undefined,
      })
      appendSetCookies(response, [serializeCookie(cookie)])
    },
  }
}

/**
 * An Express error handler (four arguments) that answers Sesame's errors, from `signOut` say, with the JSON
 * error shape and status; any other error goes on to the app's next handler.
 */
export function sesameErrorHandler(): (
  error: unknown,
  request: ExpressLikeRequest,
  response: ExpressLikeResponse,
  next: ExpressLikeNext,
) => void {
  return (error, _request, response, next) => {
    if (!isAuthError(error)) return next(error)
    sendErrorResponse(response, describeError(error))
  }
}

/** The one place an Express response gets a cookie: appended, and the response marked uncacheable. */
function appendSetCookies(response: ExpressLikeResponse, values: readonly string[]): void {
  if (values.length === 0) return
  response.append('set-cookie', [...values])
  response.set('cache-control', 'no-store')
}

function sendErrorResponse(response: ExpressLikeResponse, { status, headers, body }: ErrorResponse): void {
  for (const [name, value] of Object.entries(headers)) response.set(name, value)
  response.status(status).json(body)
}

function toGuardRequest(request: ExpressLikeRequest): GuardRequest {
  const header = (name: string): string | undefined => {
    const value = request.headers[name]
    return typeof value === 'string' ? value : undefined
  }
  return {
    method: request.method,
    host: header('host') ?? '',
    headers: {
      authorization: header('authorization'),
      cookie: header('cookie'),
      origin: header('origin'),
      'sec-fetch-site': header('sec-fetch-site'),
    },
  }
}
