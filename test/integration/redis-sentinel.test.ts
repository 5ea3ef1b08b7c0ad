/**
 * Sesame on a real Redis Sentinel set (master, replica, three sentinels; test/helpers/redis-sentinel.ts):
 * the server finds the master through the sentinels, confirms every revocation on the replica (WAIT), and
 * when the master is killed answers 503 (never a stale yes for a revoked session) until Sentinel has promoted
 * the replica, then recovers by itself with the sessions and revocations the old master had.
 */
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SentinelSet, startSentinelSet } from '../helpers/redis-sentinel.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'
import { watchFailover } from '../helpers/failover-watch.js'

const PASSWORD = 'sentinel password 1'
/** Sentinel declares the master down after this long without an answer (test/helpers/redis-sentinel.ts). */
const DOWN_AFTER_MS = 1000
/** How long failover and recovery may take: a bound against a hang, not a measurement. */
const RECOVERY_BOUND_MS = 45_000

describe('Redis Sentinel', () => {
  let set: SentinelSet
  let runs = 0

  beforeAll(async () => {
    set = await startSentinelSet(DOWN_AFTER_MS)
  }, 60_000)

  afterAll(async () => {
    await set?.close()
  })

  async function start(): Promise<TestServer> {
    runs += 1
    return startTestServer({
      env: { SESAME_STORE: 'redis', ...set.env, SESAME_REDIS_PREFIX: `sentinel-${runs}-${process.pid}:` },
    })
  }

  async function signIn(server: TestServer, email: string): Promise<string> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    return cookiePair(response.headers['set-cookie'])
  }

  async function signUp(server: TestServer, email: string): Promise<void> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/signup',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(response.statusCode).toBe(201)
  }

  const me = async (server: TestServer, cookie: string) =>
    (await server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode

  const logout = (server: TestServer, cookie: string) =>
    server.app.inject({ method: 'DELETE', url: '/auth/session', headers: { ...SAME_ORIGIN, cookie } })

  it('confirms a revocation on the replica, and refuses to call it done while the replica does not answer', async () => {
    const server = await start()
    try {
      await signUp(server, 'wait@example.com')
      const kept = await signIn(server, 'wait@example.com')
      const ended = await signIn(server, 'wait@example.com')

      set.replica.pause()
      try {
        const started = performance.now()
        const refused = await logout(server, ended)
        const elapsed = performance.now() - started
        expect(refused.statusCode).toBe(503)
        expect(refused.json()).toMatchObject({ error: 'store_unavailable' })
        // WAIT gave up at three quarters of the store's timeout (1000 ms), not at once and not never.
        expect(elapsed).toBeGreaterThanOrEqual(700)
      } finally {
        set.replica.resume()
      }
      // The replica caught up; the retry is confirmed, and the session is over everywhere.
      expect((await logout(server, ended)).statusCode).toBe(204)
      expect(await me(server, ended)).toBe(401)
      expect(await me(server, kept)).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('answers 503 while the master is dead, never a stale yes, and recovers by itself on the promoted replica', async () => {
    const server = await start()
    const promotedPort = set.replica.port
    try {
      await signUp(server, 'failover@example.com')
      const live = await signIn(server, 'failover@example.com')
      const revoked = await signIn(server, 'failover@example.com')
      expect(await me(server, live)).toBe(200)
      expect(await me(server, live)).toBe(200) // from the session cache now
      expect((await logout(server, revoked)).statusCode).toBe(204)
      expect(await me(server, revoked)).toBe(401)

      const killedAt = performance.now()
      await set.master.stop()
      const watched = await watchFailover({
        killedAt,
        boundMs: RECOVERY_BOUND_MS,
        probe: async () => {
          const [liveStatus, revokedStatus] = await Promise.all([me(server, live), me(server, revoked)])
          return { live: liveStatus, revoked: revokedStatus }
        },
      })
      console.log(
        `[redis-sentinel] master killed: first 503 at ${watched.firstRefusalMs.toFixed(0)} ms, served again at ${watched.recoveredMs.toFixed(0)} ms (down-after ${DOWN_AFTER_MS} ms)`,
      )

      // The sentinels name the promoted replica master: each learns of the failover on its own schedule, and the
      // client may have found the new master through the first that did, so they are given a moment.
      await set.waitForMaster(promotedPort, 10_000)
      // What the old master had confirmed survived: the session, and its revocation.
      expect(await me(server, live)).toBe(200)
      expect(await me(server, revoked)).toBe(401)
      // Writes go to the new master.
      const fresh = await signIn(server, 'failover@example.com')
      expect(await me(server, fresh)).toBe(200)
      const promoted = new Redis(promotedPort, '127.0.0.1')
      try {
        expect(await promoted.call('ROLE')).toContain('master')
      } finally {
        promoted.disconnect()
      }
    } finally {
      await server.close()
    }
  }, 90_000)
})
