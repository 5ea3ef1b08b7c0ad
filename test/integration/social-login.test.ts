/**
 * Sign-in through an OpenID provider, end to end over HTTP, on every store: a real provider (panva's
 * `oidc-provider`, `test/helpers/oidc-provider.ts`) whose screens are walked over plain HTTP, and Sesame
 * driven by `inject()` with the cookies a browser would keep. The same flow in Chromium is in
 * `test/browser/social-login.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/server/config.js'
import { EVERY_STORE, useEveryStore } from '../helpers/every-store.js'
import {
  type TestOidcProvider,
  driveProviderLogin,
  freePort,
  startOidcProvider,
} from '../helpers/oidc-provider.js'
import { type TestServer, startTestServer } from '../helpers/server.js'
import { linkToken, startMailCapture } from '../helpers/mail-capture.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createManualClock } from '../helpers/clock.js'

/** Sesame's issuer: inject() needs no listening port, but the provider must know the redirect URI. */
const ISSUER = 'http://localhost:3999'
const REDIRECT_URI = `${ISSUER}/auth/social/corp/callback`
const SAME_ORIGIN = { origin: ISSUER, host: 'localhost:3999' }
const FLOW_COOKIE = 'sesame-social'
const SESSION_COOKIE = 'sesame'

let provider: TestOidcProvider

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUris: [REDIRECT_URI] })
})

afterAll(async () => {
  await provider?.close()
})

/** The cookies one browser holds for Sesame. */
class Browser {
  readonly cookies = new Map<string, string>()
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
  keep(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      if (attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(eq + 1))
    }
  }
}

function socialEnv(): Record<string, string> {
  return {
    SESAME_ISSUER: ISSUER,
    SESAME_COOKIE_NAME: SESSION_COOKIE,
    SESAME_COOKIE_SECURE: 'false',
    SESAME_SOCIAL_PROVIDERS: 'corp',
    SESAME_SOCIAL_CORP_CLIENT_ID: provider.clientId,
    SESAME_SOCIAL_CORP_CLIENT_SECRET: provider.clientSecret,
    SESAME_SOCIAL_CORP_ISSUER: provider.issuer,
    SESAME_SOCIAL_CORP_NAME: 'Corp ID',
  }
}

async function get(server: TestServer, browser: Browser, url: string) {
  const response = await server.app.inject({ method: 'GET', url, headers: { cookie: browser.header() } })
  browser.keep(response.headers['set-cookie'])
  return response
}

/** Starts a sign-in at Sesame; returns the provider's authorization URL. */
async function start(server: TestServer, browser: Browser, query = ''): Promise<string> {
  const response = await get(server, browser, `/auth/social/corp${query}`)
  expect(response.statusCode).toBe(303)
  expect(browser.cookies.has(FLOW_COOKIE)).toBe(true)
  const location = String(response.headers.location)
  expect(location.startsWith(`${provider.issuer}/auth?`)).toBe(true)
  return location
}

/** Delivers the provider's redirect back to Sesame. */
async function callback(server: TestServer, browser: Browser, url: URL) {
  expect(url.origin + url.pathname).toBe(REDIRECT_URI)
  return get(server, browser, url.pathname + url.search)
}

interface Me {
  user: { id: string; email: string; email_verified: boolean }
}

async function me(server: TestServer, browser: Browser) {
  return server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: browser.header() } })
}

/** A full sign-in as `login` at the provider; returns the callback's answer. */
async function signInAs(server: TestServer, browser: Browser, login: string, query = '') {
  const authorizationUrl = await start(server, browser, query)
  return callback(server, browser, await driveProviderLogin(authorizationUrl, login))
}

function expectRefused(
  response: { statusCode: number; headers: Record<string, unknown> },
  browser: Browser,
  notice: string,
) {
  expect(response.statusCode).toBe(303)
  expect(response.headers['location']).toBe(`/login?notice=${notice}`)
  expect(browser.cookies.has(SESSION_COOKIE)).toBe(false)
  expect(browser.cookies.has(FLOW_COOKIE)).toBe(false)
}

