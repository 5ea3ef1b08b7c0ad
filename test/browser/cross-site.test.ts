/**
 * Cross-site request forgery in a real browser (issue 5, "must show"): a victim signed in to Sesame in
 * Chromium opens an attacker's page, which tries to end the victim's sessions with auto-submitted HTML forms
 * (in hidden frames and at the top level), `fetch` (`no-cors` POSTs and preflighted `DELETE`s) and GET
 * navigations. Nothing may be revoked.
 *
 * Sesame listens on 127.0.0.1 and the browser uses it as `http://localhost:P` (a secure context, so the
 * `__Host-` cookie works). The attacker's server is a tiny `node:http` server on another port Q, visited two
 * ways:
 * - `http://127.0.0.1:Q`: another origin and another site. `SameSite=Lax` keeps the cookie off the forged
 *   POSTs, and the `Origin` check refuses them anyway (403 `csrf_rejected`).
 * - `http://localhost:Q`: another origin on the SAME site (ports do not make sites). The browser attaches the
 *   cookie to every forged request, so the `Origin` check is all that stands between the page and the
 *   victim's sessions.
 *
 * The test watches Sesame's HTTP server (an extra `request` listener that only reads) to see what each forged
 * request carried and how it was answered, and checks afterwards that the cookie session and the token
 * family both still work; a same-origin control shows the same routes do revoke when the request is genuine.
 */
import { createServer, type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import { type Browser, type BrowserContext, type Cookie, type Page, type Response } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const COOKIE_NAME = '__Host-sesame'
const PASSWORD = 'victim passphrase for the cross-site test'
const ATTACKER_EMAIL = 'mallory@example.com'
const ATTACKER_PASSWORD = 'mallory passphrase, long enough'

/** The browser globals the page functions read (the project's tsconfig has no DOM lib). */
interface BrowserGlobals {
  attack?: FetchOutcome[]
}

/** What one forged `fetch` came to, as the attacker's page saw it. */
interface FetchOutcome {
  via: string
  outcome: 'response' | 'error'
  type?: string
  status?: number
  error?: string
}

/** A request the Sesame server received with a `via` tag (every forged request carries one). */
interface Received {
  via: string
  method: string
  path: string
  origin: string | undefined
  fetchSite: string | undefined
  withCookie: boolean
  status?: number
}

interface Device {
  id: string
  type: string
  current: boolean
}

let server: TestServer | undefined
let attacker: Server | undefined
let browser: Browser | undefined
/** Sesame as the browser sees it. */
let base = ''
/** Sesame as this process calls it (IPv4 loopback, where it listens). */
let direct = ''
let attackerPort = 0
const received: Received[] = []

beforeAll(async () => {
  server = await startTestServer()
  await server.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = server.app.server.address() as AddressInfo
  base = `http://localhost:${port}`
  direct = `http://127.0.0.1:${port}`
  // Runs after Fastify's own listener and only reads: what each tagged request carried, and its final status.
  server.app.server.on('request', (request, response) => {
    const url = new URL(request.url ?? '/', 'http://sesame.invalid')
    const via = url.searchParams.get('via')
    if (via === null) return
    const entry: Received = {
      via,
      method: request.method ?? '',
      path: url.pathname,
      origin: request.headers.origin,
      fetchSite: header(request.headers['sec-fetch-site']),
      withCookie: (request.headers.cookie ?? '').includes(`${COOKIE_NAME}=`),
    }
    received.push(entry)
    response.on('finish', () => {
      entry.status = response.statusCode
    })
  })

  attacker = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://attacker.invalid')
    const body = attackerPage(url)
    response.writeHead(body === null ? 404 : 200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    })
    response.end(body ?? 'not found')
  })
  await new Promise<void>((resolve) => attacker!.listen(0, '127.0.0.1', resolve))
  attackerPort = (attacker.address() as AddressInfo).port

  browser = await launchChromium()
  await server.auth.signUp({ email: ATTACKER_EMAIL, password: ATTACKER_PASSWORD })
})

