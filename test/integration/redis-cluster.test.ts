/**
 * Sesame on a real Redis Cluster (three masters, three replicas; test/helpers/redis-cluster.ts), spread over the
 * shards (`store/redis/sharded.ts`):
 * - 1,000 users signed in through the engine leave their keys on all three masters, none with more than half;
 *   and each group's tag lands in the slot `groups.ts` says, by the servers' own CLUSTER KEYSLOT.
 * - Two instances: a logout on one reaches the other's session cache through the cluster's pub/sub.
 * - A master killed: the users whose groups it served answer 503, never a stale yes for a revoked session,
 *   until its replica is promoted; users on the other masters are served throughout. Both measured.
 * - The single-slot layout (a hash-tagged prefix), whose every user is on the one master killed.
 */
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { GROUP_COUNT, GROUP_SLOTS, GROUP_TAGS, groupOf, groupPrefix } from '../../src/store/redis/groups.js'
import { createRedisClusterStore } from '../../src/store/redis/sharded.js'
import { type RedisClusterSet, startRedisCluster } from '../helpers/redis-cluster.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'
import { type FailoverWatch, watchFailover } from '../helpers/failover-watch.js'

const PASSWORD = 'cluster password 1'
/** How long failover and recovery may take: a bound against a hang, not a measurement. */
const RECOVERY_BOUND_MS = 40_000

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/**
 * Signs `email` up on `server`, then in twice, and logs the second session out: a user with a live and a revoked
 * cookie, and the means to sign in again.
 */
async function enrolOn(server: TestServer, email: string) {
  const inject = server.app.inject.bind(server.app)
  const credentials = { email, password: PASSWORD }
  const signedUp = await inject({
    method: 'POST',
    url: '/auth/signup',
    headers: SAME_ORIGIN,
    payload: credentials,
  })
  expect(signedUp.statusCode).toBe(201)
  const signIn = async () => {
    const response = await inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: credentials,
    })
    expect(response.statusCode).toBe(200)
    return cookiePair(response.headers['set-cookie'])
  }
  const live = await signIn()
  const revoked = await signIn()
  const ended = await inject({
    method: 'DELETE',
    url: '/auth/session',
    headers: { ...SAME_ORIGIN, cookie: revoked },
  })
  expect(ended.statusCode).toBe(204)
  return { userId: signedUp.json<{ user: { id: string } }>().user.id, live, revoked, signIn }
}