describe.each(EVERY_STORE)('sign-in through an OpenID provider on $name', (target) => {
  const stores = useEveryStore(target)

  it('creates the account on the first sign-in and signs the same user in the next time', async () => {
    const server = await stores.start({ env: socialEnv() })
    provider.accounts.set('ann', { email: 'Ann@Example.test', email_verified: true })
    const first = new Browser()
    const answer = await signInAs(server, first, 'ann')
    expect(answer.statusCode).toBe(303)
    expect(answer.headers.location).toBe('/account')
    const who = await me(server, first)
    expect(who.statusCode).toBe(200)
    expect(who.json()).toMatchObject({ user: { email: 'ann@example.test', email_verified: true } })
    const userId = who.json<Me>().user.id

    const second = new Browser()
    await signInAs(server, second, 'ann')
    expect((await me(server, second)).json<Me>().user.id).toBe(userId)
    // Two devices of one user, like two password sign-ins.
    const sessions = await server.app.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: { cookie: second.header() },
    })
    expect(sessions.json<{ sessions: unknown[] }>().sessions).toHaveLength(2)
    const identities = await server.app.inject({
      method: 'GET',
      url: '/auth/identities',
      headers: { cookie: second.header() },
    })
    expect(identities.json<{ identities: unknown[] }>().identities).toEqual([
      { provider: 'corp', email: 'ann@example.test', linked_at: expect.any(String) },
    ])
  })

  it('lands on a same-origin return_to, and on /account for anything off-site', async () => {
    const server = await stores.start({ env: socialEnv() })
    const answer = await signInAs(server, new Browser(), 'rita', '?return_to=%2Fdocs%3Fpage%3D2')
    expect(answer.headers.location).toBe('/docs?page=2')
    for (const offSite of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const browser = new Browser()
      const off = await signInAs(server, browser, 'rita', `?return_to=${encodeURIComponent(offSite)}`)
      expect(off.headers.location).toBe('/account')
    }
  })

  it('refuses a replayed callback, a forged state and a missing state cookie, and starts no session', async () => {
    const server = await stores.start({ env: socialEnv() })
    const browser = new Browser()
    const authorizationUrl = await start(server, browser)
    const back = await driveProviderLogin(authorizationUrl, 'bob')
    const flowCookie = browser.cookies.get(FLOW_COOKIE)!
    expect((await callback(server, browser, back)).statusCode).toBe(303)
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(true)

    // The same callback again, with the flow cookie an attacker copied: claimed already.
    const replay = new Browser()
    replay.cookies.set(FLOW_COOKIE, flowCookie)
    expectRefused(await callback(server, replay, back), replay, 'social_sign_in_failed')

    // A fresh flow whose callback carries another state.
    const forged = new Browser()
    const next = await driveProviderLogin(await start(server, forged), 'bob')
    const tampered = new URL(next)
    tampered.searchParams.set('state', 'forged-state-value')
    expectRefused(await callback(server, forged, tampered), forged, 'social_sign_in_failed')

    // A callback in a browser that never started the flow (login CSRF): no state cookie.
    const stranger = new Browser()
    const elsewhere = await driveProviderLogin(await start(server, new Browser()), 'mallory')
    expectRefused(await callback(server, stranger, elsewhere), stranger, 'social_sign_in_failed')
  })

  it('ends a sign-in cancelled at the provider on the login page with its notice', async () => {
    const server = await stores.start({ env: socialEnv() })
    const browser = new Browser()
    const back = await driveProviderLogin(await start(server, browser), 'carol', { cancel: true })
    expect(back.searchParams.get('error')).toBe('access_denied')
    expectRefused(await callback(server, browser, back), browser, 'social_cancelled')
    const login = await get(server, browser, '/login?notice=social_cancelled')
    expect(login.body).toContain('The sign-in was cancelled at the provider.')
  })

  it('refuses a callback whose iss names another issuer (mix-up defence, RFC 9207)', async () => {
    const server = await stores.start({ env: socialEnv() })
    const browser = new Browser()
    const back = await driveProviderLogin(await start(server, browser), 'dave')
    expect(back.searchParams.get('iss')).toBe(provider.issuer)
    back.searchParams.set('iss', 'https://attacker.example')
    expectRefused(await callback(server, browser, back), browser, 'social_sign_in_failed')
  })

  it('refuses an ID token with another nonce, another audience or a signature not by the provider', async () => {
    const server = await stores.start({ env: socialEnv() })
    // The nonce: the authorization request is altered on its way to the provider.
    const browser = new Browser()
    const request = new URL(await start(server, browser))
    request.searchParams.set('nonce', 'a-nonce-sesame-never-sent')
    expectRefused(
      await callback(server, browser, await driveProviderLogin(request.href, 'erin')),
      browser,
      'social_sign_in_failed',
    )

    // The audience: the provider's token response carries an ID token for another client.
    provider.tamperIdToken = (claims) => ({ ...claims, aud: 'another-client' })
    try {
      const other = new Browser()
      expectRefused(await signInAs(server, other, 'erin'), other, 'social_sign_in_failed')
      // The claims untouched, but signed by a key the provider never published.
      provider.tamperIdToken = (claims) => claims
      provider.signWithForeignKey = true
      const forged = new Browser()
      expectRefused(await signInAs(server, forged, 'erin'), forged, 'social_sign_in_failed')
      // Re-signed with the provider's own key, the same token passes: the refusals above were the checks.
      provider.signWithForeignKey = false
      const resigned = new Browser()
      expect((await signInAs(server, resigned, 'erin')).headers.location).toBe('/account')
    } finally {
      provider.tamperIdToken = null
      provider.signWithForeignKey = false
    }
    // Untampered, the same person signs in: the refusals were the checks, not a broken setup.
    const clean = new Browser()
    expect((await signInAs(server, clean, 'erin')).headers.location).toBe('/account')
  })

  it('links an existing account only once both sides verified the address; before, it links from its page', async () => {
    const server = await stores.start({ env: socialEnv() })
    const signup = await server.app.inject({
      method: 'POST',
      url: '/auth/signup',
      headers: SAME_ORIGIN,
      payload: { email: 'frank@example.test', password: 'correct horse battery staple' },
    })
    expect(signup.statusCode).toBe(201)
    provider.accounts.set('frank', { email: 'frank@example.test', email_verified: true })
    const browser = new Browser()
    expectRefused(await signInAs(server, browser, 'frank'), browser, 'email_exists_unlinked')

    // Signed in with the password, the owner links the provider account from the account page.
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'frank@example.test', password: 'correct horse battery staple' },
    })
    browser.keep(signIn.headers['set-cookie'])
    const userId = signIn.json<Me>().user.id
    // Linking waits for a verified email (the mailed link, tested in account-lifecycle.test.ts).
    const early = await server.app.inject({
      method: 'POST',
      url: '/auth/social/corp/link',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
    })
    expect(early.headers.location).toBe('/account?notice=verify_before_link')
    await server.store.setEmailVerified(userId, 'frank@example.test', Math.floor(Date.now() / 1000))
    const link = await server.app.inject({
      method: 'POST',
      url: '/auth/social/corp/link',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
    })
    expect(link.statusCode).toBe(303)
    browser.keep(link.headers['set-cookie'])
    const linked = await callback(
      server,
      browser,
      await driveProviderLogin(String(link.headers.location), 'frank'),
    )
    expect(linked.headers.location).toBe('/account?notice=linked')

    const viaProvider = new Browser()
    expect((await signInAs(server, viaProvider, 'frank')).headers.location).toBe('/account')
    expect((await me(server, viaProvider)).json<Me>().user.id).toBe(userId)

    // A password remains, so the provider can be unlinked; afterwards it no longer signs in.
    const unlink = await server.app.inject({
      method: 'DELETE',
      url: '/auth/identities/corp',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
    })
    expect(unlink.statusCode).toBe(204)
    // Now both sides have verified the address: the provider links again at sign-in, to the same account.
    const afterUnlink = new Browser()
    expect((await signInAs(server, afterUnlink, 'frank')).headers.location).toBe('/account')
    expect((await me(server, afterUnlink)).json<Me>().user.id).toBe(userId)
  })

  it('refuses to start a link from another site', async () => {
    const server = await stores.start({ env: socialEnv() })
    const browser = new Browser()
    await signInAs(server, browser, 'gina')
    const link = await server.app.inject({
      method: 'POST',
      url: '/auth/social/corp/link',
      headers: { origin: 'https://evil.example', host: 'localhost:3999', cookie: browser.header() },
    })
    expect(link.statusCode).toBe(403)
    expect(link.json<{ error: string }>().error).toBe('csrf_rejected')
  })

  it('keeps the last way to sign in: an account without a password cannot unlink its only provider', async () => {
    const server = await stores.start({ env: socialEnv() })
    const browser = new Browser()
    await signInAs(server, browser, 'hana')
    const refused = await server.app.inject({
      method: 'DELETE',
      url: '/auth/identities/corp',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
    })
    expect(refused.statusCode).toBe(409)
    expect(refused.json<{ error: string }>().error).toBe('last_sign_in_method')
    const stillLinked = await server.app.inject({
      method: 'GET',
      url: '/auth/identities',
      headers: { cookie: browser.header() },
    })
    expect(stillLinked.json<{ identities: unknown[] }>().identities).toHaveLength(1)

    // Its first password needs no current one; then the provider may go.
    const password = await server.app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
      payload: { new_password: 'a long passphrase for hana' },
    })
    expect(password.statusCode).toBe(200)
    const unlink = await server.app.inject({
      method: 'DELETE',
      url: '/auth/identities/corp',
      headers: { ...SAME_ORIGIN, cookie: browser.header() },
    })
    expect(unlink.statusCode).toBe(204)
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'hana@example.test', password: 'a long passphrase for hana' },
    })
    expect(signIn.statusCode).toBe(200)
  })

  it('creates the account unverified when the provider sends email_verified as the string "false"', async () => {
    const server = await stores.start({ env: socialEnv() })
    provider.accounts.set('ivan', { email: 'ivan@example.test', email_verified: 'false' })
    const browser = new Browser()
    await signInAs(server, browser, 'ivan')
    expect((await me(server, browser)).json<Me>().user).toMatchObject({
      email: 'ivan@example.test',
      email_verified: false,
    })
  })
})