afterAll(async () => {
  await browser?.close()
  if (attacker) {
    attacker.closeAllConnections()
    await new Promise<void>((resolve) => attacker!.close(() => resolve()))
  }
  await server?.close()
})

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The HTML of the attacker's pages; `null` for an unknown path. */
function attackerPage(url: URL): string | null {
  const json = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c')
  const target = (path: string, via: string): string => `${base}${path}?via=${encodeURIComponent(via)}`
  const page = (script: string, extra = ''): string =>
    `<!doctype html><html><head><title>Free prizes</title></head><body>${extra}<script>${script}</script></body></html>`
  switch (url.pathname) {
    case '/blank':
      return '<!doctype html><html><body></body></html>'
    case '/attack': {
      // `tag` keeps the two attacker origins' requests apart; `family` and `session` are the victim's device ids
      // (the worst case: the attacker somehow learnt them).
      const tag = url.searchParams.get('tag') ?? ''
      const family = url.searchParams.get('family') ?? ''
      const session = url.searchParams.get('session') ?? ''
      const form = (name: string, path: string, fields: Record<string, string> = {}, enctype?: string) => ({
        via: `${tag}-frame-${name}`,
        action: target(path, `${tag}-frame-${name}`),
        fields,
        enctype,
      })
      const forge = (
        name: string,
        path: string,
        init: Record<string, string>,
        form?: Record<string, string>,
      ) => ({
        via: `${tag}-fetch-${name}`,
        url: target(path, `${tag}-fetch-${name}`),
        init,
        form,
      })
      const noCors = { method: 'POST', credentials: 'include', mode: 'no-cors' }
      const preflighted = { method: 'DELETE', credentials: 'include' }
      const forms = [
        form('logout-everywhere', '/auth/logout-everywhere'),
        form('revoke-others', '/auth/sessions/revoke-others'),
        form('logout', '/logout'),
        // Login CSRF: signing the victim's browser in as the attacker would also end the victim's session.
        form('login', '/login', { email: ATTACKER_EMAIL, password: ATTACKER_PASSWORD }),
        form('signup', '/signup', { email: `planted-${tag}@example.com`, password: ATTACKER_PASSWORD }),
        // The JSON-CSRF trick: a text/plain form whose body looks like JSON.
        form('text-plain', '/auth/logout-everywhere', { '{"a":"': '"}' }, 'text/plain'),
      ]
      const fetches = [
        forge('logout-everywhere', '/auth/logout-everywhere', noCors),
        forge('revoke-others', '/auth/sessions/revoke-others', noCors),
        forge('logout', '/logout', noCors, { x: '1' }),
        forge('delete-family', `/auth/sessions/${family}`, preflighted),
        forge('delete-session', `/auth/sessions/${session}`, preflighted),
        forge('sign-out', '/auth/session', preflighted),
      ]
      return page(`
        const forms = ${json(forms)};
        const fetches = ${json(fetches)};
        // A frame first loads a blank page of this origin, so its next "load" is the forged post's answer.
        function frameFor(name) {
          return new Promise((resolve) => {
            const frame = document.createElement('iframe');
            frame.name = name;
            frame.addEventListener('load', () => resolve(frame), { once: true });
            frame.src = '/blank';
            document.body.append(frame);
          });
        }
        async function submitInFrame(spec) {
          const frame = await frameFor(spec.via);
          const answered = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
          const form = document.createElement('form');
          form.method = 'post';
          form.action = spec.action;
          form.target = spec.via;
          if (spec.enctype) form.enctype = spec.enctype;
          for (const [name, value] of Object.entries(spec.fields)) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.append(input);
          }
          document.body.append(form);
          form.submit();
          await answered;
        }
        async function forge(spec) {
          const init = { ...spec.init };
          if (spec.form) init.body = new URLSearchParams(spec.form);
          try {
            const response = await fetch(spec.url, init);
            return { via: spec.via, outcome: 'response', type: response.type, status: response.status };
          } catch (error) {
            return { via: spec.via, outcome: 'error', error: error.name };
          }
        }
        (async () => {
          const outcomes = await Promise.all([...forms.map(submitInFrame), ...fetches.map(forge)]);
          window.attack = outcomes.filter(Boolean);
        })();
      `)
    }
    case '/top-post': {
      const path = url.searchParams.get('path') ?? '/'
      const via = url.searchParams.get('via') ?? ''
      return page(
        'document.forms[0].submit();',
        `<form method="post" action="${target(path, via)}"><input type="hidden" name="x" value="1"></form>`,
      )
    }
    case '/top-get': {
      const path = url.searchParams.get('path') ?? '/'
      const via = url.searchParams.get('via') ?? ''
      return page(`location.replace(${json(target(path, via))});`)
    }
    default:
      return null
  }
}

