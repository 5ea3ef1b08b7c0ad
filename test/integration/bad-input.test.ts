/**
 * Every bad input gets the JSON error shape with a stable code: never a 500, never a stack trace, never a
 * partial write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

describe('bad input', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ env: { SESAME_BODY_LIMIT_BYTES: '2048' } })
    await server.auth.signUp({ email: 'kim@example.com', password: 'pass-word-1234' })
  })
  afterAll(() => server.close())

  const cases: Array<{
    name: string
    method: 'GET' | 'POST' | 'DELETE'
    url: string
    headers?: Record<string, string>
    payload?: string | Buffer
    status: number
    body: { error: string; error_description: string }
  }> = [
    {
      name: 'malformed JSON',
      method: 'POST',
      url: '/auth/session',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "kim@example.com", "password": ',
      status: 400,
      body: { error: 'malformed_json', error_description: 'The request body is not valid JSON.' },
    },
    {
      name: 'an empty JSON body',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: '',
      status: 400,
      body: { error: 'malformed_json', error_description: 'The request body is empty.' },
    },
    {
      name: 'a prototype-poisoning JSON body',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"p@example.com","password":"pass-word-1234","__proto__":{"admin":true}}',
      status: 400,
      body: { error: 'malformed_json', error_description: 'The request body is not valid JSON.' },
    },
    {
      name: 'a text/plain body',
      method: 'POST',
      url: '/auth/session',
      headers: { 'content-type': 'text/plain' },
      payload: 'email=kim@example.com',
      status: 415,
      body: {
        error: 'unsupported_media_type',
        error_description: 'The request body has an unsupported content type.',
      },
    },
    {
      name: 'an XML body',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/xml' },
      payload: '<email/>',
      status: 415,
      body: {
        error: 'unsupported_media_type',
        error_description: 'The request body has an unsupported content type.',
      },
    },
    {
      name: 'no body at all',
      method: 'POST',
      url: '/auth/session',
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'The request body must be a JSON object or a form.',
      },
    },
    {
      name: 'a JSON string body',
      method: 'POST',
      url: '/auth/session',
      headers: { 'content-type': 'application/json' },
      payload: '"kim@example.com"',
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'The request body must be a JSON object or a form.',
      },
    },
    {
      name: 'a repeated form field',
      method: 'POST',
      url: '/auth/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=kim%40example.com&email=x%40example.com&password=pass-word-1234',
      status: 400,
      body: { error: 'invalid_request', error_description: 'The "email" field must be a single string.' },
    },
    {
      name: 'an oversized JSON body',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(4096) }),
      status: 413,
      body: { error: 'payload_too_large', error_description: 'The request body is too large.' },
    },
    {
      name: 'an oversized form body',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=big2%40example.com&password=${'x'.repeat(4096)}`,
      status: 413,
      body: { error: 'payload_too_large', error_description: 'The request body is too large.' },
    },
    {
      name: 'a malformed session cookie',
      method: 'GET',
      url: '/auth/me',
      headers: { cookie: '__Host-sesame=not-a-session-id' },
      status: 401,
      body: { error: 'invalid_cookie', error_description: 'The "__Host-sesame" cookie is malformed.' },
    },
    {
      name: 'a duplicated session cookie',
      method: 'GET',
      url: '/auth/me',
      headers: {
        cookie: `__Host-sesame=${'A'.repeat(43)}; theme=dark; __Host-sesame=${'B'.repeat(42)}A`,
      },
      status: 401,
      body: {
        error: 'invalid_cookie',
        error_description: 'The "__Host-sesame" cookie was sent more than once.',
      },
    },
    {
      name: 'a well-formed but unknown session cookie',
      method: 'GET',
      url: '/auth/me',
      headers: { cookie: `__Host-sesame=${'A'.repeat(43)}` },
      status: 401,
      body: { error: 'invalid_session', error_description: 'The session has ended.' },
    },
    {
      name: 'an unknown route',
      method: 'GET',
      url: '/auth/nothing-here?x=1',
      status: 404,
      body: { error: 'not_found', error_description: 'No route for GET /auth/nothing-here.' },
    },
    {
      name: 'a wrong method on a known path',
      method: 'GET',
      url: '/auth/session',
      status: 405,
      body: {
        error: 'method_not_allowed',
        error_description: '/auth/session answers POST, DELETE, OPTIONS, not GET.',
      },
    },
    {
      name: 'a wrong method on a path with a parameter',
      method: 'GET',
      url: '/auth/sessions/some-id',
      status: 405,
      body: {
        error: 'method_not_allowed',
        error_description: '/auth/sessions/some-id answers DELETE, OPTIONS, not GET.',
      },
    },
    {
      name: 'a JSON body that is not UTF-8',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from('{"email":"utf'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('@example.com","password":"pass-word-1234"}'),
      ]),
      status: 400,
      body: { error: 'invalid_request', error_description: 'The request body is not valid UTF-8.' },
    },
    {
      name: 'a form body with an escape that is not UTF-8',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=utf%FF%FE%40example.com&password=pass-word-1234',
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'The form body has an escape that is not valid UTF-8.',
      },
    },
    {
      name: 'a JSON body naming a member twice',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"dup@example.com","password":"pass-word-1234","email":"other@example.com"}',
      status: 400,
      body: { error: 'invalid_request', error_description: 'The JSON body names a member more than once.' },
    },
    {
      name: 'a JSON body naming a nested member twice',
      method: 'POST',
      url: '/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"dup2@example.com","password":"pass-word-1234","x":{"a":1,"a":2}}',
      status: 400,
      body: { error: 'invalid_request', error_description: 'The JSON body names a member more than once.' },
    },
  ]

  it.each(cases)('answers $name with $status and a stable code', async (testCase) => {
    const response = await server.app.inject({
      method: testCase.method,
      url: testCase.url,
      headers: { ...SAME_ORIGIN, ...testCase.headers },
      ...(testCase.payload !== undefined && { payload: testCase.payload }),
    })
    expect(response.statusCode).toBe(testCase.status)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.headers['cache-control']).toBe('no-store')
    if (testCase.status === 405) {
      expect(response.headers.allow).toBe(
        testCase.body.error_description.split(' answers ')[1]!.split(', not')[0],
      )
    }
    expect(response.json()).toEqual(testCase.body)
    expect(response.body).not.toMatch(/at .+\.(ts|js):\d+/) // no stack trace
  })

  it('clears a malformed or unknown session cookie', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { cookie: '__Host-sesame=bad' },
    })
    expect(response.headers['set-cookie']).toEqual([
      expect.stringMatching(/^__Host-sesame=; Path=\/; Max-Age=0;/),
    ])
  })

  it('token endpoint errors are not to be cached (RFC 6749 §5.2)', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: 'kim@example.com', password: 'wrong password here' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers.pragma).toBe('no-cache')
  })

  it('wrote nothing for any refused sign-up', async () => {
    for (const email of [
      'p@example.com',
      'big@example.com',
      'big2@example.com',
      'dup@example.com',
      'other@example.com',
      'dup2@example.com',
    ]) {
      expect(await server.store.findUserByEmail(email)).toBeNull()
    }
  })
})
