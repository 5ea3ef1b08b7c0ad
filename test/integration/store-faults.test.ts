/**
 * Fault tests: the store dies mid-test and comes back, Sesame is never restarted.
 *
 * Each scenario runs private servers (never the machine's shared ones, which other test files use at the same
 * time), signs in before the outage, crashes the store (Redis: SIGKILL; PostgreSQL: immediate shutdown), and
 * checks that during the outage requests needing the store fail with 503 `store_unavailable` quickly (under
 * 2 s: a bound against hangs, not a benchmark), `/readyz` says 503, access tokens keep verifying, and nothing
 * attempted during the outage is half-written. Then the store restarts on the same port and data directory,
 * and service must come back by itself: `/readyz` 200, the earlier cookie session and refresh token work.
 */
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from '../helpers/private-servers.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'fault password 1'
/** A request that needs the store must fail within this many milliseconds while the store is down. */
const FAIL_FAST_MS = 2000
/** How long service may take to come back once the store is up again. */
const RECOVERY_TIMEOUT_MS = 10_000

interface Scenario {
  name: string
  /** Which private servers to run, and which one to crash. */
  servers: Array<'redis' | 'postgres'>
  fault: 'redis' | 'postgres'
  env: (urls: { redis?: string; postgres?: string }) => Record<string, string>
  /** Sign-up writes a user, and first counts the address against the sign-up limit in the session store. */
  signUpDuringOutage: 201 | 503
}

const SCENARIOS: Scenario[] = [
  {
    name: 'SESAME_STORE=redis, Redis crashes',
    servers: ['redis'],
    fault: 'redis',
    env: ({ redis }) => ({ SESAME_STORE: 'redis', REDIS_URL: redis!, SESAME_REDIS_PREFIX: 'fault:' }),
    signUpDuringOutage: 503,
  },
  {
    name: 'SESAME_STORE=postgres, PostgreSQL crashes',
    servers: ['postgres'],
    fault: 'postgres',
    env: ({ postgres }) => ({
      SESAME_STORE: 'postgres',
      DATABASE_URL: postgres!,
      SESAME_POSTGRES_SCHEMA: 'sesame_fault',
    }),
    signUpDuringOutage: 503,
  },
  {
    name: 'users in PostgreSQL, sessions in Redis, Redis crashes',
    servers: ['postgres', 'redis'],
    fault: 'redis',
    env: ({ postgres, redis }) => ({
      SESAME_STORE: 'postgres',
      SESAME_SESSION_STORE: 'redis',
      DATABASE_URL: postgres!,
      SESAME_POSTGRES_SCHEMA: 'sesame_fault',
      REDIS_URL: redis!,
      SESAME_REDIS_PREFIX: 'fault:',
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
  const email = `fault-${scenario.fault}-${scenario.servers.join('-')}@example.com`
  const outageEmail = `outage-${scenario.fault}-${scenario.servers.join('-')}@example.com`
  let cookie = ''
  let cookieSessionId = ''
  let pair: TokenPair
  let userId = ''

  beforeAll(async () => {
    // Assigned one by one, so afterAll stops whatever started even if a later start fails.
    for (const kind of scenario.servers) {
      servers[kind] = kind === 'redis' ? await startPrivateRedis() : await startPrivatePostgres()
    }
    server = await startTestServer({
      env: scenario.env({ redis: servers.redis?.url, postgres: servers.postgres?.url }),
    })
  })

  afterAll(async () => {
    // Sesame first (it closes its store connections), then every private server, whatever failed before.
    const results = await Promise.allSettled([server?.close()])
    results.push(...(await Promise.allSettled(Object.values(servers).map((s) => s.close()))))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  })

  const app = () => server!.app
  const faulty = () => servers[scenario.fault]!

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
  async function timed<T>(label: string, request: () => Promise<T>): Promise<T> {
    const started = performance.now()
    const response = await request()
    const elapsed = performance.now() - started
    console.log(`[store-faults] ${scenario.name}: ${label} took ${elapsed.toFixed(1)} ms`)
    expect(elapsed, `${label} must fail fast, not hang`).toBeLessThan(FAIL_FAST_MS)
    return response
  }

  it('signs in with a cookie and a token pair while the store is up', async () => {
    expect((await app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    const created = await signUp(email)
    expect(created.statusCode).toBe(201)
    userId = created.json<{ user: { id: string } }>().user.id

    const session = await signIn()
    expect(session.statusCode).toBe(200)
    cookie = cookiePair(session.headers['set-cookie'])
    cookieSessionId = session.json<{ session: { id: string } }>().session.id

    const grant = await token({ grant_type: 'password', username: email, password: PASSWORD })
    expect(grant.statusCode).toBe(200)
    pair = grant.json<TokenPair>()

    expect((await me({ cookie })).statusCode).toBe(200)
  })

  it('answers 503 fast during the outage, but still verifies access tokens', async () => {
    expect(pair, 'the sign-in step must have passed').toBeDefined()
    await faulty().stop()

    const cookieMe = await timed('cookie GET /auth/me', () => me({ cookie }))
    expect(cookieMe.statusCode).toBe(503)
    expect(cookieMe.json()).toMatchObject({ error: 'store_unavailable' })

    const ready = await timed('GET /readyz', () => app().inject({ method: 'GET', url: '/readyz' }))
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ error: 'store_unavailable' })

    // The access token proves itself: no store needed to answer who it belongs to.
    const bearerMe = await timed('bearer GET /auth/me', () =>
      me({ authorization: `Bearer ${pair.access_token}` }),
    )
    expect(bearerMe.statusCode).toBe(200)
    // The email too when the users' store is up (split, Redis down); otherwise exactly the token's word.
    const usersUp = scenario.servers.includes('postgres') && scenario.fault !== 'postgres'
    expect(bearerMe.json<{ user: object }>().user).toStrictEqual(
      usersUp ? { id: userId, email } : { id: userId },
    )

    const refresh = await timed('refresh_token grant', () =>
      token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }),
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
  })

  it('recovers by itself once the store is back, with nothing lost and nothing half-written', async () => {
    expect(pair, 'the sign-in step must have passed').toBeDefined()
    await faulty().start()
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
        const response = await me({ cookie })
        expect(response.statusCode).toBe(200)
        expect(response.json()).toMatchObject({
          user: { id: userId, email },
          session: { id: cookieSessionId },
        })
      },
      { timeout: RECOVERY_TIMEOUT_MS, interval: 100 },
    )

    // The refresh attempted during the outage rotated nothing: the old refresh token is still the current one.
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token })
    expect(refresh.statusCode).toBe(200)
    const rotated = refresh.json<TokenPair>()
    expect(rotated.refresh_token).not.toBe(pair.refresh_token)
    expect(rotated.access_token).not.toBe(pair.access_token)
    expect((await me({ authorization: `Bearer ${rotated.access_token}` })).statusCode).toBe(200)

    // Only the devices from before the outage exist: the failed sign-in and password grant left nothing.
    const devices = await app().inject({ method: 'GET', url: '/auth/sessions', headers: { cookie } })
    expect(devices.statusCode).toBe(200)
    const ids = devices.json<{ sessions: Array<{ id: string }> }>().sessions.map((device) => device.id)
    expect(ids).toHaveLength(2)
    expect(ids).toContain(cookieSessionId)

    // A sign-up that failed registered nothing, so the address is free; one that succeeded stays taken.
    const again = await signUp(outageEmail)
    expect(again.statusCode).toBe(scenario.signUpDuringOutage === 503 ? 201 : 409)
  })
})
