import { describe, expect, it } from 'vitest'
import { startTestServer } from '../helpers/server.js'

describe('health', () => {
  it('reports alive and ready, then not ready once the store is gone', async () => {
    const server = await startTestServer()
    const alive = await server.app.inject({ method: 'GET', url: '/healthz' })
    expect(alive.statusCode).toBe(200)
    expect(alive.json()).toEqual({ status: 'ok' })
    const ready = await server.app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', store: 'sqlite' })

    await server.store.close()
    const notReady = await server.app.inject({ method: 'GET', url: '/readyz' })
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json()).toEqual({
      error: 'store_unavailable',
      error_description: 'The sqlite store is not reachable.',
    })
    const me = await server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { cookie: `__Host-sesame=${'A'.repeat(43)}` },
    })
    expect(me.statusCode).toBe(503)
    expect(me.json()).toMatchObject({ error: 'store_unavailable' })
    await server.close()
  })
})
