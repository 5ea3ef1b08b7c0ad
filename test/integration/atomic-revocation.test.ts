/**
 * Ending devices is all or nothing (issue 21). "Log out everywhere", "revoke others" and a password change end
 * a user's devices in one atomic store change (`Store.endUserDevices`), so a request answered 503 leaves either
 * everything ended or nothing: never the cookie sessions gone with refresh families still live.
 *
 * Two halves:
 * - Stalls: a private store server is frozen (SIGSTOP) while a request runs, the request gets its 503, the
 *   server resumes (SIGCONT) and may then finish what it had received; the user's state, read straight from
 *   the store, must be all or nothing, and the same request retried must complete it. One row per store in
 *   STALLS (the Redis rows belong with the Redis adapter's Lua script).
 * - Steps that cannot share a transaction (a password change across a split store) or come after the commit
 *   (publishing the change), made to fail in between with in-memory stores.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { AuthError } from '../../src/core/errors.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSplitStore } from '../../src/store/split-store.js'
import type { ChangeEvent, ChangeFeed, Store } from '../../src/store/types.js'
import {
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
} from '../helpers/private-servers.js'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'
import { sessionOf } from '../helpers/signed-in.js'

const PASSWORD = 'atomic password 1'
const NEW_PASSWORD = 'atomic password 2'
const RECOVERY_TIMEOUT_MS = 10_000

// ------------------------------------------------------------------------------------------------ stalls

/** A server the test can freeze and thaw. */
interface Stallable {
  pause(): void
  resume(): void
  close(): Promise<void>
}

interface StallRow {
  name: string
  /** Starts the private server(s); `stalled` is the one frozen mid-request. */
  start(): Promise<{ stalled: Stallable; others: Stallable[]; env: Record<string, string> }>
  /** Opens the session-state store the server uses, to read the user's state straight from it. */
  inspect(env: Record<string, string>): Promise<Store>
}

const STALLS: StallRow[] = [
  {
    name: 'SESAME_STORE=postgres, PostgreSQL stalls',
    async start() {
      const postgres: PrivatePostgres = await startPrivatePostgres()
      return {
        stalled: postgres,
        others: [],
        env: {
          SESAME_STORE: 'postgres',
          DATABASE_URL: postgres.url,
          SESAME_POSTGRES_SCHEMA: 'sesame_atomic',
        },
      }
    },
    inspect: (env) =>
      createPostgresStore({ url: env.DATABASE_URL!, schema: env.SESAME_POSTGRES_SCHEMA!, migrate: false }),
  },
  // Redis: endUserDevices is one Lua script, which Redis runs whole once it has the command, even one it
  // received just before the freeze and runs after the resume, long after the 503.
  {
    name: 'SESAME_STORE=redis, Redis stalls',
    async start() {
      const redis: PrivateRedis = await startPrivateRedis()
      return {
        stalled: redis,
        others: [],
        env: { SESAME_STORE: 'redis', REDIS_URL: redis.url, SESAME_REDIS_PREFIX: 'atomic:' },
      }
    },
    inspect: async (env) => createRedisStore({ url: env.REDIS_URL!, keyPrefix: env.SESAME_REDIS_PREFIX! }),
  },
  {
    name: 'split, sessions in Redis, Redis stalls',
    async start() {
      const [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()])
      return {
        stalled: redis,
        others: [postgres],
        env: {
          SESAME_STORE: 'postgres',
          SESAME_SESSION_STORE: 'redis',
          DATABASE_URL: postgres.url,
          SESAME_POSTGRES_SCHEMA: 'sesame_atomic',
          REDIS_URL: redis.url,
          SESAME_REDIS_PREFIX: 'atomic:',
        },
      }
    },
    inspect: async (env) => createRedisStore({ url: env.REDIS_URL!, keyPrefix: env.SESAME_REDIS_PREFIX! }),
  },
]

interface Route {
  name: string
  method: 'POST'
  url: string
  payload?: Record<string, string>
  /** Whether the caller's own token family survives (it does for "others"). */
  keepsCaller: boolean
}

