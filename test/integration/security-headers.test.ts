/** Response headers that defend pages and API answers: CSP, framing, referrer, sniffing, HSTS. */
import { afterEach, describe, expect, it } from 'vitest'
import { SAME_ORIGIN, cookiePair, startTestServer, type TestServer } from '../helpers/server.js'

// `/` only redirects, to /login or /account.
const PAGES = ['/login', '/signup', '/account']

describe('security headers', () => {
  let server: TestServer
  afterEach(() => server.close())

  it('gives every page a CSP without inline script, no framing, a same-origin referrer and nosniff', async () => {
    server = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    await server.auth.signUp({ email: 'reader@example.com', password: 'a long passphrase' })
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'reader@example.com', password: 'a long passphrase' },
    })
    const cookie = cookiePair(signIn.headers['set-cookie'])
    const served = new Set<string>()
    // Signed out and signed in: some pages redirect one way, so each is seen rendered at least once.
    for (const headers of [{}, { cookie }]) {
      for (const url of PAGES) {
        const page = await server.app.inject({ method: 'GET', url, headers })
        expect(page.statusCode, url).toBeLessThan(400)
        if (page.statusCode !== 200) continue
        served.add(url)
        const csp = String(page.headers['content-security-policy'])
        expect(csp, url).toContain("default-src 'none'")
        expect(csp, url).toContain("frame-ancestors 'none'")
        expect(csp, url).not.toMatch(/script-src[^;]*'unsafe-inline'/)
        expect(page.headers['x-frame-options'], url).toBe('DENY')
        expect(page.headers['referrer-policy'], url).toBe('same-origin')
        expect(page.headers['x-content-type-options'], url).toBe('nosniff')
        expect(page.body, url).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i) // no inline script element
      }
    }
    expect([...served].sort()).toEqual([...PAGES].sort())
  })

  it('sends Strict-Transport-Security on pages, API answers and errors when the issuer is https', async () => {
    server = await startTestServer({
      env: { SESAME_STORE: 'memory', SESAME_ISSUER: 'https://auth.example.com' },
    })
    for (const url of ['/login', '/auth/me', '/.well-known/jwks.json', '/no-such-route']) {
      const answer = await server.app.inject({ method: 'GET', url })
      expect(answer.headers['strict-transport-security'], url).toBe('max-age=31536000')
    }
  })

  it('sends no HSTS over a plain-http issuer, where browsers would ignore it', async () => {
    server = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    const answer = await server.app.inject({ method: 'GET', url: '/login' })
    expect(answer.statusCode).toBe(200)
    expect(answer.headers['strict-transport-security']).toBeUndefined()
  })
})
