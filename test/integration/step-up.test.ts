/**
 * Step-up through the real server: for an account with an authenticator app, changing the password or the
 * email and deleting the account need a cookie session signed in with the app within 15 minutes; a session
 * signed in with the password alone (before the app was set up) or one signed in long ago is refused with
 * `step_up_required`, and nothing changes. An account without a second factor keeps needing only its password.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pendingSignInCookieName } from '../../src/core/cookie.js'
import { requireStrongRecentSignIn } from '../../src/core/step-up.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { SAME_ORIGIN, cookiePair, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'step up passphrase 1'
const NEW_PASSWORD = 'step up passphrase 2'

describe('step-up for sensitive changes', () => {
  let server: TestServer
  let clock: ManualClock

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({
      clock,
      env: { SESAME_COOKIE_NAME: 'sesame', SESAME_COOKIE_SECURE: 'false' },
    })
  })

  afterEach(async () => {
    await server?.close()
  })

  const post = (url: string, cookie: string, payload: object) =>
    server.app.inject({ method: 'POST', url, headers: { ...SAME_ORIGIN, cookie }, payload })

  async function passwordSession(email: string): Promise<string> {
    const response = await post('/auth/session', '', { email, password: PASSWORD })
    return cookiePair(response.headers['set-cookie'])
  }

  /** An account with an app; returns a session signed in with the password only (before the app) and the key. */
  async function withApp(email: string): Promise<{ weak: string; key: Uint8Array }> {
    const user = await server.auth.signUp({ email, password: PASSWORD })
    const weak = await passwordSession(email)
    const enrolment = await server.auth.secondFactors.beginTotp(user)
    const key = parseTotpKey(enrolment.secret)!
    await server.auth.secondFactors.confirmTotp(user.id, enrolment.enrolment, totpCode(key, step()))
    return { weak, key }
  }

  const step = () => totpStep(clock.nowSeconds())

  /** A session signed in with the password and the app's next code. */
  async function strongSession(email: string, key: Uint8Array): Promise<string> {
    clock.advance(30)
    const first = await post('/auth/session', '', { email, password: PASSWORD })
    const pending = cookiePair(first.headers['set-cookie'])
    expect(pending.startsWith(`${pendingSignInCookieName({ secure: false })}=`)).toBe(true)
    const done = await post('/auth/session/second-factor', pending, { code: totpCode(key, step()) })
    expect(done.statusCode).toBe(200)
    return cookiePair(done.headers['set-cookie'])
  }

  const changePassword = (cookie: string) =>
    post('/auth/password', cookie, { current_password: PASSWORD, new_password: NEW_PASSWORD })

  it('refuses a session signed in without the second factor, and changes nothing', async () => {
    const email = 'weak@example.com'
    const { weak } = await withApp(email)
    for (const refused of [
      await changePassword(weak),
      await post('/auth/email', weak, { new_email: 'moved@example.com', current_password: PASSWORD }),
      await server.app.inject({
        method: 'DELETE',
        url: '/auth/account',
        headers: { ...SAME_ORIGIN, cookie: weak },
        payload: { current_password: PASSWORD },
      }),
    ]) {
      expect(refused.statusCode).toBe(401)
      expect(refused.json()).toMatchObject({ error: 'step_up_required' })
    }
    expect(await server.store.findUserByEmail(email)).not.toBeNull()
    // The password is unchanged: it still signs in (to the code step).
    expect((await post('/auth/session', '', { email, password: PASSWORD })).json()).toMatchObject({
      second_factor_required: true,
    })
  })

  it('lets a session signed in with the app make the change within 15 minutes, and not after', async () => {
    const email = 'strong@example.com'
    const { key } = await withApp(email)
    const strong = await strongSession(email, key)
    clock.advance(901)
    const late = await changePassword(strong)
    expect(late.statusCode).toBe(401)
    expect(late.json()).toMatchObject({ error: 'step_up_required' })

    const fresh = await strongSession(email, key)
    const changed = await changePassword(fresh)
    expect(changed.statusCode).toBe(200)
  })

  it('sends the account page to sign in again, and back to the account page', async () => {
    const { weak } = await withApp('page@example.com')
    const page = await post('/account/password', weak, {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
    })
    expect(page.statusCode).toBe(303)
    expect(page.headers.location).toBe('/login?reauth=1&notice=confirm_sign_in&return_to=%2Faccount')
  })

  it('asks nothing more of an account without a second factor than its password', async () => {
    const email = 'plain@example.com'
    await server.auth.signUp({ email, password: PASSWORD })
    const old = await passwordSession(email)
    // Past the 15 minutes, inside the session's 30 idle minutes.
    clock.advance(1200)
    expect((await changePassword(old)).statusCode).toBe(200)
  })

  it('refuses an access token for an account with a second factor: it cannot show a recent sign-in', () => {
    const token = { method: 'token' as const, amr: ['pwd', 'otp', 'mfa'], issuedAt: clock.nowSeconds() }
    const withApp = { hasSecondFactor: true, hasPassword: true }
    expect(() => requireStrongRecentSignIn(token, clock.nowSeconds(), withApp)).toThrow(
      expect.objectContaining({ code: 'step_up_required', reason: 'token_cannot_step_up' }),
    )
    const plain = { hasSecondFactor: false, hasPassword: true }
    expect(() => requireStrongRecentSignIn(token, clock.nowSeconds(), plain)).not.toThrow()
    // Without a password either, a recent browser sign-in is all there is to ask for: a token cannot show one.
    expect(() =>
      requireStrongRecentSignIn(token, clock.nowSeconds(), { hasSecondFactor: false, hasPassword: false }),
    ).toThrow(expect.objectContaining({ code: 'step_up_required' }))
  })
})
