import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { generateSecretToken } from '../../src/core/random.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { EVERY_STORE, storeClock, useEveryStore } from '../helpers/every-store.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'sam@example.com'
const PASSWORD = 'open sesame 123'
const IDLE = 60
const ABSOLUTE = 300

describe('cookie sessions', () => {
  let server: TestServer
  let clock: ManualClock

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({
      clock,
      env: { SESAME_SESSION_IDLE_SECONDS: String(IDLE), SESAME_SESSION_ABSOLUTE_SECONDS: String(ABSOLUTE) },
    })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  })
  afterEach(() => server.close())

  async function logIn(cookie?: string) {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: { ...SAME_ORIGIN, ...(cookie && { cookie }) },
      payload: { email: EMAIL, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    return { response, cookie: cookiePair(response.headers['set-cookie']) }
  }

  function me(cookie?: string) {
    return server.app.inject({ method: 'GET', url: '/auth/me', headers: cookie ? { cookie } : {} })
  }

  it('sets a __Host- cookie that is HttpOnly, Secure, SameSite=Lax, Path=/, with no Domain, and no-store', async () => {
    const { response } = await logIn()
    expect(response.headers['set-cookie']).toHaveLength(1)
    const [setCookie] = response.headers['set-cookie'] as string[]
    expect(setCookie).toMatch(
      /^__Host-sesame=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=60; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect(setCookie).not.toMatch(/domain/i)
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('recognises the browser on later requests through the cookie', async () => {
    const { cookie } = await logIn()
    const response = await me(cookie)
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    // The whole body, exactly: the route's response schema would drop a field it does not declare.
    const [session] = await server.store.listUserSessions((await server.store.findUserByEmail(EMAIL))!.id)
    expect(response.json()).toStrictEqual({
      user: { id: session!.userId, email: EMAIL, email_verified: false },
      session: {
        id: session!.id,
        method: 'cookie',
        amr: ['pwd'],
        created_at: new Date(clock.nowSeconds() * 1000).toISOString(),
        expires_at: new Date((clock.nowSeconds() + IDLE) * 1000).toISOString(),
      },
    })
  })

  it('stores only the SHA-256 of the session id', async () => {
    const { cookie } = await logIn()
    const token = cookie.split('=')[1]!
    const sessions = await server.store.listUserSessions((await server.store.findUserByEmail(EMAIL))!.id)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]!.tokenHash).toBe(hashSecret(token))
    expect(JSON.stringify(sessions)).not.toContain(token)
  })

  it('answers 401 unauthenticated without a cookie', async () => {
    const response = await me()
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({
      error: 'unauthenticated',
      error_description: 'No session cookie or bearer token was sent.',
    })
  })

  it('refuses session fixation: a presented id is never adopted, and a known old one is ended', async () => {
    const planted = `__Host-sesame=${generateSecretToken()}`
    const { cookie: issued } = await logIn(planted)
    expect(issued).not.toBe(planted)
    expect((await me(planted)).statusCode).toBe(401)

    const { cookie: second } = await logIn(issued)
    expect(second).not.toBe(issued)
    const old = await me(issued)
    expect(old.statusCode).toBe(401)
    expect(old.json()).toMatchObject({ error: 'invalid_session' })
    expect((await me(second)).statusCode).toBe(200)
  })

  it('gives a new id on every login', async () => {
    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) ids.add((await logIn()).cookie)
    expect(ids.size).toBe(3)
  })

  it('logout deletes the server state and clears the cookie; the old cookie is then refused', async () => {
    const { cookie } = await logIn()
    const response = await server.app.inject({
      method: 'DELETE',
      url: '/auth/session',
      headers: { ...SAME_ORIGIN, cookie },
    })
    expect(response.statusCode).toBe(204)
    expect(response.headers['set-cookie']).toEqual([
      '__Host-sesame=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    ])
    expect(response.headers['cache-control']).toBe('no-store')
    const user = (await server.store.findUserByEmail(EMAIL))!
    expect(await server.store.listUserSessions(user.id)).toEqual([])
    const after = await me(cookie)
    expect(after.statusCode).toBe(401)
    expect(after.json()).toEqual({ error: 'invalid_session', error_description: 'The session has ended.' })
    expect(after.headers['set-cookie']).toEqual([
      expect.stringMatching(/^__Host-sesame=; Path=\/; Max-Age=0;/),
    ])
  })
})

/**
 * Idle and absolute expiry, sliding renewal and the purge, on every store. The manual clock (`storeClock`) is
 * the engine's: these check the engine's decisions, which Redis's TTLs (set a day or more in the future by
 * Redis's own clock) never pre-empt here. That Redis does drop an expired session by its own clock is the last
 * test, with a real two-second idle timeout and a real wait of at most about two seconds.
 */
describe.each(EVERY_STORE)('cookie session expiry on $name', (target) => {
  const stores = useEveryStore(target)
  let server: TestServer
  let clock: ManualClock

  beforeEach(async () => {
    clock = storeClock()
    server = await stores.start({
      clock,
      env: { SESAME_SESSION_IDLE_SECONDS: String(IDLE), SESAME_SESSION_ABSOLUTE_SECONDS: String(ABSOLUTE) },
    })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  })

  async function logIn(on: TestServer = server) {
    const response = await on.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: EMAIL, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    return { response, cookie: cookiePair(response.headers['set-cookie']) }
  }

  function me(cookie?: string, on: TestServer = server) {
    return on.app.inject({ method: 'GET', url: '/auth/me', headers: cookie ? { cookie } : {} })
  }

  it('ends an idle session after the idle timeout', async () => {
    const { cookie } = await logIn()
    clock.advance(IDLE - 1)
    expect((await me(cookie)).statusCode).toBe(200) // renews: last seen moves to now
    clock.advance(IDLE - 1)
    expect((await me(cookie)).statusCode).toBe(200)
    clock.advance(IDLE)
    const response = await me(cookie)
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({
      error: 'invalid_session',
      error_description: 'The session has expired.',
    })
  })

  it('ends an active session at the absolute timeout, and renewal never passes it', async () => {
    const { cookie } = await logIn()
    const start = clock.nowSeconds()
    let lastExpiry = ''
    while (clock.nowSeconds() + 50 < start + ABSOLUTE) {
      clock.advance(50)
      const response = await me(cookie)
      expect(response.statusCode).toBe(200)
      lastExpiry = response.json<{ session: { expires_at: string } }>().session.expires_at
      expect(Date.parse(lastExpiry) / 1000).toBeLessThanOrEqual(start + ABSOLUTE)
    }
    expect(Date.parse(lastExpiry) / 1000).toBe(start + ABSOLUTE)
    clock.set(start + ABSOLUTE)
    const response = await me(cookie)
    expect(response.statusCode).toBe(401)
    expect(response.json()).toMatchObject({ error: 'invalid_session' })
  })

  it('slides the expiry for active users with throttled writes, re-sending the cookie only on renewal', async () => {
    const { cookie } = await logIn()
    const user = (await server.store.findUserByEmail(EMAIL))!
    const loggedInAt = clock.nowSeconds()
    const renewAfter = server.auth.config.session.renewAfterSeconds
    expect(renewAfter).toBe(30)

    clock.advance(renewAfter - 1)
    const quiet = await me(cookie)
    expect(quiet.statusCode).toBe(200)
    expect(quiet.headers['set-cookie']).toBeUndefined()
    expect((await server.store.listUserSessions(user.id))[0]!.lastSeenAt).toBe(loggedInAt)

    clock.advance(1)
    const renewed = await me(cookie)
    expect(renewed.statusCode).toBe(200)
    expect(renewed.headers['set-cookie']).toEqual([
      `${cookie}; Path=/; Max-Age=${IDLE}; HttpOnly; Secure; SameSite=Lax`,
    ])
    const [session] = await server.store.listUserSessions(user.id)
    expect(session!.lastSeenAt).toBe(loggedInAt + renewAfter)
    expect(session!.expiresAt).toBe(loggedInAt + renewAfter + IDLE)
  })

  it('purges expired sessions from the store', async () => {
    await logIn()
    await logIn()
    const user = (await server.store.findUserByEmail(EMAIL))!
    expect(await server.store.listUserSessions(user.id)).toHaveLength(2)
    clock.advance(IDLE)
    expect(await server.auth.deleteExpiredSessions()).toBe(2)
    expect(await server.store.listUserSessions(user.id)).toEqual([])
  })

  it('ends the session on another instance sharing the store too, idle or not', async () => {
    const other = await stores.start({
      clock,
      env: { SESAME_SESSION_IDLE_SECONDS: String(IDLE), SESAME_SESSION_ABSOLUTE_SECONDS: String(ABSOLUTE) },
    })
    const { cookie } = await logIn()
    clock.advance(IDLE - 1)
    // The renewal one instance writes is what the other reads.
    expect((await me(cookie, other)).statusCode).toBe(200)
    clock.advance(IDLE - 1)
    expect((await me(cookie)).statusCode).toBe(200)
    clock.advance(IDLE)
    expect((await me(cookie, other)).json()).toEqual({
      error: 'invalid_session',
      error_description: 'The session has expired.',
    })
  })

  // Defined on the Redis-backed stores only (not skipped elsewhere): the others purge by the engine's clock.
  if (target.expiresKeysItself) {
    it('lets Redis drop an idle session by its own clock (real time, short TTL)', async () => {
      // The real clock here, not the manual one: the TTL is Redis's to enforce. Idle 2 s (the least allowed)
      // is an EXPIREAT one to two seconds away; the wait below polls for at most about that long. The
      // manual-clock instance, a day ahead, goes first: its sweeper would count this session as long expired.
      await server.close()
      const real = await stores.start({
        env: { SESAME_SESSION_IDLE_SECONDS: '2', SESAME_SESSION_ABSOLUTE_SECONDS: '60' },
      })
      const { cookie } = await logIn(real)
      const tokenHash = hashSecret(cookie.split('=')[1]!)
      expect(await real.store.findSessionByTokenHash(tokenHash)).not.toBeNull()
      await vi.waitFor(async () => expect(await real.store.findSessionByTokenHash(tokenHash)).toBeNull(), {
        timeout: 3000,
        interval: 100,
      })
      const user = (await real.store.findUserByEmail(EMAIL))!
      expect(await real.store.listUserSessions(user.id)).toEqual([])
      const response = await me(cookie, real)
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ error: 'invalid_session' })
    })
  }
})