describe('provider configuration at start', () => {
  it('stops the start with one line naming the issuer variable when discovery fails', async () => {
    const closedPort = await freePort()
    let thrown: unknown
    try {
      await startTestServer({
        env: {
          ...socialEnv(),
          SESAME_STORE: 'memory',
          SESAME_SOCIAL_CORP_ISSUER: `http://127.0.0.1:${closedPort}`,
        },
      })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    const message = (thrown as Error).message
    expect(message).toMatch(
      /^Invalid SESAME_SOCIAL_CORP_ISSUER: provider "corp": discovery at http:\/\/127\.0\.0\.1:\d+\/ failed/,
    )
    expect(message).not.toContain('\n')
    expect(message).not.toContain(provider.clientSecret)
  })

  it('sends an unknown provider id back to the login page with a notice', async () => {
    const server = await startTestServer({ env: { ...socialEnv(), SESAME_STORE: 'memory' } })
    try {
      for (const url of ['/auth/social/nope', '/auth/social/nope/callback?code=x&state=y']) {
        const response = await server.app.inject({ method: 'GET', url })
        expect(response.statusCode).toBe(303)
        expect(response.headers.location).toBe('/login?notice=unknown_provider')
      }
    } finally {
      await server.close()
    }
  })
})

describe('landing after a sign-in with SameSite=Strict cookies', () => {
  it('answers with a page that navigates on, since a Strict cookie set on a redirect from the provider is withheld', async () => {
    const server = await startTestServer({
      env: { ...socialEnv(), SESAME_STORE: 'memory', SESAME_COOKIE_SAMESITE: 'strict' },
    })
    try {
      const browser = new Browser()
      const landed = await signInAs(server, browser, 'lena', '?return_to=%2Fdocs%3Fa%3D1%26b%3D2')
      expect(landed.statusCode).toBe(200)
      expect(landed.headers['content-type']).toMatch(/^text\/html/)
      expect(landed.body).toContain('<meta http-equiv="refresh" content="0;url=/docs?a=1&amp;b=2">')
      expect(String(landed.headers['set-cookie'])).toMatch(/sesame=[^;]+;.*SameSite=Strict/i)
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(true)
      expect((await me(server, browser)).statusCode).toBe(200)
    } finally {
      await server.close()
    }
  })
})

describe('sign-in through a provider for an account with a second factor', () => {
  it('stops at the code step on a page reached same-site, and records the provider and the code', async () => {
    const clock = createManualClock(Math.floor(Date.now() / 1000))
    const server = await startTestServer({ clock, env: { ...socialEnv(), SESAME_STORE: 'memory' } })
    try {
      provider.accounts.set('tess', { email: 'tess@example.test', email_verified: true })
      await signInAs(server, new Browser(), 'tess')
      const user = (await server.store.findUserByEmail('tess@example.test'))!
      const enrolment = await server.auth.secondFactors.beginTotp(user)
      const key = parseTotpKey(enrolment.secret)!
      const step = totpStep(clock.nowSeconds())
      await server.auth.secondFactors.confirmTotp(user.id, enrolment.enrolment, totpCode(key, step))

      const browser = new Browser()
      const landed = await signInAs(server, browser, 'tess', '?return_to=%2Fdocs')
      // The pending cookie is Strict: a page of ours navigates on, so the code's form post carries it.
      expect(landed.statusCode).toBe(200)
      expect(landed.body).toContain(
        '<meta http-equiv="refresh" content="0;url=/login/second-factor?return_to=%2Fdocs">',
      )
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false)
      expect(browser.cookies.has('sesame-pending')).toBe(true)
      expect((await me(server, browser)).statusCode).toBe(401)

      const done = await server.app.inject({
        method: 'POST',
        url: '/login/second-factor',
        headers: { ...SAME_ORIGIN, cookie: browser.header() },
        payload: { code: totpCode(key, step + 1), return_to: '/docs' },
      })
      browser.keep(done.headers['set-cookie'])
      expect(done.statusCode).toBe(303)
      expect(done.headers.location).toBe('/docs')
      const who = await me(server, browser)
      expect(who.json()).toMatchObject({ user: { id: user.id }, session: { amr: ['fed', 'otp', 'mfa'] } })
    } finally {
      await server.close()
    }
  })
})

