import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

describe('POST /auth/signup', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  function signUp(body: unknown, contentType = 'application/json') {
    return server.app.inject({
      method: 'POST',
      url: '/auth/signup',
      headers: { ...SAME_ORIGIN, 'content-type': contentType },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  it('creates an account with a normalised email and never returns the password or its hash', async () => {
    const response = await signUp({ email: '  Ann.Lee@Example.COM ', password: 'correct horse battery' })
    expect(response.statusCode).toBe(201)
    expect(response.headers['cache-control']).toBe('no-store')
    const body = response.json<{ user: { id: string; email: string } }>()
    expect(body).toEqual({
      user: {
        id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        email: 'ann.lee@example.com',
        email_verified: false,
      },
    })
    expect(response.body).not.toContain('correct horse')
    expect(response.body).not.toContain('argon2')
    const stored = await server.store.findUserByEmail('ann.lee@example.com')
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  })

  it('never lets a sign-up choose its roles, whatever the caller passes along', async () => {
    const input = { email: 'climber@example.com', password: 'a long passphrase', roles: ['admin'] }
    const user = await server.auth.signUp(input)
    expect(user.roles).toEqual([])
    expect((await server.store.findUserByEmail('climber@example.com'))?.roles).toEqual([])
  })

  it('accepts a form body', async () => {
    const response = await signUp(
      'email=form%40example.com&password=long+enough+pw',
      'application/x-www-form-urlencoded',
    )
    expect(response.statusCode).toBe(201)
    expect(response.json()).toMatchObject({ user: { email: 'form@example.com' } })
  })

  it('answers 409 email_taken for an email already registered in another case', async () => {
    expect((await signUp({ email: 'taken@example.com', password: 'password-one' })).statusCode).toBe(201)
    const response = await signUp({ email: 'TAKEN@example.com', password: 'password-two' })
    expect(response.statusCode).toBe(409)
    expect(response.json()).toEqual({
      error: 'email_taken',
      error_description: 'An account with this email already exists.',
    })
  })

  it.each([
    [
      { email: 'not-an-email', password: 'pass-word-1234' },
      'The "email" field is not a valid email address.',
    ],
    [{ email: 'a@b', password: 'pass-word-1234' }, 'The "email" field is not a valid email address.'],
    [
      { email: 'short@example.com', password: '1234567' },
      'The "password" field must be at least 8 characters.',
    ],
    [
      { email: 'long@example.com', password: 'x'.repeat(257) },
      'The "password" field must be at most 256 characters.',
    ],
    [{ email: 'missing@example.com' }, 'The "password" field is required.'],
    [{ password: 'pass-word-1234' }, 'The "email" field is required.'],
    [{ email: ['a@example.com'], password: 'pass-word-1234' }, 'The "email" field must be a single string.'],
    [{ email: 'num@example.com', password: 12345678 }, 'The "password" field must be a single string.'],
    [['email', 'password'], 'The request body must be a JSON object or a form.'],
  ])('refuses %j with 400 invalid_request and creates nothing', async (body, description) => {
    const response = await signUp(body)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ error: 'invalid_request', error_description: description })
    const email = (body as { email?: unknown }).email
    if (typeof email === 'string') expect(await server.store.findUserByEmail(email)).toBeNull()
  })

  it.each([
    ['fullwidth letters', 'victim@example.com', '\uff56ictim@example.com'],
    ['a ligature, upper-cased', 'office@example.com', 'O\ufb03CE@EXAMPLE.COM'],
    ['ß against ss', 'strasse@example.de', 'Stra\u00dfe@example.de'],
  ])(
    'answers 409 email_taken for a look-alike (%s) of a registered email, which signs in to that account',
    async (_label, email, lookalike) => {
      const created = await signUp({ email, password: 'password-one' })
      expect(created.statusCode).toBe(201)
      const response = await signUp({ email: lookalike, password: 'password-two' })
      expect(response.statusCode).toBe(409)
      expect(response.json()).toEqual({
        error: 'email_taken',
        error_description: 'An account with this email already exists.',
      })
      const signIn = await server.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        payload: { email: lookalike, password: 'password-one' },
      })
      expect(signIn.statusCode).toBe(200)
      expect(signIn.json()).toMatchObject({ user: created.json<{ user: object }>().user })
    },
  )

  it.each([
    ['a zero-width space', 'zero\u200bwidth@example.com'],
    ['a right-to-left isolate', 'ann\u2067@example.com'],
    ['a private-use character', 'ann\ue000@example.com'],
  ])(
    'refuses an email with %s: 400 invalid_request naming the field, and creates nothing',
    async (_label, email) => {
      const response = await signUp({ email, password: 'pass-word-1234' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({
        error: 'invalid_request',
        error_description: 'The "email" field contains an invisible, private-use or unassigned character.',
      })
      expect(await server.store.findUserByEmail(email)).toBeNull()
    },
  )

  it('accepts a 256-character passphrase unchanged, and it signs in (no truncation)', async () => {
    const password = 'p'.repeat(255) + 'q'
    expect((await signUp({ email: 'max@example.com', password })).statusCode).toBe(201)
    const wrongLastChar = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'max@example.com', password: 'p'.repeat(256) },
    })
    expect(wrongLastChar.statusCode).toBe(401)
    const right = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'max@example.com', password },
    })
    expect(right.statusCode).toBe(200)
  })
})
