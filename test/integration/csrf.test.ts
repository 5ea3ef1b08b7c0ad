import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/server.js'

describe('CSRF defence on state-changing requests', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
    await server.auth.signUp({ email: 'csrf@example.com', password: 'pass-word-1234' })
  })
  afterAll(() => server.close())

  function logIn(headers: Record<string, string>) {
    return server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: { host: 'sesame.example', ...headers },
      payload: { email: 'csrf@example.com', password: 'pass-word-1234' },
    })
  }

  it.each([
    ['a same-origin Origin', { origin: 'https://sesame.example' }],
    ['an explicit default port', { origin: 'https://sesame.example:443' }],
    ['Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin', origin: 'https://sesame.example' }],
  ])('accepts sign-in with %s', async (_name, headers) => {
    expect((await logIn(headers)).statusCode).toBe(200)
  })

  it.each([
    ['another origin', { origin: 'https://evil.example' }, 'Cross-origin requests may not change state.'],
    [
      'a look-alike suffix',
      { origin: 'https://sesame.example.evil.example' },
      'Cross-origin requests may not change state.',
    ],
    [
      'another port',
      { origin: 'https://sesame.example:8443' },
      'Cross-origin requests may not change state.',
    ],
    ['Origin: null', { origin: 'null' }, 'Cross-origin requests may not change state.'],
    [
      'Sec-Fetch-Site cross-site',
      { 'sec-fetch-site': 'cross-site' },
      'Cross-origin requests may not change state.',
    ],
    [
      'Sec-Fetch-Site same-site',
      { 'sec-fetch-site': 'same-site' },
      'Cross-origin requests may not change state.',
    ],
  ])(
    'refuses sign-in (login CSRF) from %s with 403 csrf_rejected and no cookie',
    async (_name, headers, message) => {
      const response = await logIn(headers)
      expect(response.statusCode).toBe(403)
      expect(response.json()).toEqual({ error: 'csrf_rejected', error_description: message })
      expect(response.headers['set-cookie']).toBeUndefined()
    },
  )

  it('refuses a state change that shows no origin at all (only non-browser clients omit it; they use bearer tokens)', async () => {
    const response = await logIn({})
    expect(response.statusCode).toBe(403)
    expect(response.json()).toEqual({
      error: 'csrf_rejected',
      error_description: 'The request does not show it comes from this site (no "Origin").',
    })
  })

  it('accepts an origin listed in SESAME_TRUSTED_ORIGINS', async () => {
    const trusting = await startTestServer({ env: { SESAME_TRUSTED_ORIGINS: 'https://app.example' } })
    await trusting.auth.signUp({ email: 'csrf@example.com', password: 'pass-word-1234' })
    const response = await trusting.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: { host: 'sesame.example', origin: 'https://app.example', 'sec-fetch-site': 'same-site' },
      payload: { email: 'csrf@example.com', password: 'pass-word-1234' },
    })
    expect(response.statusCode).toBe(200)
    await trusting.close()
  })

  it('refuses a cross-origin sign-out and keeps the session', async () => {
    const login = await logIn({ origin: 'https://sesame.example' })
    const cookie = (login.headers['set-cookie'] as string[])[0]!.split(';')[0]!
    const response = await server.app.inject({
      method: 'DELETE',
      url: '/auth/session',
      headers: { host: 'sesame.example', origin: 'https://evil.example', cookie },
    })
    expect(response.statusCode).toBe(403)
    const me = await server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { host: 'sesame.example', cookie },
    })
    expect(me.statusCode).toBe(200)
  })
})
