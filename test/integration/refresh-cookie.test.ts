/**
 * The refresh token in an HttpOnly cookie, for browsers in token mode (`refresh_token_delivery=cookie`): never
 * in the body, scoped to `/auth`, SameSite=Strict; refresh and revocation by cookie must prove same origin;
 * rotation and reuse detection work the same as with the body.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'cookie-mode@example.com'
const PASSWORD = 'cookie mode phrase'
const COOKIE = '__Secure-sesame-refresh'

describe('refresh token in a cookie', () => {
  let server: TestServer
  let clock: ManualClock
  afterEach(() => server.close())

  async function start(): Promise<void> {
    clock = createManualClock(1_800_000_000)
    server = await startTestServer({ clock, env: { SESAME_STORE: 'memory' } })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  }

  const token = (payload: Record<string, string>, headers: Record<string, string> = SAME_ORIGIN) =>
    server.app.inject({ method: 'POST', url: '/auth/token', headers, payload })

  /** The refresh cookie a response sets, as `name=value`, and its attributes. */
  function refreshCookie(setCookie: string | string[] | undefined): { pair: string; header: string } {
    const header = [setCookie ?? []].flat().find((value) => value.startsWith(`${COOKIE}=`))
    if (!header) throw new Error('expected a refresh-token cookie')
    return { pair: header.split(';')[0]!, header }
  }

  async function signIn(): Promise<string> {
    const answer = await token({
      grant_type: 'password',
      username: EMAIL,
      password: PASSWORD,
      refresh_token_delivery: 'cookie',
    })
    expect(answer.statusCode).toBe(200)
    expect(answer.json()).not.toHaveProperty('refresh_token')
    expect(answer.json()).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const { pair, header } = refreshCookie(answer.headers['set-cookie'])
    expect(header).toBe(`${pair}; Path=/auth; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict`)
    return pair
  }

  it('issues it as an HttpOnly, Secure, SameSite=Strict cookie on /auth, never in the body', async () => {
    await start()
    await signIn()
  })

  it('rotates it on refresh by cookie, and treats the old one as stolen after the grace window', async () => {
    await start()
    const first = await signIn()
    const refreshed = await token({ grant_type: 'refresh_token' }, { ...SAME_ORIGIN, cookie: first })
    expect(refreshed.statusCode).toBe(200)
    expect(refreshed.json()).not.toHaveProperty('refresh_token')
    const second = refreshCookie(refreshed.headers['set-cookie']).pair
    expect(second).not.toBe(first)
    const access = refreshed.json<{ access_token: string }>().access_token
    expect(
      (await server.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${access}` } }))
        .statusCode,
    ).toBe(200)

    clock.advance(11) // past the 10 s grace window
    const replay = await token({ grant_type: 'refresh_token' }, { ...SAME_ORIGIN, cookie: first })
    expect(replay.statusCode).toBe(400)
    expect(replay.json()).toMatchObject({ error: 'invalid_grant' })
    expect(refreshCookie(replay.headers['set-cookie']).header).toContain('Max-Age=0') // cleared
    // Reuse revoked the family: the current cookie is dead too.
    const current = await token({ grant_type: 'refresh_token' }, { ...SAME_ORIGIN, cookie: second })
    expect(current.statusCode).toBe(400)
  })

  it('refuses a refresh or revocation by cookie from another origin, or proving none', async () => {
    await start()
    const cookie = await signIn()
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example', host: 'localhost:80' },
      { host: 'localhost:80' },
    ]
    for (const headers of foreign) {
      const refresh = await token({ grant_type: 'refresh_token' }, { ...headers, cookie })
      expect(refresh.statusCode).toBe(403)
      expect(refresh.json()).toMatchObject({ error: 'csrf_rejected' })
      const revoke = await server.app.inject({
        method: 'POST',
        url: '/auth/revoke',
        headers: { ...headers, cookie },
      })
      expect(revoke.statusCode).toBe(403)
    }
    // Still alive: nothing above changed it.
    expect((await token({ grant_type: 'refresh_token' }, { ...SAME_ORIGIN, cookie })).statusCode).toBe(200)
  })

  it('revokes the family by cookie with no body, and clears the cookie', async () => {
    await start()
    const cookie = await signIn()
    const revoke = await server.app.inject({
      method: 'POST',
      url: '/auth/revoke',
      headers: { ...SAME_ORIGIN, cookie },
    })
    expect(revoke.statusCode).toBe(200)
    expect(refreshCookie(revoke.headers['set-cookie']).header).toContain('Max-Age=0')
    expect((await token({ grant_type: 'refresh_token' }, { ...SAME_ORIGIN, cookie })).statusCode).toBe(400)
  })

  it('keeps body delivery the default, refuses an unknown delivery and a repeated cookie', async () => {
    await start()
    const plain = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(plain.json()).toHaveProperty('refresh_token')
    expect(plain.headers['set-cookie']).toBeUndefined()
    const odd = await token({
      grant_type: 'password',
      username: EMAIL,
      password: PASSWORD,
      refresh_token_delivery: 'url',
    })
    expect(odd.statusCode).toBe(400)
    expect(odd.json()).toMatchObject({ error: 'invalid_request' })
    const cookie = await signIn()
    const twice = await token(
      { grant_type: 'refresh_token' },
      { ...SAME_ORIGIN, cookie: `${cookie}; ${cookie}` },
    )
    expect(twice.statusCode).toBe(400)
    expect(twice.json()).toMatchObject({ error: 'invalid_request' })
    // The cookie's successor never goes to the body, where page scripts could read it.
    const toBody = await token(
      { grant_type: 'refresh_token', refresh_token_delivery: 'body' },
      { ...SAME_ORIGIN, cookie },
    )
    expect(toBody.statusCode).toBe(400)
    expect(toBody.json()).not.toHaveProperty('refresh_token')
    // Asking for the cookie is a sign-in: a foreign origin may not.
    const foreign = await token(
      { grant_type: 'password', username: EMAIL, password: PASSWORD, refresh_token_delivery: 'cookie' },
      { host: 'localhost:80' },
    )
    expect(foreign.statusCode).toBe(403)
    expect(foreign.headers['set-cookie']).toBeUndefined()
    const none = await token({ grant_type: 'refresh_token' })
    expect(none.statusCode).toBe(400)
    expect(none.json()).toMatchObject({ error_description: 'The "refresh_token" field is required.' })
  })
})
