/**
 * An independent verifier: a resource server that knows nothing of Sesame's code, only `jose`, the issuer URL
 * and the JWKS it fetches over real HTTP. Sesame listens on a real port and its issuer is that base URL.
 * Shown for each asymmetric algorithm: Sesame's tokens verify with jose; key rotation is followed (old key
 * verifies until dropped, then its tokens are refused); and the reverse, Sesame accepts what jose signs with
 * Sesame's own key. HS256 too, with the shared secret and an empty JWKS.
 */
import { randomBytes } from 'node:crypto'
import {
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { freePort } from '../helpers/process.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'verifier@example.com'
const PASSWORD = 'resource server pw 1'
const ACCESS_TTL = 900
const LEEWAY = 30
/** The default SESAME_KEY_ACTIVATION_DELAY_SECONDS: the JWKS max-age (300) plus a 60 s margin. */
const ACTIVATION_DELAY = 360
const INVALID_TOKEN = { error: 'invalid_token', error_description: 'The access token is invalid.' }

interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  refresh_token: string
}

interface Running {
  server: TestServer
  clock: ManualClock
  issuer: string
  userId: string
}

/** Sesame over real HTTP on 127.0.0.1, its issuer (and so its audience) the real base URL. */
async function startOverHttp(env: Record<string, string>): Promise<Running> {
  const clock = createManualClock()
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const server = await startTestServer({
    clock,
    env: { PORT: String(port), SESAME_ISSUER: issuer, SESAME_STORE: 'sqlite', ...env },
  })
  await server.app.listen({ port, host: '127.0.0.1' })
  const { id: userId } = await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  return { server, clock, issuer, userId }
}

async function postToken(issuer: string, fields: Record<string, string>): Promise<Response> {
  // A form post, as an ordinary OAuth client sends it (RFC 6749 §4.3.2).
  return fetch(`${issuer}/auth/token`, { method: 'POST', body: new URLSearchParams(fields) })
}

async function passwordGrant(issuer: string): Promise<TokenResponse> {
  const response = await postToken(issuer, { grant_type: 'password', username: EMAIL, password: PASSWORD })
  expect(response.status).toBe(200)
  return (await response.json()) as TokenResponse
}

async function refreshGrant(issuer: string, refreshToken: string): Promise<TokenResponse> {
  const response = await postToken(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken })
  expect(response.status).toBe(200)
  return (await response.json()) as TokenResponse
}

async function me(issuer: string, accessToken: string): Promise<Response> {
  return fetch(`${issuer}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })
}

async function jwksOf(issuer: string): Promise<{ keys: Array<Record<string, unknown>> }> {
  const response = await fetch(`${issuer}/.well-known/jwks.json`)
  expect(response.status).toBe(200)
  return (await response.json()) as { keys: Array<Record<string, unknown>> }
}

/**
 * The resource server: only jose, the issuer, the audience and the JWKS URL. A fresh remote key set per
 * verification, so every check fetches the JWKS as it is now. `at` is the verifier's "now" (the Sesame test
 * clock is not the wall clock).
 */
async function resourceServerVerify(
  issuer: string,
  token: string,
  alg: string,
  at: number,
): Promise<JWTVerifyResult<JWTPayload & { sid?: unknown }>> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`))
  return jwtVerify<JWTPayload & { sid?: unknown }>(token, jwks, {
    issuer,
    audience: issuer,
    typ: 'at+jwt',
    algorithms: [alg],
    requiredClaims: ['sub', 'jti', 'sid', 'iat', 'exp'],
    currentDate: new Date(at * 1000),
  })
}

/** A rejection's jose error code (`ERR_JWKS_NO_MATCHING_KEY`, `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`, ...). */
async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
  throw new Error('expected the verification to fail')
}

function expectAccessClaims(
  result: JWTVerifyResult<JWTPayload & { sid?: unknown }>,
  running: Running,
  alg: string,
  issuedAt: number,
): void {
  expect(result.protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: expect.any(String) })
  expect(result.protectedHeader.kid).not.toBe('')
  const { payload } = result
  expect(payload).toMatchObject({ iss: running.issuer, aud: running.issuer, sub: running.userId })
  expect(payload.sid).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{22}$/))
  expect(payload.jti).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{22}$/))
  expect(payload.iat).toBe(issuedAt)
  expect(payload.exp! - payload.iat!).toBe(ACCESS_TTL)
}

