/**
 * The OAuth attack corpus (RFC 9700, the OAuth 2.0 Security Best Current Practice), against Sesame's
 * authorization server over HTTP on every store: redirect URI mismatch and open-redirect variants, codes
 * replayed, injected into another client, or redeemed with a missing, wrong or `plain` PKCE verifier, client
 * impersonation at the token, refresh, revocation and introspection endpoints, scope escalation, consent
 * bypass with `prompt=none`, and framing of the consent screen. What the relying party must check itself
 * (state, nonce, `iss` against mix-up) is tested with the client SDK and openid-client below.
 */
import { createHash, randomBytes } from 'node:crypto'
import * as client from 'openid-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSesameClient, memoryStorage } from '../../src/client/index.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { type ManualClock, createManualClock } from '../helpers/clock.js'
import { EVERY_STORE, type StoreRun, openStoreRun, storeClock } from '../helpers/every-store.js'
import { SAME_ORIGIN, type TestServer, cookiePair, startTestServer } from '../helpers/server.js'

const EMAIL = 'target@example.com'
const PASSWORD = 'a password worth stealing'
const CALLBACK = 'https://app.example.com/callback'
const OTHER_CALLBACK = 'https://other.example.com/callback'

type Response = Awaited<ReturnType<TestServer['app']['inject']>>

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url')
const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

