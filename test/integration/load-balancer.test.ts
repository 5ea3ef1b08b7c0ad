/**
 * Three Sesame instances behind nginx on loopback. With a shared store a browser-style client stays signed in
 * whichever instance serves it; with the memory store the notes' predicted failure shows (a session lives on
 * one instance only); `ip_hash` stickiness hides it until that instance dies. Revocation on one instance
 * reaches the others through the store's change feed.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { type Cluster, startCluster } from '../helpers/cluster.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'

const PASSWORD = 'cluster password 1'

/** A minimal browser: keeps the session cookie and sends Origin like a same-origin page would. */
function createBrowser(baseUrl: string) {
  let cookie = ''
  return {
    async request(method: string, path: string, body?: unknown) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          origin: baseUrl,
          ...(cookie && { cookie }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      const setCookie = response.headers.get('set-cookie')
      if (setCookie) cookie = setCookie.split(';')[0]!.endsWith('=') ? '' : setCookie.split(';')[0]!
      return { status: response.status, upstream: response.headers.get('x-upstream') ?? '' }
    },
  }
}

const schemas: string[] = []
const prefixes: string[] = []

/** The shared stores a deployment of several instances can use, each with a fresh schema / prefix. */
const SHARED_STORES: Record<string, () => Record<string, string>> = {
  postgres: () => {
    const schema = freshSchema('lb')
    schemas.push(schema)
    return { SESAME_STORE: 'postgres', DATABASE_URL, SESAME_POSTGRES_SCHEMA: schema }
  },
  redis: () => {
    const prefix = freshPrefix('lb')
    prefixes.push(prefix)
    return { SESAME_STORE: 'redis', REDIS_URL, SESAME_REDIS_PREFIX: prefix }
  },
  'postgres users + redis sessions': () => ({
    ...SHARED_STORES.postgres!(),
    ...SHARED_STORES.redis!(),
    SESAME_STORE: 'postgres',
    SESAME_SESSION_STORE: 'redis',
  }),
}

describe('three instances behind nginx', () => {
  let cluster: Cluster | undefined
  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })
  afterAll(async () => {
    await dropSchemas(schemas)
    await deletePrefixes(prefixes)
  })

  it.each(Object.keys(SHARED_STORES))('keeps a browser signed in on every instance with %s', async (kind) => {
    cluster = await startCluster({ instances: 3, env: SHARED_STORES[kind]!() })
    const browser = createBrowser(cluster.url)
    expect(
      (await browser.request('POST', '/auth/signup', { email: 'lb@example.com', password: PASSWORD })).status,
    ).toBe(201)
    expect(
      (await browser.request('POST', '/auth/session', { email: 'lb@example.com', password: PASSWORD }))
        .status,
    ).toBe(200)
    const upstreams = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const response = await browser.request('GET', '/auth/me')
      expect(response.status).toBe(200)
      upstreams.add(response.upstream)
    }
    expect(upstreams.size).toBe(3)
    // An instance killed mid-way loses nothing: the session lives in the shared store.
    cluster.instances[0]!.child.kill('SIGKILL')
    await cluster.instances[0]!.exited
    for (let i = 0; i < 6; i++) expect((await browser.request('GET', '/auth/me')).status).toBe(200)
  })

  it('shows the failure the notes predict with the memory store: a session lives on one instance only', async () => {
    cluster = await startCluster({ instances: 3, env: { SESAME_STORE: 'memory' } })
    const browser = createBrowser(cluster.url)
    // Round robin: the account exists only on the instance that took the sign-up.
    expect(
      (await browser.request('POST', '/auth/signup', { email: 'mem@example.com', password: PASSWORD }))
        .status,
    ).toBe(201)
    const logins = []
    for (let i = 0; i < 3; i++)
      logins.push(
        (await browser.request('POST', '/auth/session', { email: 'mem@example.com', password: PASSWORD }))
          .status,
      )
    expect(logins.sort()).toEqual([200, 401, 401])
    // The first request that lands on another instance finds no such session (401) and the browser is told to
    // drop the cookie: from then on it is signed out everywhere.
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await browser.request('GET', '/auth/me')).status)
    const firstMiss = statuses.indexOf(401)
    expect(firstMiss).toBeGreaterThanOrEqual(0)
    expect(firstMiss).toBeLessThanOrEqual(2)
    expect(statuses.slice(firstMiss).every((status) => status === 401)).toBe(true)
  })

  it('hides it with ip_hash stickiness, until the sticky instance dies', async () => {
    cluster = await startCluster({ instances: 3, env: { SESAME_STORE: 'memory' }, balancing: 'ip-hash' })
    const browser = createBrowser(cluster.url)
    expect(
      (await browser.request('POST', '/auth/signup', { email: 'sticky@example.com', password: PASSWORD }))
        .status,
    ).toBe(201)
    const login = await browser.request('POST', '/auth/session', {
      email: 'sticky@example.com',
      password: PASSWORD,
    })
    expect(login.status).toBe(200)
    for (let i = 0; i < 6; i++) {
      const response = await browser.request('GET', '/auth/me')
      expect(response.status).toBe(200)
      expect(response.upstream).toBe(login.upstream)
    }
    const sticky = cluster.instances.find((instance) => instance.url.endsWith(login.upstream))!
    sticky.child.kill('SIGKILL')
    await sticky.exited
    const after = await browser.request('GET', '/auth/me')
    expect(after.upstream).not.toBe(login.upstream)
    expect(after.status).toBe(401) // the session died with its instance
  })

  it.each(Object.keys(SHARED_STORES))(
    'refuses an access token on every instance soon after logout-everywhere on one (%s)',
    async (kind) => {
      cluster = await startCluster({ instances: 3, env: SHARED_STORES[kind]!() })
      const [a, b, c] = cluster.instances.map((instance) => instance.url) as [string, string, string]
      await fetch(`${a}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: a },
        body: JSON.stringify({ email: 'feed@example.com', password: PASSWORD }),
      })
      const grant = await fetch(`${a}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username: 'feed@example.com', password: PASSWORD }),
      })
      const { access_token: accessToken } = (await grant.json()) as { access_token: string }
      const me = (base: string) =>
        fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })
      for (const base of [a, b, c]) expect((await me(base)).status).toBe(200)

      const logout = await fetch(`${a}/auth/logout-everywhere`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      })
      expect(logout.status).toBe(204)
      expect((await me(a)).status).toBe(401)
      // B and C learn it from the change feed; their token checks do no I/O.
      await vi.waitFor(async () => expect((await me(b)).status).toBe(401), { timeout: 2000, interval: 5 })
      await vi.waitFor(async () => expect((await me(c)).status).toBe(401), { timeout: 2000, interval: 5 })
    },
  )
})
