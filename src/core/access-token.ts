/**
 * Access tokens: JWTs typed `at+jwt` (RFC 9068) with `iss sub aud exp iat jti client_id sid`, `scope` when
 * one was granted, `roles`, and how the user signed in (`amr`, RFC 9068 §2.2.1). No secrets in the payload:
 * it is only base64url, readable by anyone holding the token.
 *
 * Verification order (jose's, RFC 8725): the JWS layer checks structure, header, algorithm-to-key binding and
 * signature first; only then are claims read, in a fixed sequence: `typ`, required presence and types (times
 * must be finite numbers), `iss`, `aud`, `nbf`, `iat`, `exp`, then the lifetime `exp - iat`. Every failure is
 * `invalid_token`; the fine `reason` says which check failed, for logs only.
 */
import { AuthError } from './errors.js'
import { type KeyResolver, encodeHeader, signCompact, verifyCompact } from './jws/compact.js'
import type { SigningKey } from './jws/keys.js'
import { parseStrictJsonObject } from './jws/strict-json.js'

/** The claims of a Sesame access token. */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  iat: number
  jti: string
  /** The refresh family (session) the token belongs to. */
  sid: string
  /**
   * The OAuth client it was issued to (RFC 9068 §2.2). Always issued; optional when verifying, since tokens
   * signed before clients existed lack it (they live minutes).
   */
  client_id?: string
  /** The granted scopes, space-separated (RFC 9068 §2.2.3); absent when none were. */
  scope?: string
  roles: readonly string[]
  /**
   * How the user signed in (`core/sign-in-methods.ts`) to start the session the token belongs to; issued when
   * known, absent from tokens of families that recorded none.
   */
  amr?: readonly string[]
  /**
   * When the user signed in. Read when present, not issued yet: a family started by an authorization code
   * begins at the exchange, not at the sign-in, so the family's start would claim a fresher sign-in than
   * there was; it will be issued once families record their sign-in time.
   */
  auth_time?: number
}

/** What a verifier insists on. */
export interface AccessTokenRules {
  issuer: string
  audience: string
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (at most 60). */
  leewaySeconds: number
  /** Longest token accepted, in characters. */
  maxTokenLength: number
  /**
   * Longest lifetime (`exp - iat`) accepted, in seconds, plus `leewaySeconds`: the issuer's access-token
   * lifetime. No token Sesame issues is longer, so a longer one was minted elsewhere (with a leaked key, say).
   * It would also outlive its own revocation: `sid` kills and user epochs are kept only for this lifetime plus
   * leeway, after which a longer-lived token would verify again.
   */
  maxLifetimeSeconds: number
}

export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** The pre-encoded `{"alg","typ":"at+jwt","kid"}` header for `key`; build once per key. */
export function encodeAccessTokenHeader(key: SigningKey): string {
  return encodeHeader(key, { typ: ACCESS_TOKEN_TYPE })
}

/** Signs `claims` with `key` under its pre-encoded header. */
export function signAccessToken(claims: AccessTokenClaims, key: SigningKey, encodedHeader: string): string {
  return signCompact(encodedHeader, JSON.stringify(claims), key)
}

function invalid(reason: string): AuthError {
  return new AuthError('invalid_token', 'The access token is invalid.', { reason })
}

/** Verifies an access token at `now` (Unix seconds); throws `invalid_token`. */
export function verifyAccessToken(
  token: string,
  resolveKey: KeyResolver,
  rules: AccessTokenRules,
  now: number,
): AccessTokenClaims {
  const { header, payload } = verifyCompact(token, resolveKey, { maxLength: rules.maxTokenLength })
  // RFC 9068 §4: "at+jwt", optionally with the "application/" prefix, compared case-insensitively.
  const typ = header.typ?.toLowerCase()
  if (typ !== ACCESS_TOKEN_TYPE && typ !== `application/${ACCESS_TOKEN_TYPE}`) throw invalid('wrong_typ')

  const claims = parseStrictJsonObject(payload.toString('utf8'))
  if (!claims) throw invalid('payload_not_json_object')
  const { iss, sub, aud, exp, iat, nbf, jti, sid, roles, client_id: clientId, scope, amr } = claims
  const authTime = claims.auth_time
  if (typeof iss !== 'string') throw invalid('iss_missing')
  if (typeof sub !== 'string' || sub === '') throw invalid('sub_missing')
  if (typeof jti !== 'string' || jti === '') throw invalid('jti_missing')
  if (typeof sid !== 'string' || sid === '') throw invalid('sid_missing')
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) {
    throw invalid('client_id_not_string')
  }
  if (scope !== undefined && typeof scope !== 'string') throw invalid('scope_not_string')
  if (!isFiniteNumber(exp)) throw invalid('exp_missing')
  if (!isFiniteNumber(iat)) throw invalid('iat_missing')
  if (nbf !== undefined && !isFiniteNumber(nbf)) throw invalid('nbf_not_number')
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    throw invalid('roles_not_strings')
  }
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string'))) {
    throw invalid('amr_not_strings')
  }
  if (authTime !== undefined && !isFiniteNumber(authTime)) throw invalid('auth_time_not_number')
  if (iss !== rules.issuer) throw invalid('wrong_iss')
  if (!audienceMatches(aud, rules.audience)) throw invalid('wrong_aud')
  if (nbf !== undefined && nbf > now + rules.leewaySeconds) throw invalid('not_yet_valid')
  if (iat > now + rules.leewaySeconds) throw invalid('issued_in_future')
  if (exp <= now - rules.leewaySeconds) throw invalid('token_expired')
  if (exp - iat > rules.maxLifetimeSeconds + rules.leewaySeconds) throw invalid('lifetime_too_long')
  // Frozen: the claims may be cached and handed to many requests, and no handler may change what the next sees.
  const verified: AccessTokenClaims = {
    iss,
    sub,
    aud: rules.audience,
    exp,
    iat,
    jti,
    sid,
    roles: Object.freeze(roles ?? []),
  }
  if (clientId !== undefined) verified.client_id = clientId
  if (scope !== undefined) verified.scope = scope
  if (amr !== undefined) verified.amr = Object.freeze(amr)
  if (authTime !== undefined) verified.auth_time = authTime
  return verified
}

/** Largest time a JavaScript Date can hold, in seconds: later "times" are not times (and would break callers). */
const MAX_TIME_SECONDS = 8.64e12

/** A NumericDate (RFC 7519 §2): a finite number of seconds, here also within the range of a Date. */
function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_TIME_SECONDS
}

/** RFC 7519 §4.1.3: a string, or an array of strings that contains the expected audience. */
function audienceMatches(aud: unknown, expected: string): boolean {
  if (typeof aud === 'string') return aud === expected
  return (
    Array.isArray(aud) &&
    aud.length > 0 &&
    aud.every((item) => typeof item === 'string') &&
    aud.includes(expected)
  )
}
