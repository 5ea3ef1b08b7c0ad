/**
 * Fault tests: the store dies mid-test and comes back, Sesame is never restarted.
 *
 * Each scenario runs private servers (never the machine's shared ones, which other test files use at the same
 * time), signs in before the outage, crashes the store (Redis: SIGKILL; PostgreSQL: immediate shutdown), and
 * checks that during the outage requests needing the store fail with 503 `store_unavailable` rather than hang
 * (each within a generous multiple of the store's configured timeout: a bound against hangs, not a benchmark;
 * speeds are the benchmark's business), `/readyz` says 503, access tokens keep verifying, and nothing
 * attempted during the outage is half-written. Then the store restarts on the same port and data directory,
 * and service must come back by itself: `/readyz` 200, the earlier cookie session and refresh token work.
 *
 * Each test stands alone (`-t` runs any one of them): the private servers are per scenario, but every test
 * gets its own Sesame server on its own schema and key prefix, signs in itself, makes its own outage, and
 * leaves the store running again for the next.
 */
import { performance } from 'node:perf_hooks'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_REDIS_TIMEOUT_MS } from '../../src/store/redis/index.js'
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from '../helpers/private-servers.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'fault password 1'
/**
 * The time a store operation may take before the store gives up, as configured (the defaults the server
 * opens the stores with): Redis's command timeout; PostgreSQL's statement timeout plus its connect timeout
 * (src/store/postgres/index.ts, not exported).
 */
const STORE_TIMEOUT_MS = { redis: DEFAULT_REDIS_TIMEOUT_MS, postgres: 1500 + 1000 } as const
/**
 * While the store is down a request that needs it must fail, not hang: within five times the timeout plus
 * two seconds, a margin wide enough for a loaded 2-core machine. How fast it fails is for the benchmark.
 */
const failFastMs = (store: 'redis' | 'postgres'): number => 5 * STORE_TIMEOUT_MS[store] + 2000
/** How long service may take to come back once the store is up again. */
const RECOVERY_TIMEOUT_MS = 10_000

interface Scenario {
  name: string
  /** Which private servers to run, and which one to crash. */
  servers: Array<'redis' | 'postgres'>
  fault: 'redis' | 'postgres'
  /** `run` names this test's own schema and key prefix. */
  env: (urls: { redis?: string; postgres?: string }, run: string) => Record<string, string>
  /** Sign-up writes a user, and first counts the address against the sign-up limit in the session store. */
  signUpDuringOutage: 201 | 503
}

const SCENARIOS: Scenario[] = [
  {
    name: 'SESAME_STORE=redis, Redis crashes',
    servers: ['redis'],
    fault: 'redis',
    env: ({ redis }, run) => ({
      SESAME_STORE: 'redis',
      REDIS_URL: redis!,
      SESAME_REDIS_PREFIX: `fault-${run}:`,
    }),
    signUpDuringOutage: 503,
  },
  {
    name: 'SESAME_STORE=postgres, PostgreSQL crashes',
    servers: ['postgres'],
    fault: 'postgres',
    env: ({ postgres }, run) => ({
      SESAME_STORE: 'postgres',
      DATABASE_URL: postgres!,
      SESAME_POSTGRES_SCHEMA: `sesame_fault_${run}`,
    }),
    signUpDuringOutage: 503,
  },
  {
    name: 'users in PostgreSQL, sessions in Redis, Redis crashes',
    servers: ['postgres', 'redis'],
    fault: 'redis',
    env: ({ postgres, redis }, run) => ({
      SESAME_STORE: 'postgres',
      SESAME_SESSION_STORE: 'redis',
      DATABASE_URL: postgres!,
      SESAME_POSTGRES_SCHEMA: `sesame_fault_${run}`,
      REDIS_URL: redis!,
      SESAME_REDIS_PREFIX: `fault-${run}:`,
    }),
    // Users live in PostgreSQL, which is up, but the sign-up limit's counter lives in Redis: fail closed.
    signUpDuringOutage: 503,
  },
]

interface TokenPair {
  access_token: string
  refresh_token: string
}

