/**
 * Signing in to an account with a second factor, through the real server: the password alone yields a pending
 * sign-in (its own cookie, no session), finished by a code from the authenticator app or a recovery code, each
 * accepted once; the pending sign-in lapses and is used once; the password grant refuses such an account. The
 * app's codes are computed here from the secret the enrolment showed, as the app would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pendingSignInCookieName } from '../../src/core/cookie.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'two step passphrase'

describe('sign-in with a second factor', () => {
  let server: TestServer
  let clock: ManualClock
  let key: Uint8Array
  let recoveryCodes: string[]
  let userId: string
  const email = 'two-step@example.com'

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({ clock })
    const user = await server.auth.signUp({ email, password: PASSWORD })
    userId = user.id
    const enrolment = await server.auth.secondFactors.beginTotp(user)
    key = parseTotpKey(enrolment.secret)!
    const confirmed = await server.auth.secondFactors.confirmTotp(user.id, enrolment.enrolment, codeAt(0))
    recoveryCodes = confirmed.recoveryCodes!
    // The confirming code is spent; the sign-ins below use later steps.
    clock.advance(30)
  })

  afterEach(async () => {
    await server?.close()
  })

  /** The app's code `steps` time steps from now. */
  const codeAt = (steps: number) => totpCode(key, totpStep(clock.nowSeconds()) + steps)

  const names = () => ({
    session: server.auth.config.cookie.name,
    pending: pendingSignInCookieName(server.auth.config.cookie),
  })

  /** The `Set-Cookie` headers of a response by cookie name: the value and the whole header. */
  function setCookies(headers: Record<string, unknown>): Map<string, { value: string; header: string }> {
    const raw = headers['set-cookie']
    const list = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [raw as string]
    return new Map(
      list.map((header) => {
        const pair = header.split(';')[0]!
        const eq = pair.indexOf('=')
        return [pair.slice(0, eq), { value: pair.slice(eq + 1), header }]
      }),
    )
  }

  async function passwordStep(): Promise<{ pendingCookie: string; body: Record<string, unknown> }> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const cookies = setCookies(response.headers)
    // No session yet: only the pending sign-in's cookie.
    expect([...cookies.keys()]).toEqual([names().pending])
    const pending = cookies.get(names().pending)!
    expect(pending.header).toMatch(/HttpOnly/)
    expect(pending.header).toMatch(/SameSite=Strict/)
    expect(pending.header).toMatch(/Max-Age=300/)
    return { pendingCookie: `${names().pending}=${pending.value}`, body: response.json() }
  }

  function secondStep(cookie: string | undefined, payload: Record<string, unknown>) {
    return server.app.inject({
      method: 'POST',
      url: '/auth/session/second-factor',
      headers: { ...SAME_ORIGIN, ...(cookie && { cookie }) },
      payload,
    })
  }

  const me = (cookie: string) => server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })

  it('answers the password with a pending sign-in that is no session, and finishes it with a code', async () => {
    const { pendingCookie, body } = await passwordStep()
    expect(body).toEqual({
      second_factor_required: true,
      methods: ['totp', 'recovery_code'],
      expires_at: new Date((clock.nowSeconds() + 300) * 1000).toISOString(),
    })
    // The pending cookie signs nothing in, and names no user in clear.
    expect((await me(pendingCookie)).statusCode).toBe(401)
    expect(pendingCookie).not.toContain(userId)

    const wrong = await secondStep(pendingCookie, { code: '000000' === codeAt(0) ? '111111' : '000000' })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json()).toMatchObject({ error: 'invalid_second_factor' })
    expect(setCookies(wrong.headers).size).toBe(0)

    const done = await secondStep(pendingCookie, { code: codeAt(0) })
    expect(done.statusCode).toBe(200)
    expect(done.headers['cache-control']).toBe('no-store')
    expect(done.json()).toMatchObject({
      user: { id: userId, email },
      session: { method: 'cookie', amr: ['pwd', 'otp', 'mfa'] },
    })
    const cookies = setCookies(done.headers)
    expect(cookies.get(names().pending)?.header).toMatch(/Max-Age=0/)
    const session = `${names().session}=${cookies.get(names().session)!.value}`
    const who = await me(session)
    expect(who.statusCode).toBe(200)
    expect(who.json()).toMatchObject({ user: { id: userId }, session: { amr: ['pwd', 'otp', 'mfa'] } })
  })

  it('accepts a code once: the same code for a second sign-in is refused, and so is a reused pending sign-in', async () => {
    const first = await passwordStep()
    const code = codeAt(0)
    expect((await secondStep(first.pendingCookie, { code })).statusCode).toBe(200)

    const second = await passwordStep()
    const replayed = await secondStep(second.pendingCookie, { code })
    expect(replayed.statusCode).toBe(401)
    expect(replayed.json()).toMatchObject({ error: 'invalid_second_factor' })

    // The first pending sign-in was used: a fresh code does not make it start a second session.
    clock.advance(30)
    const reused = await secondStep(first.pendingCookie, { code: codeAt(0) })
    expect(reused.statusCode).toBe(401)
    expect(reused.json()).toMatchObject({ error: 'invalid_second_factor' })
    // The code is checked before the single use is claimed (so a typo leaves the sign-in open): that code is
    // spent now, and the second pending sign-in finishes with the next one.
    expect((await secondStep(second.pendingCookie, { code: codeAt(0) })).statusCode).toBe(401)
    expect((await secondStep(second.pendingCookie, { code: codeAt(1) })).statusCode).toBe(200)
  })

  it('takes the code of the step before or after, and refuses one two steps away', async () => {
    const { pendingCookie } = await passwordStep()
    expect((await secondStep(pendingCookie, { code: codeAt(-2) })).statusCode).toBe(401)
    expect((await secondStep(pendingCookie, { code: codeAt(2) })).statusCode).toBe(401)
    expect((await secondStep(pendingCookie, { code: codeAt(1) })).statusCode).toBe(200)
  })

  it('finishes with a recovery code, once', async () => {
    const first = await passwordStep()
    const used = await secondStep(first.pendingCookie, { recovery_code: recoveryCodes[3]!.toUpperCase() })
    expect(used.statusCode).toBe(200)
    expect(used.json()).toMatchObject({ session: { amr: ['pwd', 'otp', 'mfa'] } })
    expect((await server.auth.secondFactors.status(userId)).recoveryCodesLeft).toBe(9)

    const second = await passwordStep()
    const again = await secondStep(second.pendingCookie, { recovery_code: recoveryCodes[3]! })
    expect(again.statusCode).toBe(401)
    expect(again.json()).toMatchObject({ error: 'invalid_second_factor' })
  })

  it('lets the pending sign-in lapse after five minutes', async () => {
    const { pendingCookie } = await passwordStep()
    clock.advance(300)
    const late = await secondStep(pendingCookie, { code: codeAt(0) })
    expect(late.statusCode).toBe(401)
    expect(late.json()).toMatchObject({ error: 'invalid_second_factor' })
  })

  it('refuses a second step without a pending sign-in, or with other than exactly one code', async () => {
    const none = await secondStep(undefined, { code: codeAt(0) })
    expect(none.statusCode).toBe(401)
    expect(none.json()).toMatchObject({ error: 'invalid_second_factor' })
    const { pendingCookie } = await passwordStep()
    for (const payload of [{}, { code: codeAt(0), recovery_code: recoveryCodes[0]! }, { code: 123456 }]) {
      const refused = await secondStep(pendingCookie, payload)
      expect(refused.statusCode).toBe(400)
      expect(refused.json()).toMatchObject({ error: 'invalid_request' })
    }
    // None of those spent the code or the pending sign-in.
    expect((await secondStep(pendingCookie, { code: codeAt(0) })).statusCode).toBe(200)
  })

  it('refuses an account disabled between the two steps, before the code is spent', async () => {
    const { pendingCookie } = await passwordStep()
    expect(await server.auth.disableUser(email)).toBe(true)
    const refused = await secondStep(pendingCookie, { code: codeAt(0) })
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toMatchObject({ error: 'invalid_credentials' })
    expect(setCookies(refused.headers).has(names().session)).toBe(false)
    await server.auth.secondFactors.verifyTotp(userId, codeAt(0))
  })

  it('starts one session from one pending sign-in, whatever completions race', async () => {
    const { pendingCookie } = await passwordStep()
    const answers = await Promise.all(
      recoveryCodes.slice(0, 3).map((code) => secondStep(pendingCookie, { recovery_code: code })),
    )
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 401, 401])
    expect(await server.store.listUserSessions(userId)).toHaveLength(1)
  })

  it('comes back to an authorization request waiting for the sign-in', async () => {
    const waiting = '/auth/authorize?client_id=notes&state=s1'
    const login = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD, return_to: waiting },
    })
    expect(login.headers.location).toBe(`/login/second-factor?return_to=${encodeURIComponent(waiting)}`)
    const pendingCookie = `${names().pending}=${setCookies(login.headers).get(names().pending)!.value}`
    const page = await server.app.inject({
      method: 'GET',
      url: login.headers.location,
      headers: { cookie: pendingCookie },
    })
    expect(page.body).toContain(`name="return_to" value="${waiting.replace(/&/g, '&amp;')}"`)
    const done = await server.app.inject({
      method: 'POST',
      url: '/login/second-factor',
      headers: { ...SAME_ORIGIN, cookie: pendingCookie },
      payload: { code: codeAt(0), return_to: waiting },
    })
    expect(done.statusCode).toBe(303)
    expect(done.headers.location).toBe(waiting)
  })

  it('counts wrong codes against the account, and stops them at the limit', async () => {
    const { pendingCookie } = await passwordStep()
    const wrong = codeAt(0) === '000000' ? '111111' : '000000'
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await secondStep(pendingCookie, { code: wrong })).statusCode).toBe(401)
    }
    const limited = await secondStep(pendingCookie, { code: codeAt(0) })
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ error: 'rate_limited' })
  })

  it('refuses the password grant for the account: it has no second step', async () => {
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password: PASSWORD },
    })
    expect(grant.statusCode).toBe(400)
    expect(grant.json()).toMatchObject({ error: 'invalid_grant' })
    expect(grant.json<{ error_description: string }>().error_description).toMatch(/second factor/)
  })

  it('walks the pages: login, the code page, the account page', async () => {
    const login = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(login.statusCode).toBe(303)
    expect(login.headers.location).toBe('/login/second-factor')
    const pendingCookie = `${names().pending}=${setCookies(login.headers).get(names().pending)!.value}`

    const page = await server.app.inject({
      method: 'GET',
      url: '/login/second-factor',
      headers: { cookie: pendingCookie },
    })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('autocomplete="one-time-code"')
    expect(page.body).toContain('href="/login/second-factor?method=recovery_code"')

    const wrong = await server.app.inject({
      method: 'POST',
      url: '/login/second-factor',
      headers: { ...SAME_ORIGIN, cookie: pendingCookie },
      payload: { code: codeAt(0) === '000000' ? '111111' : '000000' },
    })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain('aria-invalid="true"')

    const right = await server.app.inject({
      method: 'POST',
      url: '/login/second-factor',
      headers: { ...SAME_ORIGIN, cookie: pendingCookie },
      payload: { code: codeAt(0) },
    })
    expect(right.statusCode).toBe(303)
    expect(right.headers.location).toBe('/account')
    expect(setCookies(right.headers).has(names().session)).toBe(true)

    // Used: the page sends the person back to the start.
    const after = await server.app.inject({
      method: 'POST',
      url: '/login/second-factor',
      headers: { ...SAME_ORIGIN, cookie: pendingCookie },
      payload: { code: codeAt(1) },
    })
    expect(after.statusCode).toBe(303)
    expect(after.headers.location).toBe('/login?notice=sign_in_expired')
    const missing = await server.app.inject({ method: 'GET', url: '/login/second-factor' })
    expect(missing.statusCode).toBe(303)
    expect(missing.headers.location).toBe('/login?notice=sign_in_expired')
  })
})
