/**
 * Interoperability with `jose` in both directions for every algorithm Sesame supports, and the refusals an
 * attacker would probe, each pinned to its fine `reason`.
 */
import { createHmac, sign } from 'node:crypto'
import {
  CompactSign,
  type CryptoKey,
  type JWK,
  SignJWT,
  compactVerify,
  exportJWK,
  generateKeyPair,
  generateSecret,
  jwtVerify,
} from 'jose'
import { describe, expect, it } from 'vitest'
import type { JwsAlgorithm } from '../../../src/core/jws/algorithms.js'
import { encodeBase64url } from '../../../src/core/jws/base64url.js'
import { type KeyResolver, encodeHeader, signCompact, verifyCompact } from '../../../src/core/jws/compact.js'
import {
  type SigningKey,
  type VerificationKey,
  importSigningKey,
  importVerificationKey,
} from '../../../src/core/jws/keys.js'
import { expectInvalidToken, importRefusalOf, refusalOf } from './refusal.js'

const ALGORITHMS: readonly JwsAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256']

interface Party {
  alg: JwsAlgorithm
  kid: string
  privateJwk: JWK
  publicJwk: JWK
  /** jose's own keys: private (or secret) to sign, public (or secret) to verify. */
  joseSigning: CryptoKey
  joseVerifying: CryptoKey
  signingKey: SigningKey
  verificationKey: VerificationKey
  resolve: KeyResolver
}

async function createParty(alg: JwsAlgorithm): Promise<Party> {
  const kid = `interop-${alg.toLowerCase()}`
  let joseSigning: CryptoKey
  let joseVerifying: CryptoKey
  if (alg === 'HS256') {
    joseSigning = joseVerifying = await generateSecret('HS256', { extractable: true })
  } else {
    const pair = await generateKeyPair(alg, { extractable: true })
    joseSigning = pair.privateKey
    joseVerifying = pair.publicKey
  }
  const privateJwk: JWK = { ...(await exportJWK(joseSigning)), kid }
  const publicJwk: JWK = { ...(await exportJWK(joseVerifying)), kid }
  const signingKey = await importSigningKey(privateJwk, alg)
  const verificationKey = await importVerificationKey(publicJwk, alg)
  const resolve: KeyResolver = (header) => (header.kid === kid ? verificationKey : null)
  return { alg, kid, privateJwk, publicJwk, joseSigning, joseVerifying, signingKey, verificationKey, resolve }
}

const parties = Object.fromEntries(
  await Promise.all(ALGORITHMS.map(async (alg) => [alg, await createParty(alg)] as const)),
) as Record<JwsAlgorithm, Party>

const CLAIMS = { sub: 'user-1', scope: 'read write', iat: 1_800_000_000 }

function segments(token: string): [string, string, string] {
  const parts = token.split('.')
  expect(parts).toHaveLength(3)
  return parts as [string, string, string]
}

/** A token signed by Sesame's signer under an arbitrary header object (so only the verifier's checks refuse it). */
function signWithHeader(
  party: Party,
  header: Record<string, unknown>,
  payload: string | Uint8Array = 'x',
): string {
  return signCompact(encodeBase64url(JSON.stringify(header)), payload, party.signingKey)
}

/** A different spelling of the same bytes: sets the spare low bits of the last character. */
function nonCanonical(segment: string): string {
  const rest = segment.length % 4
  expect(rest === 2 || rest === 3, `segment length ${segment.length} has no spare bits`).toBe(true)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(segment.at(-1)!)
  const altered = `${segment.slice(0, -1)}${alphabet[last + 1]!}`
  expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(segment, 'base64url'))
  return altered
}

