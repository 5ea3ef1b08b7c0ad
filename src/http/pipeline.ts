/**
 * The request pipeline of the server's own routes. Each route declares once, in its config, who may call it
 * and how a state change proves it comes from a page this server trusts; one `onRoute` hook turns that into
 * the route's hooks, built on the guard that apps' middleware uses (`guard.ts`, `fastify.ts`), so the server
 * and an embedding app authenticate and refuse cross-site requests the same way.
 *
 * A state-changing route (any method but GET, HEAD and OPTIONS) that declares nothing gets the strictest rule,
 * `same-origin`: a route added later cannot forget CSRF, only loosen it by saying so.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import { BUILT_IN_CLIENT_ID } from '../engine/clients.js'
import { AuthError } from '../core/errors.js'
import type { ClientDirectory } from './client-directory.js'
import type { CsrfGuard } from './csrf.js'
import { sesameFastify } from './fastify.js'
import { type Authenticator, authenticationOf } from './guard.js'

/**
 * Who may call a route:
 * - `none`: no credential is read (sign-up, sign-in, the token endpoint, public documents);
 * - `optional`: a session cookie or bearer token is read if sent; bad ones are refused with 401;
 * - `required`: as `optional`, and a request without one is refused with 401;
 * - `page`: as `optional`, but an ended or malformed session cookie counts as signed out (and is cleared).
 */
export type RouteAuth = 'none' | 'optional' | 'required' | 'page'

/**
 * How a state-changing request proves it comes from a trusted page (`csrf.ts`):
 * - `same-origin`: always (sign-in and sign-up: login CSRF; sign-out; anything a cookie could authorise);
 * - `by-credential`: when authenticated by a cookie, the ambient credential; otherwise (a bearer token, or no
 *   credential at all) the request is refused only when it proves another origin;
 * - `refuse-cross-origin`: refused only when another origin is proven (no ambient credential is read; a handler
 *   that then takes the refresh-token cookie asks for `same-origin` itself);
 * - `client-origins`: as `refuse-cross-origin`, but pages on an origin a registered OAuth client names may call
 *   too (`client-directory.ts`): the token, revocation and userinfo endpoints a browser app uses.
 */
export type CsrfRule = 'same-origin' | 'by-credential' | 'refuse-cross-origin' | 'client-origins'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; default `none`. */
    auth?: RouteAuth
    /** How a state change proves its origin; default `same-origin` (ignored for GET, HEAD and OPTIONS). */
    csrf?: CsrfRule
    /**
     * Whose access tokens the route takes: `first-party` (default) the built-in client's and first-party
     * clients' only, since Sesame's own account API acts for the person in full; `any-client` also
     * third-party apps' (the userinfo endpoint, which answers by the token's scopes).
     */
    tokens?: 'first-party' | 'any-client'
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
/** On every response: no response is to be sniffed into another type (a JSON error rendered as HTML, say). */
const NOSNIFF = 'nosniff'

/** Installs the pipeline on `app` (the root instance, before any route is declared). */
export function installPipeline(
  app: FastifyInstance,
  {
    authenticator,
    csrf,
    trustedOrigins,
    clients,
  }: {
    authenticator: Authenticator
    csrf: CsrfGuard
    trustedOrigins: readonly string[]
    clients: ClientDirectory
  },
): void {
  const guards = sesameFastify({ authenticator, trustedOrigins })
  const authHooks = {
    optional: guards.authenticate,
    required: guards.requireAuth(),
    page: guards.authenticatePage,
  }
  const sameOrigin = async (request: FastifyRequest): Promise<void> => csrf.requireSameOrigin(request)
  const notCrossOrigin = async (request: FastifyRequest): Promise<void> => csrf.refuseCrossOrigin(request)
  const notCrossOriginButClients = async (request: FastifyRequest): Promise<void> => {
    const origin = request.headers.origin
    if (origin !== undefined && (await clients.hasOrigin(origin))) return
    csrf.refuseCrossOrigin(request)
  }
  const originChecks = {
    'same-origin': sameOrigin,
    'by-credential': notCrossOrigin,
    'refuse-cross-origin': notCrossOrigin,
    'client-origins': notCrossOriginButClients,
  }

  /**
   * A third-party app's token grants what its scopes say, nothing more: not the account API that changes the
   * password, the email or the devices (nor `/auth/me`, which would show the email without the `email` scope).
   */
  async function refuseThirdPartyToken(clientId: string): Promise<void> {
    if (await clients.isFirstParty(clientId)) return
    throw new AuthError(
      'insufficient_scope',
      "A third-party app's access token cannot use Sesame's account API.",
      {
        reason: 'third_party_token',
      },
    )
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat()
    const auth = route.config?.auth ?? 'none'
    const changesState = methods.some((method) => !SAFE_METHODS.has(method))
    const rule = changesState ? (route.config?.csrf ?? 'same-origin') : null
    if (rule === 'by-credential' && auth === 'none') {
      throw new TypeError(`${route.url}: csrf "by-credential" needs a route that reads credentials (auth).`)
    }
    // The origin check runs first, as a hook before the body is even read: a forged request is refused before
    // its credential is looked up. Only state-changing routes have one.
    const originCheck = rule === null ? null : originChecks[rule]
    if (originCheck) route.onRequest = [originCheck, ...[route.onRequest ?? []].flat()]
    // Authentication runs inside the handler rather than as a hook: a route with no hook at all skips Fastify's
    // hook runner, which `GET /auth/me`, the request every client makes on every page, measurably pays for.
    // The guard itself demands same origin of a cookie-authenticated state change (`by-credential`).
    const authenticate = auth === 'none' ? null : authHooks[auth]
    const firstPartyOnly = route.config?.tokens !== 'any-client'
    const handler = route.handler
    if (!authenticate) {
      // Not async: a route that reads no credentials pays for no extra promise.
      route.handler = function open(this: FastifyInstance, request, reply) {
        reply.header('x-content-type-options', NOSNIFF)
        return handler.call(this, request, reply)
      }
      return
    }
    route.handler = async function guarded(this: FastifyInstance, request, reply) {
      reply.header('x-content-type-options', NOSNIFF)
      await authenticate(request, reply)
      if (reply.sent) return reply // refused: the guard has answered
      // Checked only for a registered client's token: cookies and the built-in client's tokens, nearly every
      // request, pay nothing here (not even a promise).
      const clientId = firstPartyOnly ? authenticationOf(request)?.principal.clientId : undefined
      if (clientId !== undefined && clientId !== BUILT_IN_CLIENT_ID) await refuseThirdPartyToken(clientId)
      return handler.call(this, request, reply)
    }
  })
}

/** What the pipeline authenticated for `request` (the engine's result: principal, and user for a cookie). */
export { authenticationOf }
