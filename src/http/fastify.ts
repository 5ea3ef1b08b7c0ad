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
import { type GuardOptions, type RouteGuards, createRouteGuards, principalOf } from './guard.js'
import { appendSetCookies } from './reply-cookies.js'

export { principalOf }

export type FastifyHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export type SesameFastify = RouteGuards<FastifyHook, FastifyRequest>

/** Builds the hooks; options are checked now, so a mistake fails at start-up, not on the first request. */
export function sesameFastify(options: GuardOptions): SesameFastify {
  // Fastify's request already has what the guard reads (method, host, headers).
  return createRouteGuards<FastifyRequest, FastifyHook>(
    options,
    (request) => request,
    (step) => async (request, reply) => {
      const decision = await step(request)
      appendSetCookies(reply, decision.setCookies)
      if (decision.pass) return undefined
      const { status, headers, body } = decision.error
      return reply.code(status).headers(headers).send(body)
    },
  )
}