describe.each(SCENARIOS)('store faults: $name', (scenario) => {
  const servers: Partial<Record<'redis' | 'postgres', PrivateServer>> = {}
  let server: TestServer | undefined
  let runs = 0
  const email = `fault-${scenario.fault}-${scenario.servers.join('-')}@example.com`
  const outageEmail = `outage-${scenario.fault}-${scenario.servers.join('-')}@example.com`
  /** What each test signed in with before its outage. */
  let before: { cookie: string; cookieSessionId: string; pair: TokenPair; userId: string }

  beforeAll(async () => {
    // Assigned one by one, so afterAll stops whatever started even if a later start fails.
    for (const kind of scenario.servers) {
      servers[kind] = kind === 'redis' ? await startPrivateRedis() : await startPrivatePostgres()
    }
  })

  afterAll(async () => {
    const results = await Promise.allSettled(Object.values(servers).map((s) => s.close()))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  })

  beforeEach(async () => {
    runs += 1
    server = await startTestServer({
      env: scenario.env({ redis: servers.redis?.url, postgres: servers.postgres?.url }, String(runs)),
    })
    before = await signInWhileUp()
  })

  afterEach(async () => {
    // Sesame first (it closes its store connections), then the store back up for the next test, whatever
    // this one left it as.
    const results = await Promise.allSettled([server?.close()])
    server = undefined
    if (storeDown) results.push(...(await Promise.allSettled([startStore()])))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  })

  const app = () => server!.app
  const faulty = () => servers[scenario.fault]!
  /** Whether this test stopped the faulty store and has not started it again. */
  let storeDown = false
  async function stopStore(): Promise<void> {
    await faulty().stop()
    storeDown = true
  }
  async function startStore(): Promise<void> {
    await faulty().start()
    storeDown = false
  }

  function signUp(address: string) {
    return app().inject({
      method: 'POST',
      url: '/auth/signup',
      headers: SAME_ORIGIN,
      payload: { email: address, password: PASSWORD },
    })
  }
  function signIn() {
    return app().inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
  }
  function token(payload: Record<string, string>) {
    return app().inject({ method: 'POST', url: '/auth/token', payload })
  }
  function me(headers: Record<string, string>) {
    return app().inject({ method: 'GET', url: '/auth/me', headers })
  }

  /** The sign-up, cookie sign-in and password grant every test starts from, with the store up. */
  async function signInWhileUp(): Promise<typeof before> {
    expect((await app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    const created = await signUp(email)
    expect(created.statusCode).toBe(201)
    const session = await signIn()
    expect(session.statusCode).toBe(200)
    const grant = await token({ grant_type: 'password', username: email, password: PASSWORD })
    expect(grant.statusCode).toBe(200)
    return {
      cookie: cookiePair(session.headers['set-cookie']),
      cookieSessionId: session.json<{ session: { id: string } }>().session.id,
      pair: grant.json<TokenPair>(),
      userId: created.json<{ user: { id: string } }>().user.id,
    }
  }

  /**
   * Stops the store and makes every request of the outage: each must fail with 503 (or the scenario's sign-up
   * status) and must not hang (see `failFastMs`). Returns nothing: what they left behind is checked later.
   */
  async function outage(): Promise<void> {
    await stopStore()
    const limit = failFastMs(scenario.fault)
    async function timed<T>(label: string, request: () => Promise<T>): Promise<T> {
      const started = performance.now()
      const response = await request()
      const elapsed = performance.now() - started
      console.log(`[store-faults] ${scenario.name}: ${label} took ${elapsed.toFixed(1)} ms`)
      expect(elapsed, `${label} must fail, not hang (bound ${limit} ms)`).toBeLessThan(limit)
      return response
    }

    const cookieMe = await timed('cookie GET /auth/me', () => me({ cookie: before.cookie }))
    expect(cookieMe.statusCode).toBe(503)
    expect(cookieMe.json()).toMatchObject({ error: 'store_unavailable' })

    const ready = await timed('GET /readyz', () => app().inject({ method: 'GET', url: '/readyz' }))
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ error: 'store_unavailable' })

    // The access token proves itself: no store needed to answer who it belongs to.
    const bearerMe = await timed('bearer GET /auth/me', () =>
      me({ authorization: `Bearer ${before.pair.access_token}` }),
    )
    expect(bearerMe.statusCode).toBe(200)
    // The email too when the users' store is up (split, Redis down); otherwise exactly the token's word.
    const usersUp = scenario.servers.includes('postgres') && scenario.fault !== 'postgres'
    expect(bearerMe.json<{ user: object }>().user).toStrictEqual(
      usersUp ? { id: before.userId, email, email_verified: false } : { id: before.userId },
    )

    const refresh = await timed('refresh_token grant', () =>
      token({ grant_type: 'refresh_token', refresh_token: before.pair.refresh_token }),
    )
    expect(refresh.statusCode).toBe(503)
    expect(refresh.json()).toMatchObject({ error: 'store_unavailable' })

    const outageSignUp = await timed('POST /auth/signup', () => signUp(outageEmail))
    expect(outageSignUp.statusCode).toBe(scenario.signUpDuringOutage)

    // New session state cannot be written either (checked for leftovers after recovery).
    const outageSignIn = await timed('POST /auth/session', () => signIn())
    expect(outageSignIn.statusCode).toBe(503)
    expect(outageSignIn.headers['set-cookie']).toBeUndefined()
    const outageGrant = await timed('password grant', () =>
      token({ grant_type: 'password', username: email, password: PASSWORD }),
    )
    expect(outageGrant.statusCode).toBe(503)
  }

  it('signs in with a cookie and a token pair while the store is up', async () => {
    const response = await me({ cookie: before.cookie })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      user: { id: before.userId, email },
      session: { id: before.cookieSessionId },
    })
    expect((await me({ authorization: `Bearer ${before.pair.access_token}` })).statusCode).toBe(200)
  })

  it('answers 503 during the outage without hanging, but still verifies access tokens', async () => {
    await outage()
  })

  it('recovers by itself once the store is back, with nothing lost and nothing half-written', async () => {
    // The outage's writes, at once (how they fail is the test above): a refresh, a sign-up, a sign-in and a
    // password grant, none of which may leave anything behind.
    await stopStore()
    const attempts = await Promise.all([
      token({ grant_type: 'refresh_token', refresh_token: before.pair.refresh_token }),
      signUp(outageEmail),
      signIn(),
      token({ grant_type: 'password', username: email, password: PASSWORD }),
    ])
    expect(attempts.map((response) => response.statusCode)).toEqual([
      503,
      scenario.signUpDuringOutage,
      503,
      503,
    ])
    expect(attempts[2].headers['set-cookie']).toBeUndefined()
    await startStore()
    const restarted = performance.now()

    await vi.waitFor(
      async () => {
        expect((await app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
      },
      { timeout: RECOVERY_TIMEOUT_MS, interval: 100 },
    )
    console.log(
      `[store-faults] ${scenario.name}: /readyz 200 again ${(performance.now() - restarted).toFixed(0)} ms after restart`,
    )

    // The cookie session from before the outage survived the crash (Redis AOF / PostgreSQL WAL).
    await vi.waitFor(
      async () => {
        const response = await me({ cookie: before.cookie })
        expect(response.statusCode).toBe(200)
        expect(response.json()).toMatchObject({
          user: { id: before.userId, email },
          session: { id: before.cookieSessionId },
        })
      },
      { timeout: RECOVERY_TIMEOUT_MS, interval: 100 },
    )

    // The refresh attempted during the outage rotated nothing: the old refresh token is still the current one.
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: before.pair.refresh_token })
    expect(refresh.statusCode).toBe(200)
    const rotated = refresh.json<TokenPair>()
    expect(rotated.refresh_token).not.toBe(before.pair.refresh_token)
    expect(rotated.access_token).not.toBe(before.pair.access_token)
    expect((await me({ authorization: `Bearer ${rotated.access_token}` })).statusCode).toBe(200)

    // Only the devices from before the outage exist: the failed sign-in and password grant left nothing.
    const devices = await app().inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: { cookie: before.cookie },
    })
    expect(devices.statusCode).toBe(200)
    const ids = devices.json<{ sessions: Array<{ id: string }> }>().sessions.map((device) => device.id)
    expect(ids).toHaveLength(2)
    expect(ids).toContain(before.cookieSessionId)

    // A sign-up that failed registered nothing, so the address is free; one that succeeded stays taken.
    const again = await signUp(outageEmail)
    expect(again.statusCode).toBe(scenario.signUpDuringOutage === 503 ? 201 : 409)
  })
})