const ROUTES: Route[] = [
  { name: 'log out everywhere', method: 'POST', url: '/auth/logout-everywhere', keepsCaller: false },
  { name: 'revoke others', method: 'POST', url: '/auth/sessions/revoke-others', keepsCaller: true },
  {
    name: 'password change',
    method: 'POST',
    url: '/auth/password',
    payload: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    keepsCaller: true,
  },
]

/** When the store freezes: before the request is sent, or a few milliseconds into it. */
const PAUSE_AFTER_MS = [-1, 0, 3, 10] as const

describe.each(STALLS)('atomic revocation: $name', (row) => {
  let server: TestServer | undefined
  let stalled: Stallable | undefined
  let others: Stallable[] = []
  let store: Store | undefined
  let userCount = 0

  beforeAll(async () => {
    const started = await row.start()
    stalled = started.stalled
    others = started.others
    server = await startTestServer({ env: started.env })
    store = await row.inspect(started.env)
  }, 120_000)

  afterAll(async () => {
    stalled?.resume()
    const results = await Promise.allSettled([server?.close(), store?.close()])
    const servers = [stalled, ...others].filter((s): s is Stallable => s !== undefined)
    results.push(...(await Promise.allSettled(servers.map((s) => s.close()))))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  })

  const app = () => server!.app

  /** A fresh user with two cookie sessions and two token families; returns a bearer for the last family. */
  async function userWithDevices(): Promise<{ userId: string; bearer: string; familyId: string }> {
    const email = `atomic-${++userCount}-${Date.now()}@example.com`
    const created = await app().inject({
      method: 'POST',
      url: '/auth/signup',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(created.statusCode).toBe(201)
    for (let i = 0; i < 2; i++) {
      const session = await app().inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email, password: PASSWORD },
      })
      expect(session.statusCode).toBe(200)
    }
    let access = ''
    for (let i = 0; i < 2; i++) {
      const grant = await app().inject({
        method: 'POST',
        url: '/auth/token',
        payload: { grant_type: 'password', username: email, password: PASSWORD },
      })
      expect(grant.statusCode).toBe(200)
      access = grant.json<{ access_token: string }>().access_token
    }
    const me = await app().inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: { authorization: `Bearer ${access}` },
    })
    const devices = me.json<{ sessions: Array<{ id: string; current: boolean }> }>().sessions
    expect(devices).toHaveLength(4)
    const userId = created.json<{ user: { id: string } }>().user.id
    return { userId, bearer: `Bearer ${access}`, familyId: devices.find((d) => d.current)!.id }
  }

  /**
   * What the store holds for the user, the caller's own family aside when it is kept. The three lists are
   * three reads, not one snapshot: a change the freeze held back may commit between them, and the reads would
   * then mix before and after. So the state counts only once two readings in a row agree.
   */
  async function state(userId: string, keptFamilyId: string | null) {
    let previous = await readState(userId, keptFamilyId)
    for (;;) {
      const current = await readState(userId, keptFamilyId)
      if (JSON.stringify(current) === JSON.stringify(previous)) return current
      previous = current
    }
  }

  async function readState(userId: string, keptFamilyId: string | null) {
    const now = Math.floor(Date.now() / 1000)
    const sessions = await store!.listUserSessions(userId)
    const families = (await store!.listUserRefreshFamilies(userId)).filter(
      (family) => family.id !== keptFamilyId && family.revokedAt === null,
    )
    const epoch = (await store!.listUserEpochs(now)).some((entry) => entry.userId === userId)
    return { sessions: sessions.length, liveFamilies: families.length, epoch }
  }

  for (const route of ROUTES) {
    it.each(PAUSE_AFTER_MS)(
      `${route.name}: frozen %i ms into the request, ends all or nothing, and a retry completes it`,
      async (pauseAfter) => {
        const { userId, bearer, familyId } = await userWithDevices()
        const kept = route.keepsCaller ? familyId : null
        const send = () =>
          app().inject({
            method: route.method,
            url: route.url,
            headers: { authorization: bearer },
            ...(route.payload && { payload: route.payload }),
          })

        let response
        try {
          if (pauseAfter < 0) {
            stalled!.pause()
            response = await send()
          } else {
            const pending = send()
            await new Promise((done) => setTimeout(done, pauseAfter))
            stalled!.pause()
            response = await pending
          }
        } finally {
          stalled!.resume()
        }
        // Done before the freeze, or refused because of it; never anything else.
        expect([200, 204, 503]).toContain(response.statusCode)
        if (response.statusCode === 503) expect(response.json()).toMatchObject({ error: 'store_unavailable' })

        await vi.waitFor(
          async () => expect((await app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200),
          { timeout: RECOVERY_TIMEOUT_MS, interval: 100 },
        )
        const nothing = { sessions: 2, liveFamilies: route.keepsCaller ? 1 : 2, epoch: false }
        // Read twice: a statement the freeze held may commit only after the resume, but only as a whole.
        for (let i = 0; i < 2; i++) {
          const seen = await state(userId, kept)
          const ended = seen.sessions === 0 && seen.liveFamilies === 0
          if (ended) {
            if (!route.keepsCaller) expect(seen.epoch, 'the epoch commits with the devices').toBe(true)
          } else {
            expect(seen, 'never part of it: sessions gone while families live, or the reverse').toEqual(
              nothing,
            )
          }
          if (response.statusCode !== 503) expect(ended, 'a success ended everything').toBe(true)
          await new Promise((done) => setTimeout(done, 300))
        }

        // The same request again completes it. A 401 says the first attempt already had: the old password
        // no longer verifies, or (log out everywhere) this instance has meanwhile loaded the epoch.
        const retry = await send()
        expect([200, 204, 401]).toContain(retry.statusCode)
        expect(await state(userId, kept)).toEqual({
          sessions: 0,
          liveFamilies: 0,
          epoch: !route.keepsCaller,
        })
      },
      60_000,
    )
  }
})