/** The status `GET /auth/me` answers on `server` with `cookie`. */
async function meOn(server: TestServer, cookie: string): Promise<number> {
  return (await server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode
}

describe('Redis Cluster', () => {
  let cluster: RedisClusterSet

  beforeAll(async () => {
    cluster = await startRedisCluster()
  }, 90_000)

  const nodes = () => cluster.ports.map((port) => ({ host: '127.0.0.1', port }))

  afterAll(async () => {
    await cluster?.close()
  })

  it('puts each group in the slot its tag names', async () => {
    for (let group = 0; group < GROUP_COUNT; group++) {
      expect(Number(await cluster.admin.call('CLUSTER', 'KEYSLOT', `x{${GROUP_TAGS[group]}}`))).toBe(
        GROUP_SLOTS[group],
      )
    }
  })

  it('spreads 1,000 signed-in users over the three masters, none holding more than half', async () => {
    const prefix = `spread-${process.pid}:`
    const store = createRedisClusterStore({ cluster: { nodes: nodes() }, keyPrefix: prefix })
    const auth = await createAuth({
      store,
      passwordHasher: createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }),
    })
    try {
      for (let i = 0; i < 1000; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const email = `spread-${i + j}@example.com`
            await auth.createUser({ email, password: PASSWORD })
            await auth.signIn({ email, password: PASSWORD })
          }),
        )
      }
      const perMaster = new Map<string, { keys: number; sessions: number }>()
      for (const node of cluster.admin.nodes('master')) {
        let keys = 0
        let sessions = 0
        let cursor = '0'
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
          keys += found.length
          sessions += found.filter((key) => key.includes(':session:')).length
          cursor = next
        } while (cursor !== '0')
        perMaster.set(`${node.options.port}`, { keys, sessions })
      }
      const total = [...perMaster.values()].reduce((sum, m) => sum + m.keys, 0)
      const sessions = [...perMaster.values()].reduce((sum, m) => sum + m.sessions, 0)
      console.log(
        `[redis-cluster-spread] 1,000 users signed in: ${total} keys, ${sessions} sessions; per master ${[...perMaster.values()].map((m) => `${m.keys} keys / ${m.sessions} sessions`).join(', ')}`,
      )
      expect(sessions).toBe(1000)
      expect(perMaster.size).toBe(3)
      for (const { keys, sessions: held } of perMaster.values()) {
        expect(keys).toBeGreaterThan(0)
        expect(keys).toBeLessThanOrEqual(total / 2)
        expect(held).toBeLessThanOrEqual(500)
      }
    } finally {
      await auth.close()
      await store.close()
      await cluster.deleteKeysUnder(prefix)
    }
  }, 120_000)

  it('carries a logout on one instance to the session cache of another in milliseconds', async () => {
    const env = {
      SESAME_STORE: 'redis',
      ...cluster.env,
      SESAME_REDIS_PREFIX: `cluster-two-${process.pid}:`,
    }
    const a = await startTestServer({ env })
    const b = await startTestServer({ env })
    try {
      const credentials = { email: 'two@example.com', password: PASSWORD }
      expect(
        (
          await a.app.inject({
            method: 'POST',
            url: '/auth/signup',
            headers: SAME_ORIGIN,
            payload: credentials,
          })
        ).statusCode,
      ).toBe(201)
      const signedIn = await a.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: credentials,
      })
      const cookie = cookiePair(signedIn.headers['set-cookie'])
      const onB = async () =>
        (await b.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode
      expect(await onB()).toBe(200)
      expect(await onB()).toBe(200) // now from B's session cache
      expect(
        (await a.app.inject({ method: 'DELETE', url: '/auth/session', headers: { ...SAME_ORIGIN, cookie } }))
          .statusCode,
      ).toBe(204)
      const loggedOutAt = performance.now()
      let status = await onB()
      while (status === 200 && performance.now() - loggedOutAt < 2000) {
        await sleep(1)
        status = await onB()
      }
      expect(status).toBe(401)
      console.log(
        `[redis-cluster] logout on A refused on B ${(performance.now() - loggedOutAt).toFixed(1)} ms after A answered`,
      )
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('answers 503 for the users of a dead master only, never a stale yes, until its replica takes over', async () => {
    const prefix = `spread-failover-${process.pid}:`
    let victimMaster: number | undefined
    const server: TestServer = await startTestServer({
      env: { SESAME_STORE: 'redis', ...cluster.env, SESAME_REDIS_PREFIX: prefix },
    })
    try {
      /** A user with a live and a revoked session, and the master its group is on now. */
      const enrol = async (n: number) => {
        const user = await enrolOn(server, `spread-failover-${n}@example.com`)
        const home = `${groupPrefix(prefix, groupOf(user.userId))}user:{${user.userId}}`
        return { ...user, home, master: await cluster.masterOf(home) }
      }
      const me = (cookie: string) => meOn(server, cookie)
      // Users until two masters are covered: one to kill, one to keep.
      const users = []
      for (let n = 0; users.length < 2 || new Set(users.map((u) => u.master)).size < 2; n++) {
        users.push(await enrol(n))
      }
      const victim = users[0]!
      victimMaster = victim.master
      const bystanders = users.filter((user) => user.master !== victim.master)
      expect(bystanders.length).toBeGreaterThan(0)

      const killedAt = performance.now()
      cluster.kill(victim.master)
      // The other masters' users, probed on their own every 20 ms while the victim's are watched.
      const probes: Array<{ at: number; statuses: number[]; ms: number }> = []
      let watching = true
      const probing = (async () => {
        while (watching) {
          const sentAt = performance.now()
          const statuses = await Promise.all(bystanders.flatMap((user) => [me(user.live), me(user.revoked)]))
          probes.push({ at: sentAt - killedAt, statuses, ms: performance.now() - sentAt })
          await sleep(20)
        }
      })()
      let watched: FailoverWatch
      try {
        watched = await watchFailover({
          killedAt,
          boundMs: RECOVERY_BOUND_MS,
          probe: async () => {
            const [liveStatus, revokedStatus] = await Promise.all([me(victim.live), me(victim.revoked)])
            return { live: liveStatus, revoked: revokedStatus }
          },
        })
      } finally {
        watching = false
        await probing
      }
      const expected = JSON.stringify(bystanders.flatMap(() => [200, 401]))
      const disturbed = probes.filter((probe) => JSON.stringify(probe.statuses) !== expected)
      const slowest = Math.max(...probes.map((probe) => probe.ms))
      console.log(
        `[redis-cluster-spread-failover] master killed: its users' first 503 at ${watched.firstRefusalMs.toFixed(0)} ms, served again at ${watched.recoveredMs.toFixed(0)} ms; the other masters' ${bystanders.length} user(s): ${probes.length - disturbed.length} of ${probes.length} probes answered as before (slowest ${slowest.toFixed(0)} ms), the others at ${disturbed.map((probe) => `${probe.at.toFixed(0)} ms ${JSON.stringify(probe.statuses)}`).join(', ') || 'none'} (cluster-node-timeout 2000 ms)`,
      )
      // With cluster-require-full-coverage no (the guide's advice), the other shards never stop serving.
      expect(disturbed).toEqual([])
      expect(await cluster.masterOf(victim.home)).not.toBe(victim.master)
      expect(await me(victim.live)).toBe(200)
      expect(await me(victim.revoked)).toBe(401)
      expect(await me(await victim.signIn())).toBe(200)
    } finally {
      await server.close()
      await cluster.deleteKeysUnder(prefix)
      if (victimMaster !== undefined) await cluster.restart(victimMaster)
    }
  }, 90_000)

  it('answers 503 while the slot’s master is dead, never a stale yes, and recovers on the promoted replica', async () => {
    const prefix = `{cluster-failover-${process.pid}}:`
    const server: TestServer = await startTestServer({
      env: { SESAME_STORE: 'redis', ...cluster.env, SESAME_REDIS_PREFIX: prefix },
    })
    try {
      const { live, revoked, signIn } = await enrolOn(server, 'cluster@example.com')
      const me = (cookie: string) => meOn(server, cookie)
      expect(await me(live)).toBe(200)
      expect(await me(revoked)).toBe(401)

      const master = await cluster.masterOf(prefix)
      const killedAt = performance.now()
      cluster.kill(master)
      const watched = await watchFailover({
        killedAt,
        boundMs: RECOVERY_BOUND_MS,
        probe: async () => {
          const [liveStatus, revokedStatus] = await Promise.all([me(live), me(revoked)])
          return { live: liveStatus, revoked: revokedStatus }
        },
      })
      console.log(
        `[redis-cluster-failover] master killed: first 503 at ${watched.firstRefusalMs.toFixed(0)} ms, served again at ${watched.recoveredMs.toFixed(0)} ms (cluster-node-timeout 2000 ms)`,
      )
      expect(await cluster.masterOf(prefix)).not.toBe(master)
      expect(await me(live)).toBe(200)
      expect(await me(revoked)).toBe(401)
      expect(await me(await signIn())).toBe(200)
    } finally {
      await server.close()
    }
  }, 90_000)
})
