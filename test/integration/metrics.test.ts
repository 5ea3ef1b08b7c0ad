/**
 * `/metrics` on a server over real Redis (so the session cache and its change feed are on), scraped and read
 * with a Prometheus text-format parser: each counter moves for the outcomes it counts, route labels are
 * templates whatever the client sent, a scrape without the token is refused, the loopback listener needs none,
 * and with neither setting there is no `/metrics` at all.
 */
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, type SesameServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { type Scrape, readScrape } from '../helpers/prometheus.js'
import { makeTempDir } from '../helpers/server.js'
import { REDIS_URL, deletePrefixes, freshPrefix } from '../helpers/shared-stores.js'

const ISSUER = 'http://localhost:3995'
const PAGE = { origin: ISSUER, host: 'localhost:3995' }
const TOKEN = 'a-metrics-token-of-at-least-32-characters'
const PASSWORD = 'metrics passphrase 1'

describe('metrics', () => {
  const prefix = freshPrefix('metrics')
  let server: SesameServer

  beforeAll(async () => {
    server = await buildServer({
      config: loadConfig({
        SESAME_STORE: 'redis',
        REDIS_URL,
        SESAME_REDIS_PREFIX: prefix,
        SESAME_DATA_DIR: makeTempDir('sesame-metrics-'),
        SESAME_ISSUER: ISSUER,
        SESAME_COOKIE_NAME: 'sesame',
        SESAME_COOKIE_SECURE: 'false',
        SESAME_METRICS_TOKEN: TOKEN,
        SESAME_METRICS_PORT: '0',
        SESAME_LOGIN_FAILURES_PER_IP: '10',
        SESAME_LOG_LEVEL: 'silent',
      }),
      sleep: async () => {},
    })
    await server.app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await server.app.close()
    await deletePrefixes([prefix])
  })

  const post = (url: string, payload: object, headers: Record<string, string> = PAGE) =>
    server.app.inject({ method: 'POST', url, headers, payload })

  async function scrape(): Promise<Scrape> {
    const response = await server.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    return readScrape(response.body)
  }

  it('refuses a scrape without the token, or with another', async () => {
    for (const authorization of [
      undefined,
      'Bearer not-the-metrics-token-but-as-long-as-it',
      `Basic ${TOKEN}`,
    ]) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ error: 'invalid_token' })
      expect(response.body).not.toContain('sesame_')
    }
  })

  it('counts each outcome of sign-ups, sign-ins, refreshes, revocations and the throttle', async () => {
    const before = await scrape()
    const count = (scraped: Scrape, event: string, outcome: string, error = '') =>
      scraped.value('sesame_auth_events_total', { event, outcome, error })

    expect(
      (await post('/auth/signup', { email: 'counted@example.test', password: PASSWORD })).statusCode,
    ).toBe(201)
    expect(
      (await post('/auth/signup', { email: 'counted@example.test', password: PASSWORD })).statusCode,
    ).toBe(409)
    expect(
      (await post('/auth/session', { email: 'counted@example.test', password: 'wrong 1' })).statusCode,
    ).toBe(401)
    const signIn = await post('/auth/session', { email: 'counted@example.test', password: PASSWORD })
    expect(signIn.statusCode).toBe(200)
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!
    // Cookie reads: the first fills the session cache, the next ones are served from it.
    for (let i = 0; i < 3; i++) {
      expect(
        (await server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode,
      ).toBe(200)
    }

    const grant = await post(
      '/auth/token',
      { grant_type: 'password', username: 'counted@example.test', password: PASSWORD },
      {},
    )
    expect(grant.statusCode).toBe(200)
    const first = grant.json<{ refresh_token: string }>().refresh_token
    const rotate = async (token: string) => {
      const response = await post('/auth/token', { grant_type: 'refresh_token', refresh_token: token }, {})
      expect(response.statusCode).toBe(200)
      return response.json<{ refresh_token: string }>().refresh_token
    }
    const third = await rotate(await rotate(first))
    // The first token again, two rotations later: reuse, and the family dies.
    expect(
      (await post('/auth/token', { grant_type: 'refresh_token', refresh_token: first }, {})).statusCode,
    ).toBe(400)
    expect(
      (await post('/auth/token', { grant_type: 'refresh_token', refresh_token: third }, {})).statusCode,
    ).toBe(400)
    expect((await post('/auth/revoke', { token: 'an-unknown-token' }, {})).statusCode).toBe(200)
    expect(
      (await server.app.inject({ method: 'DELETE', url: '/auth/session', headers: { ...PAGE, cookie } }))
        .statusCode,
    ).toBe(204)

    // Failed sign-ins from another address past SESAME_LOGIN_FAILURES_PER_IP (10): the throttle refuses.
    let throttledStatus = 0
    for (let i = 0; i < 12; i++) {
      throttledStatus = (
        await server.app.inject({
          method: 'POST',
          url: '/auth/session',
          headers: PAGE,
          remoteAddress: '10.0.0.7',
          payload: { email: `nobody${i}@example.test`, password: 'wrong 2' },
        })
      ).statusCode
    }
    expect(throttledStatus).toBe(429)

    const after = await scrape()
    const moved = (event: string, outcome: string, error = '') =>
      count(after, event, outcome, error) - count(before, event, outcome, error)
    expect(moved('sign_up', 'success')).toBe(1)
    expect(moved('sign_up', 'failure', 'email_taken')).toBe(1)
    expect(moved('sign_in', 'success')).toBe(2) // the cookie sign-in and the password grant
    expect(moved('sign_in', 'failure', 'invalid_credentials')).toBeGreaterThanOrEqual(3)
    expect(moved('sign_in', 'failure', 'rate_limited')).toBeGreaterThanOrEqual(1)
    expect(moved('refresh', 'success')).toBe(2)
    expect(moved('refresh', 'failure', 'invalid_grant')).toBe(2)
    expect(moved('refresh_reuse_detected', 'success')).toBe(1)
    expect(moved('token_revocation', 'success')).toBe(1)
    expect(moved('sign_out', 'success')).toBe(1)
    expect(
      after.value('sesame_throttle_refusals_total', { event: 'sign_in' }) -
        before.value('sesame_throttle_refusals_total', { event: 'sign_in' }),
    ).toBeGreaterThanOrEqual(1)

    // The session cache served the repeated cookie reads, and the store's reads were timed.
    expect(
      after.value('sesame_session_cache_hits_total') - before.value('sesame_session_cache_hits_total'),
    ).toBeGreaterThanOrEqual(2)
    expect(after.value('sesame_session_cache_misses_total')).toBeGreaterThanOrEqual(1)
    expect(after.value('sesame_session_cache_evictions_total')).toBeGreaterThanOrEqual(1) // the sign-out
    // The feed is up and caught up: the cache is trusted, nothing is behind, and it never had to reconnect.
    expect(after.value('sesame_session_cache_trusted')).toBe(1)
    expect(after.value('sesame_change_feed_lag_notices')).toBe(0)
    expect(after.value('sesame_change_feed_restarts_total')).toBe(0)
    expect(
      after.value('sesame_store_operation_duration_seconds_count', {
        store: 'redis',
        operation: 'findSessionWithUser',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      after.families.find((family) => family.name === 'sesame_store_operation_duration_seconds')?.type,
    ).toBe('HISTOGRAM')
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0)
  })

  it('labels requests by route template, never by what the client put in the path', async () => {
    const cookie = String(
      (
        await post(
          '/auth/session',
          { email: 'counted@example.test', password: PASSWORD },
          { ...PAGE, 'x-forwarded-for': '10.9.9.9' },
        )
      ).headers['set-cookie'],
    ).split(';')[0]!
    const secretLooking = 'a-device-id-only-this-test-uses'
    await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${secretLooking}`,
      headers: { ...PAGE, cookie },
    })
    await server.app.inject({ method: 'GET', url: '/no/such/path/counted@example.test' })
    const text = (
      await server.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).body
    const families = readScrape(text)
    expect(
      families.value('sesame_http_requests_total', {
        method: 'DELETE',
        route: '/auth/sessions/:id',
        status: '404',
      }),
    ).toBe(1)
    expect(
      families.value('sesame_http_requests_total', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      families.value('sesame_http_request_duration_seconds_count', { method: 'GET', route: '/auth/me' }),
    ).toBeGreaterThanOrEqual(3)
    expect(text).not.toContain(secretLooking)
    expect(text).not.toContain('@example.test')
    expect(text).not.toContain('/no/such/path')
  })

  it('serves the loopback listener without a token', async () => {
    const port = server.metricsPort()
    expect(port).toBeGreaterThan(0)
    const response = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(response.status).toBe(200)
    expect(readScrape(await response.text()).value('sesame_http_requests_total')).toBeGreaterThan(0)
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    // Bound to loopback only: this machine's other addresses do not answer on that port.
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)
    if (outside) {
      await expect(fetch(`http://${outside.address}:${port}/metrics`)).rejects.toThrow()
    }
  })

  it('keeps the main port without /metrics when only the loopback listener is asked for', async () => {
    const local = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_METRICS_PORT: '0' }),
      logger: false,
    })
    try {
      await local.app.ready()
      expect(local.metricsPort()).toBeGreaterThan(0)
      const response = await local.app.inject({ method: 'GET', url: '/metrics' })
      expect(response.statusCode).toBe(404)
    } finally {
      await local.app.close()
    }
  })

  it('fails the start when the metrics port cannot be bound', async () => {
    const taken = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_METRICS_PORT: String(server.metricsPort()) }),
      logger: false,
    })
    try {
      await expect(taken.app.ready()).rejects.toThrow(/EADDRINUSE/)
    } finally {
      await taken.app.close().catch(() => {})
    }
  })

  it('has no /metrics and measures nothing when neither setting is given', async () => {
    const plain = await buildServer({ config: loadConfig({ SESAME_STORE: 'memory' }), logger: false })
    try {
      expect(plain.metrics).toBeNull()
      const response = await plain.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(response.statusCode).toBe(404)
    } finally {
      await plain.app.close()
    }
  })
})
