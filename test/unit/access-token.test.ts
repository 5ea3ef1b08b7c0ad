import { beforeAll, describe, expect, it } from 'vitest'
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenRules,
  encodeAccessTokenHeader,
  signAccessToken,
  verifyAccessToken,
} from '../../src/core/access-token.js'
import { AuthError } from '../../src/core/errors.js'
import { type KeyRing, buildKeyRing, generateKeyMaterial, hmacKeyMaterial } from '../../src/core/key-ring.js'
import { encodeHeader, signCompact } from '../../src/core/jws/compact.js'
import { expectInvalidToken, refusalOf } from './jws/refusal.js'

const T0 = 1_800_000_000
const LEEWAY = 30
const rules: AccessTokenRules = {
  issuer: 'https://auth.example',
  audience: 'https://api.example',
  leewaySeconds: LEEWAY,
  maxTokenLength: 4096,
  maxLifetimeSeconds: 900,
}

const claims: AccessTokenClaims = {
  iss: 'https://auth.example',
  sub: 'user-1',
  aud: 'https://api.example',
  exp: T0 + 900,
  iat: T0,
  jti: 'jti-1',
  sid: 'family-1',
  roles: ['admin', 'reader'],
}

let es256: KeyRing
let hs256: KeyRing

beforeAll(async () => {
  es256 = await buildKeyRing([await generateKeyMaterial('ES256', T0)], T0, 1000)
  hs256 = await buildKeyRing([hmacKeyMaterial(Buffer.alloc(32, 1), T0)], T0, 1000)
})

/** A validly signed ES256 token with `payloadText` as its exact payload and `typ` as its header type. */
function signedText(payloadText: string, typ: string | null = ACCESS_TOKEN_TYPE, ring = es256): string {
  const header = encodeHeader(ring.signingKey, typ === null ? {} : { typ })
  return signCompact(header, payloadText, ring.signingKey)
}

/** A validly signed token carrying `payload` (any JSON value) as its claims. */
function signed(payload: unknown, typ: string | null = ACCESS_TOKEN_TYPE): string {
  return signedText(JSON.stringify(payload), typ)
}

/** The claims with `changes` applied; a member set to undefined is dropped. */
function claimsWith(changes: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...claims, ...changes }
  for (const [member, value] of Object.entries(changes)) if (value === undefined) delete result[member]
  return result
}

function verify(token: string, now = T0, ring = es256): AccessTokenClaims {
  return verifyAccessToken(token, ring.resolveKey, rules, now)
}

function expectRefused(token: string, reason: string, now = T0): void {
  expectInvalidToken(() => verify(token, now), reason)
}

describe('signAccessToken and verifyAccessToken', () => {
  it('round-trips the claims with ES256', () => {
    const token = signAccessToken(claims, es256.signingKey, es256.signingHeader)
    expect(verify(token)).toEqual(claims)
  })

  it('round-trips the claims with HS256', () => {
    const token = signAccessToken(claims, hs256.signingKey, hs256.signingHeader)
    expect(verify(token, T0, hs256)).toEqual(claims)
  })

  it('refuses a token from one ring on the other ring', () => {
    const token = signAccessToken(claims, hs256.signingKey, hs256.signingHeader)
    expectInvalidToken(() => verify(token, T0, es256), 'unknown_key')
  })

  it('signs under the at+jwt header naming the key', () => {
    const token = signAccessToken(claims, es256.signingKey, encodeAccessTokenHeader(es256.signingKey))
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: es256.signingKey.kid })
    expect(encodeAccessTokenHeader(es256.signingKey)).toBe(es256.signingHeader)
  })

  it('fails with invalid_token, a generic message and a fine reason', () => {
    const error = refusalOf(() => verify(signed(claims, 'JWT')))
    expect(error).toBeInstanceOf(AuthError)
    expect(error.code).toBe('invalid_token')
    expect(error.reason).toBe('wrong_typ')
    expect(error.message).toBe('The access token is invalid.')
    expect(error.status).toBe(401)
  })
})

