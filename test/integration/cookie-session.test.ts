import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { generateSecretToken } from '../../src/core/random.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
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
      user: { id: session!.userId, email: EMAIL },
      session: {
        id: session!.id,
        method: 'cookie',
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
})
