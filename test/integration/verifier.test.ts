/**
 * The resource-server verifier (`src/verifier/`) against a real Sesame listening on a port, and against a JWKS
 * server the test controls: strict verification, key rotation and removal, the revocation feed (live entries,
 * the snapshot that covers what happened before it connected), the feed's own access rule, and keys a JWKS
 * must not be able to smuggle in.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Verifier, createVerifier } from '../../src/verifier/index.js'
import { createManualClock } from '../helpers/clock.js'
import { freePort } from '../helpers/process.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const FEED_TOKEN = randomBytes(32).toString('base64url')
const EMAIL = 'verified@example.com'
const PASSWORD = 'verifier test phrase'

async function eventually(check: () => boolean, limitMs = 3000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise((done) => setTimeout(done, 10))
  }
}

function refusal(verifier: Verifier, token: string): string | null {
  try {
    verifier.verifyAuthorization(`Bearer ${token}`)
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? 'thrown'
  }
}

describe('verifier against Sesame', () => {
  let server: TestServer
  let issuer: string
  const verifiers: Verifier[] = []
  const start = (options: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier => {
    const verifier = createVerifier({
      issuer,
      audience: issuer,
      revocationFeed: { token: FEED_TOKEN },
      ...options,
    })
    verifiers.push(verifier)
    return verifier
  }

  beforeAll(async () => {
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    server = await startTestServer({
      env: { SESAME_STORE: 'memory', SESAME_ISSUER: issuer, SESAME_REVOCATION_FEED_TOKEN: FEED_TOKEN },
    })
    await server.app.listen({ port, host: '127.0.0.1' })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  })
  afterEach(async () => {
    await Promise.all(verifiers.splice(0).map((verifier) => verifier.close()))
  })
  afterAll(async () => {
    const closing = server.close()
    // Aborting a stream makes undici open a spare connection that never sends a request; Node's close() would
    // wait out its 60 s header timeout for it.
    server.app.server.closeAllConnections()
    await closing
  })

  const grant = async (): Promise<string> =>
    (await server.auth.tokens.grantPassword({ username: EMAIL, password: PASSWORD })).accessToken

  it('verifies Sesame tokens with no request per call, and ignores cookies', async () => {
    const verifier = start()
    await verifier.ready()
    const token = await grant()
    const { principal } = verifier.verifyAuthorization(`Bearer ${token}`)
    expect(principal).toMatchObject({ method: 'token', roles: [] })
    expect(await verifier.authenticate({ cookie: '__Host-sesame=x' } as never)).toBeNull()
    const at = token.length - 5 // a signature character that always changes the signature's bytes
    expect(
      refusal(verifier, `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`),
    ).toBe('invalid_token')
    expect(verifier.status()).toMatchObject({ feed: 'connected' })
  })

  it('refuses tokens for another audience or issuer', async () => {
    const token = await grant()
    const otherAudience = start({ audience: 'https://other.example' })
    const otherIssuer = start({ issuer: `${issuer}/`, jwksUri: `${issuer}/.well-known/jwks.json` })
    await Promise.all([otherAudience.ready(), otherIssuer.ready()])
    expect(refusal(otherAudience, token)).toBe('invalid_token')
    expect(refusal(otherIssuer, token)).toBe('invalid_token') // the exact issuer, trailing slash and all
  })

  it('applies revocations live, and the snapshot covers those made before it connected', async () => {
    const before = await grant()
    const beforePrincipal = server.auth.tokens.authenticateBearer(`Bearer ${before}`).principal
    await server.auth.devices.end(beforePrincipal, beforePrincipal.sessionId)
    const verifier = start()
    await verifier.ready() // keys and the first snapshot
    expect(refusal(verifier, before)).toBe('invalid_token')

    const live = await grant()
    expect(refusal(verifier, live)).toBeNull()
    const livePrincipal = server.auth.tokens.authenticateBearer(`Bearer ${live}`).principal
    await server.auth.devices.endAll(livePrincipal)
    await eventually(() => refusal(verifier, live) !== null)
  })

  it('follows an emergency rotation: an unknown kid triggers a refetch, and the deleted key stops verifying', async () => {
    const verifier = start({ revocationFeed: undefined })
    await verifier.ready()
    const oldToken = await grant()
    await server.auth.tokens.rotateSigningKey({ immediate: true })
    const newToken = await grant()
    expect(refusal(verifier, newToken)).toBe('invalid_token') // not loaded yet; the refetch starts now
    await eventually(() => refusal(verifier, newToken) === null)
    expect(refusal(verifier, oldToken)).toBe('invalid_token') // its key left the JWKS with the rotation
    expect(verifier.status().kids).toHaveLength(1)
  })

  it('follows a staged rotation with no refusal: the new key is in the JWKS before it signs', async () => {
    // Sesame and the verifier on one hand-moved clock, so the activation delay passes without waiting.
    const clock = createManualClock(Math.floor(Date.now() / 1000))
    const staged = await startTestServer({ clock, env: { SESAME_STORE: 'memory' } })
    try {
      await staged.auth.signUp({ email: EMAIL, password: PASSWORD })
      const signIn = async (): Promise<string> =>
        (await staged.auth.tokens.grantPassword({ username: EMAIL, password: PASSWORD })).accessToken
      let fetches = 0
      const jwks = async (): Promise<Response> => {
        fetches++
        return Response.json(staged.auth.tokens.jwks())
      }
      const before = createVerifier({
        issuer: 'http://localhost:3000',
        audience: 'http://localhost:3000',
        fetch: jwks,
        clock,
      })
      verifiers.push(before)
      await before.ready()

      await staged.auth.tokens.rotateSigningKey()
      // Tokens signed right after the rotation verify against the JWKS fetched before it.
      expect(refusal(before, await signIn())).toBeNull()
      // A verifier that fetched after the rotation (as every one has, once its cache has expired) holds both keys,
      // and verifies the new key's first tokens without fetching again.
      const after = createVerifier({
        issuer: 'http://localhost:3000',
        audience: 'http://localhost:3000',
        fetch: jwks,
        clock,
      })
      verifiers.push(after)
      await after.ready()
      expect(after.status().kids).toHaveLength(2)
      clock.advance(360)
      const fetchesBefore = fetches
      const first = await signIn()
      expect(refusal(after, first)).toBeNull()
      expect(fetches).toBe(fetchesBefore)
    } finally {
      await staged.close()
    }
  })

  it('guards the feed with its own secret, and has no feed without one', async () => {
    const refused = async (authorization?: string): Promise<number> => {
      const answer = await fetch(`${issuer}/auth/revocations`, {
        headers: authorization ? { authorization } : {},
      })
      await answer.text() // an unread body keeps undici's connection busy
      return answer.status
    }
    expect(await refused()).toBe(401)
    expect(await refused(`Bearer ${FEED_TOKEN.slice(1)}x`)).toBe(401)
    const stop = new AbortController()
    const opened = await fetch(`${issuer}/auth/revocations`, {
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
      signal: stop.signal,
    })
    expect(opened.status).toBe(200)
    expect(opened.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    stop.abort()

    const plain = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    const answer = await plain.app.inject({
      method: 'GET',
      url: '/auth/revocations',
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
    })
    expect(answer.statusCode).toBe(404)
    await plain.close()
  })

  it('fails closed when asked: refuses every token while the feed is down past maxStalenessSeconds', async () => {
    const token = await grant()
    let feedUp = true
    const verifier = start({
      revocationFeed: { token: FEED_TOKEN, maxStalenessSeconds: 1 },
      fetch: (input, init) =>
        (input instanceof Request ? input.url : input.toString()).endsWith('/auth/revocations') && !feedUp
          ? Promise.reject(new Error('feed unreachable'))
          : fetch(input, init),
    })
    await verifier.ready()
    expect(verifier.status().feed).toBe('connected')
    expect(refusal(verifier, token)).toBeNull()
    feedUp = false
    server.app.server.closeAllConnections() // drops the stream; the reconnects now fail
    await eventually(() => verifier.status().feed === 'disconnected')
    await eventually(() => refusal(verifier, token) === 'invalid_token', 4000)
    feedUp = true
    await eventually(() => refusal(verifier, token) === null, 8000) // back with a fresh snapshot
  })

  it('checks its options at once', () => {
    expect(() => createVerifier({ issuer: 'http://auth.example.com', audience: 'a' })).toThrow(
      'Option "jwksUri" must be an https URL: over plain http anyone on the path could swap the keys (or set "allowInsecureHttp").',
    )
    expect(() =>
      createVerifier({ issuer: 'http://auth.example.com', audience: 'a', allowInsecureHttp: true }).close(),
    ).not.toThrow()
    expect(() => createVerifier({ issuer, audience: issuer, jwksRefreshSeconds: 86_401 })).toThrow(TypeError)
    expect(() => createVerifier({ issuer, audience: issuer, maxTokenLength: 10 })).toThrow(TypeError)
    expect(() => createVerifier({ issuer: 'ftp://x', audience: 'a' })).toThrow(TypeError)
    expect(() => createVerifier({ issuer, audience: '' })).toThrow(TypeError)
    expect(() => createVerifier({ issuer, audience: issuer, leewaySeconds: 61 })).toThrow(TypeError)
    for (const maxTokenLifetimeSeconds of [0, 3601, 1.5]) {
      expect(() => createVerifier({ issuer, audience: issuer, maxTokenLifetimeSeconds })).toThrow(
        new TypeError('Option "maxTokenLifetimeSeconds" must be a whole number from 1 to 3600.'),
      )
    }
    expect(() => createVerifier({ issuer, audience: issuer, revocationFeed: { token: 'short' } })).toThrow(
      TypeError,
    )
  })
})

describe('verifier against a JWKS the test controls', () => {
  let jwksServer: Server
  let jwksUri: string
  let published: JWK[] = []
  const ISSUER = 'https://issuer.example'

  beforeAll(async () => {
    jwksServer = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ keys: published }))
    })
    await new Promise<void>((done) => jwksServer.listen(0, '127.0.0.1', done))
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
  })
  afterAll(async () => {
    jwksServer.closeAllConnections() // fetch keeps connections alive, which close() would wait for
    await new Promise<void>((done) => jwksServer.close(() => done()))
  })

  const claims = () => ({ sid: 'family-1', jti: randomBytes(8).toString('hex'), roles: ['admin'] })
  const sign = (key: Parameters<SignJWT['sign']>[0], header: { alg: string; kid: string; typ?: string }) =>
    new SignJWT(claims())
      .setProtectedHeader({ typ: 'at+jwt', ...header })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key)

  it('refuses a token living longer than maxTokenLifetimeSeconds (3600 by default) plus the leeway', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    published = [{ ...(await exportJWK(publicKey)), kid: 'life', alg: 'ES256', use: 'sig' }]
    const lasting = (seconds: number) =>
      new SignJWT(claims())
        .setProtectedHeader({ typ: 'at+jwt', alg: 'ES256', kid: 'life' })
        .setIssuer(ISSUER)
        .setAudience(ISSUER)
        .setSubject('user-1')
        .setIssuedAt(1_000)
        .setExpirationTime(1_000 + seconds)
        .sign(privateKey)
    const clock = { nowSeconds: () => 1_000 }
    const byDefault = createVerifier({ issuer: ISSUER, audience: ISSUER, jwksUri, clock })
    const sesameLike = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      jwksUri,
      clock,
      maxTokenLifetimeSeconds: 900,
    })
    await Promise.all([byDefault.ready(), sesameLike.ready()])
    try {
      expect(refusal(byDefault, await lasting(3600 + 30))).toBeNull()
      expect(refusal(byDefault, await lasting(3600 + 31))).toBe('invalid_token')
      expect(refusal(byDefault, await lasting(10 * 365 * 86_400))).toBe('invalid_token')
      expect(refusal(sesameLike, await lasting(900 + 30))).toBeNull()
      expect(refusal(sesameLike, await lasting(900 + 31))).toBe('invalid_token')
    } finally {
      await Promise.all([byDefault.close(), sesameLike.close()])
    }
  })

  it('stops accepting a key once it leaves the JWKS', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    published = [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }]
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, jwksUri, jwksRefreshSeconds: 1 })
    await verifier.ready()
    const token = await sign(privateKey, { alg: 'ES256', kid: 'k1' })
    expect(verifier.verifyAuthorization(`Bearer ${token}`).principal.roles).toEqual(['admin'])
    expect(refusal(verifier, await sign(privateKey, { alg: 'ES256', kid: 'k1', typ: 'JWT' }))).toBe(
      'invalid_token',
    )
    published = []
    await eventually(() => refusal(verifier, token) !== null, 4000)
    await verifier.close()
  })

  it('never takes a shared secret from a JWKS, nor lets a public key act as one', async () => {
    const secret = randomBytes(32)
    const { publicKey } = await generateKeyPair('RS256')
    const rsa = { ...(await exportJWK(publicKey)), kid: 'rsa', alg: 'RS256' }
    published = [{ kty: 'oct', k: secret.toString('base64url'), kid: 'oct', alg: 'HS256' }, rsa]
    const verifier = createVerifier({ issuer: ISSUER, audience: ISSUER, jwksUri })
    await verifier.ready()
    expect(verifier.status().kids).toEqual(['rsa'])
    expect(refusal(verifier, await sign(secret, { alg: 'HS256', kid: 'oct' }))).toBe('invalid_token')
    const pemAsSecret = new TextEncoder().encode(JSON.stringify(rsa))
    expect(refusal(verifier, await sign(pemAsSecret, { alg: 'HS256', kid: 'rsa' }))).toBe('invalid_token')
    await verifier.close()
  })

  it('keeps the last keys when the JWKS cannot be fetched', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA')
    published = [{ ...(await exportJWK(publicKey)), kid: 'ed', alg: 'EdDSA' }]
    const errors: unknown[] = []
    let reachable = true
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      jwksUri,
      jwksRefreshSeconds: 1,
      onError: (error) => errors.push(error),
      fetch: (input, init) =>
        reachable ? fetch(input, init) : Promise.reject(new Error('connection refused')),
    })
    await verifier.ready()
    reachable = false
    await eventually(() => errors.length > 0, 4000)
    expect(refusal(verifier, await sign(privateKey, { alg: 'EdDSA', kid: 'ed' }))).toBeNull()
    await verifier.close()
  })
})
