/** Devices: list a user's cookie sessions and token families, end one, end the others, log out everywhere. */
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { ManualClock } from '../helpers/clock.js'
import { EVERY_STORE, storeClock, useEveryStore } from '../helpers/every-store.js'
import { cookiePair, SAME_ORIGIN, type TestServer } from '../helpers/server.js'

const EMAIL = 'dev@example.com'
const PASSWORD = 'device password 1'

/**
 * On every store. The manual clock (`storeClock`) starts a day ahead of real time, so Redis, which expires keys
 * by its own clock, keeps every record through a test: what is checked is the engine's decision.
 */
describe.each(EVERY_STORE)('devices on $name', (target) => {
  const stores = useEveryStore(target)
  let server: TestServer
  let clock: ManualClock

  async function start(env: Record<string, string> = {}): Promise<void> {
    clock = storeClock()
    server = await stores.start({ clock, env })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
    await server.auth.signUp({ email: 'other@example.com', password: PASSWORD })
  }

  async function cookieLogin(userAgent: string, email = EMAIL): Promise<string> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: { ...SAME_ORIGIN, 'user-agent': userAgent },
      payload: { email, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    return cookiePair(response.headers['set-cookie'])
  }

  async function tokenLogin(userAgent: string): Promise<{ access: string; refresh: string }> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { 'user-agent': userAgent },
      payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    const body = response.json<{ access_token: string; refresh_token: string }>()
    return { access: `Bearer ${body.access_token}`, refresh: body.refresh_token }
  }

  function call(method: 'GET' | 'POST' | 'DELETE', url: string, credentials: string) {
    const headers: Record<string, string> = credentials.startsWith('Bearer ')
      ? { authorization: credentials }
      : { ...SAME_ORIGIN, cookie: credentials }
    return server.app.inject({ method, url, headers })
  }

  async function list(credentials: string) {
    const response = await call('GET', '/auth/sessions', credentials)
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    return response.json<{ sessions: Array<Record<string, unknown>> }>().sessions
  }

  describe('without a limit', () => {
    beforeEach(() => start())

    it('lists cookie sessions and token families with device details, marking the current one', async () => {
      const web = await cookieLogin('Firefox on laptop')
      clock.advance(10)
      const phone = await tokenLogin('SesameApp/1.0 (phone)')
      await cookieLogin('Chrome', 'other@example.com')

      const fromWeb = await list(web)
      expect(fromWeb).toEqual([
        {
          id: expect.any(String),
          type: 'cookie',
          user_agent: 'Firefox on laptop',
          ip: '127.0.0.1',
          created_at: new Date((clock.nowSeconds() - 10) * 1000).toISOString(),
          last_seen_at: expect.any(String),
          expires_at: expect.any(String),
          current: true,
        },
        expect.objectContaining({ type: 'token', user_agent: 'SesameApp/1.0 (phone)', current: false }),
      ])
      const fromPhone = await list(phone.access)
      expect(fromPhone.map((device) => [device.type, device.current])).toEqual([
        ['cookie', false],
        ['token', true],
      ])
    })

    it('ends one device by id; another user cannot end it (404)', async () => {
      const web = await cookieLogin('web')
      const phone = await tokenLogin('phone')
      const other = await cookieLogin('other', 'other@example.com')
      const phoneId = (await list(web)).find((device) => device.type === 'token')!.id as string

      const foreign = await call('DELETE', `/auth/sessions/${phoneId}`, other)
      expect(foreign.statusCode).toBe(404)
      expect(foreign.json()).toEqual({
        error: 'not_found',
        error_description: 'No session of yours has this id.',
      })

      expect((await call('DELETE', `/auth/sessions/${phoneId}`, web)).statusCode).toBe(204)
      // The family is gone, and so are its access tokens, at once.
      expect((await call('GET', '/auth/me', phone.access)).statusCode).toBe(401)
      const refreshed = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        payload: { grant_type: 'refresh_token', refresh_token: phone.refresh },
      })
      expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' })
      expect((await list(web)).map((device) => device.type)).toEqual(['cookie'])
      expect((await call('DELETE', `/auth/sessions/${phoneId}`, web)).statusCode).toBe(404)
    })

    it('ends every other device, keeping the caller', async () => {
      const web = await cookieLogin('web')
      const laptop = await cookieLogin('laptop')
      const phone = await tokenLogin('phone')
      const response = await call('POST', '/auth/sessions/revoke-others', phone.access)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ ended: 2 })
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(401)
      expect((await call('GET', '/auth/me', laptop)).statusCode).toBe(401)
      expect((await call('GET', '/auth/me', phone.access)).statusCode).toBe(200)
      expect(await list(phone.access)).toHaveLength(1)
    })

    it('logs out everywhere: every session, family and access token, the caller included', async () => {
      const web = await cookieLogin('web')
      const phone = await tokenLogin('phone')
      const tablet = await tokenLogin('tablet')
      const response = await call('POST', '/auth/logout-everywhere', web)
      expect(response.statusCode).toBe(204)
      expect(response.headers['set-cookie']).toEqual([
        expect.stringMatching(/^__Host-sesame=; Path=\/; Max-Age=0;/),
      ])
      for (const credentials of [web, phone.access, tablet.access]) {
        expect((await call('GET', '/auth/me', credentials)).statusCode).toBe(401)
      }
      // A new sign-in right after works (the epoch kills only tokens issued before its second).
      const again = await tokenLogin('phone')
      expect((await call('GET', '/auth/me', again.access)).statusCode).toBe(200)
    })

    it('changes the password and ends every other device, keeping the caller', async () => {
      const web = await cookieLogin('web')
      const laptop = await cookieLogin('laptop')
      const phone = await tokenLogin('phone')
      const change = (credentials: string, current: string, next: string) =>
        server.app.inject({
          method: 'POST',
          url: '/auth/password',
          headers: credentials.startsWith('Bearer ')
            ? { authorization: credentials }
            : { ...SAME_ORIGIN, cookie: credentials },
          payload: { current_password: current, new_password: next },
        })
      const wrong = await change(web, 'not my password', 'a brand new passphrase')
      expect(wrong.statusCode).toBe(401)
      expect(wrong.json()).toMatchObject({ error: 'invalid_credentials' })
      const weak = await change(web, PASSWORD, 'password')
      expect(weak.statusCode).toBe(400)
      expect(weak.json()).toMatchObject({ error: 'invalid_request' })

      const changed = await change(web, PASSWORD, 'a brand new passphrase')
      expect(changed.statusCode).toBe(200)
      expect(changed.json()).toEqual({ ended: 2 })
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(200)
      // The other devices are signed out: the other cookie session, and the token family, its access token
      // and its refresh token alike.
      const laptopMe = await call('GET', '/auth/me', laptop)
      expect(laptopMe.statusCode).toBe(401)
      expect(laptopMe.json()).toMatchObject({ error: 'invalid_session' })
      expect((await call('GET', '/auth/me', phone.access)).statusCode).toBe(401)
      const refreshed = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        payload: { grant_type: 'refresh_token', refresh_token: phone.refresh },
      })
      expect(refreshed.statusCode).toBe(400)
      expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' })
      expect((await list(web)).map((device) => device.user_agent)).toEqual(['web'])
      const oldPassword = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      })
      expect(oldPassword.statusCode).toBe(401)
      const newPassword = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: 'a brand new passphrase' },
      })
      expect(newPassword.statusCode).toBe(200)
    })

    it('requires credentials and the same origin', async () => {
      expect((await server.app.inject({ method: 'GET', url: '/auth/sessions' })).statusCode).toBe(401)
      const web = await cookieLogin('web')
      const crossSite = await server.app.inject({
        method: 'POST',
        url: '/auth/logout-everywhere',
        headers: { cookie: web, origin: 'https://evil.example' },
      })
      expect(crossSite.statusCode).toBe(403)
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(200)
    })
  })

  describe('with SESAME_MAX_SESSIONS_PER_USER', () => {
    it('evicts the oldest device (the phone logs the web out)', async () => {
      await start({ SESAME_MAX_SESSIONS_PER_USER: '1' })
      const web = await cookieLogin('web')
      clock.advance(1)
      const phone = await tokenLogin('phone')
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(401)
      expect((await list(phone.access)).map((device) => device.user_agent)).toEqual(['phone'])
    })

    it('denies a new sign-in at the limit with the deny policy', async () => {
      await start({ SESAME_MAX_SESSIONS_PER_USER: '2', SESAME_SESSION_LIMIT_POLICY: 'deny' })
      const web = await cookieLogin('web')
      await tokenLogin('phone')
      const third = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      })
      expect(third.statusCode).toBe(403)
      expect(third.json()).toEqual({
        error: 'session_limit_reached',
        error_description: 'This account is already signed in on 2 devices.',
      })
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(200)
      // The password grant is a sign-in too: refused the same way, with no family left behind.
      const grant = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { 'user-agent': 'tablet' },
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(grant.statusCode).toBe(403)
      expect(grant.json()).toEqual({
        error: 'session_limit_reached',
        error_description: 'This account is already signed in on 2 devices.',
      })
      expect((await list(web)).map((device) => device.user_agent).sort()).toEqual(['phone', 'web'])
    })

    it('denies a password grant at the limit, with the deny policy, on a token-only account', async () => {
      await start({ SESAME_MAX_SESSIONS_PER_USER: '1', SESAME_SESSION_LIMIT_POLICY: 'deny' })
      const phone = await tokenLogin('phone')
      const second = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { 'user-agent': 'tablet' },
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(second.statusCode).toBe(403)
      expect(second.json()).toMatchObject({ error: 'session_limit_reached' })
      expect((await list(phone.access)).map((device) => device.user_agent)).toEqual(['phone'])
      // Ending the one device frees the slot.
      const phoneId = (await list(phone.access))[0]!.id as string
      expect((await call('DELETE', `/auth/sessions/${phoneId}`, phone.access)).statusCode).toBe(204)
      await tokenLogin('tablet')
    })

    // The limit must be checked in the create itself: were it a separate count before the create, sign-ins
    // that all counted before any of them created would all get in. Holding each request right after its
    // device count (until all have counted) would show that on every store; the store's atomic create
    // (`DeviceLimit` in src/store/types.ts) lets exactly the limit in however the requests interleave.
    it('holds the deny limit against parallel sign-ins: exactly the limit get in', async () => {
      await start({ SESAME_MAX_SESSIONS_PER_USER: '1', SESAME_SESSION_LIMIT_POLICY: 'deny' })
      const PARALLEL = 4
      // Each request is held right after its device count until all have counted (or 500 ms have passed,
      // so that a fix that serialises the counts cannot hang the test).
      const count = server.store.listUserRefreshFamilies.bind(server.store)
      const held: Array<() => void> = []
      const releaseAll = () => held.splice(0).forEach((resume) => resume())
      const timer = setTimeout(releaseAll, 500)
      const reads = vi.spyOn(server.store, 'listUserRefreshFamilies').mockImplementation(async (userId) => {
        const found = await count(userId)
        await new Promise<void>((resume) => {
          held.push(resume)
          if (held.length === PARALLEL) releaseAll()
        })
        return found
      })
      let statuses: number[]
      try {
        statuses = (
          await Promise.all(
            Array.from({ length: PARALLEL }, () =>
              server.app.inject({
                method: 'POST',
                url: '/auth/session',
                headers: SAME_ORIGIN,
                payload: { email: EMAIL, password: PASSWORD },
              }),
            ),
          )
        ).map((response) => response.statusCode)
      } finally {
        clearTimeout(timer)
        reads.mockRestore()
      }
      const user = (await server.store.findUserByEmail(EMAIL))!
      expect({
        statuses: statuses.sort(),
        stored: (await server.store.listUserSessions(user.id)).length,
      }).toEqual({ statuses: [200, 403, 403, 403], stored: 1 })
    })

    it('holds the limit across instances sharing the store', async () => {
      await start({ SESAME_MAX_SESSIONS_PER_USER: '1', SESAME_SESSION_LIMIT_POLICY: 'deny' })
      const other = await stores.start({
        clock,
        env: { SESAME_MAX_SESSIONS_PER_USER: '1', SESAME_SESSION_LIMIT_POLICY: 'deny' },
      })
      const web = await cookieLogin('web')
      const elsewhere = await other.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      })
      expect(elsewhere.statusCode).toBe(403)
      expect(elsewhere.json()).toMatchObject({ error: 'session_limit_reached' })
      expect((await call('GET', '/auth/me', web)).statusCode).toBe(200)
    })
  })
})