describe('verifyAccessToken', () => {
  describe('typ', () => {
    it('accepts at+jwt, application/at+jwt and AT+JWT', () => {
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
        expect(verify(signed(claims, typ))).toEqual(claims)
      }
    })

    it('refuses a missing typ, JWT and near misses', () => {
      for (const typ of [null, 'JWT', 'jwt', 'at+jwt ', 'application/jwt', 'at-jwt', '']) {
        expectRefused(signed(claims, typ), 'wrong_typ')
      }
    })

    it('is checked before the payload is read', () => {
      expectRefused(signedText('not json', 'JWT'), 'wrong_typ')
    })
  })

  describe('payload', () => {
    it('refuses a payload that is not one JSON object', () => {
      for (const text of ['[]', JSON.stringify([claims]), '"claims"', '42', 'null', 'not json', '']) {
        expectRefused(signedText(text), 'payload_not_json_object')
      }
    })

    it('refuses a payload with a duplicate member', () => {
      const rest = JSON.stringify(claimsWith({ sub: undefined })).slice(1)
      expect(verify(signedText(`{"sub":"a",${rest}`)).sub).toBe('a')
      expectRefused(signedText(`{"sub":"a","sub":"b",${rest}`), 'payload_not_json_object')
      expectRefused(signedText(`{"sub":"a",${rest.slice(0, -1)},"sub":"a"}`), 'payload_not_json_object')
    })
  })

  describe('required claims', () => {
    it('refuses a missing or non-string iss', () => {
      expectRefused(signed(claimsWith({ iss: undefined })), 'iss_missing')
      expectRefused(signed(claimsWith({ iss: 1 })), 'iss_missing')
      expectRefused(signed(claimsWith({ iss: null })), 'iss_missing')
    })

    it('refuses a missing, empty or non-string sub', () => {
      expectRefused(signed(claimsWith({ sub: undefined })), 'sub_missing')
      expectRefused(signed(claimsWith({ sub: '' })), 'sub_missing')
      expectRefused(signed(claimsWith({ sub: 7 })), 'sub_missing')
    })

    it('refuses a missing, empty or non-string jti', () => {
      expectRefused(signed(claimsWith({ jti: undefined })), 'jti_missing')
      expectRefused(signed(claimsWith({ jti: '' })), 'jti_missing')
      expectRefused(signed(claimsWith({ jti: ['jti-1'] })), 'jti_missing')
    })

    it('refuses a missing, empty or non-string sid', () => {
      expectRefused(signed(claimsWith({ sid: undefined })), 'sid_missing')
      expectRefused(signed(claimsWith({ sid: '' })), 'sid_missing')
      expectRefused(signed(claimsWith({ sid: {} })), 'sid_missing')
    })

    it('refuses a missing, non-number or non-finite exp', () => {
      expectRefused(signed(claimsWith({ exp: undefined })), 'exp_missing')
      expectRefused(signed(claimsWith({ exp: '123' })), 'exp_missing')
      expectRefused(signed(claimsWith({ exp: null })), 'exp_missing')
      // JSON has no Infinity, but an exponent overflow parses to it.
      const rest = JSON.stringify(claimsWith({ exp: undefined })).slice(1)
      expect(JSON.parse(`{"exp":1e999,${rest}`)).toHaveProperty('exp', Infinity)
      expectRefused(signedText(`{"exp":1e999,${rest}`), 'exp_missing')
      expectRefused(signedText(`{"exp":-1e999,${rest}`), 'exp_missing')
    })

    it('refuses a missing, non-number or non-finite iat', () => {
      expectRefused(signed(claimsWith({ iat: undefined })), 'iat_missing')
      expectRefused(signed(claimsWith({ iat: String(T0) })), 'iat_missing')
      const rest = JSON.stringify(claimsWith({ iat: undefined })).slice(1)
      expectRefused(signedText(`{"iat":1e999,${rest}`), 'iat_missing')
    })

    it('accepts an absent nbf and a numeric one; refuses a non-number or non-finite nbf', () => {
      expect(verify(signed(claimsWith({ nbf: T0 })))).toEqual(claims)
      expectRefused(signed(claimsWith({ nbf: String(T0) })), 'nbf_not_number')
      expectRefused(signed(claimsWith({ nbf: null })), 'nbf_not_number')
      const rest = JSON.stringify(claims).slice(1)
      expectRefused(signedText(`{"nbf":-1e999,${rest}`), 'nbf_not_number')
    })

    it('defaults absent roles to [] and refuses roles that are not an array of strings', () => {
      expect(verify(signed(claimsWith({ roles: undefined }))).roles).toEqual([])
      expect(verify(signed(claimsWith({ roles: [] }))).roles).toEqual([])
      for (const roles of ['admin', ['admin', 1], [null], { 0: 'admin' }, null]) {
        expectRefused(signed(claimsWith({ roles })), 'roles_not_strings')
      }
    })

    it('checks presence in order: iss, sub, jti, sid, exp, iat, nbf, roles', () => {
      const all = { iss: 1, sub: '', jti: '', sid: '', exp: 'x', iat: 'x', nbf: 'x', roles: [1] }
      expectRefused(signed(claimsWith(all)), 'iss_missing')
      expectRefused(signed(claimsWith({ ...all, iss: rules.issuer })), 'sub_missing')
      expectRefused(signed(claimsWith({ ...all, iss: rules.issuer, sub: 'u' })), 'jti_missing')
      expectRefused(signed(claimsWith({ ...all, iss: rules.issuer, sub: 'u', jti: 'j' })), 'sid_missing')
      const named = { ...all, iss: rules.issuer, sub: 'u', jti: 'j', sid: 's' }
      expectRefused(signed(claimsWith(named)), 'exp_missing')
      expectRefused(signed(claimsWith({ ...named, exp: T0 + 1 })), 'iat_missing')
      expectRefused(signed(claimsWith({ ...named, exp: T0 + 1, iat: T0 })), 'nbf_not_number')
      expectRefused(signed(claimsWith({ ...named, exp: T0 + 1, iat: T0, nbf: T0 })), 'roles_not_strings')
    })
  })

  describe('iss and aud', () => {
    it('refuses another issuer, including case and trailing-slash variants', () => {
      for (const iss of ['https://evil.example', 'https://auth.example/', 'HTTPS://AUTH.EXAMPLE', '']) {
        expectRefused(signed(claimsWith({ iss })), 'wrong_iss')
      }
    })

    it('accepts an array aud that contains the audience, and returns the expected audience', () => {
      const token = signed(claimsWith({ aud: ['https://other.example', 'https://api.example'] }))
      expect(verify(token)).toEqual(claims)
      expect(verify(token).aud).toBe('https://api.example')
      expect(verify(signed(claimsWith({ aud: ['https://api.example'] }))).aud).toBe('https://api.example')
    })

    it('refuses a string aud that differs', () => {
      expectRefused(signed(claimsWith({ aud: 'https://other.example' })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: 'https://api.example/' })), 'wrong_aud')
    })

    it('refuses a missing or non-string, non-array aud', () => {
      expectRefused(signed(claimsWith({ aud: undefined })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: null })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: { 0: 'https://api.example' } })), 'wrong_aud')
    })

    it('refuses an array aud without the audience, an empty one, and one with a non-string', () => {
      expectRefused(signed(claimsWith({ aud: ['https://other.example'] })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: [] })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: ['https://api.example', 1] })), 'wrong_aud')
      expectRefused(signed(claimsWith({ aud: [['https://api.example']] })), 'wrong_aud')
    })

    it('checks iss before aud, and both before times', () => {
      const expired = { exp: T0 - 1000, iat: T0 - 2000 }
      expectRefused(signed(claimsWith({ ...expired, iss: 'x', aud: 'y' })), 'wrong_iss')
      expectRefused(signed(claimsWith({ ...expired, aud: 'y' })), 'wrong_aud')
      expectRefused(signed(claimsWith(expired)), 'token_expired')
    })
  })

  describe('times (leeway 30 s)', () => {
    it('accepts nbf up to now + leeway and refuses one second later', () => {
      expect(verify(signed(claimsWith({ nbf: T0 + LEEWAY })))).toEqual(claims)
      expectRefused(signed(claimsWith({ nbf: T0 + LEEWAY + 1 })), 'not_yet_valid')
    })

    it('accepts iat up to now + leeway and refuses one second later', () => {
      const exp = T0 + 900
      expect(verify(signed(claimsWith({ iat: T0 + LEEWAY, exp }))).iat).toBe(T0 + LEEWAY)
      expectRefused(signed(claimsWith({ iat: T0 + LEEWAY + 1, exp })), 'issued_in_future')
    })

    it('refuses exp at now - leeway and accepts it one second later', () => {
      const iat = T0 - 900
      expectRefused(signed(claimsWith({ iat, exp: T0 - LEEWAY })), 'token_expired')
      expectRefused(signed(claimsWith({ iat, exp: T0 - LEEWAY - 1 })), 'token_expired')
      expect(verify(signed(claimsWith({ iat, exp: T0 - LEEWAY + 1 }))).exp).toBe(T0 - LEEWAY + 1)
    })

    it('expires a token exactly at exp + leeway as now moves on', () => {
      const token = signAccessToken(claims, es256.signingKey, es256.signingHeader)
      expect(verify(token, claims.exp + LEEWAY - 1)).toEqual(claims)
      expectRefused(token, 'token_expired', claims.exp + LEEWAY)
    })

    it('applies no leeway when the rules allow none', () => {
      const strict = { ...rules, leewaySeconds: 0 }
      const token = signed(claimsWith({ nbf: T0 + 1 }))
      expectInvalidToken(() => verifyAccessToken(token, es256.resolveKey, strict, T0), 'not_yet_valid')
      expect(verifyAccessToken(token, es256.resolveKey, strict, T0 + 1)).toEqual(claims)
      const expiring = signAccessToken(claims, es256.signingKey, es256.signingHeader)
      expect(verifyAccessToken(expiring, es256.resolveKey, strict, claims.exp - 1)).toEqual(claims)
      expectInvalidToken(
        () => verifyAccessToken(expiring, es256.resolveKey, strict, claims.exp),
        'token_expired',
      )
    })

    it('checks nbf, then iat, then exp, then the lifetime', () => {
      const future = T0 + LEEWAY + 1
      expectRefused(signed(claimsWith({ nbf: future, iat: future, exp: T0 - 1000 })), 'not_yet_valid')
      expectRefused(signed(claimsWith({ iat: future, exp: T0 - 1000 })), 'issued_in_future')
      expectRefused(signed(claimsWith({ iat: T0 - 5000, exp: T0 - 1000 })), 'token_expired')
    })
  })

  describe('lifetime (at most 900 s, plus the 30 s leeway)', () => {
    it('accepts exp - iat up to the lifetime plus leeway and refuses one second more', () => {
      expect(verify(signed(claimsWith({ iat: T0, exp: T0 + 900 + LEEWAY }))).exp).toBe(T0 + 900 + LEEWAY)
      expectRefused(signed(claimsWith({ iat: T0, exp: T0 + 900 + LEEWAY + 1 })), 'lifetime_too_long')
    })

    it('refuses a long-lived token however recently issued: a signing key minted it, not the issuer', () => {
      expectRefused(signed(claimsWith({ iat: T0, exp: T0 + 10 * 365 * 86_400 })), 'lifetime_too_long')
      // Back-dating iat does not help: the token would then be expired, or too long-lived.
      expectRefused(signed(claimsWith({ iat: T0 - 3000, exp: T0 + 900 })), 'lifetime_too_long')
    })

    it('measures the lifetime without leeway when the rules allow none', () => {
      const strict = { ...rules, leewaySeconds: 0 }
      const longer = signed(claimsWith({ iat: T0, exp: T0 + 901 }))
      expectInvalidToken(() => verifyAccessToken(longer, es256.resolveKey, strict, T0), 'lifetime_too_long')
      expect(verifyAccessToken(signed(claims), es256.resolveKey, strict, T0)).toEqual(claims)
    })
  })

  describe('size', () => {
    it('refuses a token longer than maxTokenLength with token_too_large and accepts one at the limit', () => {
      const token = signAccessToken(claims, es256.signingKey, es256.signingHeader)
      const atLimit = { ...rules, maxTokenLength: token.length }
      expect(verifyAccessToken(token, es256.resolveKey, atLimit, T0)).toEqual(claims)
      const below = { ...rules, maxTokenLength: token.length - 1 }
      expectInvalidToken(() => verifyAccessToken(token, es256.resolveKey, below, T0), 'token_too_large')
    })

    it('refuses an oversized token before looking at anything else', () => {
      const big = signAccessToken(
        { ...claims, roles: Array.from({ length: 400 }, (_, i) => `role-${i}`) },
        es256.signingKey,
        es256.signingHeader,
      )
      expect(big.length).toBeGreaterThan(rules.maxTokenLength)
      expectRefused(big, 'token_too_large')
      expectRefused('x'.repeat(rules.maxTokenLength + 1), 'token_too_large')
    })
  })

  describe('signature', () => {
    it('refuses a token whose claims were changed after signing', () => {
      const token = signAccessToken(claims, es256.signingKey, es256.signingHeader)
      const [header, , signature] = token.split('.')
      const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['root'] })).toString('base64url')
      expectRefused(`${header}.${forged}.${signature}`, 'bad_signature')
    })
  })
})
