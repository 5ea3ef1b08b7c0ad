/**
 * The examples, started as a user would start them (`node examples/<name>/server.js`, importing Sesame by its
 * package name from the built `dist/`) and driven over HTTP:
 * - `express-pages`: cookie sessions in-process on SQLite; anonymous 401 (or a redirect for pages), signed in
 *   200, wrong role 403, and "log out everywhere" ending the user's other sessions at once.
 * - `fastify-api`: a separate process that only verifies bearer tokens from a separate Sesame server process;
 *   anonymous 401, signed in 200, wrong role 403, refused after `logout-everywhere` within the feed's bound,
 *   and still verifying (with cached keys) after Sesame is killed.
 */
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerProcess, startNodeProcess, startServerProcess } from '../helpers/process.js'
import { makeTempDir } from '../helpers/server.js'

const EXAMPLES = resolve(import.meta.dirname, '../../examples')
/** Documented bound for a revocation to reach a verifier whose feed is connected (loopback: milliseconds). */
const FEED_BOUND_MS = 2000

/** Polls `check` every 10 ms until it is true; resolves with the milliseconds it took, or throws after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < limitMs) {
    if (await check()) return performance.now() - started
    await new Promise((done) => setTimeout(done, 10))
  }
  throw new Error(`not within ${limitMs} ms`)
}

describe('example: express-pages (cookie sessions in an Express app)', () => {
  let app: ServerProcess
  let dataDir: string
  const password = 'example pass phrase'

  beforeAll(async () => {
    dataDir = makeTempDir('sesame-example-')
    app = await startNodeProcess(resolve(EXAMPLES, 'express-pages/server.js'), {
      EXAMPLE_DATA_DIR: dataDir,
      EXAMPLE_PASSWORD: password,
      COOKIE_SECURE: 'false',
    })
  })
  afterAll(() => {
    app.child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  async function signIn(email: string): Promise<string> {
    const answer = await fetch(`${app.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }),
    })
    expect(answer.status).toBe(303)
    return answer.headers.get('set-cookie')!.split(';')[0]!
  }

  const get = (path: string, cookie?: string) =>
    fetch(`${app.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} })

  it('answers anonymous visitors 401 on the API and a redirect on pages', async () => {
    expect((await get('/api/me')).status).toBe(401)
    const page = await get('/dashboard')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/login')
    expect((await get('/admin')).status).toBe(401)
  })

  it('refuses a wrong password and a cross-site sign-in', async () => {
    const wrong = await fetch(`${app.url}/login`, {
      method: 'POST',
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'reader@example.com', password: 'not the password' }),
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).toContain('The email or password is incorrect.')
    const crossSite = await fetch(`${app.url}/login`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'reader@example.com', password }),
    })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.get('set-cookie')).toBeNull()
  })

  it('serves a signed-in reader their pages, and 403 on the admin page', async () => {
    const cookie = await signIn('reader@example.com')
    const dashboard = await get('/dashboard', cookie)
    expect(dashboard.status).toBe(200)
    expect(await dashboard.text()).toContain('Signed in as <b>reader@example.com</b>')
    expect(await (await get('/api/me', cookie)).json()).toMatchObject({ userId: 'reader', method: 'cookie' })
    const admin = await get('/admin', cookie)
    expect(admin.status).toBe(403)
    expect(await admin.json()).toMatchObject({ error: 'forbidden' })
  })

  it('lets an admin in', async () => {
    const cookie = await signIn('admin@example.com')
    const admin = await get('/admin', cookie)
    expect(admin.status).toBe(200)
    expect(await admin.text()).toContain('Only admins see this.')
  })

  it('ends every session of the user with "log out everywhere", and only by a same-origin request', async () => {
    const laptop = await signIn('reader@example.com')
    const phone = await signIn('reader@example.com')
    const post = (origin: string) =>
      fetch(`${app.url}/api/logout-everywhere`, { method: 'POST', headers: { cookie: laptop, origin } })
    expect((await post('https://evil.example')).status).toBe(403)
    expect((await get('/api/me', phone)).status).toBe(200)
    expect((await post(app.url)).status).toBe(204)
    // One process, one store: the very next request of the other device is refused.
    expect((await get('/api/me', phone)).status).toBe(401)
    expect((await get('/api/me', laptop)).status).toBe(401)
  })
})

describe('example: fastify-api (a resource server verifying tokens from a separate Sesame)', () => {
  let sesame: ServerProcess
  let api: ServerProcess
  const feedToken = randomBytes(32).toString('base64url')
  const ISSUER = 'https://auth.example.test'
  const email = 'api-reader@example.com'
  const password = 'api reader pass phrase'

  beforeAll(async () => {
    sesame = await startServerProcess({
      SESAME_STORE: 'memory',
      SESAME_ISSUER: ISSUER,
      SESAME_REVOCATION_FEED_TOKEN: feedToken,
      SESAME_LOG_LEVEL: 'warn',
    })
    api = await startNodeProcess(resolve(EXAMPLES, 'fastify-api/server.js'), {
      SESAME_ISSUER: ISSUER, // the public name in the tokens; Sesame answers here at SESAME_URL
      SESAME_URL: sesame.url,
      SESAME_REVOCATION_FEED_TOKEN: feedToken,
    })
    const signUp = await fetch(`${sesame.url}/auth/signup`, {
      method: 'POST',
      headers: { origin: sesame.url, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
    expect(signUp.status).toBe(201)
  })
  afterAll(() => {
    api.child.kill('SIGKILL')
    sesame.child.kill('SIGKILL')
  })

  async function accessToken(): Promise<string> {
    const answer = await fetch(`${sesame.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: email, password }),
    })
    expect(answer.status).toBe(200)
    return ((await answer.json()) as { access_token: string }).access_token
  }

  const notes = (token?: string, method = 'GET', path = '/notes') =>
    fetch(`${api.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} })

  it('follows the revocation feed once started', async () => {
    await within(5000, async () => {
      const health = (await (await fetch(`${api.url}/healthz`)).json()) as { verifier: { feed: string } }
      return health.verifier.feed === 'connected'
    })
  })

  it('answers anonymous 401, a valid token 200, a token without the role 403', async () => {
    const anonymous = await notes()
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
    const token = await accessToken()
    const reading = await notes(token)
    expect(reading.status).toBe(200)
    expect(await reading.json()).toMatchObject({ notes: [{ id: '1' }] })
    const deleting = await notes(token, 'DELETE', '/notes/1')
    expect(deleting.status).toBe(403)
    expect(deleting.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"')
    const forged = await notes(`${token.slice(0, -4)}AAAA`)
    expect(forged.status).toBe(401)
    expect(forged.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
  })

  it(`refuses the user's tokens within ${FEED_BOUND_MS} ms of "log out everywhere" at Sesame`, async () => {
    const token = await accessToken()
    expect((await notes(token)).status).toBe(200)
    const logout = await fetch(`${sesame.url}/auth/logout-everywhere`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(logout.status).toBe(204)
    const took = await within(FEED_BOUND_MS, async () => (await notes(token)).status === 401)
    console.log(`[examples] revocation reached the resource server after ${took.toFixed(1)} ms`)
    // A token issued after the logout works: the epoch kills only what came before it.
    await new Promise((done) => setTimeout(done, 1100)) // the epoch has one-second resolution
    expect((await notes(await accessToken())).status).toBe(200)
  })

  it('keeps verifying with cached keys while Sesame is down', async () => {
    const token = await accessToken()
    sesame.child.kill('SIGKILL')
    await sesame.exited
    expect((await notes(token)).status).toBe(200)
    await within(5000, async () => {
      const health = (await (await fetch(`${api.url}/healthz`)).json()) as { verifier: { feed: string } }
      return health.verifier.feed === 'disconnected'
    })
    expect((await notes(token)).status).toBe(200)
    expect((await notes(`${token}x`)).status).toBe(401)
  })
})
