/** `/healthz` (the process is alive) and `/readyz` (the store answers, so requests can be served). */
import type { FastifyInstance } from 'fastify'
import { AuthError } from '../core/errors.js'
import type { Store } from '../store/types.js'

export async function healthRoutes(app: FastifyInstance, { store }: { store: Store }): Promise<void> {
  app.get('/healthz', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  )

  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping()
    } catch (error) {
      throw new AuthError('store_unavailable', `The ${store.kind} store is not reachable.`, { cause: error })
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ready', store: store.kind })
  })
}
