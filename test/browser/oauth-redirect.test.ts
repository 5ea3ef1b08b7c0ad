/**
 * The OAuth code flow in Debian's Chromium, with the real pages:
 * - a single-page app on another origin, using the client SDK's redirect flow (`signInWithRedirect`,
 *   `handleRedirect`), as a third-party client: Sesame's login page, its consent screen, back to the app,
 *   then an API call with the token, a refresh, and a sign-out, each a cross-origin call the client's
 *   registered origin allows;
 * - a native-app style client (RFC 8252): a public client whose loopback redirect URI is registered without a
 *   port, completing the flow through a listener on whatever port it got, with `openid-client` in the app.
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as client from 'openid-client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, startAppServer } from '../helpers/browser.js'
import { createManualClock } from '../helpers/clock.js'
import { freePort } from '../helpers/oidc-provider.js'
import { type TestServer, startTestServer } from '../helpers/server.js'

const EMAIL = 'redirected@example.com'
const PASSWORD = 'signed in through the redirect'

/** The app: the SDK with its client id, handling the redirect on /callback. */
const appPage = (sesameBase: string): string => `<!doctype html><meta charset="utf-8"><title>app</title>
<script type="module">
  import { createSesameClient } from '/client.js'
  window.sesame = createSesameClient({
    baseUrl: ${JSON.stringify(sesameBase)},
    clientId: 'notes',
    redirectUri: location.origin + '/callback',
    refreshTokenIn: 'storage',
  })
  if (location.pathname === '/callback') {
    window.result = window.sesame.handleRedirect().then((handled) => String(handled), (e) => e.code + ': ' + e.message)
  }
  window.ready = true
</script>`