describe.each(ALGORITHMS)('%s with jose', (alg) => {
  const party = parties[alg]

  it('imports the JWKs jose exports', () => {
    expect(party.signingKey).toMatchObject({ alg, kid: party.kid })
    expect(party.verificationKey).toMatchObject({ alg, kid: party.kid })
    expect(party.verificationKey.keyObject.type).toBe(alg === 'HS256' ? 'secret' : 'public')
  })

  it('Sesame signs a JWT, jose jwtVerify accepts it', async () => {
    const token = signCompact(
      encodeHeader(party.signingKey, { typ: 'JWT' }),
      JSON.stringify(CLAIMS),
      party.signingKey,
    )
    const { payload, protectedHeader } = await jwtVerify(token, party.joseVerifying, {
      algorithms: [alg],
      typ: 'JWT',
    })
    expect(payload).toEqual(CLAIMS)
    expect(protectedHeader).toEqual({ alg, typ: 'JWT', kid: party.kid })
  })

  it('Sesame signs raw bytes, jose compactVerify accepts them', async () => {
    const bytes = Uint8Array.from({ length: 61 }, (_, i) => (i * 37) & 0xff)
    const token = signCompact(encodeHeader(party.signingKey), bytes, party.signingKey)
    const { payload } = await compactVerify(token, party.joseVerifying, { algorithms: [alg] })
    expect(Buffer.from(payload)).toEqual(Buffer.from(bytes))
  })

  it('jose SignJWT signs, Sesame verifies', async () => {
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg, kid: party.kid })
      .sign(party.joseSigning)
    const { header, payload, key } = verifyCompact(token, party.resolve)
    expect(header).toEqual({ alg, kid: party.kid })
    expect(JSON.parse(payload.toString('utf8'))).toEqual(CLAIMS)
    expect(key).toBe(party.verificationKey)
  })

  it('jose CompactSign signs raw bytes (with typ), Sesame verifies', async () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => 255 - i)
    const token = await new CompactSign(bytes)
      .setProtectedHeader({ alg, kid: party.kid, typ: 'at+jwt' })
      .sign(party.joseSigning)
    const { header, payload } = verifyCompact(token, party.resolve)
    expect(header.typ).toBe('at+jwt')
    expect(payload).toEqual(Buffer.from(bytes))
  })

  it('jose signs with the empty payload, Sesame verifies it', async () => {
    const token = await new CompactSign(new Uint8Array(0))
      .setProtectedHeader({ alg, kid: party.kid })
      .sign(party.joseSigning)
    expect(token.split('.')[1]).toBe('')
    expect(verifyCompact(token, party.resolve).payload).toHaveLength(0)
  })

  it('refuses a tampered payload', async () => {
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg, kid: party.kid })
      .sign(party.joseSigning)
    const [header, , signature] = segments(token)
    const forged = encodeBase64url(JSON.stringify({ ...CLAIMS, sub: 'admin' }))
    expectInvalidToken(
      () => verifyCompact(`${header}.${forged}.${signature}`, party.resolve),
      'bad_signature',
    )
  })

  it('refuses a tampered signature (one bit, truncated, extended)', async () => {
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg, kid: party.kid })
      .sign(party.joseSigning)
    const [header, payload, signature] = segments(token)
    const bytes = Buffer.from(signature, 'base64url')
    const flipped = Buffer.from(bytes)
    flipped[0] = flipped[0]! ^ 0x80
    for (const mangled of [flipped, bytes.subarray(0, -1), Buffer.concat([bytes, Buffer.alloc(1)])]) {
      const forged = `${header}.${payload}.${mangled.toString('base64url')}`
      expectInvalidToken(() => verifyCompact(forged, party.resolve), 'bad_signature')
    }
  })

  it('refuses an all-zero signature of the right length', () => {
    const token = signCompact(encodeHeader(party.signingKey), 'x', party.signingKey)
    const [header, payload, signature] = segments(token)
    const zeros = Buffer.alloc(Buffer.from(signature, 'base64url').length).toString('base64url')
    expectInvalidToken(() => verifyCompact(`${header}.${payload}.${zeros}`, party.resolve), 'bad_signature')
  })

  it('refuses a token whose kid the resolver does not know', async () => {
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg, kid: 'someone-else' })
      .sign(party.joseSigning)
    expectInvalidToken(() => verifyCompact(token, party.resolve), 'unknown_key')
    expectInvalidToken(() => verifyCompact(token, () => null), 'unknown_key')
  })

  it('refuses a header naming another supported algorithm than the key', () => {
    for (const other of ALGORITHMS.filter((candidate) => candidate !== alg)) {
      const token = signWithHeader(party, { alg: other, kid: party.kid })
      expectInvalidToken(() => verifyCompact(token, party.resolve), 'algorithm_mismatch')
    }
  })

  it('refuses alg "none", with or without a signature', () => {
    const header = encodeBase64url(JSON.stringify({ alg: 'none', kid: party.kid }))
    const payload = encodeBase64url(JSON.stringify(CLAIMS))
    expectInvalidToken(() => verifyCompact(`${header}.${payload}.`, party.resolve), 'unsupported_algorithm')
    const signed = signWithHeader(party, { alg: 'none', kid: party.kid })
    expectInvalidToken(() => verifyCompact(signed, party.resolve), 'unsupported_algorithm')
  })

  it('refuses a non-canonical base64url spelling of each segment', () => {
    // kid chosen so the header and payload lengths leave spare bits in their last character
    const token = signWithHeader(party, { alg, kid: party.kid, n: 'ab' }, 'spare bits')
    const [header, payload, signature] = segments(token)
    expect(verifyCompact(token, party.resolve).payload.toString()).toBe('spare bits')
    expectInvalidToken(
      () => verifyCompact(`${nonCanonical(header)}.${payload}.${signature}`, party.resolve),
      'header_not_base64url',
    )
    expectInvalidToken(
      () => verifyCompact(`${header}.${nonCanonical(payload)}.${signature}`, party.resolve),
      'payload_not_base64url',
    )
    expectInvalidToken(
      () => verifyCompact(`${header}.${payload}.${nonCanonical(signature)}`, party.resolve),
      'signature_not_base64url',
    )
  })

  it('refuses padding and the standard (+ /) alphabet in each segment', () => {
    const token = signWithHeader(party, { alg, kid: party.kid, n: 'ab' }, 'spare bits')
    const [header, payload, signature] = segments(token)
    expectInvalidToken(
      () => verifyCompact(`${header}=.${payload}.${signature}`, party.resolve),
      'header_not_base64url',
    )
    expectInvalidToken(
      () => verifyCompact(`${header}.${payload}=.${signature}`, party.resolve),
      'payload_not_base64url',
    )
    expectInvalidToken(
      () => verifyCompact(`${header}.${payload}.${signature}=`, party.resolve),
      'signature_not_base64url',
    )
    const standard = Buffer.from(signature, 'base64url').toString('base64').replace(/=+$/, '')
    if (standard !== signature) {
      expectInvalidToken(
        () => verifyCompact(`${header}.${payload}.${standard}`, party.resolve),
        'signature_not_base64url',
      )
    }
  })
})