async function sessionCookies(context: BrowserContext): Promise<Cookie[]> {
  return (await context.cookies(base)).filter((cookie) => cookie.name === COOKIE_NAME)
}

/**
 * A same-origin `fetch` needs a Sesame document without the pages' CSP (`default-src 'none'` forbids
 * `connect-src`): the JSON of the server metadata serves, in a tab of the victim's browser.
 */
async function openSesameTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  const response = await page.goto(`${base}/.well-known/oauth-authorization-server`)
  expect(response?.status()).toBe(200)
  return page
}

/** `GET /auth/sessions` from a Sesame tab of the victim's browser, a same-origin fetch carrying the cookie. */
async function devicesSeenBy(page: Page): Promise<{ status: number; sessions: Device[] }> {
  const result = await page.evaluate(async () => {
    const response = await fetch('/auth/sessions')
    const body = (await response.json()) as { sessions?: Device[] }
    return { status: response.status, sessions: body.sessions ?? [] }
  })
  // Sesame lists devices by creation time; both were made within the same second here, so fix an order.
  result.sessions.sort((a, b) => a.type.localeCompare(b.type))
  return result
}

/** What Sesame received for one tag, once it has answered. */
function receivedFor(via: string): Received[] {
  return received.filter((entry) => entry.via === via)
}

const CSRF_REJECTED = {
  error: 'csrf_rejected',
  error_description: 'Cross-origin requests may not change state.',
}

