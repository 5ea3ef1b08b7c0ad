/**
 * Cross-origin resource sharing (the Fetch standard's CORS protocol) for the standalone server.
 *
 * Each route has one of three policies, by default from its path, or from `config.cors` where a route differs:
 * - `any-origin` (`/.well-known/*`): public documents with no credential in them, readable by any page
 *   (`Access-Control-Allow-Origin: *`, never with credentials).
 * - `trusted-origins` (`/auth/*`): pages on `SESAME_TRUSTED_ORIGINS` may call the route with credentials (the
 *   session cookie, or the refresh-token cookie scoped to `/auth`) and read its answer; the exact origin is
 *   echoed with `Access-Control-Allow-Credentials: true`. That holds for every `/auth/*` route, even one that
 *   reads no cookie (sign-up): the browser attaches the cookies of a credentialed call to any of them, and the
 *   client SDK makes every call credentialed, which fails unless the answer allows credentials. The list is the one the CSRF rule trusts: an origin
 *   allowed to change state here is one of the deployment's own front ends, and one that may change state but
 *   not read the answer is the failure this module exists to end (a sign-in that creates a token family the
 *   page can never see).
 * - `client-origins` (the token, revocation and userinfo endpoints): as `trusted-origins`, and also the origins
 *   registered OAuth clients name (`client-directory.ts`): a browser app on its own origin signs in through the
 *   redirect flow and then calls these. Credentials are allowed as for trusted origins (the client SDK's calls
 *   are credentialed); the one ambient credential these routes read, the refresh-token cookie, is still
 *   refused to any origin but Sesame's and the trusted ones (CSRF, `token-routes.ts`).
 * - `none` (pages, health checks, the revocation feed): no CORS headers at all.
 *
 * An origin not on the list gets no CORS headers, so the browser keeps the answer from it; its preflight is
 * refused with `403 origin_not_allowed`, and a state change it sends without one (a form post) is still refused
 * by the CSRF rule before anything is written. This is not an access-control layer: it only decides what a
 * browser lets a page read.
 *
 * Preflights (`OPTIONS`) are answered by one route per path, registered beside the path's first route, that
 * names the methods the path really has: routes are collected as they are declared (`onRoute`), so a route
 * added later gets its preflight without a list to keep up to date.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { AuthError } from '../core/errors.js'
import { sendError } from './error-reply.js'
import type { ClientDirectory } from './client-directory.js'
import type { RouteTable } from './route-table.js'

export type CorsPolicy = 'any-origin' | 'trusted-origins' | 'client-origins' | 'none'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Overrides the CORS policy this route's path gives it (see `src/http/cors.ts`). */
    cors?: CorsPolicy
  }
}

/** Request headers a trusted page may send: a bearer token, and a JSON or form body. */
const ALLOWED_HEADERS = 'Authorization, Content-Type'
/**
 * Response headers a trusted page may read beyond the CORS-safelisted ones: the bearer challenge (the client SDK
 * refreshes on `invalid_token` in it) and the wait before a retry.
 */
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After'
/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600

/** The policy a path gets unless its route says otherwise. */
export function defaultCorsPolicy(path: string): CorsPolicy {
  if (path.startsWith('/.well-known/')) return 'any-origin'
  if (path.startsWith('/auth/')) return 'trusted-origins'
  return 'none'
}

/**
 * Installs CORS on `app` (the root instance, before any route is declared): response headers on every route
 * with a policy, and a preflight route for each of their paths. `trustedOrigins` are normalised origins.
 */
