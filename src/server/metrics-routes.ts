/**
 * Where Prometheus scrapes: `GET /metrics` on the main listener for a holder of `SESAME_METRICS_TOKEN`, or a
 * listener of its own on `127.0.0.1:SESAME_METRICS_PORT` that nothing off the machine can reach (a sidecar or
 * node agent scrapes it). The metrics say how many sign-ins fail and which routes are slow: not for everyone.
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { AuthError } from '../core/errors.js'
import { sameSecret } from '../core/hash.js'
import type { ServerMetrics } from './metrics.js'

/** `GET /metrics` behind `Authorization: Bearer <token>`; without a token the route does not exist. */
export async function metricsRoutes(
  app: FastifyInstance,
  { metrics, token }: { metrics: ServerMetrics; token: string | null },
): Promise<void> {
  if (token === null) return
  app.get('/metrics', { config: { cors: 'none' } }, async (request, reply) => {
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1]
    if (!presented || !sameSecret(presented, token)) {
      throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'bad_metrics_token' })
    }
    return reply
      .header('cache-control', 'no-store')
      .type(metrics.registry.contentType)
      .send(await metrics.render())
  })
}

/** Serves `GET /metrics` on loopback only; resolves once listening, with the port and a way to stop. */
export async function startMetricsListener(
  metrics: ServerMetrics,
  port: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Only GET /metrics here.\n')
      return
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' })
        response.end(text)
      },
      () => response.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
