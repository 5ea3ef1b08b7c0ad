/**
 * A browser app on another origin, in Debian's Chromium: a page served by a separate server uses the client SDK
 * (`dist/client/index.js`) in token mode against Sesame, end to end: sign in, `GET /auth/me`, a refresh, sign
 * out. From an origin in SESAME_TRUSTED_ORIGINS every step works; from an origin not on the list the browser
 * blocks the first call at its preflight and no token family is created.
 *
 * Sesame listens on 127.0.0.1 and is used as `http://localhost:P`. The apps are `node:http` servers on other
 * ports of localhost (other origins on the same site, so the SDK's default refresh cookie, `SameSite=Strict`,
 * travels with credentialed requests as it would between `app.example.com` and `auth.example.com`).
 */
import { createServer, type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, startAppServer } from '../helpers/browser.js'
import { createManualClock } from '../helpers/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'spa-elsewhere@example.com'
const PASSWORD = 'a page on another origin'

/** The app's page: the SDK pointed at Sesame's origin, exposed as `window.sesame`. */
const page = (sesameBase: string): string => `<!doctype html><meta charset="utf-8"><title>app</title>
<script type="module">
  import { createSesameClient } from '/client.js'
  window.sesame = createSesameClient({ baseUrl: ${JSON.stringify(sesameBase)} })
  window.ready = true
</script>`

/** A tiny app server on its own port: the page and the SDK, nothing else. */

/** What Sesame's HTTP server received, as method and path (it only reads). */
interface Received {
  method: string
  path: string
  origin: string | undefined
  status?: number
}

describe('the client SDK from another origin, in Chromium', () => {
  let sesame: TestServer
  let trustedApp: { server: Server; origin: string }
  let strangerApp: { server: Server; origin: string }
  let browser: Browser
  let context: BrowserContext
  let sesameBase: string
  let userId: string
  const received: Received[] = []
  const clock = createManualClock(Math.floor(Date.now() / 1000))

  beforeAll(async () => {
    // The apps need Sesame's URL and Sesame needs the trusted app's origin: reserve the ports first.
    const port = await freePort()
    sesameBase = `http://localhost:${port}`
    trustedApp = await startAppServer(page(sesameBase))
    strangerApp = await startAppServer(page(sesameBase))
    sesame = await startTestServer({
      clock,
      env: { SESAME_STORE: 'memory', SESAME_TRUSTED_ORIGINS: trustedApp.origin },
    })
    userId = (await sesame.auth.signUp({ email: EMAIL, password: PASSWORD })).id
    await sesame.app.listen({ port, host: '127.0.0.1' })
    sesame.app.server.on('request', (request, response) => {
      const entry: Received = {
        method: request.method ?? '',
        path: (request.url ?? '').split('?')[0]!,
        origin: request.headers.origin,
      }
      received.push(entry)
      response.on('finish', () => (entry.status = response.statusCode))
    })
    browser = await launchChromium()
    context = await browser.newContext()
  })
  afterAll(async () => {
    await browser?.close()
    await sesame?.close()
    for (const app of [trustedApp, strangerApp]) app?.server.close()
  })

  async function open(origin: string): Promise<Page> {
    const tab = await context.newPage()
    await tab.goto(`${origin}/`)
    await tab.waitForFunction('window.ready === true')
    return tab
  }

  const families = () => sesame.store.listUserRefreshFamilies(userId)

  describe('from a trusted origin', () => {
    let tab: Page

    it('signs in in token mode, with the refresh token in an HttpOnly cookie of Sesame', async () => {
      tab = await open(trustedApp.origin)
      await tab.evaluate(`window.sesame.signIn(${JSON.stringify(EMAIL)}, ${JSON.stringify(PASSWORD)})`)
      expect(await tab.evaluate('window.sesame.state.status')).toBe('signed-in')
      expect(await families()).toHaveLength(1)
      const preflight = received.find((entry) => entry.method === 'OPTIONS' && entry.path === '/auth/token')
      expect(preflight).toMatchObject({ origin: trustedApp.origin, status: 204 })
      const cookies = await context.cookies(`${sesameBase}/auth/token`)
      expect(cookies.map((cookie) => cookie.name)).toEqual(['__Secure-sesame-refresh'])
      expect(await tab.evaluate('document.cookie')).toBe('')
    })

    it('calls GET /auth/me with its access token and reads the answer', async () => {
      const me = await tab.evaluate(
        `window.sesame.fetch(${JSON.stringify(`${sesameBase}/auth/me`)}).then(async (r) => [r.status, (await r.json()).user.email])`,
      )
      expect(me).toEqual([200, EMAIL])
    })

    it('refreshes when the access token has expired (the refresh cookie travels with the credentialed call)', async () => {
      clock.advance(1000) // past the 900 s access lifetime, by the server's clock
      const before = received.length
      const status = await tab.evaluate(
        `window.sesame.fetch(${JSON.stringify(`${sesameBase}/auth/me`)}).then((r) => r.status)`,
      )
      expect(status).toBe(200)
      const grants = received
        .slice(before)
        .filter((entry) => entry.method === 'POST' && entry.path === '/auth/token')
      expect(grants.map((entry) => entry.status)).toEqual([200])
      const [family] = await families()
      expect(family!.generation).toBeGreaterThan(0)
    })

    it('signs out: the refresh token is revoked and the SDK says signed-out', async () => {
      await tab.evaluate('window.sesame.signOut()')
      expect(await tab.evaluate('window.sesame.state.status')).toBe('signed-out')
      const revoke = received.filter((entry) => entry.method === 'POST' && entry.path === '/auth/revoke')
      expect(revoke.map((entry) => entry.status)).toEqual([200])
      const [family] = await families()
      expect(family!.revokedAt).not.toBeNull()
      await tab.close()
    })
  })

  describe('from an origin not on the list', () => {
    it('is blocked at the preflight of its sign-in, and no token family is created', async () => {
      const before = (await families()).length
      const since = received.length
      const tab = await open(strangerApp.origin)
      const outcome = await tab.evaluate(
        `window.sesame.signIn(${JSON.stringify(EMAIL)}, ${JSON.stringify(PASSWORD)}).then(() => 'signed in', (e) => e.name + ': ' + e.message)`,
      )
      expect(outcome).toMatch(/^TypeError: Failed to fetch/)
      expect(await tab.evaluate('window.sesame.state.status')).toBe('signed-out')
      expect(received.slice(since)).toEqual([
        { method: 'OPTIONS', path: '/auth/token', origin: strangerApp.origin, status: 403 },
      ])
      expect(await families()).toHaveLength(before)
      await tab.close()
    })

    it('cannot read GET /auth/me even with a valid access token', async () => {
      const grant = await sesame.auth.tokens.grantPassword({ username: EMAIL, password: PASSWORD })
      const tab = await open(strangerApp.origin)
      const since = received.length
      const outcome = await tab.evaluate(
        `fetch(${JSON.stringify(`${sesameBase}/auth/me`)}, { headers: { authorization: 'Bearer ${grant.accessToken}' } }).then((r) => r.status, (e) => e.name)`,
      )
      expect(outcome).toBe('TypeError')
      // Blocked by CORS, not by a network failure: the preflight reached Sesame and was refused.
      expect(received.slice(since)).toEqual([
        { method: 'OPTIONS', path: '/auth/me', origin: strangerApp.origin, status: 403 },
      ])
      await tab.close()
    })
  })
})

/** A port free on 127.0.0.1 right now (taken back at once, for Sesame to listen on). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((done) => probe.close(() => done()))
  return port
}