describe.each(['ES256', 'EdDSA', 'RS256'] as const)('an independent jose resource server (%s)', (alg) => {
  let running: Running

  beforeAll(async () => {
    running = await startOverHttp({ SESAME_JWT_ALG: alg })
  })
  afterAll(() => running.server.close())

  it('finds the JWKS through RFC 8414 metadata; it holds one public key of this algorithm', async () => {
    const { issuer } = running
    const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string
      jwks_uri: string
      token_endpoint: string
    }
    expect(metadata).toMatchObject({
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      token_endpoint: `${issuer}/auth/token`,
    })
    const { keys } = await jwksOf(issuer)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ alg, use: 'sig', kid: expect.any(String) })
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(keys[0]).not.toHaveProperty(member)
  })

  it('accepts a token from POST /auth/token with the expected claims and header', async () => {
    const { issuer, clock } = running
    const issuedAt = clock.nowSeconds()
    const grant = await passwordGrant(issuer)
    expect(grant).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TTL })

    const result = await resourceServerVerify(issuer, grant.access_token, alg, clock.nowSeconds())
    expectAccessClaims(result, running, alg, issuedAt)
    const { keys } = await jwksOf(issuer)
    expect(keys.map((key) => key.kid)).toContain(result.protectedHeader.kid)

    // A verifier for another audience, or expecting another issuer, refuses it.
    await expect(
      jwtVerify(grant.access_token, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
        issuer,
        audience: 'https://some-other-api.example',
        algorithms: [alg],
        currentDate: new Date(clock.nowSeconds() * 1000),
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' })
    await expect(
      jwtVerify(grant.access_token, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
        issuer: 'https://impostor.example',
        audience: issuer,
        algorithms: [alg],
        currentDate: new Date(clock.nowSeconds() * 1000),
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' })
  })

  it('follows a staged rotation: new tokens never name a key a cached JWKS lacks, and the old key leaves only when its tokens have expired', async () => {
    const { server, issuer, clock } = running
    const jwksUrl = new URL(`${issuer}/.well-known/jwks.json`)
    const old = await passwordGrant(issuer)
    const oldIssuedAt = clock.nowSeconds()
    const oldKid = decodeProtectedHeader(old.access_token).kid!
    const verifyWith = (jwks: ReturnType<typeof createRemoteJWKSet>, token: string) =>
      jwtVerify(token, jwks, {
        issuer,
        audience: issuer,
        typ: 'at+jwt',
        algorithms: [alg],
        currentDate: new Date(clock.nowSeconds() * 1000),
      })

    // Verifiers that fetched the JWKS just before the rotation: one with jose's default 30 s cooldown between
    // refetches (it would refuse an unknown kid for up to 30 s), one that refetches on any unknown kid.
    const cached = createRemoteJWKSet(jwksUrl)
    const longLived = createRemoteJWKSet(jwksUrl, { cooldownDuration: 0 })
    await verifyWith(cached, old.access_token)
    await verifyWith(longLived, old.access_token)

    const newKid = await server.auth.tokens.rotateSigningKey()
    expect(newKid).not.toBe(oldKid)
    expect((await jwksOf(issuer)).keys.map((key) => key.kid).sort()).toEqual([oldKid, newKid].sort())
    // Right after the rotation tokens are still signed by the key every earlier JWKS holds: no refusal anywhere.
    const rotated = await refreshGrant(issuer, old.refresh_token)
    expect(decodeProtectedHeader(rotated.access_token).kid).toBe(oldKid)
    expect((await verifyWith(cached, rotated.access_token)).protectedHeader.kid).toBe(oldKid)

    // After the activation delay (longer than the JWKS max-age, so every cache has refetched by then) the new
    // key signs; a verifier still holding a pre-rotation JWKS fetches it on the unknown kid.
    clock.advance(ACTIVATION_DELAY)
    const activated = await refreshGrant(issuer, rotated.refresh_token)
    expect(decodeProtectedHeader(activated.access_token).kid).toBe(newKid)
    expect((await verifyWith(longLived, activated.access_token)).protectedHeader.kid).toBe(newKid)
    expect((await verifyWith(longLived, old.access_token)).protectedHeader.kid).toBe(oldKid)
    await resourceServerVerify(issuer, old.access_token, alg, clock.nowSeconds())
    await resourceServerVerify(issuer, activated.access_token, alg, clock.nowSeconds())

    // The old key retired at the activation; past the access-token lifetime plus leeway after that it is dropped.
    clock.advance(ACCESS_TTL + LEEWAY + 1)
    await server.auth.tokens.reload()
    expect((await jwksOf(issuer)).keys.map((key) => key.kid)).toEqual([newKid])

    // The old token is refused for its key alone: verified "as of" its issue time, when it was not expired.
    expect(await rejectionCode(resourceServerVerify(issuer, old.access_token, alg, oldIssuedAt))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    const fresh = await refreshGrant(issuer, activated.refresh_token)
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid)
    const result = await resourceServerVerify(issuer, fresh.access_token, alg, clock.nowSeconds())
    expectAccessClaims(result, running, alg, clock.nowSeconds())
    expect((await me(issuer, fresh.access_token)).status).toBe(200)
    const oldAtSesame = await me(issuer, old.access_token)
    expect(oldAtSesame.status).toBe(401)
    expect(await oldAtSesame.json()).toEqual(INVALID_TOKEN)
  })

  it('accepts, at GET /auth/me, a token jose signed with its own current private key', async () => {
    const { server, issuer, clock, userId } = running
    const current = (await server.store.listSigningKeys()).find((key) => key.retiredAt === null)!
    expect(current.alg).toBe(alg)
    const privateJwk = JSON.parse(current.privateJwk) as JWK
    const privateKey = await importJWK(privateJwk, alg)
    const { sid } = decodeJwt<{ sid: string }>((await passwordGrant(issuer)).access_token)
    const now = clock.nowSeconds()
    const sign = (key: Parameters<SignJWT['sign']>[0], kid: string) =>
      new SignJWT({ sid, roles: [] })
        .setProtectedHeader({ alg, typ: 'at+jwt', kid })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(userId)
        .setJti(randomBytes(16).toString('base64url'))
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(key)

    const token = await sign(privateKey, current.kid)
    const response = await me(issuer, token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      user: { id: userId, email: EMAIL },
      session: { id: sid, method: 'token', expires_at: new Date((now + 300) * 1000).toISOString() },
    })

    // Control: the same claims under a key Sesame does not hold (same algorithm, its own kid) are refused.
    const stranger = await generateKeyPair(alg, { extractable: true })
    const strangerKid = `${current.kid.slice(0, -4)}XXXX`
    expect(strangerKid).not.toBe(current.kid)
    const refused = await me(issuer, await sign(stranger.privateKey, strangerKid))
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    expect(await refused.json()).toEqual(INVALID_TOKEN)
    // ...and so is a forgery naming Sesame's kid but signed by the stranger.
    const forged = await me(issuer, await sign(stranger.privateKey, current.kid))
    expect(forged.status).toBe(401)
    expect(await forged.json()).toEqual(INVALID_TOKEN)
  })
})

