/**
 * CORS on the standalone server (src/http/cors.ts): public documents are readable by any page; `/auth/*` by
 * pages on SESAME_TRUSTED_ORIGINS only, with credentials; everything else, and every other origin, gets no
 * CORS header at all. The browser's side of it runs in test/browser/cors.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/server.js'

const TRUSTED = 'http://app.example.test:5173'
const STRANGER = 'http://evil.example.test'
const EMAIL = 'cors@example.com'
const PASSWORD = 'cross origin phrase'
const HOST = { host: 'sesame.example.test' }

function corsHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')))
}

describe('CORS', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        SESAME_STORE: 'memory',
        SESAME_TRUSTED_ORIGINS: TRUSTED,
        SESAME_REVOCATION_FEED_TOKEN: 'f'.repeat(32),
      },
    })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  })
  afterAll(() => server.close())

  const preflight = (url: string, origin: string, method = 'POST', headers = 'content-type') =>
    server.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        ...HOST,
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': headers,
      },
    })

  describe('public documents', () => {
    it.each(['/.well-known/jwks.json', '/.well-known/oauth-authorization-server'])(
      '%s answers any origin with *, and never with credentials',
      async (url) => {
        const response = await server.app.inject({
          method: 'GET',
          url,
          headers: { ...HOST, origin: STRANGER },
        })
        expect(response.statusCode).toBe(200)
        expect(corsHeaders(response.headers)).toEqual({ 'access-control-allow-origin': '*' })
      },
    )

    it('a preflight of a public document is answered for any origin', async () => {
      const response = await preflight('/.well-known/jwks.json', STRANGER, 'GET', 'authorization')
      expect(response.statusCode).toBe(204)
      expect(response.headers['access-control-allow-origin']).toBe('*')
      expect(response.headers['access-control-allow-credentials']).toBeUndefined()
      expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS')
    })
  })

  describe('a trusted origin on /auth/*', () => {
    it.each([
      ['/auth/token', 'POST', 'POST, OPTIONS'],
      ['/auth/session', 'DELETE', 'POST, DELETE, OPTIONS'],
      ['/auth/me', 'GET', 'GET, HEAD, OPTIONS'],
      ['/auth/sessions/:id', 'DELETE', 'DELETE, OPTIONS'],
    ])(
      'a preflight of %s (%s) is answered 204 with the exact origin, the methods and a max-age',
      async (url, method, methods) => {
        const response = await preflight(
          url.replace(':id', 'abc'),
          TRUSTED,
          method,
          'authorization, content-type',
        )
        expect(response.statusCode).toBe(204)
        expect(response.body).toBe('')
        expect(corsHeaders(response.headers)).toEqual({
          'access-control-allow-origin': TRUSTED,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': methods,
          'access-control-allow-headers': 'Authorization, Content-Type',
          'access-control-max-age': '600',
        })
        expect(response.headers.vary).toBe('Origin')
      },
    )

    it('the token grant answers with the echoed origin, credentials and Vary: Origin', async () => {
      const response = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...HOST, origin: TRUSTED },
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(response.statusCode).toBe(200)
      expect(corsHeaders(response.headers)).toEqual({
        'access-control-allow-origin': TRUSTED,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'WWW-Authenticate, Retry-After',
      })
      expect(response.headers.vary).toBe('Origin')
    })

    it('an error answer carries the headers too, so the page can read its code and its bearer challenge', async () => {
      const response = await server.app.inject({
        method: 'GET',
        url: '/auth/me',
        headers: { ...HOST, origin: TRUSTED },
      })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ error: 'unauthenticated' })
      expect(response.headers['access-control-allow-origin']).toBe(TRUSTED)
      expect(response.headers['access-control-allow-credentials']).toBe('true')
      expect(response.headers['www-authenticate']).toBe('Bearer')
      expect(response.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After')
    })
  })

  describe('an origin not on the list', () => {
    it('gets no CORS header on an answer, and its state change is refused before anything is written', async () => {
      const user = (await server.store.findUserByEmail(EMAIL))!
      const familiesBefore = (await server.store.listUserRefreshFamilies(user.id)).length
      const response = await server.app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...HOST, origin: STRANGER },
        payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
      })
      expect(response.statusCode).toBe(403)
      expect(response.json()).toMatchObject({ error: 'csrf_rejected' })
      expect(corsHeaders(response.headers)).toEqual({})
      expect(await server.store.listUserRefreshFamilies(user.id)).toHaveLength(familiesBefore)
    })

    it('its preflight is refused with 403 origin_not_allowed and no CORS header', async () => {
      const response = await preflight('/auth/token', STRANGER)
      expect(response.statusCode).toBe(403)
      expect(response.json()).toEqual({
        error: 'origin_not_allowed',
        // The token endpoint also admits origins registered by OAuth clients.
        error_description: `The origin "${STRANGER}" is neither in SESAME_TRUSTED_ORIGINS nor registered by a client.`,
      })
      expect(corsHeaders(response.headers)).toEqual({})
    })

    it('a look-alike of the trusted origin is not trusted', async () => {
      for (const origin of [`${TRUSTED}/`, TRUSTED.replace('5173', '5174'), TRUSTED.toUpperCase(), 'null']) {
        const response = await preflight('/auth/token', origin)
        expect(response.statusCode, origin).toBe(403)
        expect(corsHeaders(response.headers), origin).toEqual({})
      }
    })
  })

  describe('routes with no CORS', () => {
    it.each([
      ['/healthz', 'GET'],
      ['/login', 'POST'],
      ['/auth/revocations', 'GET'],
    ])('%s has no preflight route and no CORS header, even for a trusted origin', async (url, method) => {
      const response = await preflight(url, TRUSTED, method)
      expect(response.statusCode).toBe(405) // the path exists, but has no OPTIONS route
      expect(response.headers.allow).not.toContain('OPTIONS')
      expect(corsHeaders(response.headers)).toEqual({})
      const actual = await server.app.inject({ method: 'GET', url, headers: { ...HOST, origin: TRUSTED } })
      expect(corsHeaders(actual.headers)).toEqual({})
    })
  })

  it('a route added later, inside a plugin with a prefix, gets its preflight at its full path', async () => {
    const later = await startTestServer({
      env: { SESAME_STORE: 'memory', SESAME_TRUSTED_ORIGINS: TRUSTED },
      configure: (app) => {
        void app.register(
          async (child) => {
            child.post('/notes', async () => ({ ok: true }))
          },
          { prefix: '/auth/extra' },
        )
      },
    })
    try {
      const response = await later.app.inject({
        method: 'OPTIONS',
        url: '/auth/extra/notes',
        headers: { ...HOST, origin: TRUSTED, 'access-control-request-method': 'POST' },
      })
      expect(response.statusCode).toBe(204)
      expect(response.headers['access-control-allow-methods']).toBe('POST, OPTIONS')
    } finally {
      await later.close()
    }
  })

  it('refuses, at start, routes of one path that disagree on their policy', async () => {
    await expect(
      startTestServer({
        env: { SESAME_STORE: 'memory', SESAME_REVOCATION_FEED_TOKEN: 'f'.repeat(32) },
        configure: (app) => {
          app.post('/auth/revocations', async () => ({}))
        },
      }),
    ).rejects.toThrow('Routes of /auth/revocations disagree on their CORS policy (none, trusted-origins).')
  })

  it('a plain OPTIONS (no Origin) is told what the path allows', async () => {
    const response = await server.app.inject({ method: 'OPTIONS', url: '/auth/session', headers: HOST })
    expect(response.statusCode).toBe(204)
    expect(response.headers.allow).toBe('POST, DELETE, OPTIONS')
    expect(corsHeaders(response.headers)).toEqual({})
  })
})
