/**
 * The passkey routes' refusals through the real server (the ceremonies themselves run in Chromium with its
 * virtual authenticator: test/browser/passkeys.test.ts): who may register, what a request must hold, and a
 * ceremony that is not one of this server's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { SAME_ORIGIN, cookiePair, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'passkey api passphrase'

describe('passkey routes', () => {
  let server: TestServer
  let clock: ManualClock
  let cookie: string

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({ clock })
    await server.auth.signUp({ email: 'keys@example.com', password: PASSWORD })
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'keys@example.com', password: PASSWORD },
    })
    cookie = cookiePair(signIn.headers['set-cookie'])
  })

  afterEach(async () => {
    await server?.close()
  })

  const post = (url: string, payload: object, headers: Record<string, string> = { cookie }) =>
    server.app.inject({ method: 'POST', url, headers: { ...SAME_ORIGIN, ...headers }, payload })

  it('gives registration options to a fresh cookie session, naming the user and requiring verification', async () => {
    const answer = await post('/auth/passkeys/options', {})
    expect(answer.statusCode).toBe(200)
    expect(answer.headers['cache-control']).toBe('no-store')
    const { options, ceremony } = answer.json<{ options: Record<string, unknown>; ceremony: string }>()
    expect(typeof ceremony).toBe('string')
    expect(options).toMatchObject({
      rp: { id: 'localhost' },
      user: { name: 'keys@example.com' },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    })
  })

  it('refuses registration without a session, from an old one, and with an access token', async () => {
    expect((await post('/auth/passkeys/options', {}, {})).statusCode).toBe(401)
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: 'keys@example.com', password: PASSWORD },
    })
    const bearer = { authorization: `Bearer ${grant.json<{ access_token: string }>().access_token}` }
    const byToken = await post('/auth/passkeys/options', {}, bearer)
    expect(byToken.statusCode).toBe(401)
    expect(byToken.json()).toMatchObject({ error: 'step_up_required' })
    clock.advance(901)
    const old = await post('/auth/passkeys/options', {})
    expect(old.statusCode).toBe(401)
    expect(old.json()).toMatchObject({ error: 'step_up_required' })
  })

  it('refuses an answer that is not one, and a ceremony this server did not seal', async () => {
    for (const payload of [
      {},
      { ceremony: 'x' },
      { ceremony: 'x', response: 'not an object' },
      { ceremony: 'x', response: [] },
      { ceremony: 'x', response: {}, name: '' },
      { ceremony: 'x', response: {}, name: 'a\u0007b' },
    ]) {
      const refused = await post('/auth/passkeys', payload)
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400)
      expect(refused.json()).toMatchObject({ error: 'invalid_request' })
    }
    const forged = await post('/auth/passkeys', { ceremony: 'x.y.z.w.v', response: {} })
    expect(forged.statusCode).toBe(401)
    expect(forged.json()).toMatchObject({ error: 'invalid_passkey' })
    const signIn = await post(
      '/auth/session/passkey',
      { ceremony: 'x.y.z.w.v', response: { id: 'A'.repeat(22) } },
      {},
    )
    expect(signIn.statusCode).toBe(401)
    expect(signIn.json()).toMatchObject({ error: 'invalid_passkey' })
  })

  it('refuses an answer to a real ceremony that names no usable user or passkey, never with a 500', async () => {
    for (const handle of ['\u0000x', 'é', 'no-such-user']) {
      const begun = await post('/auth/session/passkey/options', {}, {})
      const { ceremony } = begun.json<{ ceremony: string }>()
      const answer = await post(
        '/auth/session/passkey',
        {
          ceremony,
          response: {
            id: 'A'.repeat(22),
            rawId: 'A'.repeat(22),
            type: 'public-key',
            response: { userHandle: Buffer.from(handle).toString('base64url') },
          },
        },
        {},
      )
      expect(answer.statusCode, handle).toBe(401)
      expect(answer.json()).toMatchObject({ error: 'invalid_passkey' })
    }
  })

  it('asks an account with an app for a sign-in with it before adding or removing a passkey', async () => {
    const user = (await server.store.findUserByEmail('keys@example.com'))!
    const enrolment = await server.auth.secondFactors.beginTotp(user)
    const key = parseTotpKey(enrolment.secret)!
    await server.auth.secondFactors.confirmTotp(
      user.id,
      enrolment.enrolment,
      totpCode(key, totpStep(clock.nowSeconds())),
    )
    // This session signed in with the password alone, before the app.
    for (const refused of [
      await post('/auth/passkeys/options', {}),
      await server.app.inject({
        method: 'DELETE',
        url: '/auth/passkeys/any',
        headers: { ...SAME_ORIGIN, cookie },
      }),
    ]) {
      expect(refused.statusCode).toBe(401)
      expect(refused.json()).toMatchObject({ error: 'step_up_required' })
    }
  })

  it('answers 404 for removing a passkey the account does not have', async () => {
    const missing = await server.app.inject({
      method: 'DELETE',
      url: '/auth/passkeys/no-such-id',
      headers: { ...SAME_ORIGIN, cookie },
    })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ error: 'not_found' })
  })

  it('answers the passkey second step only for a pending sign-in', async () => {
    const refused = await post('/auth/session/second-factor/passkey/options', {}, {})
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toMatchObject({ error: 'invalid_second_factor' })
  })
})
