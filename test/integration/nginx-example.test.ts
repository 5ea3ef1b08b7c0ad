/**
 * The shipped nginx configuration (`examples/nginx/sesame.conf`), run as it is but for the lines it marks
 * CHANGE (addresses, names, certificate), in front of two real instances on Redis: TLS ends at nginx, a client
 * cannot choose the address Sesame throttles by, plain HTTP redirects, the revocation feed streams through,
 * and `/metrics` is not reachable from outside.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NGINX, nginxMainConfig } from '../helpers/cluster.js'
import { auditLinesIn } from '../helpers/audit.js'
import { readScrape } from '../helpers/prometheus.js'
import { freePort, startServerProcess, type ServerProcess } from '../helpers/process.js'
import { REDIS_URL, deletePrefixes, freshPrefix } from '../helpers/shared-stores.js'

const EXAMPLE = resolve(import.meta.dirname, '../../examples/nginx/sesame.conf')
const PASSWORD = 'behind the proxy 7'
const METRICS_TOKEN = 'metrics-token-for-the-nginx-example-test-0123'
const FEED_TOKEN = 'feed-token-for-the-nginx-example-test-0123456'
const CLIENT_ADDRESS = '127.0.0.2'

/** `text` with `from` replaced by `to`; throws when `from` is not there (the example changed: adapt the test). */
function replaceExactly(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`examples/nginx/sesame.conf no longer contains: ${from}`)
  return text.split(from).join(to)
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