// --------------------------------------------------------------------------- steps that cannot be one change

const TOKENS = { issuer: 'https://auth.example', audience: 'https://api.example' }
const FAST_HASHER = createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } })

/** A store whose named method fails (as an unreachable service would) while `failing` holds it. */
function faulty(inner: Store): { store: Store; failing: Set<keyof Store> } {
  const failing = new Set<keyof Store>()
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown
      if (typeof value !== 'function' || !failing.has(name as keyof Store)) return value
      return () => Promise.reject(new AuthError('store_unavailable', 'The store is down (test).'))
    },
  })
  return { store, failing }
}

async function engineWithDevices(store: Store): Promise<{
  auth: Auth
  email: string
  cookies: string[]
  caller: Awaited<ReturnType<Auth['tokens']['grantPassword']>>
  other: Awaited<ReturnType<Auth['tokens']['grantPassword']>>
}> {
  const auth = await createAuth({ store, tokens: TOKENS, passwordHasher: FAST_HASHER })
  const email = `split-${Date.now()}@example.com`
  await auth.signUp({ email, password: PASSWORD })
  const cookies: string[] = []
  for (let i = 0; i < 2; i++) {
    const { cookie } = sessionOf(await auth.signIn({ email, password: PASSWORD }))
    cookies.push(`${cookie.name}=${cookie.value}`)
  }
  const other = await auth.tokens.grantPassword({ username: email, password: PASSWORD })
  const caller = await auth.tokens.grantPassword({ username: email, password: PASSWORD })
  return { auth, email, cookies, caller, other }
}

