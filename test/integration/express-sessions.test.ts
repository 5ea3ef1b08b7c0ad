/**
 * `sesameExpressSessions` in a real Express 5 app over HTTP: a password sign-in, and for an account with an
 * authenticator app the second step (`completeSignIn`), with the pending cookie carried between the two and
 * refusals answered, never thrown.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { sesameExpressSessions } from '../../src/http/express.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { createManualClock } from '../helpers/clock.js'

const PASSWORD = 'express sessions pw'
const clock = createManualClock()
let auth: Auth
let server: Server
let base = ''
let key: Uint8Array

beforeAll(async () => {
  auth = await createAuth({
    store: createMemoryStore(),
    clock,
    cookie: { name: 'sesame', secure: false },
    sleep: async () => {},
  })
  await auth.signUp({ email: 'plain@example.com', password: PASSWORD })
  const user = await auth.signUp({ email: 'app@example.com', password: PASSWORD })
  const enrolment = await auth.secondFactors.beginTotp(user)
  key = parseTotpKey(enrolment.secret)!
  await auth.secondFactors.confirmTotp(
    user.id,
    enrolment.enrolment,
    totpCode(key, totpStep(clock.nowSeconds())),
  )

  const sessions = sesameExpressSessions(auth)
  const app = express()
  app.use(express.json())
  app.post('/login', async (req, res) => {
    const result = await sessions.signIn(req, res, req.body as { email: string; password: string })
    res.status(result.ok ? 200 : result.error.status).json(result)
  })
  app.post('/login/code', async (req, res) => {
    const result = await sessions.completeSignIn(req, res, {
      code: String((req.body as { code: string }).code),
    })
    res.status(result.ok ? 200 : result.error.status).json(result)
  })
  // The proof as the client sent it, unchecked: the adapter must refuse what is not one code.
  app.post('/login/code-raw', async (req, res) => {
    const result = await sessions.completeSignIn(req, res, req.body as never)
    res.status(result.ok ? 200 : result.error.status).json(result)
  })
  server = app.listen(0, '127.0.0.1')
  await new Promise((done) => server.once('listening', done))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((done) => server?.close(done))
})

async function post(path: string, body: object, cookie = '') {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, ...(cookie && { cookie }) },
    body: JSON.stringify(body),
  })
  const cookies = response.headers.getSetCookie().map((header) => header.split(';')[0]!)
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, cookies }
}

describe('sesameExpressSessions', () => {
  it('signs an account without a second factor in at once', async () => {
    const answer = await post('/login', { email: 'plain@example.com', password: PASSWORD })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ ok: true, user: { email: 'plain@example.com' } })
    expect(answer.cookies.some((pair) => pair.startsWith('sesame='))).toBe(true)
  })

  it('stops an account with an app at the code, and finishes the sign-in with one', async () => {
    const first = await post('/login', { email: 'app@example.com', password: PASSWORD })
    // Not signed in yet: `ok` is false, so an app that only looks at `ok` lets nobody in on the password.
    expect(first.body).toMatchObject({
      ok: false,
      secondFactorRequired: { methods: ['totp', 'recovery_code'] },
      error: { status: 401, body: { error: 'second_factor_required' } },
    })
    expect(first.cookies.map((pair) => pair.split('=')[0])).toEqual(['sesame-pending'])
    const pending = first.cookies[0]!

    const wrong = await post('/login/code', { code: 'nope' }, pending)
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ ok: false, error: { body: { error: 'invalid_second_factor' } } })

    const done = await post('/login/code', { code: totpCode(key, totpStep(clock.nowSeconds()) + 1) }, pending)
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ ok: true, user: { email: 'app@example.com' } })
    expect(done.cookies.some((pair) => /^sesame=.+/.test(pair))).toBe(true)
  })

  it('answers a proof that is not one code, never throws', async () => {
    for (const code of [undefined, 123456, ['123456']]) {
      const answer = await post('/login/code-raw', { code })
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({ ok: false, error: { body: { error: 'invalid_request' } } })
    }
  })

  it('refuses a sign-in step from another origin, answered, not thrown', async () => {
    const response = await fetch(`${base}/login/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ code: '123456' }),
    })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ ok: false, error: { body: { error: 'csrf_rejected' } } })
  })
})
