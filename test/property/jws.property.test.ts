/**
 * Property-based tests for the JWS and access-token verifiers with real keys (ES256, EdDSA, RS256, HS256):
 * whatever string arrives as a token, including every small mutation of a valid one, the verifier either
 * returns the claims of the untouched token or throws `AuthError('invalid_token')`. Never another error, never
 * claims for a changed token.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type AccessTokenClaims,
  type AccessTokenRules,
  verifyAccessToken,
} from '../../src/core/access-token.js'
import { AuthError } from '../../src/core/errors.js'
import { encodeBase64url } from '../../src/core/jws/base64url.js'
import { type KeyResolver, signCompact, verifyCompact } from '../../src/core/jws/compact.js'
import { type KeyRing, buildKeyRing, generateKeyMaterial, hmacKeyMaterial } from '../../src/core/key-ring.js'

const T0 = 1_800_000_000
const NUM_RUNS = 500

const rules: AccessTokenRules = {
  issuer: 'https://auth.example',
  audience: 'https://api.example',
  leewaySeconds: 30,
  maxTokenLength: 4096,
  maxLifetimeSeconds: 3600,
}

const claims: AccessTokenClaims = {
  iss: rules.issuer,
  sub: 'user-1',
  aud: rules.audience,
  exp: T0 + 900,
  iat: T0,
  jti: 'jti-1',
  sid: 'family-1',
  roles: ['reader'],
}

const ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'HS256'] as const
type Algorithm = (typeof ALGORITHMS)[number]

let rings: Record<Algorithm, KeyRing>
/** A resolver that knows every key of every ring, so algorithm confusion between rings is reachable. */
let everyKey: KeyResolver
/** One valid access token per ring. */
let tokens: Record<Algorithm, string>

beforeAll(async () => {
  rings = {
    ES256: await buildKeyRing([await generateKeyMaterial('ES256', T0)], T0, 1000),
    EdDSA: await buildKeyRing([await generateKeyMaterial('EdDSA', T0)], T0, 1000),
    RS256: await buildKeyRing([await generateKeyMaterial('RS256', T0)], T0, 1000),
    HS256: await buildKeyRing([hmacKeyMaterial(Buffer.alloc(32, 7), T0)], T0, 1000),
  }
  everyKey = (header) => {
    for (const ring of Object.values(rings)) {
      const key = ring.resolveKey(header)
      if (key) return key
    }
    return null
  }
  tokens = {} as Record<Algorithm, string>
  for (const alg of ALGORITHMS) {
    const ring = rings[alg]
    tokens[alg] = signCompact(ring.signingHeader, JSON.stringify(claims), ring.signingKey)
  }
})

/**
 * Runs `verify`: 'verified' when it returns, the error when it throws `invalid_token`. Any other throw is
 * rethrown, so fast-check reports (and shrinks) it as a failure.
 */
function outcome(verify: () => unknown): 'verified' | AuthError {
  try {
    verify()
    return 'verified'
  } catch (error) {
    if (error instanceof AuthError && error.code === 'invalid_token') return error
    throw error
  }
}

function verifyWith(alg: Algorithm, token: string): AccessTokenClaims {
  return verifyAccessToken(token, rings[alg].resolveKey, rules, T0)
}

const algorithm = fc.constantFrom(...ALGORITHMS)
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** Characters a mutation writes: the alphabet, the separator, and what a sloppy decoder would skip. */
const mutationChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...B64URL) },
  fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\0', 'é', '\u{1F600}', '"', '\\'),
)
const segmentText = fc.string({ unit: fc.constantFrom(...B64URL), maxLength: 120 })

/** One edit of a token. `at` is reduced modulo the token length when applied. */
type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'permute'; order: number[] }
  | { kind: 'flipBit'; segment: number; at: number; bit: number }
  | { kind: 'splice'; segment: number; from: Algorithm }
  | { kind: 'drop'; segment: number }
  | { kind: 'extra'; text: string }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: mutationChar }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ unit: mutationChar, minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('permute' as const),
    order: fc.shuffledSubarray([0, 1, 2], { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('flipBit' as const),
    segment: fc.integer({ min: 0, max: 2 }),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    segment: fc.integer({ min: 0, max: 2 }),
    from: algorithm,
  }),
  fc.record({ kind: fc.constant('drop' as const), segment: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('extra' as const), text: segmentText }),
)

