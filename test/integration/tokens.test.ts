/** The token endpoint, revocation, discovery, and bearer authentication over HTTP (in-process). */
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { EVERY_STORE, storeClock, useEveryStore } from '../helpers/every-store.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'tess@example.com'
const PASSWORD = 'token password 1'
const INVALID_TOKEN = { error: 'invalid_token', error_description: 'The access token is invalid.' }
const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'The refresh token is invalid, expired or revoked.',
}

describe('tokens', () => {
  let server: TestServer
  let clock: ManualClock
  let userId: string

  beforeEach(async () => {
    clock = createManualClock()
    server = await startTestServer({ clock, env: { SESAME_STORE: 'memory' } })
    userId = (await server.auth.signUp({ email: EMAIL, password: PASSWORD })).id
  })
  afterEach(() => server.close())

  function token(payload: Record<string, string>, contentType = 'application/json') {
    return server.app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { 'content-type': contentType },
      payload:
        contentType === 'application/json'
          ? JSON.stringify(payload)
          : new URLSearchParams(payload).toString(),
    })
  }

  async function passwordGrant(): Promise<{
    access_token: string
    refresh_token: string
    expires_in: number
  }> {
    const response = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  function me(headers: Record<string, string>) {
    return server.app.inject({ method: 'GET', url: '/auth/me', headers })
  }

  it('issues an at+jwt access token with the registered claims and no secrets, uncached', async () => {
    const response = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers.pragma).toBe('no-cache')
    const body = response.json<Record<string, unknown>>()
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type'])
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const accessToken = body.access_token as string
    const header = decodeProtectedHeader(accessToken)
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) })
    const claims = decodeJwt(accessToken)
    const now = clock.nowSeconds()
    expect(claims).toEqual({
      iss: 'http://localhost:3000',
      sub: userId,
      aud: 'http://localhost:3000',
      exp: now + 900,
      iat: now,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      // RFC 9068 §2.2: requests that name no client are Sesame's built-in one.
      client_id: 'sesame',
      sid: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      roles: [],
      // How the user signed in (RFC 9068 §2.2.1): a password.
      amr: ['pwd'],
    })
    expect(JSON.stringify(claims)).not.toContain(EMAIL)
    expect(JSON.stringify(claims)).not.toContain(body.refresh_token as string)
  })

  it('keeps the sign-in methods through refreshes', async () => {
    const first = await passwordGrant()
    const signedInAt = clock.nowSeconds()
    clock.advance(600)
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    expect(refreshed.statusCode).toBe(200)
    const claims = decodeJwt(refreshed.json<{ access_token: string }>().access_token)
    expect(claims).toMatchObject({ amr: ['pwd'], iat: signedInAt + 600 })
    expect(claims.auth_time).toBeUndefined()
  })

  it('accepts form-encoded requests (RFC 6749 §4.3.2)', async () => {
    const response = await token(
      { grant_type: 'password', username: EMAIL, password: PASSWORD },
      'application/x-www-form-urlencoded',
    )
    expect(response.statusCode).toBe(200)
  })

  it.each([
    [
      { grant_type: 'password', username: EMAIL, password: 'wrong password' },
      400,
      'invalid_grant',
      'The username or password is incorrect.',
    ],
    [
      { grant_type: 'password', username: 'nobody@example.com', password: PASSWORD },
      400,
      'invalid_grant',
      'The username or password is incorrect.',
    ],
    [
      { grant_type: 'client_credentials' },
      400,
      'unsupported_grant_type',
      'The "grant_type" must be "authorization_code", "refresh_token" or "password".',
    ],
    [{ username: EMAIL, password: PASSWORD }, 400, 'invalid_request', 'The "grant_type" field is required.'],
    [
      { grant_type: 'password', username: EMAIL },
      400,
      'invalid_request',
      'The "password" field is required.',
    ],
    [{ grant_type: 'refresh_token' }, 400, 'invalid_request', 'The "refresh_token" field is required.'],
    [
      { grant_type: 'refresh_token', refresh_token: 'short' },
      400,
      'invalid_grant',
      INVALID_GRANT.error_description,
    ],
    [
      { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) },
      400,
      'invalid_grant',
      INVALID_GRANT.error_description,
    ],
  ])('answers %j with %i %s', async (payload, status, error, description) => {
    const response = await token(payload)
    expect(response.statusCode).toBe(status)
    expect(response.json()).toEqual({ error, error_description: description })
  })

  it('authenticates GET /auth/me by bearer token as method "token"', async () => {
    const { access_token: accessToken } = await passwordGrant()
    const response = await me({ authorization: `Bearer ${accessToken}` })
    expect(response.statusCode).toBe(200)
    // The whole body, exactly: the route's response schema would drop a field it does not declare.
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as {
      sid: string
    }
    expect(response.json()).toStrictEqual({
      user: { id: userId, email: EMAIL, email_verified: false },
      session: {
        id: claims.sid,
        method: 'token',
        amr: ['pwd'],
        created_at: new Date(clock.nowSeconds() * 1000).toISOString(),
        expires_at: new Date((clock.nowSeconds() + 900) * 1000).toISOString(),
      },
    })
  })

  it('judges a request with a Bearer header by it alone, never by a cookie beside it', async () => {
    const login = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: EMAIL, password: PASSWORD },
    })
    const cookie = cookiePair(login.headers['set-cookie'])
    const withBadBearer = await me({ cookie, authorization: 'Bearer not.a.token' })
    expect(withBadBearer.statusCode).toBe(401)
    expect(withBadBearer.json()).toEqual(INVALID_TOKEN)
    expect(withBadBearer.headers['www-authenticate']).toBe('Bearer error="invalid_token"')

    const { access_token: accessToken } = await passwordGrant()
    const withBadCookie = await me({
      cookie: '__Host-sesame=garbage',
      authorization: `Bearer ${accessToken}`,
    })
    expect(withBadCookie.statusCode).toBe(200)
    expect(withBadCookie.json()).toMatchObject({ session: { method: 'token' } })
  })

  it.each([
    ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ['an empty Bearer', 'Bearer '],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('answers %s with the one invalid_token body', async (_name, authorization) => {
    const response = await me({ authorization })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual(INVALID_TOKEN)
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  it('challenges a request with no credentials at all', async () => {
    const response = await me({})
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer')
  })

  it('refuses an access token once it has expired (after the leeway)', async () => {
    const { access_token: accessToken } = await passwordGrant()
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(200) // now cached
    clock.advance(900 + 29)
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(200)
    clock.advance(1)
    const response = await me({ authorization: `Bearer ${accessToken}` })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual(INVALID_TOKEN)
  })

  it('revokes a refresh token (RFC 7009) and the access tokens of its family', async () => {
    const { access_token: accessToken, refresh_token: refreshToken } = await passwordGrant()
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/revoke',
      payload: { token: refreshToken },
    })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('')
    expect((await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).json()).toEqual(
      INVALID_GRANT,
    )
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(401)
  })

  it('revokes one access token by its jti, leaving the family working', async () => {
    const { access_token: accessToken, refresh_token: refreshToken } = await passwordGrant()
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/revoke',
      payload: { token: accessToken },
    })
    expect(response.statusCode).toBe(200)
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(401)
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(refreshed.statusCode).toBe(200)
    const next = refreshed.json<{ access_token: string }>().access_token
    expect((await me({ authorization: `Bearer ${next}` })).statusCode).toBe(200)
  })

  it('refuses a token revoked after it was verified (and cached) once', async () => {
    const { access_token: accessToken } = await passwordGrant()
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(200)
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(200)
    await server.app.inject({ method: 'POST', url: '/auth/revoke', payload: { token: accessToken } })
    const response = await me({ authorization: `Bearer ${accessToken}` })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual(INVALID_TOKEN)
  })

  it('answers 200 to revoking a token it does not know, and 400 without a token', async () => {
    for (const value of ['garbage', 'A'.repeat(43), 'a.b.c']) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/auth/revoke',
        payload: { token: value },
      })
      expect(response.statusCode).toBe(200)
    }
    const missing = await server.app.inject({ method: 'POST', url: '/auth/revoke', payload: {} })
    expect(missing.statusCode).toBe(400)
    expect(missing.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The "token" field is required.',
    })
  })

  async function publishedKids(): Promise<string[]> {
    const jwks = (await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: Array<{ kid: string }>
    }>()
    return jwks.keys.map((key) => key.kid).sort()
  }

  const kidOf = (token: string): string | undefined => decodeProtectedHeader(token).kid

  it('publishes the signing key in the JWKS, without private members', async () => {
    const jwks = (await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: Array<Record<string, unknown>>
    }>()
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(jwks.keys[0]).not.toHaveProperty('d')
    expect(kidOf((await passwordGrant()).access_token)).toBe(jwks.keys[0]!.kid)
  })

  it('stages a rotation: the new key is published at once, signs after the activation delay, and the old key verifies until its last token expires', async () => {
    const [oldKid] = await publishedKids()
    const { access_token: oldToken } = await passwordGrant()

    const newKid = await server.auth.tokens.rotateSigningKey()
    expect(await publishedKids()).toEqual([oldKid, newKid].sort())
    // Still signed by a key every JWKS fetched before the rotation holds, up to the last second of the delay.
    expect(kidOf((await passwordGrant()).access_token)).toBe(oldKid)
    clock.advance(359)
    const { access_token: lastOld } = await passwordGrant()
    expect(kidOf(lastOld)).toBe(oldKid)

    // At the activation time the new key signs, with no reload or event: the signer is chosen per token.
    clock.advance(1)
    const { access_token: newToken } = await passwordGrant()
    expect(kidOf(newToken)).toBe(newKid)
    for (const token of [oldToken, lastOld, newToken])
      expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(200)

    // The old key retired at the activation: it stays for the access lifetime plus leeway after that, which is
    // exactly as long as the last token it signed (a second before the activation) is accepted.
    clock.advance(900 + 30 - 2)
    await server.auth.tokens.reload()
    expect(await publishedKids()).toEqual([oldKid, newKid].sort())
    expect((await me({ authorization: `Bearer ${lastOld}` })).statusCode).toBe(200)
    clock.advance(1)
    expect((await me({ authorization: `Bearer ${lastOld}` })).statusCode).toBe(401) // expired by now anyway
    clock.advance(1)
    await server.auth.tokens.reload()
    expect(await publishedKids()).toEqual([newKid])
  })

  it('rotates at once after a key leak: the new key signs now and the old key’s tokens are refused', async () => {
    const [oldKid] = await publishedKids()
    const { access_token: oldToken } = await passwordGrant()
    const newKid = await server.auth.tokens.rotateSigningKey({ immediate: true })
    expect(newKid).not.toBe(oldKid)
    expect(await publishedKids()).toEqual([newKid])
    expect((await server.store.listSigningKeys()).map((key) => key.kid)).toEqual([newKid])
    const { access_token: newToken } = await passwordGrant()
    expect(kidOf(newToken)).toBe(newKid)
    expect((await me({ authorization: `Bearer ${newToken}` })).statusCode).toBe(200)
    const refused = await me({ authorization: `Bearer ${oldToken}` })
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toEqual(INVALID_TOKEN)
  })

  it('refuses bad rotation options with a TypeError', async () => {
    await expect(server.auth.tokens.rotateSigningKey({ immediate: 'yes' } as never)).rejects.toThrow(
      new TypeError('Rotation option "immediate" must be a boolean.'),
    )
    await expect(server.auth.tokens.rotateSigningKey(null as never)).rejects.toThrow(
      new TypeError('rotateSigningKey options must be an object.'),
    )
    expect(await server.store.listSigningKeys()).toHaveLength(1)
  })

  it('serves RFC 8414 metadata', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      issuer: 'http://localhost:3000',
      token_endpoint: 'http://localhost:3000/auth/token',
      revocation_endpoint: 'http://localhost:3000/auth/revoke',
      jwks_uri: 'http://localhost:3000/.well-known/jwks.json',
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    })
  })

  it('refuses the refresh of a disabled user and ends the family', async () => {
    const { refresh_token: refreshToken, access_token: accessToken } = await passwordGrant()
    expect(await server.store.setUserDisabled(userId, clock.nowSeconds())).toBe(true)
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(refreshed.statusCode).toBe(400)
    expect(refreshed.json()).toEqual(INVALID_GRANT)
    expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(401)
    const again = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(again.statusCode).toBe(400)
  })
})