describe('an independent jose resource server (HS256, shared secret)', () => {
  const secret = randomBytes(32)
  let running: Running

  beforeAll(async () => {
    running = await startOverHttp({
      SESAME_JWT_ALG: 'HS256',
      SESAME_JWT_SECRET: secret.toString('base64url'),
    })
  })
  afterAll(() => running.server.close())

  it('publishes an empty JWKS (the key is a shared secret)', async () => {
    expect(await jwksOf(running.issuer)).toEqual({ keys: [] })
  })

  it('issues tokens that jose verifies with the shared secret, and no other', async () => {
    const { issuer, clock } = running
    const issuedAt = clock.nowSeconds()
    const grant = await passwordGrant(issuer)
    const options = {
      issuer,
      audience: issuer,
      typ: 'at+jwt',
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'jti', 'sid', 'iat', 'exp'],
      currentDate: new Date(clock.nowSeconds() * 1000),
    }
    const result = await jwtVerify<JWTPayload & { sid?: unknown }>(
      grant.access_token,
      new Uint8Array(secret),
      options,
    )
    expectAccessClaims(result, running, 'HS256', issuedAt)
    expect(await rejectionCode(jwtVerify(grant.access_token, new Uint8Array(randomBytes(32)), options))).toBe(
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    )
  })

  it('accepts, at GET /auth/me, a token jose signed with the shared secret', async () => {
    const { issuer, clock, userId } = running
    const issued = (await passwordGrant(issuer)).access_token
    const { kid } = decodeProtectedHeader(issued)
    const { sid } = decodeJwt<{ sid: string }>(issued)
    const now = clock.nowSeconds()
    const token = await new SignJWT({ sid, roles: [] })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: kid! })
      .setIssuer(issuer)
      .setAudience(issuer)
      .setSubject(userId)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new Uint8Array(secret))
    const response = await me(issuer, token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      user: { id: userId },
      session: { id: sid, method: 'token' },
    })
  })

  it('refuses to rotate a key it does not own', async () => {
    await expect(running.server.auth.tokens.rotateSigningKey()).rejects.toThrow(TypeError)
  })
})