function applyMutation(token: string, m: Mutation): string {
  const segments = token.split('.')
  switch (m.kind) {
    case 'replace': {
      if (token.length === 0) return m.char
      const at = m.at % token.length
      return token.slice(0, at) + m.char + token.slice(at + 1)
    }
    case 'insert': {
      const at = m.at % (token.length + 1)
      return token.slice(0, at) + m.text + token.slice(at)
    }
    case 'delete': {
      const at = m.at % (token.length + 1)
      return token.slice(0, at) + token.slice(at + m.count)
    }
    case 'permute':
      return m.order.map((i) => segments[i] ?? '').join('.')
    case 'flipBit': {
      // Change one decoded byte and re-encode canonically, so the segment stays valid base64url.
      const text = segments[m.segment]
      if (text === undefined) return token
      const bytes = Buffer.from(text, 'base64url')
      if (bytes.length === 0) return token
      const at = m.at % bytes.length
      bytes[at] = bytes[at]! ^ (1 << m.bit)
      segments[m.segment] = bytes.toString('base64url')
      return segments.join('.')
    }
    case 'splice': {
      const donor = tokens[m.from].split('.')[m.segment]
      if (donor === undefined || m.segment >= segments.length) return token
      segments[m.segment] = donor
      return segments.join('.')
    }
    case 'drop':
      return segments.filter((_, i) => i !== m.segment).join('.')
    case 'extra':
      return `${token}.${m.text}`
  }
}

/** Arbitrary strings shaped more or less like tokens. */
const junkToken = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(segmentText, { minLength: 0, maxLength: 6 }).map((s) => s.join('.')),
  fc.tuple(segmentText, segmentText, segmentText).map((s) => s.join('.')),
  fc.string({ unit: mutationChar, maxLength: 200 }),
)