describe('a password change across a split store (hash in one store, devices in the other)', () => {
  it('ends the other devices first: a failed hash update leaves the old password working, and the same request retried completes', async () => {
    const users = faulty(createMemoryStore())
    const sessions = createMemoryStore()
    const store = createSplitStore({ users: users.store, sessions })
    const { auth, email, cookies, caller, other } = await engineWithDevices(store)

    users.failing.add('updatePasswordHash')
    const change = () =>
      auth.changePassword(caller.principal, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
    await expect(change()).rejects.toMatchObject({ code: 'store_unavailable' })

    // In between: every other device ended (with its access token), the caller's kept, the old password valid.
    for (const cookie of cookies) {
      await expect(auth.authenticateSession(cookie)).rejects.toMatchObject({ code: 'invalid_session' })
    }
    expect(() => auth.tokens.authenticateBearer(`Bearer ${other.accessToken}`)).toThrow(AuthError)
    await expect(auth.tokens.grantRefresh(other.refreshToken)).rejects.toMatchObject({
      code: 'invalid_grant',
    })
    expect(auth.tokens.authenticateBearer(`Bearer ${caller.accessToken}`).principal.userId).toBe(
      caller.principal.userId,
    )
    await expect(auth.signIn({ email, password: PASSWORD })).resolves.toBeDefined()

    // The retry, unchanged, is accepted and finishes: the new password in, the old one out.
    users.failing.clear()
    expect(await change()).toBe(1) // the session signed in just above
    await expect(auth.signIn({ email, password: NEW_PASSWORD })).resolves.toBeDefined()
    await expect(auth.signIn({ email, password: PASSWORD })).rejects.toMatchObject({
      code: 'invalid_credentials',
    })
    await auth.close()
  })

  it('changes neither the hash nor any device when ending the devices fails', async () => {
    const sessions = faulty(createMemoryStore())
    const store = createSplitStore({ users: createMemoryStore(), sessions: sessions.store })
    const { auth, email, cookies, caller, other } = await engineWithDevices(store)

    sessions.failing.add('endUserDevices')
    await expect(
      auth.changePassword(caller.principal, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    ).rejects.toMatchObject({ code: 'store_unavailable' })
    for (const cookie of cookies) expect(await auth.authenticateSession(cookie)).not.toBeNull()
    // The other family lives on (its refresh token rotates). Its access tokens were refused by `sid` before
    // the change, the fail-safe order a kept family needs (no epoch can spare it); the retry completes it.
    expect(() => auth.tokens.authenticateBearer(`Bearer ${other.accessToken}`)).toThrow(AuthError)
    await expect(auth.tokens.grantRefresh(other.refreshToken)).resolves.toBeDefined()
    await expect(auth.signIn({ email, password: PASSWORD })).resolves.toBeDefined()
    await expect(auth.signIn({ email, password: NEW_PASSWORD })).rejects.toMatchObject({
      code: 'invalid_credentials',
    })
    await auth.close()
  })
})

describe('after the atomic change commits', () => {
  it('a failed publish neither fails nor undoes log out everywhere; this instance refuses the tokens at once', async () => {
    const inner = createMemoryStore()
    let feedDown = false
    const publish = vi.fn((event: ChangeEvent) =>
      feedDown
        ? Promise.reject(new AuthError('store_unavailable', 'The feed is down (test).'))
        : inner.changes.publish(event),
    )
    const changes: ChangeFeed = { publish, subscribe: inner.changes.subscribe.bind(inner.changes) }
    const store: Store = new Proxy(inner, {
      get: (target, name, receiver) =>
        name === 'changes' ? changes : (Reflect.get(target, name, receiver) as unknown),
    })
    const { auth, cookies, caller, other } = await engineWithDevices(store)
    feedDown = true
    publish.mockClear()
    await expect(auth.devices.endAll(caller.principal)).resolves.toBeUndefined()
    expect(publish).toHaveBeenCalled()
    for (const cookie of cookies) {
      await expect(auth.authenticateSession(cookie)).rejects.toMatchObject({ code: 'invalid_session' })
    }
    for (const grant of [caller, other]) {
      expect(() => auth.tokens.authenticateBearer(`Bearer ${grant.accessToken}`)).toThrow(AuthError)
      await expect(auth.tokens.grantRefresh(grant.refreshToken)).rejects.toMatchObject({
        code: 'invalid_grant',
      })
    }
    const now = Math.floor(Date.now() / 1000)
    expect((await inner.listUserEpochs(now)).map((epoch) => epoch.userId)).toEqual([caller.principal.userId])
    await auth.close()
  })
})
