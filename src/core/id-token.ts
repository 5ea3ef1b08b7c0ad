/**
 * ID tokens (OpenID Connect Core §2): what a relying party learns about the sign-in, as a JWT signed by the
 * same key ring as access tokens but typed `JWT` and addressed to the client (`aud` = its id), so neither can
 * pass for the other (an access token must be `at+jwt` and name the API's audience).
 */
import { createHash } from 'node:crypto'
import type { JwsAlgorithm } from './jws/algorithms.js'
import { type KeyResolver, encodeHeader, signCompact, verifyCompact } from './jws/compact.js'
import type { SigningKey } from './jws/keys.js'
import { parseStrictJsonObject } from './jws/strict-json.js'

export interface IdTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  iat: number
  /** When the person last signed in (the cookie session's start), Unix seconds. */
  auth_time: number
  /** The client's `nonce`, echoed to bind the token to its request; absent when it sent none. */
  nonce?: string
  /** The left half of the access token's hash, so a swapped access token shows (§3.1.3.6). */
  at_hash: string
  /** The authentication methods (RFC 8176), when known. */
  amr?: string[]
  /** The Sesame session (`sid`, OpenID Connect Front-Channel Logout §3): what RP-initiated logout ends. */
  sid: string
  email?: string
  email_verified?: boolean
}

export function signIdToken(claims: IdTokenClaims, key: SigningKey): string {
  return signCompact(encodeHeader(key, { typ: 'JWT' }), JSON.stringify(claims), key)
}

/**
 * `at_hash`: base64url of the left half of the access token's hash, with the hash of the signing algorithm
 * (SHA-256 for ES256, RS256 and HS256; SHA-512 for Ed25519, as OpenID's EdDSA profile and its certified
 * clients take it).
 */
export function accessTokenHash(accessToken: string, alg: JwsAlgorithm): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken)
    .digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/**
 * What an `id_token_hint` (RP-initiated logout) says, if this server signed it for `issuer`: its subject,
 * client and session. Expiry does not matter (OpenID Connect RP-Initiated Logout §2: a hint may be expired);
 * null for anything this server did not sign.
 */
export function readIdTokenHint(
  token: string,
  resolveKey: KeyResolver,
  issuer: string,
): { sub: string; aud: string; sid: string | undefined } | null {
  try {
    const { header, payload } = verifyCompact(token, resolveKey)
    if (header.typ !== 'JWT') return null
    const claims = parseStrictJsonObject(payload.toString('utf8'))
    if (!claims || claims['iss'] !== issuer) return null
    const { sub, aud, sid } = claims
    if (typeof sub !== 'string' || typeof aud !== 'string') return null
    return { sub, aud, sid: typeof sid === 'string' ? sid : undefined }
  } catch {
    return null
  }
}