describe('the code flow in Chromium', () => {
  let sesame: TestServer
  let app: { server: Server; origin: string }
  let browser: Browser
  let sesameBase: string
  let userId: string
  const clock = createManualClock(Math.floor(Date.now() / 1000))

  beforeAll(async () => {
    const port = await freePort()
    sesameBase = `http://localhost:${port}`
    app = await startAppServer(appPage(sesameBase))
    sesame = await startTestServer({ clock, env: { SESAME_STORE: 'memory', SESAME_ISSUER: sesameBase } })
    userId = (await sesame.auth.signUp({ email: EMAIL, password: PASSWORD })).id
    await sesame.auth.clients.register({
      id: 'notes',
      name: 'Notes',
      redirectUris: [`${app.origin}/callback`],
      origins: [app.origin],
    })
    await sesame.app.listen({ port, host: '127.0.0.1' })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await sesame?.close()
    app?.server.close()
  })

  /** Signs in on Sesame's login page, which the browser is on. */
  async function logIn(tab: Page): Promise<void> {
    await tab.waitForURL(`${sesameBase}/login?**`)
    await tab.fill('#email', EMAIL)
    await tab.fill('#password', PASSWORD)
    await tab.click('form[action="/login"] button[type="submit"]')
  }

  describe('a single-page app on another origin, with the SDK', () => {
    let context: BrowserContext
    let tab: Page

    beforeAll(async () => {
      context = await browser.newContext()
      tab = await context.newPage()
    })
    afterAll(() => context.close())

    it('goes to Sesame, signs in, consents, and comes back signed in', async () => {
      await tab.goto(`${app.origin}/`)
      await tab.waitForFunction('window.ready === true')
      await tab.evaluate(
        `setTimeout(() => window.sesame.signInWithRedirect({ scope: 'openid email offline_access' }), 0)`,
      )
      await logIn(tab)
      await tab.waitForURL(`${sesameBase}/auth/authorize?**`)
      expect(await tab.textContent('h1')).toBe('Notes wants to use your Sesame account')
      const listed = await tab.locator('ul.scopes li').allTextContents()
      expect(listed).toEqual([
        'Know who you are (your account id)',
        'See your email address and whether it is confirmed',
        'Stay connected when you are not using it',
      ])
      await tab.click('form:has(input[value="allow"]) button[type="submit"]')
      await tab.waitForURL(`${app.origin}/callback?**`)
      await tab.waitForFunction('window.result !== undefined')
      expect(await tab.evaluate('window.result')).toBe('true')
      expect(await tab.evaluate('window.sesame.state')).toEqual({ status: 'signed-in', userId })
      expect(await sesame.store.findConsent(userId, 'notes')).toMatchObject({
        scopes: ['openid', 'email', 'offline_access'],
      })
    })

    it('calls the userinfo endpoint across origins with its token, and refreshes when it expires', async () => {
      const userinfo = `window.sesame.fetch(${JSON.stringify(`${sesameBase}/auth/userinfo`)}).then(async (r) => [r.status, await r.json()])`
      expect(await tab.evaluate(userinfo)).toEqual([
        200,
        { sub: userId, email: EMAIL, email_verified: false },
      ])
      clock.advance(1000) // past the access token's 900 s
      expect(await tab.evaluate(userinfo)).toEqual([
        200,
        { sub: userId, email: EMAIL, email_verified: false },
      ])
      const [family] = await sesame.store.listUserRefreshFamilies(userId)
      expect(family).toMatchObject({ clientId: 'notes', generation: 1 })
    })

    it('signs out: its refresh token is revoked', async () => {
      await tab.evaluate('window.sesame.signOut()')
      expect(await tab.evaluate('window.sesame.state.status')).toBe('signed-out')
      const [family] = await sesame.store.listUserRefreshFamilies(userId)
      expect(family!.revokedAt).not.toBeNull()
    })
  })

  it("lists the app on Sesame's account page, where its access can be removed", async () => {
    // The app signs in again (consent remembered: no screen), so it holds a live refresh token to lose.
    const context = await browser.newContext()
    const tab = await context.newPage()
    await tab.goto(`${app.origin}/`)
    await tab.waitForFunction('window.ready === true')
    await tab.evaluate(`setTimeout(() => window.sesame.signInWithRedirect({ scope: 'openid email' }), 0)`)
    await logIn(tab)
    // Asked again although allowed before: a public client answered on localhost could be any program on
    // this machine (RFC 8252 §8.6); a deployed app on https is asked once.
    await tab.waitForURL(`${sesameBase}/auth/authorize?**`)
    await tab.click('form:has(input[value="allow"]) button[type="submit"]')
    await tab.waitForURL(`${app.origin}/callback?**`)
    await tab.waitForFunction('window.result !== undefined')
    expect(await tab.evaluate('window.result')).toBe('true')
    const live = () =>
      sesame.store
        .listUserRefreshFamilies(userId)
        .then((families) =>
          families.filter((family) => family.revokedAt === null && family.clientId === 'notes'),
        )
    expect(await live()).toHaveLength(1)

    await tab.goto(`${sesameBase}/account`)
    expect(await tab.textContent('#apps .name')).toBe('Notes')
    await tab.click('#apps form button[type="submit"]')
    await tab.waitForURL(`${sesameBase}/account?notice=app_removed`)
    expect(await tab.$('#apps')).toBeNull()
    expect(await sesame.store.findConsent(userId, 'notes')).toBeNull()
    expect(await live()).toHaveLength(0)
    await context.close()
  })

  it('completes the flow for a native app listening on a loopback port it picked (RFC 8252)', async () => {
    await sesame.auth.clients.register({
      id: 'desktop',
      name: 'Desktop',
      redirectUris: ['http://127.0.0.1/callback'],
    })
    // The app's listener: it gets the browser's redirect and answers with a page telling the person to go back.
    let received: URL | null = null
    const listener = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1')
      if (url.pathname === '/callback') received = url // not the browser's favicon request after it
      response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.')
    })
    await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done))
    const redirectUri = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/callback`
    try {
      const config = await client.discovery(new URL(sesameBase), 'desktop', undefined, client.None(), {
        execute: [client.allowInsecureRequests],
      })
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      })
      const context = await browser.newContext()
      const tab = await context.newPage()
      await tab.goto(url.href)
      await logIn(tab)
      await tab.waitForURL(`${sesameBase}/auth/authorize?**`)
      await tab.click('form:has(input[value="allow"]) button[type="submit"]')
      await tab.waitForURL(`${redirectUri}?**`)
      expect(await tab.textContent('body')).toBe('You can close this window.')
      await context.close()

      const callback = new URL(`${redirectUri}${received!.search}`)
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        idTokenExpected: true,
      })
      expect(tokens.claims()).toMatchObject({ sub: userId, aud: 'desktop' })
      // A third-party client without offline_access gets no refresh token.
      expect(tokens.refresh_token).toBeUndefined()
    } finally {
      listener.close()
    }
  })
})