describe('structure', () => {
  const party = parties.HS256
  const token = signCompact(encodeHeader(party.signingKey), 'structure', party.signingKey)
  const [header, payload, signature] = segments(token)

  it.each([
    ['two segments', `${header}.${payload}`],
    ['one segment', header],
    ['an extra empty segment', `${token}.`],
    ['an extra segment', `${token}.${signature}`],
    ['JWE-like five segments', `${header}.${payload}.${signature}.${signature}.${signature}`],
    ['the empty string', ''],
  ])('refuses %s', (_name, candidate) => {
    expectInvalidToken(() => verifyCompact(candidate, party.resolve), 'not_three_segments')
  })

  it('refuses a real JWE (jose CompactEncrypt shape) as five segments', () => {
    const jwe = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aGVsbG8tbm9uY2U.Y2lwaGVydGV4dA.dGFnLXRhZy10YWctdGFn'
    expectInvalidToken(() => verifyCompact(jwe, party.resolve), 'not_three_segments')
  })

  it('accepts a token of exactly the default 8192 characters and refuses one more', () => {
    // An unpadded base64url payload cannot have a length of 1 mod 4, so pad the header until it fits.
    const sized = (length: number) => {
      for (let pad = 0; pad < 4; pad++) {
        const paddedHeader = encodeBase64url(
          JSON.stringify({ alg: 'HS256', kid: party.kid, p: 'p'.repeat(pad) }),
        )
        const payloadChars = length - paddedHeader.length - 2 - 43 // 43: a 32-byte HMAC tag
        if (payloadChars % 4 === 1) continue
        const candidate = signCompact(
          paddedHeader,
          'x'.repeat(Math.floor((payloadChars * 3) / 4)),
          party.signingKey,
        )
        expect(candidate).toHaveLength(length)
        return candidate
      }
      throw new Error(`no token of length ${length}`)
    }
    const atLimit = sized(8192)
    expect(verifyCompact(atLimit, party.resolve).payload.length).toBeGreaterThan(6000)
    expectInvalidToken(() => verifyCompact(`${atLimit}A`, party.resolve), 'token_too_large')
    expectInvalidToken(() => verifyCompact('.'.repeat(100_000), party.resolve), 'token_too_large')
  })

  it('honours a smaller maxLength', () => {
    expectInvalidToken(
      () => verifyCompact(token, party.resolve, { maxLength: token.length - 1 }),
      'token_too_large',
    )
    expect(verifyCompact(token, party.resolve, { maxLength: token.length }).payload.toString()).toBe(
      'structure',
    )
  })
})

