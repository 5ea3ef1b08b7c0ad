/**
 * The client SDK (`dist/client/index.js`, loaded as a plain ES module) in Debian's Chromium against a real
 * Sesame: 20 concurrent API calls with an expired access token cause exactly one refresh, counted on the
 * server; so do calls from two tabs at once (Web Locks + BroadcastChannel); the refresh token stays in an
 * HttpOnly cookie no script can read; and after "log out everywhere" the SDK reports signed-out in both tabs.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { createManualClock } from '../helpers/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const CLIENT_SOURCE = resolve(import.meta.dirname, '../../dist/client/index.js')
const EMAIL = 'spa-user@example.com'
const PASSWORD = 'single page app phrase'

/** The page: loads the SDK and exposes one client as `window.sesame`, with its state history. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title>
<script type="module">
  import { createSesameClient } from '/test/client.js'
  const client = createSesameClient({ baseUrl: location.origin })
  window.states = []
  client.subscribe((state) => window.states.push(state.status + ':' + (state.reason ?? '')))
  window.sesame = client
  window.ready = true
</script>`

describe('client SDK in Chromium', () => {
  let server: TestServer
  let browser: Browser
  let context: BrowserContext
  let base: string
  const clock = createManualClock(Math.floor(Date.now() / 1000))
  let refreshes = 0

  beforeAll(async () => {
    server = await startTestServer({
      clock,
      env: { SESAME_STORE: 'memory' },
      configure: (app) => {
        app.get('/test/page', async (_request, reply) => reply.type('text/html').send(PAGE))
        app.get('/test/client.js', async (_request, reply) =>
          reply.type('text/javascript').send(readFileSync(CLIENT_SOURCE, 'utf8')),
        )
        // The server-side count of refresh grants, the number the test is about.
        app.addHook('preHandler', async (request) => {
          const body = request.body as { grant_type?: string } | undefined
          if (request.url === '/auth/token' && body?.grant_type === 'refresh_token') refreshes++
        })
      },
    })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
    await server.app.listen({ port: 0, host: '127.0.0.1' })
    const address = server.app.server.address() as { port: number }
    base = `http://localhost:${address.port}` // a secure context: Secure cookies work over http
    browser = await launchChromium()
    context = await browser.newContext()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  async function openTab(): Promise<Page> {
    const page = await context.newPage()
    await page.goto(`${base}/test/page`)
    await page.waitForFunction('window.ready === true')
    return page
  }

  /** `count` concurrent `sesame.fetch('/auth/me')` calls in `page`; resolves with their statuses. */
  const burst = (page: Page, count: number): Promise<number[]> =>
    page.evaluate(
      `Promise.all(Array.from({ length: ${count} }, () => window.sesame.fetch('/auth/me').then((r) => r.status)))`,
    )

  let first: Page
  let second: Page

  it('signs in in token mode with the refresh token in an HttpOnly cookie', async () => {
    first = await openTab()
    await first.evaluate(`window.sesame.signIn(${JSON.stringify(EMAIL)}, ${JSON.stringify(PASSWORD)})`)
    expect(await first.evaluate('window.sesame.state.status')).toBe('signed-in')
    const cookies = await context.cookies(`${base}/auth/token`) // scoped to /auth: not sent to other paths
    expect(await context.cookies(base)).toEqual([])
    expect(cookies.map((cookie) => cookie.name)).toEqual(['__Secure-sesame-refresh'])
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/auth' })
    expect(await first.evaluate('document.cookie')).toBe('')
    expect(await burst(first, 1)).toEqual([200])
  })

  it('refreshes exactly once for 20 concurrent calls with an expired access token', async () => {
    clock.advance(1000) // past the 900 s access lifetime, by the server's clock
    refreshes = 0
    const statuses = await burst(first, 20)
    expect(statuses).toEqual(Array(20).fill(200))
    expect(refreshes).toBe(1)
  })

  it('refreshes exactly once for calls from two tabs at once', async () => {
    second = await openTab()
    expect(await second.evaluate('window.sesame.restore()')).toBe(true) // a new tab: one refresh by the cookie
    clock.advance(1000)
    refreshes = 0
    const [fromFirst, fromSecond] = await Promise.all([burst(first, 10), burst(second, 10)])
    expect([...fromFirst, ...fromSecond]).toEqual(Array(20).fill(200))
    expect(refreshes).toBe(1)
  })

  it('reports signed-out in both tabs after "log out everywhere"', async () => {
    const status = await first.evaluate(
      `window.sesame.fetch('/auth/logout-everywhere', { method: 'POST' }).then((r) => r.status)`,
    )
    expect(status).toBe(204)
    expect(await burst(second, 3)).toEqual([401, 401, 401])
    await first.waitForFunction(`window.sesame.state.status === 'signed-out'`)
    expect(await second.evaluate('window.sesame.state')).toEqual({
      status: 'signed-out',
      reason: 'session_ended',
    })
    expect(await first.evaluate('window.sesame.state.status')).toBe('signed-out')
    const rejected = await first.evaluate(
      `window.sesame.fetch('/auth/me').then(() => 'resolved', (e) => e.code)`,
    )
    expect(rejected).toBe('signed_out')
  })
})