describe('account pre-hijacking through a provider that does not vouch for the email', () => {
  it("drops the provider identities of an unverified account when the address's owner resets the password", async () => {
    const capture = await startMailCapture()
    const server = await startTestServer({
      env: { ...socialEnv(), SESAME_STORE: 'memory', SESAME_SMTP_URL: capture.url },
    })
    try {
      // The attacker's provider account claims the victim's address, unverified: an account is created.
      provider.accounts.set('mallory-sub', { email: 'victim@example.test', email_verified: false })
      const attacker = new Browser()
      expect((await signInAs(server, attacker, 'mallory-sub')).headers.location).toBe('/account')

      // The owner of the address recovers it with a reset link from their mailbox.
      await server.app.inject({
        method: 'POST',
        url: '/auth/password-reset',
        headers: SAME_ORIGIN,
        payload: { email: 'victim@example.test' },
      })
      const { token } = linkToken(await capture.next('victim@example.test', /reset/i))
      const reset = await server.app.inject({
        method: 'POST',
        url: '/auth/password-reset/confirm',
        headers: SAME_ORIGIN,
        payload: { token, new_password: 'the owner chose this one' },
      })
      expect(reset.statusCode).toBe(204)

      // The attacker's session ended with the reset, and the identity no longer signs in.
      expect((await me(server, attacker)).statusCode).toBe(401)
      const again = new Browser()
      expectRefused(await signInAs(server, again, 'mallory-sub'), again, 'email_exists_unlinked')
    } finally {
      await server.close()
      await capture.close()
    }
  })
})