describe('header members', () => {
  const party = parties.ES256

  it.each([
    ['crit', ['exp']],
    ['b64', false],
    ['jku', 'https://attacker.example/jwks.json'],
    ['x5u', 'https://attacker.example/cert.pem'],
    ['jwk', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }],
    ['x5c', ['MIIB']],
    ['x5t', 'AAAA'],
    ['x5t#S256', 'AAAA'],
    ['enc', 'A256GCM'],
    ['zip', 'DEF'],
  ])('refuses a header with "%s"', (name, value) => {
    const token = signWithHeader(party, { alg: 'ES256', kid: party.kid, [name]: value })
    expectInvalidToken(() => verifyCompact(token, party.resolve), `header_${name}_refused`)
  })

  it('refuses the embedded-jwk attack even when the embedded key signed the token', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true })
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: 'ES256', kid: party.kid, jwk: await exportJWK(attacker.publicKey) })
      .sign(attacker.privateKey)
    expectInvalidToken(() => verifyCompact(token, party.resolve), 'header_jwk_refused')
  })

  it.each([
    ['the same member twice', '{"alg":"ES256","alg":"ES256","kid":"interop-es256"}'],
    ['alg twice with different values', '{"alg":"HS256","kid":"interop-es256","alg":"ES256"}'],
    ['alg twice, once escaped', '{"alg":"ES256","kid":"interop-es256","\\u0061lg":"ES256"}'],
    ['kid twice', '{"alg":"ES256","kid":"other","kid":"interop-es256"}'],
  ])('refuses %s', (_name, json) => {
    const token = signCompact(encodeBase64url(json), 'x', party.signingKey)
    expectInvalidToken(() => verifyCompact(token, party.resolve), 'header_not_json_object')
  })

  it.each([
    ['an array', '[{"alg":"ES256"}]'],
    ['a string', '"ES256"'],
    ['null', 'null'],
    ['not JSON', '{alg:ES256}'],
    ['two objects', '{"alg":"ES256"}{"alg":"ES256"}'],
  ])('refuses a header that is %s', (_name, json) => {
    const token = signCompact(encodeBase64url(json), 'x', party.signingKey)
    expectInvalidToken(() => verifyCompact(token, party.resolve), 'header_not_json_object')
  })

  it('refuses a header without alg, or with alg in the wrong case or type', () => {
    for (const alg of [undefined, 'es256', 'ES256 ', ['ES256'], 256]) {
      const token = signWithHeader(party, { alg, kid: party.kid })
      expectInvalidToken(() => verifyCompact(token, party.resolve), 'unsupported_algorithm')
    }
  })

  it('refuses a kid or typ that is not a string', () => {
    expectInvalidToken(
      () => verifyCompact(signWithHeader(party, { alg: 'ES256', kid: 7 }), party.resolve),
      'kid_not_string',
    )
    expectInvalidToken(
      () =>
        verifyCompact(signWithHeader(party, { alg: 'ES256', kid: party.kid, typ: ['JWT'] }), party.resolve),
      'typ_not_string',
    )
  })
})

