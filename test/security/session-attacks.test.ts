/**
 * The session attack corpus (issue 5, "Must show"), over HTTP: session fixation, cookie tossing (duplicate and
 * case-variant cookie names), malformed and oversized `Cookie` headers, CSRF from a foreign origin on every
 * state-changing route (login CSRF included), and user enumeration by response. Timing is benchmarked, not
 * asserted; brute force reaching 429 is tested with the rate limiter.
 *
 * CSRF rule asserted: a state-changing request whose `Origin` names another host, or whose `Sec-Fetch-Site` is
 * `cross-site` or `same-site`, is refused with 403 `csrf_rejected`, and nothing changes.
 */
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateSecretToken } from '../../src/core/random.js'
import { createManualClock } from '../helpers/clock.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const VICTIM = 'victim@example.com'
const ATTACKER = 'attacker@example.com'
const NEWCOMER = 'newcomer@example.com'
const PASSWORD = 'correct horse battery'
const COOKIE_NAME = '__Host-sesame'
const HOST = SAME_ORIGIN.host

type Method = 'GET' | 'POST' | 'DELETE'
type Response = Awaited<ReturnType<TestServer['app']['inject']>>

describe('session attacks', () => {
  let server: TestServer
  let victimId: string
  let attackerId: string

  async function start(): Promise<void> {
    server = await startTestServer({ clock: createManualClock(), env: { SESAME_STORE: 'memory' } })
    victimId = (await server.auth.signUp({ email: VICTIM, password: PASSWORD })).id
    attackerId = (await server.auth.signUp({ email: ATTACKER, password: PASSWORD })).id
  }

  /** A fresh server with the victim's and the attacker's accounts for every test of the calling describe. */
  function serverPerTest(): void {
    beforeEach(start)
    afterEach(() => server.close())
  }

  function send(
    method: Method,
    url: string,
    headers: Record<string, string>,
    form?: Record<string, string>,
  ): Promise<Response> {
    return server.app.inject({
      method,
      url,
      headers: {
        host: HOST,
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
        ...headers,
      },
      ...(form && { payload: new URLSearchParams(form).toString() }),
    })
  }

  /** Signs in through the JSON API from the same origin and returns the `name=value` cookie pair. */
  async function logIn(email: string, cookie?: string): Promise<string> {
    const response = await send(
      'POST',
      '/auth/session',
      { ...SAME_ORIGIN, ...(cookie !== undefined && { cookie }) },
      { email, password: PASSWORD },
    )
    expect(response.statusCode).toBe(200)
    return cookiePair(response.headers['set-cookie'])
  }

  function me(cookie: string): Promise<Response> {
    return send('GET', '/auth/me', { cookie })
  }

  async function expectSignedInAs(cookie: string, email: string): Promise<void> {
    const response = await me(cookie)
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({ user: { email }, session: { method: 'cookie' } })
  }

  async function expectError(response: Response, status: number, error: string): Promise<void> {
    expect(response.statusCode, response.body).toBe(status)
    expect(response.json<{ error: string }>().error).toBe(error)
  }

  /** Never a 500; any error is the one JSON shape. */
  function expectHandled(response: Response): void {
    expect(response.statusCode, response.body).toBeLessThan(500)
    if (response.statusCode >= 400) {
      expect(response.json()).toEqual({ error: expect.any(String), error_description: expect.any(String) })
    }
  }

  function valueOf(pair: string): string {
    return pair.slice(pair.indexOf('=') + 1)
  }

  describe('session fixation', () => {
    serverPerTest()

    it('never adopts a planted, well-formed id: it is unknown before login and still refused after', async () => {
      const planted = `${COOKIE_NAME}=${generateSecretToken()}`
      await expectError(await me(planted), 401, 'invalid_session')
      const issued = await logIn(VICTIM, planted)
      expect(valueOf(issued)).not.toBe(valueOf(planted))
      await expectSignedInAs(issued, VICTIM)
      await expectError(await me(planted), 401, 'invalid_session')
    })

    it("replaces the attacker's own planted session at login; it never becomes the victim's", async () => {
      const planted = await logIn(ATTACKER)
      const issued = await logIn(VICTIM, planted)
      expect(valueOf(issued)).not.toBe(valueOf(planted))
      await expectSignedInAs(issued, VICTIM)
      // The planted session is ended, not upgraded to the victim.
      await expectError(await me(planted), 401, 'invalid_session')
      expect(await server.store.listUserSessions(attackerId)).toHaveLength(0)
    })

    it('replaces a planted session on POST /login and POST /signup (the pages)', async () => {
      const plantedForLogin = await logIn(ATTACKER)
      const login = await send(
        'POST',
        '/login',
        { ...SAME_ORIGIN, cookie: plantedForLogin },
        { email: VICTIM, password: PASSWORD },
      )
      expect(login.statusCode).toBe(303)
      const loginCookie = cookiePair(login.headers['set-cookie'])
      expect(valueOf(loginCookie)).not.toBe(valueOf(plantedForLogin))
      await expectSignedInAs(loginCookie, VICTIM)
      await expectError(await me(plantedForLogin), 401, 'invalid_session')

      const plantedForSignup = await logIn(ATTACKER)
      const signup = await send(
        'POST',
        '/signup',
        { ...SAME_ORIGIN, cookie: plantedForSignup },
        { email: NEWCOMER, password: PASSWORD },
      )
      expect(signup.statusCode).toBe(303)
      const signupCookie = cookiePair(signup.headers['set-cookie'])
      expect(valueOf(signupCookie)).not.toBe(valueOf(plantedForSignup))
      await expectSignedInAs(signupCookie, NEWCOMER)
      await expectError(await me(plantedForSignup), 401, 'invalid_session')
    })

    it('issues a fresh id even when the planted cookie is duplicated or malformed', async () => {
      const attackerValue = valueOf(await logIn(ATTACKER))
      for (const planted of [
        `${COOKIE_NAME}=${attackerValue}; ${COOKIE_NAME}=${attackerValue}`,
        `${COOKIE_NAME}=${attackerValue}; ${COOKIE_NAME}=${generateSecretToken()}`,
        `${COOKIE_NAME}=short`,
        `${COOKIE_NAME}=`,
      ]) {
        const issued = await logIn(VICTIM, planted)
        expect(valueOf(issued)).not.toBe(attackerValue)
        expect(planted).not.toContain(valueOf(issued))
        await expectSignedInAs(issued, VICTIM)
      }
    })

    it("rotates the victim's own id at every login: the previous one stops working", async () => {
      const first = await logIn(VICTIM)
      const second = await logIn(VICTIM, first)
      expect(valueOf(second)).not.toBe(valueOf(first))
      await expectError(await me(first), 401, 'invalid_session')
      await expectSignedInAs(second, VICTIM)
    })
  })

  describe('cookie tossing: duplicate and case-variant names', () => {
    serverPerTest()

    it.each([
      ['the same valid cookie twice', (v: string) => `${COOKIE_NAME}=${v}; ${COOKIE_NAME}=${v}`],
      ['a valid cookie and a garbage one', (v: string) => `${COOKIE_NAME}=${v}; ${COOKIE_NAME}=garbage`],
      ['a garbage cookie before the valid one', (v: string) => `${COOKIE_NAME}=garbage; ${COOKIE_NAME}=${v}`],
      ['duplicates without a space', (v: string) => `${COOKIE_NAME}=${v};${COOKIE_NAME}=${v}`],
      ['a duplicate with spaces around the name', (v: string) => `${COOKIE_NAME}=${v}; ${COOKIE_NAME} =${v}`],
    ])('answers %s with 401 invalid_cookie and clears it', async (_name, build) => {
      const victim = valueOf(await logIn(VICTIM))
      const response = await me(build(victim))
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({
        error: 'invalid_cookie',
        error_description: `The "${COOKIE_NAME}" cookie was sent more than once.`,
      })
      expect(String(response.headers['set-cookie'])).toMatch(/^__Host-sesame=; Path=\/; Max-Age=0;/)
    })

    it("never picks one of two valid sessions (victim's and attacker's tossed one)", async () => {
      const victim = valueOf(await logIn(VICTIM))
      const attacker = valueOf(await logIn(ATTACKER))
      for (const header of [
        `${COOKIE_NAME}=${attacker}; ${COOKIE_NAME}=${victim}`,
        `${COOKIE_NAME}=${victim}; ${COOKIE_NAME}=${attacker}`,
      ]) {
        await expectError(await me(header), 401, 'invalid_cookie')
      }
      // Both sessions are still intact for their owners.
      await expectSignedInAs(`${COOKIE_NAME}=${victim}`, VICTIM)
      await expectSignedInAs(`${COOKIE_NAME}=${attacker}`, ATTACKER)
    })

    it.each([
      '__host-sesame',
      '__HOST-SESAME',
      '__Host-Sesame',
      '__host-SESAME',
      'sesame',
      '__Secure-sesame',
    ])('does not treat %s as the session cookie', async (name) => {
      const victim = valueOf(await logIn(VICTIM))
      await expectError(await me(`${name}=${victim}`), 401, 'unauthenticated')
    })

    it('ignores a case-variant cookie beside the real one: not a duplicate, and not the session', async () => {
      const victim = valueOf(await logIn(VICTIM))
      const attacker = valueOf(await logIn(ATTACKER))
      for (const header of [
        `__host-sesame=${attacker}; ${COOKIE_NAME}=${victim}`,
        `${COOKIE_NAME}=${victim}; __HOST-SESAME=${attacker}`,
        `__HOST-SESAME=garbage; ${COOKIE_NAME}=${victim}; __host-sesame=garbage`,
      ]) {
        await expectSignedInAs(header, VICTIM)
      }
    })

    it('treats a duplicate as signed out on the pages (GET /account redirects, no 500)', async () => {
      const victim = valueOf(await logIn(VICTIM))
      const response = await send('GET', '/account', {
        cookie: `${COOKIE_NAME}=${victim}; ${COOKIE_NAME}=${victim}`,
      })
      expect(response.statusCode).toBe(303)
      expect(response.headers.location).toBe('/login')
    })
  })

  describe('malformed Cookie headers', () => {
    serverPerTest()

    it.each([
      ['no "=" at all', 'garbage'],
      ['an empty header', ''],
      ['only ";"', ';'],
      ['only separators and spaces', ' ; ;; ; '],
      ['a lone "="', '='],
      ['a nameless value', '=__Host-sesame'],
      ['the name without "="', COOKIE_NAME],
      ['the name with a colon', `${COOKIE_NAME}:value`],
      ['control characters', 'a=\tb; c=\u0001'],
    ])('answers %s with 401 unauthenticated', async (_name, cookie) => {
      await expectError(await me(cookie), 401, 'unauthenticated')
    })

    it.each([
      ['an empty value', `${COOKIE_NAME}=`],
      ['a quoted value', `${COOKIE_NAME}="${'A'.repeat(43)}"`],
      ['a value one character short', `${COOKIE_NAME}=${'A'.repeat(42)}`],
      ['a value with "=" inside', `${COOKIE_NAME}==${'A'.repeat(42)}`],
      ['a value in the standard base64 alphabet', `${COOKIE_NAME}=${'+/'.repeat(21)}A`],
      ['a value with a percent-encoding', `${COOKIE_NAME}=%41${'A'.repeat(40)}`],
    ])('answers %s with 401 invalid_cookie', async (_name, cookie) => {
      await expectError(await me(cookie), 401, 'invalid_cookie')
    })

    it('finds a valid session among junk pairs', async () => {
      const victim = valueOf(await logIn(VICTIM))
      await expectSignedInAs(`junk; =; ;a=b=c; ${COOKIE_NAME}=${victim}; trailing`, VICTIM)
    })

    it.each([
      ['GET', '/auth/me'],
      ['GET', '/auth/sessions'],
      ['GET', '/account'],
      ['GET', '/'],
      ['GET', '/login'],
      ['DELETE', '/auth/session'],
      ['POST', '/logout'],
    ] as const)('never answers 500 to %s %s, whatever the Cookie header', async (method, url) => {
      for (const cookie of [
        'garbage',
        '',
        ';',
        '=',
        `${COOKIE_NAME}=`,
        `${COOKIE_NAME}=a; ${COOKIE_NAME}=b`,
        'a=b; '.repeat(2000),
        'x'.repeat(12_000),
        `${COOKIE_NAME}=${'A'.repeat(10_240)}`,
      ]) {
        expectHandled(await send(method, url, { ...SAME_ORIGIN, cookie }))
      }
    })

    it('signs in over any malformed Cookie header, replacing it', async () => {
      for (const cookie of ['garbage', ';', '=', `${COOKIE_NAME}=`, `${COOKIE_NAME}=a; ${COOKIE_NAME}=b`]) {
        await expectSignedInAs(await logIn(VICTIM, cookie), VICTIM)
      }
    })
  })

  describe('oversized cookies', () => {
    serverPerTest()

    it('refuses a 10 KB session cookie value with a 4xx JSON error, never 500', async () => {
      const response = await me(`${COOKIE_NAME}=${'A'.repeat(10_240)}`)
      expectHandled(response)
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
    })

    it('never answers 500 to a valid session next to a 10 KB cookie, or to login with one', async () => {
      const victim = await logIn(VICTIM)
      const big = `big=${'b'.repeat(10_240)}`
      const withSession = await me(`${big}; ${victim}`)
      expectHandled(withSession)
      if (withSession.statusCode === 200)
        expect(withSession.json()).toMatchObject({ user: { email: VICTIM } })
      expectHandled(
        await send(
          'POST',
          '/auth/session',
          { ...SAME_ORIGIN, cookie: big },
          { email: VICTIM, password: PASSWORD },
        ),
      )
    })

    it('answers a 10 KB cookie over real HTTP without a 500', async () => {
      await server.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = server.app.server.address() as AddressInfo
      for (const cookie of [`${COOKIE_NAME}=${'A'.repeat(10_240)}`, `big=${'b'.repeat(10_240)}`]) {
        const response = await fetch(`http://127.0.0.1:${port}/auth/me`, { headers: { cookie } })
        expect(response.status).toBeGreaterThanOrEqual(400)
        expect(response.status).toBeLessThan(500)
        expect(await response.json()).toEqual({
          error: expect.any(String),
          error_description: expect.any(String),
        })
      }
    })
  })

  describe('CSRF from a foreign origin on every state-changing route', () => {
    interface Victim {
      /** The cookie the victim's browser attaches. */
      cookie: string
      /** A second session of the victim's (another device). */
      otherCookie: string
      otherSessionId: string
      refreshToken: string
    }

    interface Route {
      method: Method
      path: (victim: Victim) => string
      form?: (victim: Victim) => Record<string, string>
      /** What the route answers when the same request comes from the same origin. */
      sameOriginStatus: number
    }

    const routes: Record<string, Route> = {
      'POST /auth/session (login CSRF)': {
        method: 'POST',
        path: () => '/auth/session',
        form: () => ({ email: ATTACKER, password: PASSWORD }),
        sameOriginStatus: 200,
      },
      'DELETE /auth/session': { method: 'DELETE', path: () => '/auth/session', sameOriginStatus: 204 },
      'POST /auth/signup': {
        method: 'POST',
        path: () => '/auth/signup',
        form: () => ({ email: NEWCOMER, password: PASSWORD }),
        sameOriginStatus: 201,
      },
      'POST /auth/sessions/revoke-others': {
        method: 'POST',
        path: () => '/auth/sessions/revoke-others',
        sameOriginStatus: 200,
      },
      'POST /auth/logout-everywhere': {
        method: 'POST',
        path: () => '/auth/logout-everywhere',
        sameOriginStatus: 204,
      },
      'DELETE /auth/sessions/:id': {
        method: 'DELETE',
        path: (victim) => `/auth/sessions/${victim.otherSessionId}`,
        sameOriginStatus: 204,
      },
      'POST /logout': { method: 'POST', path: () => '/logout', sameOriginStatus: 303 },
      'POST /login (login CSRF)': {
        method: 'POST',
        path: () => '/login',
        form: () => ({ email: ATTACKER, password: PASSWORD }),
        sameOriginStatus: 303,
      },
      'POST /signup': {
        method: 'POST',
        path: () => '/signup',
        form: () => ({ email: NEWCOMER, password: PASSWORD }),
        sameOriginStatus: 303,
      },
      'POST /auth/token': {
        method: 'POST',
        path: () => '/auth/token',
        form: () => ({ grant_type: 'password', username: ATTACKER, password: PASSWORD }),
        sameOriginStatus: 200,
      },
      'POST /auth/revoke': {
        method: 'POST',
        path: () => '/auth/revoke',
        form: (victim) => ({ token: victim.refreshToken }),
        sameOriginStatus: 200,
      },
    }

    const foreign: Record<string, Record<string, string>> = {
      'an Origin of another site': { origin: 'https://evil.example' },
      'a look-alike Origin': { origin: `http://${HOST}.evil.example` },
      'the same host on another port': { origin: 'http://localhost:8080' },
      'Origin: null (sandboxed frame, data: URL)': { origin: 'null' },
      'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
      'Sec-Fetch-Site: same-site (a sibling subdomain)': { 'sec-fetch-site': 'same-site' },
      'a foreign Origin that claims Sec-Fetch-Site: same-origin': {
        origin: 'https://evil.example',
        'sec-fetch-site': 'same-origin',
      },
    }

    async function setUpVictim(): Promise<Victim> {
      const otherCookie = await logIn(VICTIM)
      const cookie = await logIn(VICTIM)
      const token = await send('POST', '/auth/token', SAME_ORIGIN, {
        grant_type: 'password',
        username: VICTIM,
        password: PASSWORD,
      })
      expect(token.statusCode).toBe(200)
      const listed = await send('GET', '/auth/sessions', { cookie })
      const sessions = listed.json<{ sessions: Array<{ id: string; current: boolean; type: string }> }>()
        .sessions
      expect(sessions).toHaveLength(3) // two cookie sessions and one token family
      const other = sessions.filter((session) => session.type === 'cookie' && !session.current)
      expect(other).toHaveLength(1)
      return {
        cookie,
        otherCookie,
        otherSessionId: other[0]!.id,
        refreshToken: token.json<{ refresh_token: string }>().refresh_token,
      }
    }

    /** Everything a forged request could change: sessions, token families, accounts. */
    async function snapshot(): Promise<unknown> {
      const ids = async (userId: string) => ({
        sessions: (await server.store.listUserSessions(userId)).map((s) => s.id).sort(),
        families: (await server.store.listUserRefreshFamilies(userId))
          .map((f) => `${f.id}:${f.generation}:${f.revokedAt}`)
          .sort(),
      })
      return {
        victim: await ids(victimId),
        attacker: await ids(attackerId),
        newcomer: await server.store.findUserByEmail(NEWCOMER),
      }
    }

    /**
     * A fresh server and victim for every case, so each stands alone (`-t` runs any one of them) and none
     * depends on another having changed nothing, or on the same-origin control (which changes state) coming
     * last.
     */
    describe.each(Object.entries(routes))('%s', (_routeName, route) => {
      let victim: Victim

      beforeEach(async () => {
        await start()
        victim = await setUpVictim()
      })
      afterEach(() => server.close())

      it.each(Object.entries(foreign))(
        'is refused from %s with 403 csrf_rejected, changing nothing',
        async (_from, headers) => {
          const before = await snapshot()
          const response = await send(
            route.method,
            route.path(victim),
            { ...headers, cookie: victim.cookie },
            route.form?.(victim),
          )
          expect(response.statusCode, response.body).toBe(403)
          expect(response.json()).toEqual({ error: 'csrf_rejected', error_description: expect.any(String) })
          expect(response.headers['set-cookie']).toBeUndefined()
          expect(await snapshot()).toEqual(before)
          // The victim is still signed in, as the victim, on both devices, and the refresh token still works.
          await expectSignedInAs(victim.cookie, VICTIM)
          await expectSignedInAs(victim.otherCookie, VICTIM)
          const refresh = await send('POST', '/auth/token', SAME_ORIGIN, {
            grant_type: 'refresh_token',
            refresh_token: victim.refreshToken,
          })
          expect(refresh.statusCode).toBe(200)
          victim.refreshToken = refresh.json<{ refresh_token: string }>().refresh_token
        },
      )

      it('goes through from the same origin (control: the refusals above were the CSRF check)', async () => {
        const response = await send(
          route.method,
          route.path(victim),
          { ...SAME_ORIGIN, 'sec-fetch-site': 'same-origin', cookie: victim.cookie },
          route.form?.(victim),
        )
        expect(response.statusCode, response.body).toBe(route.sameOriginStatus)
      })
    })

    describe('login CSRF', () => {
      serverPerTest()

      it("a foreign form cannot sign the victim's browser in as the attacker", async () => {
        const victim = await logIn(VICTIM)
        for (const [url, headers] of [
          ['/auth/session', { origin: 'https://evil.example' }],
          ['/login', { origin: 'https://evil.example' }],
          ['/auth/session', { 'sec-fetch-site': 'cross-site' }],
          ['/login', { 'sec-fetch-site': 'cross-site' }],
        ] as const) {
          for (const cookie of [victim, undefined]) {
            const response = await send(
              'POST',
              url,
              { ...headers, ...(cookie && { cookie }) },
              { email: ATTACKER, password: PASSWORD },
            )
            await expectError(response, 403, 'csrf_rejected')
            expect(response.headers['set-cookie']).toBeUndefined()
          }
        }
        await expectSignedInAs(victim, VICTIM)
        expect(await server.store.listUserSessions(attackerId)).toHaveLength(0)
      })
    })
  })

  describe('user enumeration by response', () => {
    serverPerTest()

    /** Headers that may differ between any two responses. */
    function comparable(headers: Record<string, unknown>): Record<string, unknown> {
      const { date: _date, ...rest } = headers
      return rest
    }

    async function expectIndistinguishable(unknown: Response, wrong: Response): Promise<void> {
      expect(unknown.statusCode).toBe(wrong.statusCode)
      expect(unknown.body).toBe(wrong.body)
      expect(comparable(unknown.headers)).toEqual(comparable(wrong.headers))
      expect(unknown.headers['set-cookie']).toBeUndefined()
    }

    it('POST /auth/session: an unknown email and a wrong password look the same', async () => {
      const unknown = await send('POST', '/auth/session', SAME_ORIGIN, {
        email: 'nobody@example.com',
        password: PASSWORD,
      })
      const wrong = await send('POST', '/auth/session', SAME_ORIGIN, {
        email: VICTIM,
        password: 'wrong password 1',
      })
      expect(wrong.statusCode).toBe(401)
      expect(wrong.json()).toEqual({
        error: 'invalid_credentials',
        error_description: 'The email or password is incorrect.',
      })
      await expectIndistinguishable(unknown, wrong)
    })

    it('POST /auth/session with JSON: the same, and for an email differing only in case', async () => {
      const post = (email: string, password: string) =>
        server.app.inject({
          method: 'POST',
          url: '/auth/session',
          headers: SAME_ORIGIN,
          payload: { email, password },
        })
      const unknown = await post('nobody@example.com', PASSWORD)
      const wrong = await post(VICTIM, 'wrong password 1')
      const wrongUpper = await post(VICTIM.toUpperCase(), 'wrong password 1')
      await expectIndistinguishable(unknown, wrong)
      await expectIndistinguishable(unknown, wrongUpper)
    })

    it('POST /auth/token: an unknown username and a wrong password look the same', async () => {
      const grant = (username: string, password: string) =>
        send('POST', '/auth/token', SAME_ORIGIN, { grant_type: 'password', username, password })
      const unknown = await grant('nobody@example.com', PASSWORD)
      const wrong = await grant(VICTIM, 'wrong password 1')
      expect(wrong.statusCode).toBe(400)
      expect(wrong.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'The username or password is incorrect.',
      })
      await expectIndistinguishable(unknown, wrong)
    })

    it('POST /login: the page differs only by the echoed email', async () => {
      const unknownEmail = 'nobody@example.com'
      const unknown = await send('POST', '/login', SAME_ORIGIN, { email: unknownEmail, password: PASSWORD })
      const wrong = await send('POST', '/login', SAME_ORIGIN, { email: VICTIM, password: 'wrong password 1' })
      expect(wrong.statusCode).toBe(401)
      expect(unknown.statusCode).toBe(wrong.statusCode)
      expect(unknown.body.replaceAll(unknownEmail, 'EMAIL')).toBe(wrong.body.replaceAll(VICTIM, 'EMAIL'))
      const { 'content-length': _a, ...unknownHeaders } = comparable(unknown.headers)
      const { 'content-length': _b, ...wrongHeaders } = comparable(wrong.headers)
      expect(unknownHeaders).toEqual(wrongHeaders)
    })
  })
})
