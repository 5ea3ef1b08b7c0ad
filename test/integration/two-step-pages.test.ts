/**
 * Two-step sign-in from the account page, through the real server: setting up an app (nothing stored until a
 * code from it is confirmed), recovery codes shown once, new codes and turning it off only with a current
 * code. Codes are computed here from the key the setup page shows, as the app would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { SAME_ORIGIN, cookiePair, startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'account page passphrase'

describe('two-step sign-in on the account page', () => {
  let server: TestServer
  let clock: ManualClock
  let cookie: string
  let userId: string
  const email = 'pages-two-step@example.com'

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({ clock })
    userId = (await server.auth.signUp({ email, password: PASSWORD })).id
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    cookie = cookiePair(signIn.headers['set-cookie'])
  })

  afterEach(async () => {
    await server?.close()
  })

  const get = (url: string) => server.app.inject({ method: 'GET', url, headers: { cookie } })
  const post = (url: string, payload: Record<string, string>) =>
    server.app.inject({ method: 'POST', url, headers: { ...SAME_ORIGIN, cookie }, payload })

  /** The key and the sealed enrolment a setup page shows. */
  function setupOf(body: string): { key: Uint8Array; enrolment: string } {
    const secret = /id="totp-secret">([^<]+)</.exec(body)?.[1]
    const enrolment = /name="enrolment" value="([^"]+)"/.exec(body)?.[1]
    expect(secret, 'the key is shown as text').toBeDefined()
    expect(enrolment, 'the enrolment rides in the form').toBeDefined()
    return { key: parseTotpKey(secret!)!, enrolment: enrolment! }
  }

  const codesOf = (body: string) =>
    [...body.matchAll(/<li>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/li>/g)].map((m) => m[1]!)

  async function turnOn(): Promise<{ key: Uint8Array; codes: string[] }> {
    const page = await get('/account/two-step/setup')
    const { key, enrolment } = setupOf(page.body)
    const done = await post('/account/two-step/setup', {
      enrolment,
      code: totpCode(key, totpStep(clock.nowSeconds())),
    })
    expect(done.statusCode).toBe(200)
    return { key, codes: codesOf(done.body) }
  }

  it('sets up an app: a QR code and the key, nothing stored until a code confirms it, codes shown once', async () => {
    const account = await get('/account')
    expect(account.body).toContain('href="/account/two-step/setup"')

    const page = await get('/account/two-step/setup')
    expect(page.statusCode).toBe(200)
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.body).toMatch(/<svg[^>]*role="img"/)
    expect(page.body).toMatch(/<path d="(M\d+ \d+h1v1h-1z)+"/)
    const { key, enrolment } = setupOf(page.body)
    expect(await server.auth.secondFactors.status(userId)).toEqual({ factors: [], recoveryCodesLeft: 0 })

    const now = totpStep(clock.nowSeconds())
    const wrong = await post('/account/two-step/setup', { enrolment, code: totpCode(key, now + 3) })
    expect(wrong.statusCode).toBe(401)
    // The same setup again, with the error: the app scanned already keeps working.
    expect(setupOf(wrong.body).key).toEqual(key)
    expect(wrong.body).toContain('aria-invalid="true"')
    expect((await server.auth.secondFactors.status(userId)).factors).toEqual([])

    const done = await post('/account/two-step/setup', { enrolment, code: totpCode(key, now) })
    expect(done.statusCode).toBe(200)
    expect(done.headers['cache-control']).toBe('no-store')
    const codes = codesOf(done.body)
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)

    const after = await get('/account')
    expect(after.body).toContain('10 recovery codes left')
    expect(after.body).not.toContain(codes[0]!)
    // Set up already: the setup page sends the person back.
    const again = await get('/account/two-step/setup')
    expect(again.statusCode).toBe(303)
  })

  it('asks for a fresh sign-in before setting up, and comes back to the setup after it', async () => {
    clock.advance(901)
    const again = '/login?reauth=1&notice=confirm_sign_in&return_to=%2Faccount%2Ftwo-step%2Fsetup'
    const page = await get('/account/two-step/setup')
    expect(page.statusCode).toBe(303)
    expect(page.headers.location).toBe(again)
    // The post too: a setup page opened before the session grew old does not slip through.
    const posted = await post('/account/two-step/setup', { enrolment: 'x', code: '123456' })
    expect(posted.headers.location).toBe(again)

    const login = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...SAME_ORIGIN, cookie },
      payload: { email, password: PASSWORD, return_to: '/account/two-step/setup' },
    })
    expect(login.headers.location).toBe('/account/two-step/setup')
    cookie = cookiePair(login.headers['set-cookie'])
    expect((await get('/account/two-step/setup')).statusCode).toBe(200)
  })

  it('refuses a lapsed setup and sends the person to start again', async () => {
    const { key, enrolment } = setupOf((await get('/account/two-step/setup')).body)
    clock.advance(601)
    const late = await post('/account/two-step/setup', {
      enrolment,
      code: totpCode(key, totpStep(clock.nowSeconds())),
    })
    expect(late.statusCode).toBe(303)
    expect(late.headers.location).toBe('/account?notice=setup_expired#two-step')
    expect((await server.auth.secondFactors.status(userId)).factors).toEqual([])
  })

  it('makes new recovery codes only with a current code; the old ones stop working', async () => {
    const { key, codes } = await turnOn()
    clock.advance(30)
    const refused = await post('/account/two-step/recovery-codes', { code: '' })
    expect(refused.headers.location).toBe('/account?notice=wrong_code#two-step')
    expect((await server.auth.secondFactors.status(userId)).recoveryCodesLeft).toBe(10)

    const fresh = await post('/account/two-step/recovery-codes', { code: codes[0]! })
    expect(fresh.statusCode).toBe(200)
    const newCodes = codesOf(fresh.body)
    expect(newCodes).toHaveLength(10)
    expect(newCodes).not.toContain(codes[1])
    expect((await server.auth.secondFactors.status(userId)).recoveryCodesLeft).toBe(10)
    // An old code proves nothing any more; the app's code still does.
    expect((await post('/account/two-step/recovery-codes', { code: codes[1]! })).headers.location).toBe(
      '/account?notice=wrong_code#two-step',
    )
    const byApp = await post('/account/two-step/recovery-codes', {
      code: totpCode(key, totpStep(clock.nowSeconds())),
    })
    expect(byApp.statusCode).toBe(200)
  })

  it('turns it off only with a current code, and the password signs in alone again', async () => {
    const { key } = await turnOn()
    const [app] = (await server.auth.secondFactors.status(userId)).factors
    clock.advance(30)
    const refused = await post(`/account/two-step/${app!.id}/remove`, { code: '123' })
    expect(refused.headers.location).toBe('/account?notice=wrong_code#two-step')
    expect((await server.auth.secondFactors.status(userId)).factors).toHaveLength(1)
    // Nothing by that id: said so, and the code is not spent on it.
    const code = totpCode(key, totpStep(clock.nowSeconds()))
    const unknown = await post('/account/two-step/no-such-id/remove', { code })
    expect(unknown.headers.location).toBe('/account?notice=not_found#two-step')

    const off = await post(`/account/two-step/${app!.id}/remove`, { code })
    expect(off.headers.location).toBe('/account?notice=two_step_off#two-step')
    expect(await server.auth.secondFactors.status(userId)).toEqual({ factors: [], recoveryCodesLeft: 0 })
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password: PASSWORD },
    })
    expect(signIn.json()).toMatchObject({ user: { id: userId } })
  })

  it('sends a visitor without a session to the login page', async () => {
    for (const [method, url] of [
      ['GET', '/account/two-step/setup'],
      ['POST', '/account/two-step/setup'],
      ['POST', '/account/two-step/recovery-codes'],
    ] as const) {
      const response = await server.app.inject({
        method,
        url,
        headers: SAME_ORIGIN,
        ...(method === 'POST' && { payload: {} }),
      })
      expect(response.statusCode, `${method} ${url}`).toBe(303)
      expect(response.headers.location).toBe('/login')
    }
  })
})