export function installCors(
  app: FastifyInstance,
  trustedOrigins: readonly string[],
  routes: RouteTable,
  clients: ClientDirectory,
): void {
  const trusted = new Set(trustedOrigins)
  /** Whether `origin` may make credentialed calls to a route of `policy` and read the answers. */
  const admits = async (policy: CorsPolicy, origin: string): Promise<boolean> =>
    trusted.has(origin) || (policy === 'client-origins' && (await clients.hasOrigin(origin)))
  /** Per path pattern: its policy (the methods a preflight names come from the route table). */
  const paths = new Map<string, CorsPolicy>()

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat()
    if (methods.includes('OPTIONS')) return // a preflight route itself
    const policy = route.config?.cors ?? defaultCorsPolicy(route.url)
    const declared = paths.get(route.url)
    if (declared === undefined) {
      paths.set(route.url, policy)
      // On the root instance, with the full path: `route.url` already holds any plugin prefix.
      if (policy !== 'none') {
        app.options(route.url, { config: { cors: policy } }, (request, reply) =>
          preflight(request, reply, policy),
        )
      }
    } else if (declared !== policy) {
      throw new TypeError(`Routes of ${route.url} disagree on their CORS policy (${declared}, ${policy}).`)
    }
    // Decided per route once, here, rather than per request in a global hook: it is on every request's path.
    // With no trusted origin, no answer depends on Origin: nothing to echo, and no `Vary` to send.
    const headers =
      policy === 'any-origin'
        ? anyOriginHeaders
        : policy === 'trusted-origins' && trusted.size > 0
          ? trustedOriginHeaders
          : policy === 'client-origins'
            ? clientOriginHeaders
            : null
    if (headers) route.onRequest = [headers, ...[route.onRequest ?? []].flat()]
  })

  async function clientOriginHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('vary', 'Origin')
    const origin = request.headers.origin
    if (origin !== undefined && (await admits('client-origins', origin))) allowCredentialed(reply, origin)
  }

  function allowCredentialed(reply: FastifyReply, origin: string): void {
    reply.header('access-control-allow-origin', origin)
    reply.header('access-control-allow-credentials', 'true')
    reply.header('access-control-expose-headers', EXPOSED_HEADERS)
  }

  function anyOriginHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    reply.header('access-control-allow-origin', '*')
    done()
  }

  function trustedOriginHeaders(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    // The answer differs by Origin, so no cache may give one origin's answer to another.
    reply.header('vary', 'Origin')
    const origin = request.headers.origin
    if (origin !== undefined && trusted.has(origin)) allowCredentialed(reply, origin)
    done()
  }

  async function preflight(
    request: FastifyRequest,
    reply: FastifyReply,
    policy: CorsPolicy,
  ): Promise<FastifyReply> {
    const methods = routes.methodsFor(request.url.split('?')[0]!).join(', ')
    const origin = request.headers.origin
    const requestedMethod = request.headers['access-control-request-method']
    reply.header('allow', methods)
    if (origin === undefined || requestedMethod === undefined) {
      // A plain OPTIONS (RFC 9110 §9.3.7), not a browser's preflight: say what the path allows.
      return reply.code(204).send()
    }
    if (policy === 'trusted-origins' || policy === 'client-origins') {
      reply.header('vary', 'Origin')
      if (!(await admits(policy, origin))) {
        const where =
          policy === 'client-origins'
            ? 'neither in SESAME_TRUSTED_ORIGINS nor registered by a client'
            : 'not in SESAME_TRUSTED_ORIGINS'
        sendError(
          request,
          reply,
          new AuthError('origin_not_allowed', `The origin ${quoted(origin)} is ${where}.`),
        )
        return reply
      }
      reply.header('access-control-allow-origin', origin)
      reply.header('access-control-allow-credentials', 'true')
    } else {
      reply.header('access-control-allow-origin', '*')
    }
    return reply
      .code(204)
      .header('access-control-allow-methods', methods)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
      .send()
  }
}

/** The origin as the message may show it: printable ASCII only, and short (it is the client's own text). */
function quoted(origin: string): string {
  const printable = origin.replace(/[^\x20-\x7e]/g, '?')
  return `"${printable.length > 100 ? `${printable.slice(0, 100)}…` : printable}"`
}