/**
 * Refresh-token families on every store: rotation with its grace window and reuse detection, the idle and the
 * absolute expiry, and the sweep. The manual clock (`storeClock`) drives the engine's decisions; it starts a
 * day ahead of real time, so Redis (which expires the family's keys by its own clock, at the times this clock
 * computed) keeps every record through the test: what is checked is the engine's decision, the same on all.
 */
describe.each(EVERY_STORE)('refresh-token families on $name', (target) => {
  const stores = useEveryStore(target)
  const REFRESH_IDLE = 600
  const REFRESH_ABSOLUTE = 1800
  let server: TestServer
  let clock: ManualClock
  let userId: string

  beforeEach(async () => {
    clock = storeClock()
    server = await stores.start({
      clock,
      env: {
        SESAME_REFRESH_IDLE_SECONDS: String(REFRESH_IDLE),
        SESAME_REFRESH_ABSOLUTE_SECONDS: String(REFRESH_ABSOLUTE),
      },
    })
    userId = (await server.auth.signUp({ email: EMAIL, password: PASSWORD })).id
  })

  function token(payload: Record<string, string>) {
    return server.app.inject({ method: 'POST', url: '/auth/token', payload })
  }

  async function passwordGrant(): Promise<{ access_token: string; refresh_token: string }> {
    const response = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  async function refreshOk(refreshToken: string): Promise<{ access_token: string; refresh_token: string }> {
    const response = await token({ grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  async function expectInvalidGrant(refreshToken: string): Promise<void> {
    const response = await token({ grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual(INVALID_GRANT)
  }

  function me(headers: Record<string, string>) {
    return server.app.inject({ method: 'GET', url: '/auth/me', headers })
  }

  it('rotates the refresh token on every use and refuses the rotated one after the grace window', async () => {
    const first = await passwordGrant()
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    expect(second.statusCode).toBe(200)
    const pair = second.json<{ access_token: string; refresh_token: string }>()
    expect(pair.refresh_token).not.toBe(first.refresh_token)
    expect(decodeJwt(pair.access_token).sid).toBe(decodeJwt(first.access_token).sid)

    clock.advance(11) // past the 10 s grace window
    const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    expect(reuse.statusCode).toBe(400)
    expect(reuse.json()).toEqual(INVALID_GRANT)
    // Reuse is theft: the family and every access token in it are dead.
    expect((await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token })).statusCode).toBe(
      400,
    )
    expect((await me({ authorization: `Bearer ${pair.access_token}` })).statusCode).toBe(401)
  })

  it('replays the same successor for the rotated token inside the grace window, on any instance', async () => {
    const other = await stores.start({
      clock,
      env: {
        SESAME_REFRESH_IDLE_SECONDS: String(REFRESH_IDLE),
        SESAME_REFRESH_ABSOLUTE_SECONDS: String(REFRESH_ABSOLUTE),
      },
    })
    const first = await passwordGrant()
    const second = await refreshOk(first.refresh_token)
    clock.advance(10)
    const replayed = await other.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'refresh_token', refresh_token: first.refresh_token },
    })
    expect(replayed.statusCode).toBe(200)
    expect(replayed.json<{ refresh_token: string }>().refresh_token).toBe(second.refresh_token)
    expect((await refreshOk(second.refresh_token)).refresh_token).not.toBe(second.refresh_token)
  })

  it('ends a family left unused for the idle time; each rotation moves that time on', async () => {
    const first = await passwordGrant()
    const startedAt = clock.nowSeconds()
    clock.advance(REFRESH_IDLE - 1)
    const second = await refreshOk(first.refresh_token)
    const [family] = await server.store.listUserRefreshFamilies(userId)
    expect(family).toMatchObject({
      lastUsedAt: clock.nowSeconds(),
      expiresAt: clock.nowSeconds() + REFRESH_IDLE,
    })
    expect(family!.absoluteExpiresAt).toBe(startedAt + REFRESH_ABSOLUTE)
    clock.advance(REFRESH_IDLE - 1)
    const third = await refreshOk(second.refresh_token)
    clock.advance(REFRESH_IDLE)
    await expectInvalidGrant(third.refresh_token)
    // Expired is not stolen: nothing was revoked, the sign-in simply has to be redone.
    expect((await server.store.listUserRefreshFamilies(userId)).map((f) => f.revokedAt)).toEqual([null])
    await passwordGrant()
  })

  it('ends a family at its absolute expiry, however often it rotates', async () => {
    let current = (await passwordGrant()).refresh_token
    const startedAt = clock.nowSeconds()
    while (clock.nowSeconds() + 500 < startedAt + REFRESH_ABSOLUTE) {
      clock.advance(500)
      current = (await refreshOk(current)).refresh_token
      const [family] = await server.store.listUserRefreshFamilies(userId)
      expect(family!.expiresAt).toBe(
        Math.min(clock.nowSeconds() + REFRESH_IDLE, startedAt + REFRESH_ABSOLUTE),
      )
    }
    clock.set(startedAt + REFRESH_ABSOLUTE - 1)
    current = (await refreshOk(current)).refresh_token
    clock.advance(1)
    await expectInvalidGrant(current)
  })

  it('sweeps expired families from the store, keeping live ones', async () => {
    await passwordGrant()
    clock.advance(REFRESH_IDLE - 100)
    const live = await passwordGrant()
    clock.advance(100)
    await server.auth.sweep()
    const families = await server.store.listUserRefreshFamilies(userId)
    expect(families).toHaveLength(1)
    expect((await refreshOk(live.refresh_token)).refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})
