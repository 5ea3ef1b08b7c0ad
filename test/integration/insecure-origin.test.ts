/**
 * Plain HTTP on a host other than localhost: the browser drops the `Secure` session cookie, so a sign-in there
 * cannot stick. The pages say what to set instead of bouncing back to /login with no word, and refuse the sign-up
 * or sign-in before anything is written (src/http/secure-context.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isLoopbackHost } from '../../src/http/secure-context.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const ADVICE = 'This page is served over plain HTTP at 192.0.2.10, so your browser refuses the session cookie'

describe('pages served over plain HTTP on a non-loopback host', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ env: { SESAME_STORE: 'memory' } })
  })
  afterAll(() => server.close())

  it.each(['/login', '/signup'])('GET %s shows what to set', async (url) => {
    const response = await server.app.inject({ method: 'GET', url, headers: { host: '192.0.2.10:3000' } })
    expect(response.statusCode).toBe(200)
    expect(response.body).toContain(ADVICE)
    expect(response.body).toContain('SESAME_COOKIE_SECURE=false with SESAME_COOKIE_NAME=sesame')
  })

  it.each(['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'app.localhost'])(
    'GET /login on %s shows no such error',
    async (host) => {
      const response = await server.app.inject({ method: 'GET', url: '/login', headers: { host } })
      expect(response.statusCode).toBe(200)
      expect(response.body).toContain('<h1>Log in</h1>')
      expect(response.body).not.toContain('served over plain HTTP')
    },
  )

  it.each([
    ['X-Forwarded-Proto', { 'x-forwarded-proto': 'https' }],
    ['Forwarded', { forwarded: 'for=192.0.2.60;proto=https' }],
  ])(
    'GET /login behind a TLS proxy (%s) shows no such error, even with the default http issuer',
    async (_name, proxy) => {
      const response = await server.app.inject({
        method: 'GET',
        url: '/login',
        headers: { host: 'auth.example.com', ...proxy },
      })
      expect(response.statusCode).toBe(200)
      expect(response.body).toContain('<h1>Log in</h1>')
      expect(response.body).not.toContain('served over plain HTTP')
    },
  )

  it('a sign-up posted from http://192.0.2.10 is refused with the advice, and no account is created', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/signup',
      headers: { host: '192.0.2.10:3000', origin: 'http://192.0.2.10:3000' },
      payload: { email: 'plain@example.com', password: 'plain http passphrase' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.body).toContain(ADVICE)
    expect(response.headers['set-cookie']).toBeUndefined()
    expect(await server.store.findUserByEmail('plain@example.com')).toBeNull()
  })

  it('a sign-in posted from http://192.0.2.10 is refused with the advice and sets no cookie', async () => {
    await server.auth.signUp({ email: 'known@example.com', password: 'plain http passphrase' })
    const response = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: { host: '192.0.2.10:3000', origin: 'http://192.0.2.10:3000' },
      payload: { email: 'known@example.com', password: 'plain http passphrase' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.body).toContain(ADVICE)
    expect(response.headers['set-cookie']).toBeUndefined()
  })

  it('the same post over https (a TLS proxy in front) signs in', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: { host: 'auth.example.com', origin: 'https://auth.example.com' },
      payload: { email: 'known@example.com', password: 'plain http passphrase' },
    })
    expect(response.statusCode).toBe(303)
    expect(response.headers.location).toBe('/account')
  })
})

describe('pages with an https issuer', () => {
  it('GET /login on a plain host shows no error: the issuer says a TLS proxy serves it', async () => {
    const server = await startTestServer({
      env: { SESAME_STORE: 'memory', SESAME_ISSUER: 'https://auth.example.com' },
    })
    try {
      const response = await server.app.inject({
        method: 'GET',
        url: '/login',
        headers: { host: 'auth.example.com' },
      })
      expect(response.body).not.toContain('role="alert"')
    } finally {
      await server.close()
    }
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST.', true],
    ['dev.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['10.0.0.1', false],
    ['[::2]', false],
    ['example.com', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })
})