describe('ES256 signature encodings', () => {
  const party = parties.ES256
  const token = signCompact(encodeHeader(party.signingKey), 'der', party.signingKey)
  const [header, payload] = segments(token)
  const signingInput = Buffer.from(`${header}.${payload}`)

  it('refuses a DER-encoded signature that is otherwise valid', () => {
    const der = sign('sha256', signingInput, { key: party.signingKey.keyObject, dsaEncoding: 'der' })
    expect(der[0]).toBe(0x30) // an ASN.1 SEQUENCE, 70-72 bytes
    expectInvalidToken(
      () => verifyCompact(`${header}.${payload}.${der.toString('base64url')}`, party.resolve),
      'bad_signature',
    )
  })

  it('refuses a 64-byte signature of zeros (r = s = 0, CVE-2022-21449)', () => {
    const zeros = Buffer.alloc(64).toString('base64url')
    expectInvalidToken(() => verifyCompact(`${header}.${payload}.${zeros}`, party.resolve), 'bad_signature')
  })

  it('refuses r and s each equal to the group order n', () => {
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')
    const rs = Buffer.concat([n, n]).toString('base64url')
    expectInvalidToken(() => verifyCompact(`${header}.${payload}.${rs}`, party.resolve), 'bad_signature')
  })

  it('accepts (r, n - s) as well: ECDSA is malleable, so never identify a token by its text', () => {
    // Not a flaw in Sesame (RFC 7518 does not require low-s and jose accepts it too), but a fact the layers
    // above must respect: revocation and replay checks key on claims such as `jti`, never on the token string.
    const p1363 = Buffer.from(segments(token)[2], 'base64url')
    const order = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')
    const s = BigInt(`0x${p1363.subarray(32).toString('hex')}`)
    const negated = Buffer.from((order - s).toString(16).padStart(64, '0'), 'hex')
    const twin = `${header}.${payload}.${Buffer.concat([p1363.subarray(0, 32), negated]).toString('base64url')}`
    expect(twin).not.toBe(token)
    expect(verifyCompact(twin, party.resolve).payload.toString()).toBe('der')
  })
})

describe('public key used as an HMAC secret (algorithm confusion)', () => {
  const party = parties.ES256
  const secrets = {
    'SPKI PEM text': party.verificationKey.keyObject.export({ type: 'spki', format: 'pem' }).toString(),
    'SPKI DER bytes': party.verificationKey.keyObject.export({ type: 'spki', format: 'der' }),
    'public JWK text': JSON.stringify(party.publicJwk),
  }

  function forgeHs256(secret: string | Buffer): string {
    const signingInput = `${encodeBase64url(JSON.stringify({ alg: 'HS256', kid: party.kid }))}.${encodeBase64url(
      JSON.stringify({ ...CLAIMS, sub: 'admin' }),
    )}`
    return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
  }

  it.each(Object.entries(secrets))('refuses an HS256 token keyed with the %s', (_name, secret) => {
    const forged = forgeHs256(secret)
    expectInvalidToken(() => verifyCompact(forged, party.resolve), 'algorithm_mismatch')
  })

  it('cannot be tricked at import: the ES256 public JWK does not import as an HS256 key', async () => {
    const error = await importRefusalOf(() => importVerificationKey(party.publicJwk, 'HS256'))
    expect(error.message).toContain('HS256')
  })

  it('the same forgery also fails when the resolver hands back any other asymmetric key', () => {
    for (const other of [parties.EdDSA, parties.RS256]) {
      const error = refusalOf(() =>
        verifyCompact(forgeHs256(secrets['SPKI PEM text']), () => other.verificationKey),
      )
      expect(error.reason).toBe('algorithm_mismatch')
    }
  })
})
