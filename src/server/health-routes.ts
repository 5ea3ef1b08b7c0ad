/** `/healthz` (the process is alive) and `/readyz` (the store answers, so requests can be served). */
import type { FastifyInstance } from 'fastify'
import { AuthError } from '../core/errors.js'
import type { Store } from '../store/types.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const ALIVE = JSON.stringify({ status: 'ok' })

export async function healthRoutes(app: FastifyInstance, { store }: { store: Store }): Promise<void> {
  // Probed every few seconds by every load balancer: not async (no promise per probe) and a body serialized once.
  app.get('/healthz', (_request, reply) => {
    reply.header('cache-control', 'no-store').type(JSON_TYPE).send(ALIVE)
  })

  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping()
    } catch (error) {
      throw new AuthError('store_unavailable', `The ${store.kind} store is not reachable.`, { cause: error })
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ready', store: store.kind })
  })
}
