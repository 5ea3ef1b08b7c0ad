/**
 * The JWT attack corpus (issue 5, "Must show"), sent over HTTP to `GET /auth/me`. Every attack starts from a
 * token that is almost valid: built from Sesame's own signing key (read from the store), so exactly one thing
 * is wrong with it. Each must answer 401 with the one bearer error body and challenge, never 500. The
 * "validly signed but bad claims" tokens carry a real signature, so only the claim check can refuse them.
 *
 * Rules asserted, from src/core/access-token.ts: times must be finite JSON numbers (a fraction is fine),
 * `exp <= now - leeway` is expired, `nbf`/`iat` may be at most `leeway` in the future; `typ` is `at+jwt` or
 * `application/at+jwt`, compared case-insensitively; `aud` is the audience or an array containing it.
 */
import {
  type KeyObject,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
} from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { type JWK, calculateJwkThumbprint, decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { cookiePair, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const EMAIL = 'victim@example.com'
const PASSWORD = 'victim password 1'
const LEEWAY = 30
const MAX_TOKEN_LENGTH = 4096
const ES256_SIGNATURE_CHARS = 86 // 64 bytes, unpadded base64url
const INVALID_TOKEN = { error: 'invalid_token', error_description: 'The access token is invalid.' }
const CHALLENGE = 'Bearer error="invalid_token"'

type Signer = (signingInput: string) => Buffer

function b64(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url')
}

function segmentsOf(token: string): [string, string, string] {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error(`expected three segments, got ${parts.length}`)
  return parts as [string, string, string]
}

/** `header.payload.signature` from JSON texts (kept as text, so duplicates and `1e999` survive). */
function compact(headerJson: string, payloadJson: string, signer: Signer): string {
  const signingInput = `${b64(headerJson)}.${b64(payloadJson)}`
  return `${signingInput}.${b64(signer(signingInput))}`
}

function es256With(key: KeyObject): Signer {
  return (input) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
}

function hs256With(secret: string | Buffer): Signer {
  return (input) => createHmac('sha256', secret).update(input).digest()
}

const attacker = {
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed25519: generateKeyPairSync('ed25519'),
}

describe('JWT attack corpus against GET /auth/me', () => {
  let server: TestServer
  let clock: ManualClock
  let now: number
  let userId: string
  let kid: string
  let realKey: Signer
  let publicKey: KeyObject
  let publishedJwk: Record<string, unknown>
  let issuer: string
  let audience: string
  let issued: { access: string; refresh: string; sid: string }
  let sessionCookie: string
  let jtiCounter = 0

  beforeAll(async () => {
    clock = createManualClock()
    now = clock.nowSeconds()
    server = await startTestServer({ clock, env: { SESAME_STORE: 'memory' } })
    userId = (await server.auth.signUp({ email: EMAIL, password: PASSWORD })).id
    const keys = await server.store.listSigningKeys()
    expect(keys).toHaveLength(1)
    expect(keys[0]!.alg).toBe('ES256')
    kid = keys[0]!.kid
    const privateKey = createPrivateKey({ key: JSON.parse(keys[0]!.privateJwk) as JWK, format: 'jwk' })
    realKey = es256With(privateKey)
    publicKey = createPublicKey(privateKey)
    const jwks = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    publishedJwk = jwks.json<{ keys: Array<Record<string, unknown>> }>().keys[0]!
    issuer = server.auth.config.tokens!.issuer
    audience = server.auth.config.tokens!.audience

    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: SAME_ORIGIN,
      payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
    })
    expect(grant.statusCode).toBe(200)
    const body = grant.json<{ access_token: string; refresh_token: string }>()
    issued = {
      access: body.access_token,
      refresh: body.refresh_token,
      sid: decodeJwt(body.access_token).sid as string,
    }
    const login = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: EMAIL, password: PASSWORD },
    })
    expect(login.statusCode).toBe(200)
    sessionCookie = cookiePair(login.headers['set-cookie'])
  })
  afterAll(() => server.close())

  function header(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { alg: 'ES256', typ: 'at+jwt', kid, ...extra }
  }

  /** Claims as Sesame issues them (a fresh jti each time, so the verified-token cache never helps). */
  function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      iss: issuer,
      sub: userId,
      aud: audience,
      exp: now + 900,
      iat: now,
      jti: `attack-${++jtiCounter}`,
      sid: issued.sid,
      roles: [],
      ...extra,
    }
  }

  function without(object: Record<string, unknown>, member: string): Record<string, unknown> {
    const { [member]: _dropped, ...rest } = object
    return rest
  }

  /** A token with this header and these claims, signed with Sesame's real key. */
  function real(headerObject = header(), claimObject = claims()): string {
    return compact(JSON.stringify(headerObject), JSON.stringify(claimObject), realKey)
  }

  /** Claims JSON with one member's value spliced in as raw text (`1e999`, nested arrays, ...). */
  function claimsWithRaw(member: string, rawValue: string): string {
    const text = JSON.stringify(without(claims(), member))
    return `${text.slice(0, -1)},${JSON.stringify(member)}:${rawValue}}`
  }

  function me(authorization: string) {
    return server.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization } })
  }

  async function expectAccepted(token: string): Promise<void> {
    const response = await me(`Bearer ${token}`)
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({
      user: { id: userId, email: EMAIL },
      session: { method: 'token' },
    })
  }

  async function expectRefused(token: string, scheme = 'Bearer '): Promise<void> {
    const response = await me(`${scheme}${token}`)
    expect(response.statusCode, response.body).toBe(401)
    expect(response.json()).toEqual(INVALID_TOKEN)
    expect(response.headers['www-authenticate']).toBe(CHALLENGE)
  }

  describe('controls: the harness builds tokens Sesame accepts', () => {
    it('accepts the token Sesame issued', () => expectAccepted(issued.access))

    it('accepts a token built here with the real key and the claims Sesame issues', () =>
      expectAccepted(real()))

    it.each([
      ['at+JWT', 'at+JWT'],
      ['AT+JWT', 'AT+JWT'],
      ['application/at+jwt', 'application/at+jwt'],
      ['Application/AT+JWT', 'Application/AT+JWT'],
    ])('accepts typ %s (RFC 9068 §4: compared case-insensitively)', (_name, typ) =>
      expectAccepted(real(header({ typ }))),
    )

    it('accepts an aud array that contains the audience (RFC 7519 §4.1.3)', () =>
      expectAccepted(real(header(), claims({ aud: ['https://other.example', audience] }))))
  })

  describe('alg "none" in every spelling', () => {
    const spellings = ['none', 'None', 'NONE', 'nOnE']
    const shapes: Array<[string, (h: string, p: string, s: string) => string]> = [
      ['with an empty signature segment', (h, p) => `${h}.${p}.`],
      ['without a signature segment', (h, p) => `${h}.${p}`],
      ['with a real signature segment', (h, p, s) => `${h}.${p}.${s}`],
    ]
    const cases = spellings.flatMap((alg) =>
      shapes.flatMap(([shape, build]) =>
        [true, false].map(
          (withKid) => [`${alg} ${shape}${withKid ? '' : ', no kid'}`, alg, build, withKid] as const,
        ),
      ),
    )
    it.each(cases)('refuses alg %s', async (_name, alg, build, withKid) => {
      const h = b64(JSON.stringify(withKid ? header({ alg }) : without(header({ alg }), 'kid')))
      const p = b64(JSON.stringify(claims()))
      const s = b64(realKey(`${h}.${p}`))
      await expectRefused(build(h, p, s))
    })
  })

  describe('the public key used as an HMAC secret (algorithm confusion)', () => {
    const secrets: Array<[string, () => string | Buffer]> = [
      [
        'the SPKI PEM as exported (trailing newline)',
        () => publicKey.export({ type: 'spki', format: 'pem' }),
      ],
      [
        'the SPKI PEM without its trailing newline',
        () => publicKey.export({ type: 'spki', format: 'pem' }).toString().trimEnd(),
      ],
      [
        'the SPKI PEM with CRLF line ends',
        () => publicKey.export({ type: 'spki', format: 'pem' }).toString().replace(/\n/g, '\r\n'),
      ],
      ['the SPKI DER bytes', () => publicKey.export({ type: 'spki', format: 'der' })],
      ['the published JWK as JSON text', () => JSON.stringify(publishedJwk)],
      ['the JWK exported by node as JSON text', () => JSON.stringify(publicKey.export({ format: 'jwk' }))],
      [
        'the x||y coordinate bytes',
        () =>
          Buffer.concat([
            Buffer.from(publishedJwk.x as string, 'base64url'),
            Buffer.from(publishedJwk.y as string, 'base64url'),
          ]),
      ],
      [
        'the uncompressed point 04||x||y',
        () =>
          Buffer.concat([
            Buffer.from([4]),
            Buffer.from(publishedJwk.x as string, 'base64url'),
            Buffer.from(publishedJwk.y as string, 'base64url'),
          ]),
      ],
      ['the x coordinate as base64url text', () => publishedJwk.x as string],
      ['the kid', () => kid],
    ]
    it.each(secrets)('refuses HS256 keyed with %s', async (_name, secret) => {
      await expectRefused(
        compact(JSON.stringify(header({ alg: 'HS256' })), JSON.stringify(claims()), hs256With(secret())),
      )
    })
  })

  describe('kid injection', () => {
    const injected: Array<[string, () => unknown]> = [
      ['a path traversal to /dev/null', () => '../../../../../../../../dev/null'],
      ['an absolute path', () => '/dev/null'],
      ['a Windows path traversal', () => '..\\..\\..\\windows\\win.ini'],
      ['SQL quotes', () => "' OR '1'='1"],
      ['a SQL comment after the real kid', () => `${kid}' -- `],
      ['a statement after the real kid', () => `${kid}"; DROP TABLE signing_keys; --`],
      ['a NUL after the real kid', () => `${kid}\u0000`],
      ['the real kid with a trailing space', () => `${kid} `],
      ['the real kid in upper case', () => kid.toUpperCase()],
      ['a wildcard', () => '*'],
      ['__proto__', () => '__proto__'],
      ['constructor', () => 'constructor'],
      ['toString', () => 'toString'],
      ['an empty kid', () => ''],
      ['a number', () => 7],
      ['null', () => null],
      ['true', () => true],
      ['an array holding the real kid', () => [kid]],
      ['an object holding the real kid', () => ({ kid })],
    ]
    it.each(injected)('refuses a real-key ES256 token whose kid is %s', async (_name, value) => {
      await expectRefused(real(header({ kid: value() })))
    })

    it('refuses a real-key token without kid', () => expectRefused(real(without(header(), 'kid'))))

    it('refuses HS256 with kid /dev/null keyed with the empty secret', async () => {
      for (const path of ['/dev/null', '../../../../../../dev/null']) {
        const token = compact(
          JSON.stringify(header({ alg: 'HS256', kid: path })),
          JSON.stringify(claims()),
          hs256With(Buffer.alloc(0)),
        )
        await expectRefused(token)
      }
    })

    it('refuses HS256 with a SQL UNION kid keyed with the value it would select', async () => {
      const token = compact(
        JSON.stringify(header({ alg: 'HS256', kid: "x' UNION SELECT 'attacker-secret' --" })),
        JSON.stringify(claims()),
        hs256With('attacker-secret'),
      )
      await expectRefused(token)
    })

    it("refuses a kid of another key: the attacker's own key, signed by it or by Sesame's", async () => {
      const attackerKid = await calculateJwkThumbprint(attacker.ec.publicKey.export({ format: 'jwk' }))
      const claimsJson = JSON.stringify(claims())
      await expectRefused(
        compact(JSON.stringify(header({ kid: attackerKid })), claimsJson, es256With(attacker.ec.privateKey)),
      )
      await expectRefused(compact(JSON.stringify(header({ kid: attackerKid })), claimsJson, realKey))
      // Sesame's kid, the attacker's signature:
      await expectRefused(compact(JSON.stringify(header()), claimsJson, es256With(attacker.ec.privateKey)))
    })
  })

  describe('header members that choose the key or change processing', () => {
    const attackerJwk = (): Record<string, unknown> => ({
      ...(attacker.ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      alg: 'ES256',
      use: 'sig',
    })
    const members: Array<[string, () => unknown]> = [
      ['jku', () => 'https://attacker.example/.well-known/jwks.json'],
      ['x5u', () => 'https://attacker.example/cert.pem'],
      ['jwk', attackerJwk],
      ['x5c', () => [attacker.ec.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')]],
      ['x5t', () => 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['x5t#S256', () => 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['crit (exp)', () => ['exp']],
      ['crit (an unknown extension)', () => ['x-sesame-unknown']],
      ['crit (empty)', () => []],
      ['b64 false', () => false],
      ['b64 true', () => true],
      ['zip', () => 'DEF'],
      ['enc', () => 'A256GCM'],
    ]
    const cases = members.flatMap(([name, value]) => [
      [`${name}, signed with Sesame's real key`, name.split(' ')[0]!, value, 'real'] as const,
      [`${name}, signed with the attacker's key`, name.split(' ')[0]!, value, 'attacker'] as const,
    ])
    it.each(cases)('refuses %s', async (_name, member, value, signer) => {
      const extra: Record<string, unknown> = { [member]: value() }
      if (member === 'crit') extra['x-sesame-unknown'] = true
      await expectRefused(
        compact(
          JSON.stringify(header(extra)),
          JSON.stringify(claims()),
          signer === 'real' ? realKey : es256With(attacker.ec.privateKey),
        ),
      )
    })

    it('refuses the embedded-jwk attack with the kid of the embedded key', async () => {
      const jwk = attacker.ec.publicKey.export({ format: 'jwk' }) as JWK
      const attackerKid = await calculateJwkThumbprint(jwk)
      await expectRefused(
        compact(
          JSON.stringify(header({ kid: attackerKid, jwk })),
          JSON.stringify(claims()),
          es256With(attacker.ec.privateKey),
        ),
      )
    })

    it('refuses b64:false with crit (RFC 7797), attached and detached', async () => {
      const h = b64(JSON.stringify(header({ b64: false, crit: ['b64'] })))
      const payload = JSON.stringify(claims())
      const signature = b64(realKey(`${h}.${payload}`)) // RFC 7797: the payload is signed unencoded
      await expectRefused(`${h}..${signature}`)
      await expectRefused(`${h}.${payload}.${signature}`)
      await expectRefused(`${h}.${b64(payload)}.${signature}`)
    })
  })

  describe('signature forgeries', () => {
    function parts(): [string, string, string] {
      return segmentsOf(real())
    }

    it('refuses an ES256 signature of 64 zero bytes (CVE-2022-21449)', async () => {
      const [h, p] = parts()
      await expectRefused(`${h}.${p}.${b64(Buffer.alloc(64))}`)
    })

    it('refuses r = s = n (the group order)', async () => {
      const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')
      const [h, p] = parts()
      await expectRefused(`${h}.${p}.${b64(Buffer.concat([n, n]))}`)
    })

    it('refuses a DER-encoded signature that is otherwise valid', async () => {
      const [h, p] = parts()
      const privateJwk = JSON.parse((await server.store.listSigningKeys())[0]!.privateJwk) as JWK
      const der = sign('sha256', Buffer.from(`${h}.${p}`), {
        key: createPrivateKey({ key: privateJwk, format: 'jwk' }),
        dsaEncoding: 'der',
      })
      expect(der[0]).toBe(0x30)
      await expectRefused(`${h}.${p}.${b64(der)}`)
    })

    it('refuses a stripped signature (empty third segment)', async () => {
      const [h, p] = parts()
      await expectRefused(`${h}.${p}.`)
    })

    it('refuses a signature truncated, extended, or with one bit flipped', async () => {
      const [h, p, s] = parts()
      const bytes = Buffer.from(s, 'base64url')
      const flipped = Buffer.from(bytes)
      flipped[10] = flipped[10]! ^ 0x01
      for (const mangled of [bytes.subarray(0, 63), Buffer.concat([bytes, Buffer.alloc(1)]), flipped]) {
        await expectRefused(`${h}.${p}.${b64(mangled)}`)
      }
    })

    it("refuses another token's valid signature", async () => {
      const [h, p] = parts()
      const [, , otherSignature] = parts() // same key and header, other claims (another jti)
      await expectRefused(`${h}.${p}.${otherSignature}`)
      const [, , issuedSignature] = segmentsOf(issued.access)
      await expectRefused(`${h}.${p}.${issuedSignature}`)
    })

    it('refuses a tampered payload under the issued signature (sub, roles, exp)', async () => {
      const [h, p, s] = segmentsOf(issued.access)
      const issuedClaims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>
      for (const change of [{ sub: 'admin' }, { roles: ['admin'] }, { exp: now + 86_400 }]) {
        await expectRefused(`${h}.${b64(JSON.stringify({ ...issuedClaims, ...change }))}.${s}`)
      }
    })
  })

  describe('algorithm swaps on an ES256 key', () => {
    const swaps: Array<[string, () => { alg: unknown; signer: Signer }]> = [
      ['HS256 keyed with a random secret', () => ({ alg: 'HS256', signer: hs256With(Buffer.alloc(32, 7)) })],
      [
        'RS256 signed with an attacker RSA key',
        () => ({
          alg: 'RS256',
          signer: (input) => sign('sha256', Buffer.from(input), attacker.rsa.privateKey),
        }),
      ],
      [
        'EdDSA signed with an attacker Ed25519 key',
        () => ({
          alg: 'EdDSA',
          signer: (input) => sign(null, Buffer.from(input), attacker.ed25519.privateKey),
        }),
      ],
      ['HS256 carrying a real ES256 signature', () => ({ alg: 'HS256', signer: realKey })],
      ['RS256 carrying a real ES256 signature', () => ({ alg: 'RS256', signer: realKey })],
      ['EdDSA carrying a real ES256 signature (also 64 bytes)', () => ({ alg: 'EdDSA', signer: realKey })],
      ['ES384', () => ({ alg: 'ES384', signer: realKey })],
      ['ES512', () => ({ alg: 'ES512', signer: realKey })],
      ['PS256', () => ({ alg: 'PS256', signer: realKey })],
      ['HS512', () => ({ alg: 'HS512', signer: realKey })],
      ['es256 (wrong case)', () => ({ alg: 'es256', signer: realKey })],
      ['"ES256 " (trailing space)', () => ({ alg: 'ES256 ', signer: realKey })],
      ['["ES256"] (an array)', () => ({ alg: ['ES256'], signer: realKey })],
      ['null', () => ({ alg: null, signer: realKey })],
      ['missing', () => ({ alg: undefined, signer: realKey })],
    ]
    it.each(swaps)('refuses alg %s', async (_name, swap) => {
      const { alg, signer } = swap()
      await expectRefused(compact(JSON.stringify(header({ alg })), JSON.stringify(claims()), signer))
    })
  })

  describe('structure', () => {
    it.each([
      ['four segments', (t: string) => `${t}.${segmentsOf(t)[2]}`],
      ['five segments (JWE-shaped)', (t: string) => `${t}.${segmentsOf(t)[2]}.${segmentsOf(t)[2]}`],
      ['a trailing dot', (t: string) => `${t}.`],
      ['a leading dot', (t: string) => `.${t}`],
      ['two segments', (t: string) => t.slice(0, t.lastIndexOf('.'))],
      ['one segment', (t: string) => segmentsOf(t)[0]],
      ['an empty payload segment', (t: string) => `${segmentsOf(t)[0]}..${segmentsOf(t)[2]}`],
      ['only dots', () => '..'],
      ['a space inside', (t: string) => `${t.slice(0, 20)} ${t.slice(20)}`],
      ['a comma-joined second token', (t: string) => `${t},${t}`],
    ])('refuses %s', async (_name, mangle) => {
      await expectRefused(mangle(real()))
    })
  })

  describe('non-canonical base64url', () => {
    /**
     * A valid token whose three segments each end with spare bits (length 2 or 3 mod 4) and contain `-` or
     * `_`, so every non-canonical spelling is possible. Found by varying a harmless header member and claim.
     */
    function spareBitToken(): string {
      for (let nonce = 0; nonce < 10_000; nonce++) {
        const h = b64(JSON.stringify(header({ n: 'n'.repeat(nonce % 7) + '?>'.repeat(nonce % 5) })))
        const p = b64(
          JSON.stringify(claims({ x: '?>'.repeat(Math.floor(nonce / 35)) + 'x'.repeat(nonce % 3) })),
        )
        if (h.length % 4 < 2 || p.length % 4 < 2 || !/[-_]/.test(h) || !/[-_]/.test(p)) continue
        for (let attempt = 0; attempt < 50; attempt++) {
          const s = b64(realKey(`${h}.${p}`)) // ECDSA is randomised: try until the signature has - or _
          if (/[-_]/.test(s)) return `${h}.${p}.${s}`
        }
      }
      throw new Error('no spare-bit token found')
    }

    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const mangles: Array<[string, (segment: string) => string]> = [
      ['padded with =', (s) => s + '='.repeat((4 - (s.length % 4)) % 4)],
      ['in the standard alphabet (+ /)', (s) => s.replace(/-/g, '+').replace(/_/g, '/')],
      [
        'with stray bits in its last character',
        (s) => s.slice(0, -1) + ALPHABET[ALPHABET.indexOf(s.at(-1)!) + 1]!,
      ],
      ['with a ~ inserted (skipped by lenient decoders)', (s) => `${s.slice(0, 4)}~${s.slice(4)}`],
    ]
    const cases = (['header', 'payload', 'signature'] as const).flatMap((segment, index) =>
      mangles.map(([name, mangle]) => [`the ${segment} segment ${name}`, index, mangle] as const),
    )

    it('the unmangled spare-bit token is accepted', () => expectAccepted(spareBitToken()))

    it.each(cases)('refuses %s', async (_name, index, mangle) => {
      const parts = segmentsOf(spareBitToken())
      const mangled = mangle(parts[index]!)
      expect(mangled).not.toBe(parts[index])
      // Lenient decoding would see the same bytes: only the spelling is wrong.
      expect(Buffer.from(mangled, 'base64url')).toEqual(Buffer.from(parts[index]!, 'base64url'))
      parts[index] = mangled
      // The signature covers the segments as spelled, so a mangled header or payload is signed again with the
      // real key: then only the decoder's strictness can refuse it.
      if (index < 2) parts[2] = b64(realKey(`${parts[0]}.${parts[1]}`))
      await expectRefused(parts.join('.'))
    })
  })

  describe('duplicate JSON members', () => {
    const headerCases: Array<[string, () => string]> = [
      ['alg twice', () => `{"alg":"HS256","typ":"at+jwt","kid":"${kid}","alg":"ES256"}`],
      ['kid twice', () => `{"alg":"ES256","typ":"at+jwt","kid":"other","kid":"${kid}"}`],
      ['typ twice', () => `{"alg":"ES256","typ":"JWT","kid":"${kid}","typ":"at+jwt"}`],
      ['alg twice, once escaped', () => `{"alg":"ES256","typ":"at+jwt","kid":"${kid}","\\u0061lg":"ES256"}`],
      [
        'the same member twice with the same value',
        () => `{"alg":"ES256","typ":"at+jwt","kid":"${kid}","kid":"${kid}"}`,
      ],
    ]
    it.each(headerCases)('refuses a real-key token whose header has %s', async (_name, headerJson) => {
      await expectRefused(compact(headerJson(), JSON.stringify(claims()), realKey))
    })

    const claimCases: Array<[string, () => string]> = [
      [
        'exp twice (expired, then valid: last wins in JSON.parse)',
        () => claimsWithRaw('exp', `${now - 3600},"exp":${now + 900}`),
      ],
      ['sub twice', () => claimsWithRaw('sub', `"someone-else","sub":${JSON.stringify(userId)}`)],
      ['aud twice', () => claimsWithRaw('aud', `"https://other.example","aud":${JSON.stringify(audience)}`)],
      ['iss twice', () => claimsWithRaw('iss', `"https://evil.example","iss":${JSON.stringify(issuer)}`)],
      ['exp twice, once escaped', () => `${JSON.stringify(claims()).slice(0, -1)},"\\u0065xp":${now + 900}}`],
      ['a duplicate inside a nested object', () => claimsWithRaw('x', '{"a":1,"a":2}')],
    ]
    it.each(claimCases)('refuses a real-key token whose payload has %s', async (_name, payloadJson) => {
      await expectRefused(compact(JSON.stringify(header()), payloadJson(), realKey))
    })
  })

  describe('size and nesting', () => {
    /** A real-key token of exactly `length` characters, sized by a padding claim (and header member). */
    function tokenOfLength(length: number): string {
      for (let headerPad = 0; headerPad < 4; headerPad++) {
        const headerJson = JSON.stringify(header({ p: 'p'.repeat(headerPad) }))
        const payloadChars = length - b64(headerJson).length - 2 - ES256_SIGNATURE_CHARS
        const base = claims({ pad: '' })
        const baseLength = JSON.stringify(base).length
        for (let pad = 0; pad <= payloadChars; pad++) {
          if (Math.ceil(((baseLength + pad) * 4) / 3) !== payloadChars) continue
          const token = compact(headerJson, JSON.stringify({ ...base, pad: 'x'.repeat(pad) }), realKey)
          expect(token).toHaveLength(length)
          return token
        }
      }
      throw new Error(`no token of length ${length}`)
    }

    it(`accepts a real token of exactly ${MAX_TOKEN_LENGTH} characters`, () =>
      expectAccepted(tokenOfLength(MAX_TOKEN_LENGTH)))

    it.each([MAX_TOKEN_LENGTH + 1, MAX_TOKEN_LENGTH + 3, 8192, 60_000])(
      'refuses a real-key token of %i characters',
      (length) => expectRefused(tokenOfLength(length)),
    )

    it('refuses a 100,000-character token of dots and letters', async () => {
      await expectRefused('A.'.repeat(50_000))
      await expectRefused(`${'A'.repeat(50_000)}.${'B'.repeat(50_000)}.C`)
    })

    /** The deepest `[[...]]` that keeps `build(depth)` within the size cap. */
    function deepest(build: (nested: string) => string): string {
      let depth = 1
      while (build('['.repeat(depth * 2) + ']'.repeat(depth * 2)).length <= MAX_TOKEN_LENGTH) depth *= 2
      let low = depth
      let high = depth * 2
      while (high - low > 1) {
        const mid = Math.floor((low + high) / 2)
        if (build('['.repeat(mid) + ']'.repeat(mid)).length <= MAX_TOKEN_LENGTH) low = mid
        else high = mid
      }
      const token = build('['.repeat(low) + ']'.repeat(low))
      expect(low).toBeGreaterThan(500)
      return token
    }

    it('refuses a deeply nested header member under a signature that does not match', async () => {
      const [, , otherSignature] = segmentsOf(real())
      const claimsSegment = b64(JSON.stringify(claims()))
      await expectRefused(
        deepest((nested) => {
          const h = b64(`{"alg":"ES256","typ":"at+jwt","kid":"${kid}","n":${nested}}`)
          return `${h}.${claimsSegment}.${otherSignature}`
        }),
      )
    })

    it('refuses a real-key token whose kid is deeply nested', async () => {
      await expectRefused(
        deepest((nested) =>
          compact(`{"alg":"ES256","typ":"at+jwt","kid":${nested}}`, JSON.stringify(claims()), realKey),
        ),
      )
    })

    it('refuses a real-key token whose exp is deeply nested (objects too)', async () => {
      await expectRefused(
        deepest((nested) => compact(JSON.stringify(header()), claimsWithRaw('exp', nested), realKey)),
      )
      const objects = '{"a":'.repeat(400) + '1' + '}'.repeat(400)
      await expectRefused(compact(JSON.stringify(header()), claimsWithRaw('exp', objects), realKey))
    })

    it('refuses deep nesting beyond the size cap without parsing it', async () => {
      const nested = '['.repeat(100_000) + ']'.repeat(100_000)
      await expectRefused(
        compact(`{"alg":"ES256","typ":"at+jwt","kid":"${kid}","n":${nested}}`, '{}', realKey),
      )
    })
  })

  describe('time claims (real key: only the claim check can refuse)', () => {
    it('refuses exp exactly at now - leeway, and accepts it one second later', async () => {
      await expectRefused(real(header(), claims({ exp: now - LEEWAY })))
      await expectAccepted(real(header(), claims({ exp: now - LEEWAY + 1 })))
    })

    it('accepts exp with a fraction: times are finite numbers, not necessarily integers (RFC 7519 §2)', () =>
      expectAccepted(real(header(), claims({ exp: now + 900.5 }))))

    it('refuses nbf more than leeway in the future, and accepts it at exactly now + leeway', async () => {
      await expectRefused(real(header(), claims({ nbf: now + LEEWAY + 1 })))
      await expectAccepted(real(header(), claims({ nbf: now + LEEWAY })))
    })

    it('refuses iat more than leeway in the future, and accepts it at exactly now + leeway', async () => {
      await expectRefused(real(header(), claims({ iat: now + LEEWAY + 1 })))
      await expectAccepted(real(header(), claims({ iat: now + LEEWAY })))
    })

    const refusedValues: Array<[string, string]> = [
      ['a numeric string', '"NOW"'],
      ['1e999 (Infinity to JSON.parse)', '1e999'],
      ['-1e999', '-1e999'],
      ['null', 'null'],
      ['true', 'true'],
      ['an array', '[NOW]'],
      ['an object', '{"value":NOW}'],
      ['an empty string', '""'],
    ]
    const claimNames = ['exp', 'nbf', 'iat'] as const
    it.each(claimNames.flatMap((claim) => refusedValues.map(([name, raw]) => [claim, name, raw] as const)))(
      'refuses %s as %s',
      async (claim, _name, raw) => {
        const value = raw.replace('NOW', String(claim === 'exp' ? now + 900 : now))
        await expectRefused(compact(JSON.stringify(header()), claimsWithRaw(claim, value), realKey))
      },
    )

    it.each([
      ['negative', -1],
      ['zero', 0],
      ['long past', now - 86_400 * 365],
      ['-1e300', -1e300],
    ])('refuses exp %s', (_name, exp) => expectRefused(real(header(), claims({ exp }))))

    it('refuses a token without exp, and one without iat', async () => {
      await expectRefused(real(header(), without(claims(), 'exp')))
      await expectRefused(real(header(), without(claims(), 'iat')))
    })

    // A finite time in the past is a valid iat, but a token issued that long before its exp lives longer than
    // any Sesame issues (SESAME_ACCESS_TTL_SECONDS + leeway): only a stolen key mints one.
    it('refuses a negative iat: the token would outlive the access-token lifetime', () =>
      expectRefused(real(header(), claims({ iat: -1 }))))

    it('accepts exp - iat up to the access-token lifetime plus leeway, and refuses one second more', async () => {
      await expectAccepted(real(header(), claims({ iat: now - 30, exp: now + 900 })))
      await expectRefused(real(header(), claims({ iat: now - 31, exp: now + 900 })))
    })

    // Finite, so allowed by the rule, but outside what a JS Date can hold (|t| > 8.64e12 s): the answer must still
    // be a clean 200 or the one 401, never a 500 from formatting the time.
    it.each([
      ['exp 1e300', { exp: 1e300 }],
      ['exp 1e13 (just past the Date range)', { exp: 1e13 }],
      ['iat -1e300', { iat: -1e300 }],
      ['iat -1e13', { iat: -1e13 }],
    ])('never answers 500 to %s', async (_name, extra) => {
      const response = await me(`Bearer ${real(header(), claims(extra))}`)
      expect(response.statusCode, response.body).not.toBe(500)
      if (response.statusCode !== 200) {
        expect(response.statusCode).toBe(401)
        expect(response.json()).toEqual(INVALID_TOKEN)
        expect(response.headers['www-authenticate']).toBe(CHALLENGE)
      }
    })
  })

  describe('typ, iss, aud and the other claims (real key)', () => {
    it.each([
      ['JWT', 'JWT'],
      ['jwt', 'jwt'],
      ['application/jwt', 'application/jwt'],
      ['at+jwt with a trailing space', 'at+jwt '],
      ['at-jwt', 'at-jwt'],
      ['the empty string', ''],
      ['a non-string', ['at+jwt']],
    ])('refuses typ %s', (_name, typ) => expectRefused(real(header({ typ }))))

    it('refuses a header without typ', () => expectRefused(real(without(header(), 'typ'))))

    const badClaims: Array<[string, () => Record<string, unknown>]> = [
      ['another issuer', () => claims({ iss: 'https://evil.example' })],
      ['the issuer with a trailing slash', () => claims({ iss: `${issuer}/` })],
      ['the issuer in upper case', () => claims({ iss: issuer.toUpperCase() })],
      ['the issuer in an array', () => claims({ iss: [issuer] })],
      ['no issuer', () => without(claims(), 'iss')],
      ['another audience', () => claims({ aud: 'https://other.example' })],
      ['the audience with a trailing slash', () => claims({ aud: `${audience}/` })],
      ['an audience array without ours', () => claims({ aud: ['https://other.example'] })],
      ['an empty audience array', () => claims({ aud: [] })],
      ['an audience array with a non-string', () => claims({ aud: [audience, 7] })],
      ['a numeric audience', () => claims({ aud: 7 })],
      ['no audience', () => without(claims(), 'aud')],
      ['no sub', () => without(claims(), 'sub')],
      ['an empty sub', () => claims({ sub: '' })],
      ['a sub of no user', () => claims({ sub: 'no-such-user-aaaaaaaaa' })],
      ['no jti', () => without(claims(), 'jti')],
      ['no sid', () => without(claims(), 'sid')],
      ['roles that are not strings', () => claims({ roles: [1] })],
      ['roles as a string', () => claims({ roles: 'admin' })],
    ]
    it.each(badClaims)('refuses %s', (_name, build) => expectRefused(real(header(), build())))

    it.each([
      ['an array', '[]'],
      ['a string', '"claims"'],
      ['null', 'null'],
      ['empty', ''],
      ['not JSON', '{iss:1}'],
    ])('refuses a real-key payload that is %s', (_name, payloadJson) =>
      expectRefused(compact(JSON.stringify(header()), payloadJson, realKey)),
    )
  })

  describe('other credentials presented as a bearer token', () => {
    it('refuses the refresh token', () => expectRefused(issued.refresh))

    it('refuses the session cookie value', () => expectRefused(sessionCookie.split('=')[1]!))

    it('refuses the access token under another scheme, or with the scheme repeated', async () => {
      await expectRefused(issued.access, 'Basic ')
      await expectRefused(issued.access, 'Bearer Bearer ')
      await expectRefused(issued.access, 'DPoP ')
    })
  })
})

describe('replay after the session ends', () => {
  let server: TestServer

  beforeEach(async () => {
    server = await startTestServer({ clock: createManualClock(), env: { SESAME_STORE: 'memory' } })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
  })
  afterEach(() => server.close())

  async function grant(): Promise<{ access: string; sid: string }> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: SAME_ORIGIN,
      payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
    })
    expect(response.statusCode).toBe(200)
    const access = response.json<{ access_token: string }>().access_token
    return { access, sid: decodeJwt(access).sid as string }
  }

  function me(access: string) {
    return server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: `Bearer ${access}` },
    })
  }

  async function expectRefused(access: string): Promise<void> {
    const response = await me(access)
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual(INVALID_TOKEN)
    expect(response.headers['www-authenticate']).toBe(CHALLENGE)
  }

  it('refuses every access token of the user after POST /auth/logout-everywhere, cached or not', async () => {
    const first = await grant()
    const second = await grant()
    expect((await me(first.access)).statusCode).toBe(200) // now in the verified-token cache
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/logout-everywhere',
      headers: { ...SAME_ORIGIN, authorization: `Bearer ${first.access}` },
    })
    expect(response.statusCode).toBe(204)
    await expectRefused(first.access)
    await expectRefused(second.access)
    // A new sign-in afterwards works (the epoch does not lock the user out).
    expect((await me((await grant()).access)).statusCode).toBe(200)
  })

  it('refuses the access token of a family ended by DELETE /auth/sessions/{id}, and only that one', async () => {
    const victim = await grant()
    const other = await grant()
    expect((await me(victim.access)).statusCode).toBe(200)
    const response = await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${victim.sid}`,
      headers: { ...SAME_ORIGIN, authorization: `Bearer ${other.access}` },
    })
    expect(response.statusCode).toBe(204)
    await expectRefused(victim.access)
    expect((await me(other.access)).statusCode).toBe(200)
  })

  it("refuses a token signed by one key under the other key's kid after a rotation", async () => {
    const [before] = await server.store.listSigningKeys()
    // At once, so the next grant is signed by the new key (a staged rotation signs with it only later).
    const newKid = await server.auth.tokens.rotateSigningKey({ immediate: true })
    const { access } = await grant()
    expect((await me(access)).statusCode).toBe(200)
    const [h, p] = segmentsOf(access)
    const headerObject = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>
    expect(headerObject.kid).toBe(newKid)
    const oldKey = es256With(createPrivateKey({ key: JSON.parse(before!.privateJwk) as JWK, format: 'jwk' }))
    await expectRefused(`${h}.${p}.${b64(oldKey(`${h}.${p}`))}`)
  })
})

describe('over real HTTP (app.listen + fetch)', () => {
  let server: TestServer
  let base: string

  beforeAll(async () => {
    server = await startTestServer({ clock: createManualClock(), env: { SESAME_STORE: 'memory' } })
    await server.auth.signUp({ email: EMAIL, password: PASSWORD })
    await server.app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`
  })
  afterAll(() => server.close())

  it('answers a few attacks with the one 401 and a real token with 200', async () => {
    const tokenResponse = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: EMAIL, password: PASSWORD }),
    })
    expect(tokenResponse.status).toBe(200)
    const { access_token: access, refresh_token: refresh } = (await tokenResponse.json()) as {
      access_token: string
      refresh_token: string
    }
    const [h, p, s] = segmentsOf(access)
    const noneHeader = b64(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))
    const publicPem = createPublicKey(
      createPrivateKey({
        key: JSON.parse((await server.store.listSigningKeys())[0]!.privateJwk) as JWK,
        format: 'jwk',
      }),
    ).export({ type: 'spki', format: 'pem' })
    const issuedHeader = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
    const hsHeader = b64(JSON.stringify({ ...issuedHeader, alg: 'HS256' }))

    const attacks = [
      `${noneHeader}.${p}.`,
      `${hsHeader}.${p}.${b64(hs256With(publicPem)(`${hsHeader}.${p}`))}`,
      `${h}.${p}.`,
      `${h}.${p}.${b64(Buffer.alloc(64))}`,
      `${access}.${s}`,
      refresh,
      'A'.repeat(MAX_TOKEN_LENGTH + 1),
    ]
    for (const attack of attacks) {
      const response = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${attack}` } })
      expect(response.status, attack.slice(0, 60)).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
      expect(await response.json()).toEqual(INVALID_TOKEN)
    }
    const ok = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${access}` } })
    expect(ok.status).toBe(200)
  })
})