describe.each([
  { tag: 'cross-site', host: '127.0.0.1', sameSite: false },
  { tag: 'same-site', host: 'localhost', sameSite: true },
])('a page on $host:<other port> ($tag)', ({ tag, host, sameSite }) => {
  const email = `victim-${tag}@example.com`
  let context: BrowserContext
  let victim: Page
  let sesameTab: Page
  let attackerTab: Page
  let cookieBefore: Cookie
  let devicesBefore: Device[]
  let phone: { accessToken: string; refreshToken: string }
  let attackerOrigin = ''

  beforeAll(async () => {
    attackerOrigin = `http://${host}:${attackerPort}`
    await server!.auth.signUp({ email, password: PASSWORD })
    context = await browser!.newContext()
    victim = await context.newPage()
    sesameTab = await openSesameTab(context)
  })

  afterAll(async () => {
    await context?.close()
  })

  it('the victim signs in through /login and also holds a token family on another device', async () => {
    await victim.goto(`${base}/login`)
    await victim.locator('input[name="email"]').fill(email)
    await victim.locator('input[name="password"]').fill(PASSWORD)
    await victim.getByRole('button', { name: 'Log in' }).click()
    await victim.waitForURL(`${base}/account`)
    expect(await victim.locator('#account-email').textContent()).toBe(email)
    const cookies = await sessionCookies(context)
    expect(cookies).toHaveLength(1)
    cookieBefore = cookies[0]!

    // The second device: an app using the token endpoint, not the browser.
    const grant = await fetch(`${direct}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'SesameApp/1.0 (phone)' },
      body: JSON.stringify({ grant_type: 'password', username: email, password: PASSWORD }),
    })
    expect(grant.status).toBe(200)
    const body = (await grant.json()) as { access_token: string; refresh_token: string }
    phone = { accessToken: body.access_token, refreshToken: body.refresh_token }

    const { status, sessions } = await devicesSeenBy(sesameTab)
    expect(status).toBe(200)
    expect(sessions.map((device) => [device.type, device.current])).toEqual([
      ['cookie', true],
      ['token', false],
    ])
    devicesBefore = sessions
  })

  it('forged form posts in hidden frames and forged fetches are refused', async () => {
    attackerTab = await context.newPage()
    const documents: Array<Promise<{ via: string; status: number; body: string }>> = []
    const onResponse = (response: Response): void => {
      const url = new URL(response.url())
      const via = url.searchParams.get('via')
      if (url.origin !== base || via === null || response.request().resourceType() !== 'document') return
      // Read at once, while the frame still shows it; an unreadable body shows up as '' in the assertions.
      const body = response.text().catch(() => '')
      documents.push(body.then((text) => ({ via, status: response.status(), body: text })))
    }
    attackerTab.on('response', onResponse)

    const family = devicesBefore.find((device) => device.type === 'token')!.id
    const session = devicesBefore.find((device) => device.type === 'cookie')!.id
    await attackerTab.goto(
      `${attackerOrigin}/attack?tag=${tag}&family=${encodeURIComponent(family)}&session=${encodeURIComponent(session)}`,
    )
    expect(new URL(attackerTab.url()).origin).toBe(attackerOrigin)
    expect(new URL(attackerTab.url()).origin).not.toBe(base)
    await attackerTab.waitForFunction(() => (globalThis as unknown as BrowserGlobals).attack !== undefined)
    const outcomes = await attackerTab.evaluate(() => (globalThis as unknown as BrowserGlobals).attack!)

    // The page itself learns nothing: no-cors answers are opaque, and the DELETEs die in their preflight
    // (Sesame answers no CORS), so they never reach a handler.
    expect(outcomes.sort((a, b) => a.via.localeCompare(b.via))).toEqual([
      { via: `${tag}-fetch-delete-family`, outcome: 'error', error: 'TypeError' },
      { via: `${tag}-fetch-delete-session`, outcome: 'error', error: 'TypeError' },
      { via: `${tag}-fetch-logout`, outcome: 'response', type: 'opaque', status: 0 },
      { via: `${tag}-fetch-logout-everywhere`, outcome: 'response', type: 'opaque', status: 0 },
      { via: `${tag}-fetch-revoke-others`, outcome: 'response', type: 'opaque', status: 0 },
      { via: `${tag}-fetch-sign-out`, outcome: 'error', error: 'TypeError' },
    ])

    // Every forged POST reached Sesame, from the attacker's origin, and was refused with 403.
    const posts = [
      'frame-logout-everywhere',
      'frame-revoke-others',
      'frame-logout',
      'frame-login',
      'frame-signup',
      'fetch-logout-everywhere',
      'fetch-revoke-others',
      'fetch-logout',
    ]
    await expect
      .poll(() => posts.map((name) => receivedFor(`${tag}-${name}`).every((entry) => entry.status)))
      .toEqual(posts.map(() => true))
    for (const name of posts) {
      const entries = receivedFor(`${tag}-${name}`)
      expect(entries, name).toEqual([
        expect.objectContaining({
          method: 'POST',
          origin: attackerOrigin,
          fetchSite: sameSite ? 'same-site' : 'cross-site',
          // Cross-site, SameSite=Lax keeps the cookie off; same-site the browser sends it, and only the
          // Origin check is left.
          withCookie: sameSite,
          status: 403,
        }),
      ])
    }

    // The text/plain form is refused before any handler runs (Sesame parses no text/plain bodies).
    await expect.poll(() => receivedFor(`${tag}-frame-text-plain`)[0]?.status).toBeDefined()
    expect(receivedFor(`${tag}-frame-text-plain`)).toEqual([
      expect.objectContaining({ method: 'POST', origin: attackerOrigin, withCookie: sameSite }),
    ])
    expect([403, 415]).toContain(receivedFor(`${tag}-frame-text-plain`)[0]!.status)

    // The preflighted DELETEs: only the OPTIONS preflight arrived, never the DELETE itself.
    for (const name of ['fetch-delete-family', 'fetch-delete-session', 'fetch-sign-out']) {
      const entries = receivedFor(`${tag}-${name}`)
      expect(
        entries.map((entry) => entry.method),
        name,
      ).toEqual(['OPTIONS'])
      expect(entries[0]!.withCookie, name).toBe(false) // preflights never carry credentials
      expect(entries[0]!.status, name).toBeGreaterThanOrEqual(400)
    }

    // What the frames displayed: the JSON error of a CSRF refusal.
    attackerTab.off('response', onResponse)
    const frames = await Promise.all(documents)
    const frameNames = [
      'frame-logout-everywhere',
      'frame-revoke-others',
      'frame-logout',
      'frame-login',
      'frame-signup',
    ]
    for (const name of frameNames) {
      const answer = frames.find((document) => document.via === `${tag}-${name}`)
      expect(answer, name).toBeDefined()
      expect(answer!.status, name).toBe(403)
      expect(JSON.parse(answer!.body), name).toEqual(CSRF_REJECTED)
    }
  })

  it('forged top-level form posts are refused with 403 csrf_rejected', async () => {
    for (const path of ['/auth/logout-everywhere', '/auth/sessions/revoke-others', '/logout', '/login']) {
      const via = `${tag}-top${path.replace(/\//g, '-')}`
      const answered = attackerTab.waitForResponse((response) => {
        const url = new URL(response.url())
        return url.origin === base && url.searchParams.get('via') === via
      })
      await attackerTab.goto(
        `${attackerOrigin}/top-post?path=${encodeURIComponent(path)}&via=${encodeURIComponent(via)}`,
      )
      const response = await answered
      expect(response.request().method(), path).toBe('POST')
      expect(response.status(), path).toBe(403)
      expect(await response.json(), path).toEqual(CSRF_REJECTED)
      await expect.poll(() => receivedFor(via)[0]?.status).toBe(403)
      expect(receivedFor(via), path).toEqual([
        expect.objectContaining({
          method: 'POST',
          origin: attackerOrigin,
          fetchSite: sameSite ? 'same-site' : 'cross-site',
          withCookie: sameSite,
        }),
      ])
    }
  })

  it('top-level GET navigations to the state-changing routes change nothing (even with the cookie)', async () => {
    for (const path of ['/auth/logout-everywhere', '/auth/sessions/revoke-others', '/logout']) {
      const via = `${tag}-get${path.replace(/\//g, '-')}`
      const answered = attackerTab.waitForResponse((response) => {
        const url = new URL(response.url())
        return url.origin === base && url.searchParams.get('via') === via
      })
      await attackerTab.goto(
        `${attackerOrigin}/top-get?path=${encodeURIComponent(path)}&via=${encodeURIComponent(via)}`,
      )
      const response = await answered
      expect(response.request().method(), path).toBe('GET')
      expect(response.status(), path).toBe(405) // the path answers POST only
      // A top-level GET carries a SameSite=Lax cookie even cross-site: only "no state change on GET" protects.
      expect(receivedFor(via), path).toEqual([
        expect.objectContaining({ method: 'GET', withCookie: true, status: 405 }),
      ])
    }
  })

  it('nothing was revoked: the cookie session and the token family both still work', async () => {
    // The browser kept its cookie: no forged answer cleared it.
    expect(await sessionCookies(context)).toEqual([cookieBefore])

    const response = await victim.reload()
    expect(response?.status()).toBe(200)
    expect(new URL(victim.url()).pathname).toBe('/account')
    expect(await victim.locator('#account-email').textContent()).toBe(email)
    expect(await victim.locator('header .who').textContent()).toBe(email) // not the attacker's account

    const { status, sessions } = await devicesSeenBy(sesameTab)
    expect(status).toBe(200)
    expect(sessions.map((device) => [device.id, device.type, device.current])).toEqual(
      devicesBefore.map((device) => [device.id, device.type, device.current]),
    )

    const me = await fetch(`${direct}/auth/me`, { headers: { authorization: `Bearer ${phone.accessToken}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(email)

    const refreshed = await fetch(`${direct}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: phone.refreshToken }),
    })
    expect(refreshed.status).toBe(200)
    const grant = (await refreshed.json()) as { access_token: string; refresh_token: string }
    expect(grant.refresh_token).not.toBe(phone.refreshToken)
    phone = { accessToken: grant.access_token, refreshToken: grant.refresh_token }

    // The forged sign-up created no account.
    const planted = await fetch(`${direct}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: `planted-${tag}@example.com`,
        password: ATTACKER_PASSWORD,
      }),
    })
    expect(planted.status).toBe(400)
    expect(await planted.json()).toMatchObject({ error: 'invalid_grant' })
  })

  it('control: the same request from Sesame’s own origin does log out everywhere', async () => {
    const status = await sesameTab.evaluate(async () => {
      const response = await fetch('/auth/logout-everywhere', { method: 'POST' })
      return response.status
    })
    expect(status).toBe(204)
    expect(await sessionCookies(context)).toEqual([])
    await victim.goto(`${base}/account`)
    expect(new URL(victim.url()).pathname).toBe('/login')
    const refreshed = await fetch(`${direct}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: phone.refreshToken }),
    })
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' })
  })
})
