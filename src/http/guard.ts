/**
 * What the Express and Fastify middleware share, with no framework in it: authenticate a request through an
 * {@link Authenticator} (the engine in-process, or a resource-server verifier), refuse cookie-authenticated
 * state changes from other sites, and judge authorization rules. Each adapter only translates its request
 * and response objects; the decisions, and so the behaviour, are the same in both.
 *
 * Authentication (who you are) and authorization (what you may do) stay apart: `authenticate` yields a
 * `Principal` or none; `authorize` applies a route's rule to it.
 */
import type { CookieDescription } from '../core/cookie.js'
import { serializeCookie } from '../core/cookie.js'
import { AuthError, isAuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import { type CsrfRequest, createCsrfGuard } from './csrf.js'
import { type ErrorResponse, describeError } from './error-reply.js'

/** What an authenticator found: the principal, and a cookie to send (a renewed session). */
export interface Authentication {
  principal: Principal
  cookie: CookieDescription | null
}

/** Anything that turns request headers into a principal: the engine (`createAuth`) or a verifier. */
export interface Authenticator {
  /** Null when the request carries no credentials; throws `invalid_token`, `invalid_session`, `invalid_cookie`. */
  authenticate(headers: {
    authorization?: string | undefined
    cookie?: string | undefined
  }): Promise<Authentication | null>
  /** The cookie that clears a dead session; bearer-only verifiers have none. */
  blankSessionCookie?(): CookieDescription
}

/** A route's authorization rule: true lets the principal through. It sees the framework's request too. */
export type AccessRule<Request = unknown> = (principal: Principal, request: Request) => boolean

export interface GuardOptions {
  authenticator: Authenticator
  /** Origins (besides the app's own) whose pages may make cookie-authenticated state changes. */
  trustedOrigins?: readonly string[]
}

/** The request as the guard reads it. */
export interface GuardRequest extends CsrfRequest {
  headers: CsrfRequest['headers'] & {
    authorization?: string | undefined
    cookie?: string | undefined
  }
}

/** The outcome of authenticating one request: a principal (or none), or an error, plus cookies to send either way. */
export type GuardOutcome =
  | { ok: true; authentication: Authentication | null; setCookies: string[] }
  | { ok: false; error: ErrorResponse; setCookies: string[] }

export interface RequestGuard {
  /**
   * Authenticates `request`. Bad credentials become an error outcome; only other errors are thrown. With
   * `deadSessionIsAnonymous` (for pages) an ended or malformed session cookie counts as no credentials: it is
   * cleared and the request goes on as anonymous, so the page can send the visitor to sign in.
   */
  authenticate(request: GuardRequest, options?: { deadSessionIsAnonymous?: boolean }): Promise<GuardOutcome>
  /**
   * Applies `rule` to the authenticated principal: the error answer, or null to let the request through.
   * Throws `TypeError` for a rule that returns a Promise (it would always look truthy).
   */
  authorize<Request>(
    principal: Principal | null,
    rule: AccessRule<Request>,
    request: Request,
  ): ErrorResponse | null
}

/** What each adapter offers, in its framework's handler type. */
export interface RouteGuards<Handler, Request> {
  /** Authenticates if credentials are present (anonymous passes, as null); bad credentials get 401. */
  authenticate: Handler
  /**
   * For pages: like `authenticate`, but an ended or malformed session cookie counts as anonymous (and is
   * cleared), so the page can redirect to its sign-in form instead of showing a 401.
   */
  authenticatePage: Handler
  /** Lets any authenticated principal through; others get 401. */
  requireAuth(): Handler
  /** Lets principals with `role` through; others get 401 or 403. */
  requireRole(role: string): Handler
  /** Lets principals `rule` accepts through; others get 401 or 403. */
  requirePermission(rule: AccessRule<Request>): Handler
}

/** Rules for the common cases. */
export const accessRules = {
  /** Any authenticated principal. */
  authenticated: (): AccessRule => () => true,
  /** A principal holding `role`. */
  role: (role: string): AccessRule => {
    if (typeof role !== 'string' || role === '')
      throw new TypeError('requireRole needs a non-empty role name.')
    return (principal) => principal.roles.includes(role)
  },
}

/** Checks the options once, at setup, and returns the guard. Throws `TypeError` for bad options. */
export function createRequestGuard(options: GuardOptions): RequestGuard {
  const authenticator = options?.authenticator
  if (typeof authenticator?.authenticate !== 'function') {
    throw new TypeError('Option "authenticator" must be the Sesame engine or a verifier.')
  }
  const csrf = createCsrfGuard(options.trustedOrigins ?? [])

  return {
    async authenticate(request, { deadSessionIsAnonymous = false } = {}) {
      const setCookies: string[] = []
      try {
        const result = await authenticator.authenticate({
          authorization: request.headers.authorization,
          cookie: request.headers.cookie,
        })
        if (result?.cookie) setCookies.push(serializeCookie(result.cookie))
        // A cookie rides along on every request a browser makes, whichever site made it: state changes it
        // authenticates must prove they come from a page of this origin. Bearer requests carry no ambient
        // credential and need no such proof.
        if (result?.principal.method === 'cookie') csrf.requireSameOrigin(request)
        return { ok: true, authentication: result, setCookies }
      } catch (error) {
        // Only Sesame's own refusals become answers here; anything else is a bug or an outage of the app's
        // making and goes to the framework's error handling.
        if (!isAuthError(error)) throw error
        const dead = error.code === 'invalid_session' || error.code === 'invalid_cookie'
        if (dead && authenticator.blankSessionCookie) {
          setCookies.push(serializeCookie(authenticator.blankSessionCookie()))
        }
        if (dead && deadSessionIsAnonymous) return { ok: true, authentication: null, setCookies }
        return { ok: false, error: describeError(error), setCookies }
      }
    },

    authorize(principal, rule, request) {
      if (!principal) {
        return describeError(new AuthError('unauthenticated', 'No session cookie or bearer token was sent.'))
      }
      const verdict: unknown = rule(principal, request)
      if (verdict instanceof Promise) {
        throw new TypeError('An access rule must answer true or false at once, not a Promise.')
      }
      if (verdict === true) return null // only a plain true admits: a stray truthy value must not
      return describeError(
        principal.method === 'token'
          ? new AuthError('insufficient_scope', 'The access token does not grant this resource.')
          : new AuthError('forbidden', 'Your account may not use this resource.'),
      )
    },
  }
}

/** What one guard step decided for a request: go on, or answer with an error; cookies to send either way. */
export type GuardDecision =
  { pass: true; setCookies: string[] } | { pass: false; error: ErrorResponse; setCookies: string[] }

// One authentication per request object, whichever adapter or guard step authenticated it first. It rides on
// the request under a symbol no other code can name: a WeakMap keyed by every request made the garbage
// collector trace one ephemeron per request, which the request profile showed (`npm run bench:profile`).
const AUTHENTICATION = Symbol('sesame.authentication')
type Authenticated = { [AUTHENTICATION]?: Authentication | null }

/** The principal Sesame's middleware attached to `request`; null when anonymous or not yet authenticated. */
export function principalOf(request: object): Principal | null {
  return (request as Authenticated)[AUTHENTICATION]?.principal ?? null
}

/**
 * Everything the authenticator returned for `request` (the engine adds the user it read with a cookie
 * session), or null when anonymous or not yet authenticated.
 */
export function authenticationOf<T extends Authentication = Authentication>(request: object): T | null {
  return ((request as Authenticated)[AUTHENTICATION] as T | null | undefined) ?? null
}

/**
 * The route guards for one framework. Everything is decided here: authenticate once per request (later
 * guards reuse the principal), then apply the rule. The adapter gives only `toGuardRequest` (read its
 * request) and `bind` (turn a step into its handler type, writing cookies and error answers its way).
 */
export function createRouteGuards<Request extends object, Handler>(
  options: GuardOptions,
  toGuardRequest: (request: Request) => GuardRequest,
  bind: (step: (request: Request) => Promise<GuardDecision>) => Handler,
): RouteGuards<Handler, Request> {
  const guard = createRequestGuard(options)

  function step(rule: AccessRule<Request> | null, deadSessionIsAnonymous = false) {
    return async (request: Request): Promise<GuardDecision> => {
      let setCookies: string[] = []
      if (!(AUTHENTICATION in request)) {
        const outcome = await guard.authenticate(toGuardRequest(request), { deadSessionIsAnonymous })
        setCookies = outcome.setCookies
        if (!outcome.ok) return { pass: false, error: outcome.error, setCookies }
        ;(request as Authenticated)[AUTHENTICATION] = outcome.authentication
      }
      const refusal = rule && guard.authorize(principalOf(request), rule, request)
      return refusal ? { pass: false, error: refusal, setCookies } : { pass: true, setCookies }
    }
  }

  return {
    authenticate: bind(step(null)),
    authenticatePage: bind(step(null, true)),
    requireAuth: () => bind(step(accessRules.authenticated())),
    requireRole: (role) => bind(step(accessRules.role(role))),
    requirePermission(rule) {
      if (typeof rule !== 'function')
        throw new TypeError('requirePermission needs a function (principal, request) => boolean.')
      return bind(step(rule))
    },
  }
}