describe('verifyAccessToken (property)', () => {
  it('accepts the untouched token of every ring (sanity check)', () => {
    for (const alg of ALGORITHMS) expect(verifyWith(alg, tokens[alg])).toEqual(claims)
  })

  it('refuses arbitrary strings with invalid_token and nothing else', () => {
    fc.assert(
      fc.property(algorithm, junkToken, (alg, token) => {
        expect(outcome(() => verifyWith(alg, token))).toBeInstanceOf(AuthError)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses three segments under a real header with random payload and signature', () => {
    const signature = fc.uint8Array({ maxLength: 300 }).map((b) => encodeBase64url(b))
    fc.assert(
      fc.property(
        algorithm,
        fc.oneof(
          segmentText,
          fc.jsonValue().map((v) => encodeBase64url(JSON.stringify(v))),
        ),
        fc.oneof(segmentText, signature),
        (alg, payload, sig) => {
          const token = `${rings[alg].signingHeader}.${payload}.${sig}`
          expect(outcome(() => verifyWith(alg, token))).toBeInstanceOf(AuthError)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('verifies a mutated token only when the mutations left it unchanged', () => {
    fc.assert(
      fc.property(algorithm, fc.array(mutation, { minLength: 1, maxLength: 3 }), (alg, mutations) => {
        const original = tokens[alg]
        const token = mutations.reduce(applyMutation, original)
        const result = outcome(() => verifyWith(alg, token))
        if (token === original) expect(result).toBe('verified')
        else expect(result).toBeInstanceOf(AuthError)
        // A resolver holding every ring's keys verifies only untouched tokens too. (Splicing can rebuild another
        // ring's token exactly: all rings sign the same claims, so their payload segments are equal.)
        const anyRing = outcome(() => verifyAccessToken(token, everyKey, rules, T0))
        expect(anyRing === 'verified').toBe(Object.values(tokens).includes(token))
      }),
      { numRuns: NUM_RUNS * 2 },
    )
  })

  it('returns well-typed claims or invalid_token for any validly signed payload', () => {
    /** Mostly the right type (so later checks are reached), sometimes anything at all. */
    const either = <T>(good: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) })
    const time = fc.oneof(
      fc.integer({ min: T0 - 2000, max: T0 + 2000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    )
    const claimsLike = fc.record(
      {
        iss: either(fc.oneof(fc.constant(rules.issuer), fc.string({ maxLength: 20 }))),
        sub: either(fc.string({ maxLength: 5 })),
        aud: either(
          fc.oneof(
            fc.constant(rules.audience),
            fc.string({ maxLength: 20 }),
            fc.array(fc.oneof(fc.constant(rules.audience), fc.string({ maxLength: 5 })), { maxLength: 3 }),
          ),
        ),
        exp: either(time),
        iat: either(time),
        nbf: either(time),
        jti: either(fc.string({ maxLength: 5 })),
        sid: either(fc.string({ maxLength: 5 })),
        roles: either(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    )
    const payloadText = fc.oneof(
      claimsLike.map((c) => JSON.stringify({ ...claims, ...c })),
      claimsLike.map((c) => JSON.stringify(c)),
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      // Numbers JSON.stringify never writes but JSON.parse reads: overflow to ±Infinity.
      fc
        .constantFrom('exp', 'iat', 'nbf')
        .chain((member) =>
          fc
            .constantFrom('1e999', '-1e999', '-0', '1E400')
            .map((n) => `{"${member}":${n},${JSON.stringify({ ...claims, [member]: undefined }).slice(1)}`),
        ),
    )
    fc.assert(
      fc.property(algorithm, payloadText, (alg, text) => {
        const ring = rings[alg]
        const token = signCompact(ring.signingHeader, text, ring.signingKey)
        let verified: AccessTokenClaims | undefined
        const result = outcome(() => (verified = verifyWith(alg, token)))
        if (result !== 'verified') return
        expect(verified!.iss).toBe(rules.issuer)
        expect(verified!.aud).toBe(rules.audience)
        for (const member of ['sub', 'jti', 'sid'] as const) {
          expect(typeof verified![member]).toBe('string')
          expect(verified![member]).not.toBe('')
        }
        expect(Number.isFinite(verified!.exp) && verified!.exp > T0 - rules.leewaySeconds).toBe(true)
        expect(Number.isFinite(verified!.iat) && verified!.iat <= T0 + rules.leewaySeconds).toBe(true)
        expect(verified!.roles.every((role) => typeof role === 'string')).toBe(true)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('verifyCompact (property)', () => {
  it('refuses arbitrary strings with invalid_token, with and without a size cap', () => {
    fc.assert(
      fc.property(
        algorithm,
        junkToken,
        fc.option(fc.nat({ max: 300 }), { nil: undefined }),
        (alg, t, max) => {
          const options = max === undefined ? {} : { maxLength: max }
          expect(outcome(() => verifyCompact(t, rings[alg].resolveKey, options))).toBeInstanceOf(AuthError)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('returns only headers naming the resolved key, for any signed JSON header', () => {
    const anything = fc.jsonValue({ maxDepth: 2 })
    const headerObject = fc.record(
      {
        alg: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...ALGORITHMS) },
          fc.constantFrom('none', 'None', 'HS512', 'es256', ''),
          anything,
        ),
        kid: fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 20 }) }, anything),
        typ: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT') },
          anything,
        ),
        extra: anything,
      },
      { requiredKeys: [] },
    )
    const forbidden = fc.option(
      fc.tuple(
        fc.constantFrom('crit', 'b64', 'jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256', 'enc', 'zip'),
        anything,
      ),
      { freq: 3, nil: undefined },
    )
    const payload = fc.oneof(fc.constant(JSON.stringify(claims)), fc.string({ maxLength: 40 }))
    fc.assert(
      fc.property(
        algorithm,
        // Half the time the signer's own ring verifies, so the checks after key resolution are reached.
        fc.option(algorithm, { nil: undefined }),
        headerObject,
        forbidden,
        fc.boolean(),
        payload,
        (signer, other, header, refused, useRealKid, text) => {
          const ring = rings[signer]
          const verifier = other ?? signer
          const fields: Record<string, unknown> = useRealKid
            ? { ...header, kid: ring.signingKey.kid }
            : { ...header }
          if (refused) fields[refused[0]] = refused[1]
          const token = signCompact(encodeBase64url(JSON.stringify(fields)), text, ring.signingKey)
          let verified: ReturnType<typeof verifyCompact> | undefined
          const result = outcome(() => (verified = verifyCompact(token, rings[verifier].resolveKey)))
          const viaAnyKey = outcome(() => verifyCompact(token, everyKey))
          const asAccessToken = outcome(() => verifyAccessToken(token, rings[verifier].resolveKey, rules, T0))
          if (result === 'verified' || viaAnyKey === 'verified' || asAccessToken === 'verified') {
            // Only the signer's own key verifies, and only under its own algorithm and kid, with no refused member.
            expect(fields.alg).toBe(ring.signingKey.alg)
            expect(fields.kid).toBe(ring.signingKey.kid)
            expect(refused).toBeUndefined()
          }
          if (result === 'verified') {
            expect(verifier).toBe(signer)
            expect(verified!.payload.equals(Buffer.from(text, 'utf8'))).toBe(true)
          }
          if (asAccessToken === 'verified') expect(text).toBe(JSON.stringify(claims))
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
