/**
 * Sesame for Fastify 5 apps: hooks that authenticate each request (session cookie or bearer token) and guard
 * routes by rule. Plain hook functions, not a plugin, so they work in any encapsulation context.
 *
 * ```js
 * const sesame = sesameFastify({ authenticator: verifier })   // or the engine, createAuth(...)
 * app.get('/api/me', { preHandler: sesame.requireAuth() }, (request) => principalOf(request))
 * app.delete('/api/things/:id', { preHandler: sesame.requireRole('admin') }, handler)
 * ```
 * Failures answer with Sesame's JSON error shape, exactly as the Express middleware does (`./express.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../core/principal.js'
import type { ErrorResponse } from './error-reply.js'
import {
  type AccessRule,
  type GuardOptions,
  type RouteGuards,
  accessRules,
  createRequestGuard,
} from './guard.js'

export type FastifyHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export type SesameFastify = RouteGuards<FastifyHook, FastifyRequest>

const principals = new WeakMap<FastifyRequest, Principal | null>()

/** The principal Sesame's hooks attached to `request`; null when anonymous or not yet authenticated. */
export function principalOf(request: FastifyRequest): Principal | null {
  return principals.get(request) ?? null
}

/** Builds the hooks; options are checked now, so a mistake fails at start-up, not on the first request. */
export function sesameFastify(options: GuardOptions): SesameFastify {
  const guard = createRequestGuard(options)

  function send(reply: FastifyReply, { status, headers, body }: ErrorResponse): FastifyReply {
    return reply.code(status).headers(headers).send(body)
  }

  /**
   * Authenticates once per request (later hooks reuse the result). Returns the principal, or `answered` when
   * authentication failed and the error reply was sent.
   */
  async function principalFor(
    request: FastifyRequest,
    reply: FastifyReply,
    deadSessionIsAnonymous = false,
  ): Promise<{ principal: Principal | null } | 'answered'> {
    if (principals.has(request)) return { principal: principals.get(request)! }
    const outcome = await guard.authenticate(request, { deadSessionIsAnonymous })
    if (outcome.setCookies.length > 0) {
      const previous = reply.getHeader('set-cookie')
      const earlier = previous === undefined ? [] : [previous].flat().map(String)
      reply.header('set-cookie', [...earlier, ...outcome.setCookies])
      reply.header('cache-control', 'no-store')
    }
    if (!outcome.ok) {
      send(reply, outcome.error)
      return 'answered'
    }
    principals.set(request, outcome.principal)
    return { principal: outcome.principal }
  }

  function guarded(rule: AccessRule<FastifyRequest>): FastifyHook {
    return async (request, reply) => {
      const found = await principalFor(request, reply)
      if (found === 'answered') return reply
      const refusal = guard.authorize(found.principal, rule, request)
      return refusal ? send(reply, refusal) : undefined
    }
  }

  return {
    authenticate: async (request, reply) =>
      (await principalFor(request, reply)) === 'answered' ? reply : undefined,
    authenticatePage: async (request, reply) =>
      (await principalFor(request, reply, true)) === 'answered' ? reply : undefined,
    requireAuth: () => guarded(accessRules.authenticated()),
    requireRole: (role) => guarded(accessRules.role(role)),
    requirePermission(rule) {
      if (typeof rule !== 'function')
        throw new TypeError('requirePermission needs a function (principal) => boolean.')
      return guarded(rule)
    },
  }
}