describe('examples/nginx/sesame.conf in front of two instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-nginx-example-'))
  const prefix = freshPrefix('nginx')
  let instances: ServerProcess[] = []
  let nginx: ReturnType<typeof spawn> | undefined
  let httpsPort = 0
  let httpPort = 0
  let origin = ''
  let ca: Buffer

  /** A request to nginx over TLS, trusting only the test's own certificate. */
  function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: unknown; firstChunk?: boolean; from?: string } = {},
  ): Promise<Answer> {
    return new Promise((done, fail) => {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body)
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: httpsPort,
          // Another loopback address than nginx's own, which it uses to reach the instances: Sesame recording
          // this one shows the client address came through X-Forwarded-For.
          localAddress: options.from ?? CLIENT_ADDRESS,
          servername: 'localhost',
          method,
          path,
          ca,
          headers: {
            host: `localhost:${httpsPort}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
            ...options.headers,
          },
        },
        (response) => {
          let text = ''
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString()
            // A stream that never ends: the first event is enough.
            if (options.firstChunk) {
              response.destroy()
              done({ status: response.statusCode!, headers: response.headers, body: text })
            }
          })
          response.on('end', () =>
            done({ status: response.statusCode!, headers: response.headers, body: text }),
          )
        },
      )
      req.on('error', fail)
      req.end(body)
    })
  }

  beforeAll(async () => {
    httpsPort = await freePort()
    httpPort = await freePort()
    origin = `https://localhost:${httpsPort}`
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ])
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`)
    ca = readFileSync(join(dir, 'cert.pem'))

    const env = {
      SESAME_ISSUER: origin,
      SESAME_TRUST_PROXY: 'true',
      SESAME_STORE: 'redis',
      REDIS_URL,
      SESAME_REDIS_PREFIX: prefix,
      SESAME_METRICS_TOKEN: METRICS_TOKEN,
      SESAME_REVOCATION_FEED_TOKEN: FEED_TOKEN,
      SESAME_LOG_LEVEL: 'warn',
      SESAME_LOGIN_FAILURES_PER_IP: '3',
    }
    instances = [await startServerProcess(env), await startServerProcess(env)]

    let site = readFileSync(EXAMPLE, 'utf8')
    site = replaceExactly(
      site,
      '    server 127.0.0.1:3001 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:3002 max_fails=1 fail_timeout=10s;\n',
      instances
        .map((instance) => `    server ${new URL(instance.url).host} max_fails=1 fail_timeout=10s;\n`)
        .join(''),
    )
    site = replaceExactly(site, 'listen 80;', `listen 127.0.0.1:${httpPort};`)
    site = replaceExactly(site, 'listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`)
    site = replaceExactly(site, 'server_name auth.example.com;', 'server_name localhost;')
    site = replaceExactly(site, '/etc/ssl/certs/auth.example.com.pem', join(dir, 'cert.pem'))
    site = replaceExactly(site, '/etc/ssl/private/auth.example.com.key', join(dir, 'key.pem'))
    writeFileSync(join(dir, 'sesame.conf'), site)
    writeFileSync(join(dir, 'nginx.conf'), nginxMainConfig(dir, `  include ${dir}/sesame.conf;`))
    const started = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    nginx = started
    let errors = ''
    started.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await send('GET', '/healthz')).status === 200) break
      } catch {
        // not listening yet
      }
      if (attempt > 100 || started.exitCode !== null) throw new Error(`nginx did not start: ${errors}`)
      await new Promise((done) => setTimeout(done, 50))
    }
  })

  afterAll(async () => {
    nginx?.kill('SIGTERM')
    for (const instance of instances) instance.child.kill('SIGTERM')
    await Promise.all(instances.map((instance) => instance.exited))
    await deletePrefixes([prefix])
    rmSync(dir, { recursive: true, force: true })
  })

  it('signs a browser in over TLS, and records the address nginx saw, not one the client wrote', async () => {
    const page = { origin }
    const signUp = await send('POST', '/auth/signup', {
      headers: page,
      body: { email: 'proxy@example.com', password: PASSWORD },
    })
    expect(signUp.status).toBe(201)
    // A client that writes its own X-Forwarded-For: the example overwrites it with the address nginx saw.
    const signIn = await send('POST', '/auth/session', {
      headers: {
        ...page,
        'x-forwarded-for': '203.0.113.9',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      },
      body: { email: 'proxy@example.com', password: PASSWORD },
    })
    expect(signIn.status).toBe(200)
    const setCookie = [signIn.headers['set-cookie']].flat()[0]!
    // SESAME_ISSUER is https, so the cookie is Secure with the __Host- prefix: a browser keeps it because it
    // talks TLS to nginx, though the instances themselves serve plain HTTP.
    expect(setCookie).toMatch(/^__Host-/)
    expect(setCookie).toContain('Secure')
    const cookie = setCookie.split(';')[0]!

    const devices = await send('GET', '/auth/sessions', { headers: { cookie } })
    expect(devices.status).toBe(200)
    const listed = JSON.parse(devices.body) as { sessions: { ip: string | null }[] }
    expect(listed.sessions.map((device) => device.ip)).toEqual([CLIENT_ADDRESS])

    // The audit line of the sign-in, in whichever instance took it, names the same address.
    const audits = instances.flatMap((instance) =>
      instance
        .output()
        .split('\n')
        .filter((line) => line.includes('"audit":"sign_in"')),
    )
    const [line] = auditLinesIn(audits.join('\n'))
    expect(line).toMatchObject({
      audit: 'sign_in',
      outcome: 'success',
      ip: CLIENT_ADDRESS,
      userAgent: 'Firefox on Linux',
    })
    expect(audits.join('\n')).not.toContain('203.0.113.9')

    // Any instance serves the session: each answered some of these (their own metrics say so).
    for (let i = 0; i < 8; i++)
      expect((await send('GET', '/auth/me', { headers: { cookie } })).status).toBe(200)
    for (const instance of instances) {
      const scraped = await fetch(`${instance.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
      expect(
        readScrape(await scraped.text()).value('sesame_http_requests_total', {
          route: '/auth/me',
          status: '200',
        }),
      ).toBeGreaterThan(0)
    }
  })

  it('throttles failed sign-ins by the address nginx saw, whatever X-Forwarded-For the client sends', async () => {
    const attempt = (from: string, claimed: string) =>
      send('POST', '/auth/session', {
        from,
        headers: { origin, 'x-forwarded-for': claimed },
        body: { email: 'nobody@example.com', password: 'a wrong password' },
      })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await attempt('127.0.0.3', `198.51.100.${i}`)).status)
    // SESAME_LOGIN_FAILURES_PER_IP=3, counted in Redis for both instances: a new claimed address each time
    // does not help.
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401])
    expect(statuses.slice(3)).toEqual([429, 429])
    // Another client address is not held back.
    expect((await attempt('127.0.0.4', '198.51.100.0')).status).toBe(401)
  })

  it('redirects plain HTTP to HTTPS', async () => {
    const answer = await fetch(`http://127.0.0.1:${httpPort}/login?x=1`, { redirect: 'manual' })
    expect(answer.status).toBe(301)
    expect(answer.headers.get('location')).toBe('https://127.0.0.1/login?x=1')
  })

  it('keeps /metrics inside, even for a holder of the token', async () => {
    const answer = await send('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(answer.status).toBe(404)
    expect(answer.body).not.toContain('sesame_')
  })

  it('passes the revocation feed through as a stream', async () => {
    const answer = await send('GET', '/auth/revocations', {
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
      firstChunk: true,
    })
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toMatch(/^text\/event-stream/)
    expect(answer.body).toContain('event: snapshot')
  })
})