describe.each(EVERY_STORE)('OAuth attacks ($name)', (target) => {
  let run: StoreRun
  let server: TestServer
  let issuer: string
  let cookie: string
  let appSecret: string
  let otherSecret: string
  let clock: ManualClock

  beforeEach(async () => {
    run = openStoreRun(target)
    clock = storeClock()
    server = await run.start({ clock })
    issuer = server.auth.config.tokens!.issuer
    await server.auth.createUser({ email: EMAIL, password: PASSWORD })
    appSecret = (
      await server.auth.clients.register({ id: 'app', confidential: true, redirectUris: [CALLBACK] })
    ).secret!
    otherSecret = (
      await server.auth.clients.register({ id: 'other', confidential: true, redirectUris: [OTHER_CALLBACK] })
    ).secret!
    await server.auth.clients.register({ id: 'mine', firstParty: true, redirectUris: [CALLBACK] })
    const signedIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: EMAIL, password: PASSWORD },
    })
    expect(signedIn.statusCode).toBe(200)
    cookie = cookiePair(signedIn.headers['set-cookie'])
  })
  afterEach(() => run.cleanup())

  function authorize(query: Record<string, string>, withCookie = true): Promise<Response> {
    return server.app.inject({
      method: 'GET',
      url: `/auth/authorize?${new URLSearchParams(query).toString()}`,
      headers: withCookie ? { cookie } : {},
    })
  }

  function request(clientId: string, verifier: string, extra: Record<string, string> = {}) {
    return {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: clientId === 'other' ? OTHER_CALLBACK : CALLBACK,
      scope: 'openid',
      state: 'xyz',
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
      ...extra,
    }
  }

  /** A code for `clientId`, consenting when asked. */
  async function codeFor(clientId: string, verifier: string): Promise<string> {
    const query = request(clientId, verifier)
    let answer = await authorize(query)
    if (answer.statusCode === 200) {
      // The consent form carries the request sealed.
      const resume = /name="resume" value="([^"]+)"/.exec(answer.body)![1]!
      answer = await server.app.inject({
        method: 'POST',
        url: '/auth/authorize',
        headers: { ...SAME_ORIGIN, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ resume, decision: 'allow' }).toString(),
      })
    }
    expect(answer.statusCode).toBe(303)
    const code = new URL(String(answer.headers.location)).searchParams.get('code')
    expect(code).toBeTruthy()
    return code!
  }

  function token(form: Record<string, string>, authorization?: string): Promise<Response> {
    return server.app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization && { authorization }),
      },
      payload: new URLSearchParams(form).toString(),
    })
  }

  const redeem = (code: string, verifier: string, as = 'app', secret = appSecret, redirectUri = CALLBACK) =>
    token(
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      basic(as, secret),
    )

  describe('redirect URIs', () => {
    it.each([
      ['another path', 'https://app.example.com/callback/../evil'],
      ['a trailing slash', 'https://app.example.com/callback/'],
      ['an added query', 'https://app.example.com/callback?next=https://evil.example'],
      ['a fragment', 'https://app.example.com/callback#x'],
      ['another port', 'https://app.example.com:8443/callback'],
      ['plain http', 'http://app.example.com/callback'],
      ['a user-info host trick', 'https://app.example.com@evil.example/callback'],
      ['another host', 'https://evil.example/callback'],
      ['a look-alike host', 'https://app.example.com.evil.example/callback'],
      ['a case change', 'https://APP.example.com/callback'],
      ['an encoded path', 'https://app.example.com/%63allback'],
    ])('refuses %s with a page and no redirect', async (_name, redirectUri) => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), redirect_uri: redirectUri })
      expect(answer.statusCode).toBe(400)
      expect(answer.headers.location).toBeUndefined()
      expect(answer.body).toContain('The application asked to send you to an address it has not registered')
    })

    it('shows a page, not a redirect, for an unknown client or none', async () => {
      for (const clientId of ['nobody', '']) {
        const answer = await authorize({ ...request('app', 'v'.repeat(43)), client_id: clientId })
        expect(answer.statusCode).toBe(400)
        expect(answer.headers.location).toBeUndefined()
      }
    })

    it('refuses a token request whose redirect URI differs from the authorization request', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      const answer = await redeem(code, verifier, 'app', appSecret, 'https://app.example.com/other')
      expect(answer.json()).toMatchObject({ error: 'invalid_grant' })
    })
  })

  describe('PKCE', () => {
    it.each([
      ['no challenge', { code_challenge: '' }],
      ['the plain method', { code_challenge_method: 'plain' }],
      ['no method', { code_challenge_method: '' }],
      ['a challenge that is no S256 digest', { code_challenge: 'short' }],
    ])('refuses %s on the redirect URI, with state and iss', async (_name, change) => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), ...change })
      expect(answer.statusCode).toBe(303)
      const params = new URL(String(answer.headers.location)).searchParams
      expect(params.get('error')).toBe('invalid_request')
      expect(params.get('state')).toBe('xyz')
      expect(params.get('iss')).toBe(issuer)
      expect(params.get('code')).toBeNull()
    })

    it('refuses a missing or wrong verifier; the code still works for its rightful holder', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      for (const wrong of [client.randomPKCECodeVerifier(), s256(verifier), 'short']) {
        const answer = await token(
          {
            grant_type: 'authorization_code',
            code,
            redirect_uri: CALLBACK,
            ...(wrong && { code_verifier: wrong }),
          },
          basic('app', appSecret),
        )
        expect(answer.statusCode).toBe(400)
        expect(answer.json()).toMatchObject({ error: 'invalid_grant' })
      }
      expect((await redeem(code, verifier)).statusCode).toBe(200)
    })
  })

  describe('codes', () => {
    it('refuses a code injected into another client, even with the right verifier', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      const answer = await redeem(code, verifier, 'other', otherSecret, OTHER_CALLBACK)
      expect(answer.json()).toMatchObject({ error: 'invalid_grant' })
      // Nor was it used up by the attempt.
      expect((await redeem(code, verifier)).statusCode).toBe(200)
    })

    it('refuses a forged or altered code', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      const altered = code.slice(0, -2) + (code.endsWith('AA') ? 'BB' : 'AA')
      for (const forged of [altered, randomBytes(32).toString('base64url'), 'x'.repeat(5000)]) {
        expect((await redeem(forged, verifier)).json()).toMatchObject({ error: 'invalid_grant' })
      }
    })

    it('refuses a code after its minute', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      clock.advance(61)
      expect((await redeem(code, verifier)).json()).toMatchObject({ error: 'invalid_grant' })
    })
  })

  describe('client authentication', () => {
    it('answers 401 invalid_client with a Basic challenge for a wrong, missing or misplaced secret', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      const form = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }
      for (const [fields, authorization] of [
        [{ ...form, client_id: 'app' }, undefined], // confidential, no secret
        [form, basic('app', 'wrong')],
        [{ ...form, client_id: 'app', client_secret: 'wrong' }, undefined],
        [{ ...form, client_id: 'mine', client_secret: 'anything' }, undefined], // a public client has none
        [form, basic('nobody', 'x')],
      ] as const) {
        const answer = await token(fields, authorization)
        expect(answer.statusCode).toBe(401)
        expect(answer.json()).toMatchObject({ error: 'invalid_client' })
        expect(answer.headers['www-authenticate']).toBe('Basic realm="sesame"')
        expect(answer.headers['cache-control']).toBe('no-store')
      }
      // None of it used the code up.
      expect((await redeem(code, verifier)).statusCode).toBe(200)
    })

    it("does not let client B refresh, revoke or introspect client A's tokens", async () => {
      const verifier = client.randomPKCECodeVerifier()
      const granted = (await redeem(await codeFor('app', verifier), verifier)).json<{
        access_token: string
        refresh_token?: string
      }>()
      // A first-party grant for a refresh token of the built-in client, and app's access token.
      const mine = (await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })).json<{
        refresh_token: string
      }>()
      const asOther = basic('other', otherSecret)
      const refresh = await token({ grant_type: 'refresh_token', refresh_token: mine.refresh_token }, asOther)
      expect(refresh.json()).toMatchObject({ error: 'invalid_grant' })
      const introspect = await server.app.inject({
        method: 'POST',
        url: '/auth/introspect',
        headers: { authorization: asOther },
        payload: { token: granted.access_token },
      })
      expect(introspect.json()).toEqual({ active: false })
      await server.app.inject({
        method: 'POST',
        url: '/auth/revoke',
        headers: { authorization: asOther },
        payload: { token: mine.refresh_token },
      })
      // Still alive for its own client.
      const own = await token({ grant_type: 'refresh_token', refresh_token: mine.refresh_token })
      expect(own.statusCode).toBe(200)
      const api = await server.app.inject({
        method: 'GET',
        url: '/auth/userinfo',
        headers: { authorization: `Bearer ${granted.access_token}` },
      })
      expect(api.statusCode).toBe(200)
    })

    it('refuses introspection by a public client, and the password grant to a third-party client', async () => {
      const introspect = await server.app.inject({
        method: 'POST',
        url: '/auth/introspect',
        payload: { token: 'whatever', client_id: 'mine' },
      })
      expect(introspect.statusCode).toBe(401)
      const password = await token(
        { grant_type: 'password', username: EMAIL, password: PASSWORD },
        basic('app', appSecret),
      )
      expect(password.json()).toMatchObject({ error: 'unauthorized_client' })
    })
  })

  describe('scopes and consent', () => {
    it('refuses a scope the client is not registered for, and any widening at refresh', async () => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), scope: 'openid admin' })
      expect(new URL(String(answer.headers.location)).searchParams.get('error')).toBe('invalid_scope')
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('mine', verifier)
      const granted = (
        await token({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
          code_verifier: verifier,
          client_id: 'mine',
        })
      ).json<{ refresh_token: string; scope: string }>()
      expect(granted.scope).toBe('openid')
      const wider = await token({
        grant_type: 'refresh_token',
        refresh_token: granted.refresh_token,
        client_id: 'mine',
        scope: 'openid email',
      })
      expect(wider.json()).toMatchObject({ error: 'invalid_scope' })
    })

    it('never issues a code silently where consent is missing (prompt=none)', async () => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), prompt: 'none' })
      expect(answer.statusCode).toBe(303)
      const params = new URL(String(answer.headers.location)).searchParams
      expect(params.get('error')).toBe('consent_required')
      expect(params.get('code')).toBeNull()
    })

    it('serves the consent screen unframeable, uncached, and its answer only from its own origin', async () => {
      const query = request('app', 'v'.repeat(43))
      const page = await authorize(query)
      expect(page.statusCode).toBe(200)
      expect(page.headers['x-frame-options']).toBe('DENY')
      expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'")
      expect(page.headers['cache-control']).toBe('no-store')
      const forged = await server.app.inject({
        method: 'POST',
        url: '/auth/authorize',
        headers: {
          cookie,
          origin: 'https://evil.example',
          host: SAME_ORIGIN.host,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({ ...query, decision: 'allow' }).toString(),
      })
      expect(forged.statusCode).toBe(403)
      expect(forged.json()).toMatchObject({ error: 'csrf_rejected' })
      expect(
        await server.store.findConsent((await server.auth.findUser(await userId()))!.id, 'app'),
      ).toBeNull()
    })

    it('refuses a request too long to wait for a sign-in, on the redirect URI', async () => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), state: 's'.repeat(1200) }, false)
      const params = new URL(String(answer.headers.location)).searchParams
      expect(params.get('error')).toBe('invalid_request')
      expect(params.get('error_description')).toBe('The request is too long.')
    })

    it('refuses the password grant to a page on a registered client origin', async () => {
      await server.auth.clients.register({
        id: 'spa',
        redirectUris: ['https://spa.example.com/callback'],
        origins: ['https://spa.example.com'],
      })
      const answer = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { origin: 'https://spa.example.com' },
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(answer.statusCode).toBe(403)
      expect(answer.json()).toMatchObject({ error: 'csrf_rejected' })
    })

    it('refuses a parameter sent twice', async () => {
      const query = new URLSearchParams(request('app', 'v'.repeat(43)))
      query.append('scope', 'email')
      const answer = await server.app.inject({
        method: 'GET',
        url: `/auth/authorize?${query.toString()}`,
        headers: { cookie },
      })
      expect(new URL(String(answer.headers.location)).searchParams.get('error')).toBe('invalid_request')
    })
  })

  describe("what a code and a third-party app's token may do", () => {
    const tokenFor = async (clientId: string, secret?: string) => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor(clientId, verifier)
      const form = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }
      const answer = secret
        ? await redeem(code, verifier, clientId, secret)
        : await token({ ...form, client_id: clientId })
      expect(answer.statusCode).toBe(200)
      return answer.json<{ access_token: string; refresh_token?: string }>().access_token
    }
    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, accessToken: string, payload?: object) =>
      server.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${accessToken}` },
        ...(payload && { payload }),
      })

    it("refuses a third-party app's token on Sesame's account API, and takes a first-party one", async () => {
      const thirdParty = await tokenFor('app', appSecret)
      for (const [method, url, payload] of [
        ['GET', '/auth/me'],
        ['GET', '/auth/sessions'],
        ['GET', '/auth/identities'],
        ['POST', '/auth/password', { new_password: 'a new password of mine' }],
        ['POST', '/auth/email', { new_email: 'thief@example.com', current_password: PASSWORD }],
        ['POST', '/auth/sessions/revoke-others', {}],
        ['POST', '/auth/logout-everywhere', {}],
        ['DELETE', '/auth/account', { current_password: PASSWORD }],
      ] as const) {
        const answer = await call(method, url, thirdParty, payload)
        expect(answer.statusCode, `${method} ${url}`).toBe(403)
        expect(answer.json()).toMatchObject({ error: 'insufficient_scope' })
      }
      expect(await server.store.findUserByEmail(EMAIL)).not.toBeNull()
      // What it was granted still works: userinfo, by its scopes.
      expect((await call('GET', '/auth/userinfo', thirdParty)).statusCode).toBe(200)
      expect((await call('GET', '/auth/me', await tokenFor('mine'))).statusCode).toBe(200)
    })

    it('refuses a code once the session that authorized it has ended, or the consent was removed', async () => {
      let verifier = client.randomPKCECodeVerifier()
      let code = await codeFor('app', verifier)
      await server.auth.authorization!.removeApp(await userId(), 'app')
      expect((await redeem(code, verifier)).json()).toMatchObject({ error: 'invalid_grant' })
      verifier = client.randomPKCECodeVerifier()
      code = await codeFor('app', verifier)
      await server.app.inject({ method: 'DELETE', url: '/auth/session', headers: { ...SAME_ORIGIN, cookie } })
      expect((await redeem(code, verifier)).json()).toMatchObject({ error: 'invalid_grant' })
    })

    it('names a missing verifier or redirect URI, and will not set the refresh cookie for another origin', async () => {
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('app', verifier)
      const missing = await token(
        { grant_type: 'authorization_code', code, redirect_uri: CALLBACK },
        basic('app', appSecret),
      )
      expect(missing.json()).toEqual({
        error: 'invalid_request',
        error_description: 'The "code_verifier" field is required.',
      })
      const cookieFromElsewhere = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { authorization: basic('app', appSecret), origin: 'https://evil.example' },
        payload: {
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
          code_verifier: verifier,
          refresh_token_delivery: 'cookie',
        },
      })
      expect(cookieFromElsewhere.json()).toMatchObject({ error: 'csrf_rejected' })
    })

    it('keeps a family without a refresh token as short as its access token', async () => {
      await tokenFor('app', appSecret) // scope openid: no offline_access
      const [family] = await server.store.listUserRefreshFamilies(await userId())
      expect(family!.expiresAt - family!.createdAt).toBe(server.auth.config.tokens!.accessTtlSeconds)
    })
  })

  describe('sign-in and sign-out around the apps', () => {
    it('asks a native public client every time, also after consent, and never silently (RFC 8252 §8.6)', async () => {
      await server.auth.clients.register({ id: 'desktop', redirectUris: ['http://127.0.0.1/callback'] })
      const ask = (extra: Record<string, string> = {}) =>
        authorize({
          ...request('desktop', 'v'.repeat(43)),
          redirect_uri: 'http://127.0.0.1:4321/callback',
          ...extra,
        })
      expect((await ask()).statusCode).toBe(200) // the consent screen
      await server.store.putConsent({
        userId: await userId(),
        clientId: 'desktop',
        scopes: ['openid'],
        grantedAt: 0,
      })
      expect((await ask()).statusCode).toBe(200) // still asked
      const silent = await ask({ prompt: 'none' })
      expect(new URL(String(silent.headers.location)).searchParams.get('error')).toBe('consent_required')
    })

    it('keeps prompt=login through the sign-in: the waiting request is sealed, not editable', async () => {
      await server.store.putConsent({
        userId: await userId(),
        clientId: 'app',
        scopes: ['openid'],
        grantedAt: 0,
      })
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), prompt: 'login' })
      const login = new URL(String(answer.headers.location), 'http://x')
      expect(login.pathname).toBe('/login')
      expect(login.searchParams.get('reauth')).toBe('1')
      const back = login.searchParams.get('return_to')!
      expect(back).toMatch(/^\/auth\/authorize\?resume=[A-Za-z0-9_.-]+$/)
      // Following it without signing in again: sent back to the login page, no code.
      clock.advance(1)
      const skipped = await server.app.inject({ method: 'GET', url: back, headers: { cookie } })
      expect(String(skipped.headers.location).startsWith('/login?reauth=1&return_to=')).toBe(true)
      // A forged or altered one is refused with a page.
      const altered = await server.app.inject({ method: 'GET', url: `${back}x`, headers: { cookie } })
      expect(altered.statusCode).toBe(400)
      // After a fresh sign-in, the code.
      const signedIn = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      })
      const fresh = cookiePair(signedIn.headers['set-cookie'])
      const done = await server.app.inject({ method: 'GET', url: back, headers: { cookie: fresh } })
      expect(new URL(String(done.headers.location)).searchParams.get('code')).toBeTruthy()
    })

    it('takes no CSP source from an unchecked return_to', async () => {
      const forged = `/auth/authorize?redirect_uri=${encodeURIComponent('https://*;sandbox')}`
      const page = await server.app.inject({
        method: 'GET',
        url: `/login?return_to=${encodeURIComponent(forged)}`,
      })
      expect(String(page.headers['content-security-policy'])).toContain("form-action 'self';")
    })

    it('logs out without asking only the session the ID token names', async () => {
      await server.auth.clients.register({
        id: 'rp',
        firstParty: true,
        redirectUris: [CALLBACK],
        postLogoutRedirectUris: ['https://app.example.com/bye'],
      })
      const verifier = client.randomPKCECodeVerifier()
      const code = await codeFor('rp', verifier)
      const { id_token: idToken } = (
        await token({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
          code_verifier: verifier,
          client_id: 'rp',
        })
      ).json<{ id_token: string }>()
      // Another session of the same person: the old ID token does not end it without asking.
      const other = cookiePair(
        (
          await server.app.inject({
            method: 'POST',
            url: '/auth/session',
            headers: SAME_ORIGIN,
            payload: { email: EMAIL, password: PASSWORD },
          })
        ).headers['set-cookie'],
      )
      const logout = (sessionCookie: string) =>
        server.app.inject({
          method: 'GET',
          url: `/auth/end-session?id_token_hint=${idToken}&post_logout_redirect_uri=${encodeURIComponent('https://app.example.com/bye')}`,
          headers: { cookie: sessionCookie },
        })
      expect((await logout(other)).statusCode).toBe(200) // the confirmation page
      const ended = await logout(cookie)
      expect(ended.statusCode).toBe(303)
      expect(ended.headers.location).toBe('https://app.example.com/bye')
    })

    it('sends a signed-out person to the login page and back, with the login hint filled in', async () => {
      const answer = await authorize({ ...request('app', 'v'.repeat(43)), login_hint: EMAIL }, false)
      expect(answer.statusCode).toBe(303)
      const login = String(answer.headers.location)
      expect(login.startsWith('/login?return_to=%2Fauth%2Fauthorize%3F')).toBe(true)
      const page = await server.app.inject({ method: 'GET', url: login })
      expect(page.body).toContain(`value="${EMAIL}"`)
      // The redirects after the login form end at the client: its origin is allowed as a form target.
      expect(String(page.headers['content-security-policy'])).toContain(
        "form-action 'self' https://app.example.com",
      )
    })

    it('asks before logging out on a request without a hint, and refuses an unregistered post-logout address', async () => {
      const ask = await server.app.inject({ method: 'GET', url: '/auth/end-session', headers: { cookie } })
      expect(ask.statusCode).toBe(200)
      expect(ask.body).toContain('action="/auth/end-session"')
      const me = () => server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
      expect((await me()).statusCode).toBe(200) // nothing ended yet
      const foreign = await server.app.inject({
        method: 'GET',
        url: `/auth/end-session?client_id=app&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`,
        headers: { cookie },
      })
      expect(foreign.statusCode).toBe(400)
      expect(foreign.headers.location).toBeUndefined()
      const forged = await server.app.inject({
        method: 'GET',
        url: '/auth/end-session?id_token_hint=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        headers: { cookie },
      })
      expect(forged.statusCode).toBe(400)
      const confirmed = await server.app.inject({
        method: 'POST',
        url: '/auth/end-session',
        headers: { ...SAME_ORIGIN, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      })
      expect(confirmed.statusCode).toBe(303)
      expect(confirmed.headers.location).toBe('/login?notice=signed_out')
      expect((await me()).statusCode).toBe(401)
    })
  })

  async function userId(): Promise<string> {
    return (await server.store.findUserByEmail(EMAIL))!.id
  }
})

describe('a code replayed while its first redemption is still under way', () => {
  it('revokes what the first redemption issues, whichever finishes first', async () => {
    // The first redemption waits inside its user lookup, after it claimed the code and before it stores the
    // family: the replay lands in that gap, when there is no family yet to revoke.
    let hold: Promise<void> | null = null
    let release = (): void => {}
    const memory = createMemoryStore()
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver)
        if (property === 'findUserById' && hold) {
          const waiting = hold
          hold = null
          return async (id: string) => {
            await waiting
            return target.findUserById(id)
          }
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
    const server = await startTestServer({ store })
    try {
      await server.auth.createUser({ email: EMAIL, password: PASSWORD })
      const { secret } = await server.auth.clients.register({
        id: 'app',
        confidential: true,
        firstParty: true,
        redirectUris: [CALLBACK],
      })
      const signedIn = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      })
      const verifier = client.randomPKCECodeVerifier()
      const authorized = await server.app.inject({
        method: 'GET',
        url: `/auth/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: 'app',
          redirect_uri: CALLBACK,
          code_challenge: s256(verifier),
          code_challenge_method: 'S256',
        }).toString()}`,
        headers: { cookie: cookiePair(signedIn.headers['set-cookie']) },
      })
      const code = new URL(String(authorized.headers.location)).searchParams.get('code')!
      const redeem = () =>
        server.app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: { authorization: basic('app', secret!) },
          payload: {
            grant_type: 'authorization_code',
            code,
            redirect_uri: CALLBACK,
            code_verifier: verifier,
          },
        })
      hold = new Promise<void>((done) => (release = done))
      const first = redeem()
      await new Promise((done) => setTimeout(done, 50)) // the first is now waiting, the code claimed
      const replay = await redeem()
      expect(replay.json()).toMatchObject({ error: 'invalid_grant' })
      release()
      expect((await first).json()).toMatchObject({ error: 'invalid_grant' })
      const user = await memory.findUserByEmail(EMAIL)
      const families = await memory.listUserRefreshFamilies(user!.id)
      expect(families.every((family) => family.revokedAt !== null)).toBe(true)
    } finally {
      await server.close()
    }
  })
})

describe('a code grant without a refresh token', () => {
  it('counts against the device limit only while its access token lives', async () => {
    const clock = createManualClock()
    const server = await startTestServer({
      clock,
      env: { SESAME_STORE: 'memory', SESAME_MAX_SESSIONS_PER_USER: '2', SESAME_SESSION_LIMIT_POLICY: 'deny' },
    })
    try {
      const user = await server.auth.createUser({ email: EMAIL, password: PASSWORD })
      const { secret } = await server.auth.clients.register({
        id: 'app',
        confidential: true,
        redirectUris: [CALLBACK],
      })
      await server.store.putConsent({ userId: user.id, clientId: 'app', scopes: ['openid'], grantedAt: 0 })
      const signedIn = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: EMAIL, password: PASSWORD },
      }) // device 1
      const verifier = client.randomPKCECodeVerifier()
      const authorized = await server.app.inject({
        method: 'GET',
        url: `/auth/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: 'app',
          redirect_uri: CALLBACK,
          scope: 'openid',
          code_challenge: s256(verifier),
          code_challenge_method: 'S256',
        }).toString()}`,
        headers: { cookie: cookiePair(signedIn.headers['set-cookie']) },
      })
      const code = new URL(String(authorized.headers.location)).searchParams.get('code')!
      const granted = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { authorization: basic('app', secret!) },
        payload: { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier },
      })
      expect(granted.json()).not.toHaveProperty('refresh_token')
      const passwordGrant = () =>
        server.app.inject({
          method: 'POST',
          url: '/auth/token',
          payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
        })
      // The session and the app's grant are the two devices the limit allows.
      expect((await passwordGrant()).json()).toMatchObject({ error: 'session_limit_reached' })
      clock.advance(server.auth.config.tokens!.accessTtlSeconds + 1)
      expect((await passwordGrant()).statusCode).toBe(200)
    } finally {
      await server.close()
    }
  })
})

describe('with an HS256 key ring', () => {
  it('offers OAuth without OpenID Connect: no openid scope, no ID token algorithms, no userinfo', async () => {
    const server = await startTestServer({
      env: {
        SESAME_STORE: 'memory',
        SESAME_JWT_ALG: 'HS256',
        SESAME_JWT_SECRET: randomBytes(32).toString('base64url'),
      },
    })
    try {
      const metadata = (
        await server.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
      ).json<Record<string, unknown>>()
      expect(metadata['scopes_supported']).not.toContain('openid')
      expect(metadata).not.toHaveProperty('id_token_signing_alg_values_supported')
      expect(metadata).not.toHaveProperty('userinfo_endpoint')
      const openid = await server.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
      expect(openid.statusCode).toBe(404)
    } finally {
      await server.close()
    }
  })
})

describe('SESAME_PASSWORD_GRANT=false', () => {
  it('refuses the password grant to every client and leaves it out of the metadata', async () => {
    const server = await startTestServer({ env: { SESAME_STORE: 'memory', SESAME_PASSWORD_GRANT: 'false' } })
    try {
      await server.auth.createUser({ email: EMAIL, password: PASSWORD })
      const answer = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(answer.statusCode).toBe(400)
      expect(answer.json()).toMatchObject({ error: 'unauthorized_client' })
      const metadata = await server.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
      expect(metadata.json<{ grant_types_supported: string[] }>().grant_types_supported).toEqual([
        'authorization_code',
        'refresh_token',
      ])
    } finally {
      await server.close()
    }
  })
})

describe('what the relying party checks, with the answers Sesame gives', () => {
  it('the SDK refuses an answer without its state, from another issuer, or with an error', async () => {
    const storage = memoryStorage()
    const sdk = createSesameClient({
      baseUrl: 'https://auth.example.com',
      clientId: 'spa',
      redirectUri: 'https://app.example.com/callback',
      refreshTokenIn: 'storage',
      storage,
      coordinateTabs: false,
      fetch: async () => {
        throw new Error('no request may be made for a refused answer')
      },
    })
    let started = ''
    const begin = async (): Promise<URLSearchParams> => {
      await sdk.signInWithRedirect({ navigate: (url) => void (started = url) })
      return new URL(started).searchParams
    }
    const callback = (params: Record<string, string>) =>
      `https://app.example.com/callback?${new URLSearchParams(params).toString()}`

    let sent = await begin()
    expect(sent.get('code_challenge_method')).toBe('S256')
    await expect(
      sdk.handleRedirect(callback({ code: 'c', iss: 'https://auth.example.com' })),
    ).rejects.toMatchObject({
      code: 'invalid_state',
    })
    sent = await begin()
    await expect(
      sdk.handleRedirect(callback({ code: 'c', state: sent.get('state')!, iss: 'https://evil.example' })),
    ).rejects.toMatchObject({ code: 'invalid_issuer' })
    sent = await begin()
    await expect(
      sdk.handleRedirect(
        callback({ error: 'access_denied', state: sent.get('state')!, iss: 'https://auth.example.com' }),
      ),
    ).rejects.toMatchObject({ code: 'access_denied' })
    // An answer nobody asked for (no pending redirect) is not handled at all.
    expect(await sdk.handleRedirect(callback({ code: 'c', state: 'x' }))).toBe(false)
  })
})
