/**
 * JWS Compact Serialization (RFC 7515 §7.1) signing and verification on `node:crypto`, narrow on purpose: one
 * key per call, four algorithms, no JSON serialization, no unencoded payloads. Verification runs in jose's
 * order and stops at the first failure:
 *   1. structure: exactly three segments, each canonical base64url, within the size cap (five = JWE: refused)
 *   2. header: one JSON object, no duplicate members, no `crit`, `b64`, `jku`, `x5u`, `jwk`, `x5c`, `x5t`
 *   3. algorithm: the key the resolver picks is bound to one algorithm, and the header must name exactly it
 *   4. signature, checked in constant time (HMAC) or by the primitive (ES256 in IEEE P1363 form, EdDSA, RS256)
 * Only then is the payload decoded and returned; claims are the caller's next step.
 */
import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto'
import { AuthError } from '../errors.js'
import { type JwsAlgorithm, isSupportedAlgorithm } from './algorithms.js'
import { decodeBase64url, encodeBase64url } from './base64url.js'
import type { SigningKey, VerificationKey } from './keys.js'
import { parseStrictJsonObject } from './strict-json.js'

/** A JOSE header that passed the structural checks. */
export interface JwsHeader {
  alg: JwsAlgorithm
  kid?: string
  typ?: string
  [member: string]: unknown
}

/** Picks the key for a header (by `kid`), or null when none fits. Must not do I/O. */
export type KeyResolver = (header: JwsHeader) => VerificationKey | null

export interface VerifyCompactOptions {
  /** Longest token accepted, in characters. Default 8192. */
  maxLength?: number
}

export interface VerifiedJws {
  /** Frozen: it may be shared with other callers through the header cache. */
  header: Readonly<JwsHeader>
  payload: Buffer
  key: VerificationKey
}

/** Header members that would let the token choose its own key or change how it is processed (RFC 8725 §3.10). */
const FORBIDDEN_HEADER_MEMBERS = ['crit', 'b64', 'jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256', 'enc', 'zip']
const DEFAULT_MAX_LENGTH = 8192
// Parsed headers by their exact encoded text: every token from one key repeats the same header segment, so
// this skips a decode and a parse per verification. Bounded, and only ever holds headers that passed checks.
const HEADER_CACHE_LIMIT = 256
const headerCache = new Map<string, JwsHeader>()

function invalid(reason: string): AuthError {
  return new AuthError('invalid_token', 'The access token is invalid.', { reason })
}

/** Verifies a compact JWS with the key `resolveKey` picks; throws `invalid_token` with a fine `reason`. */
export function verifyCompact(
  token: string,
  resolveKey: KeyResolver,
  options: VerifyCompactOptions = {},
): VerifiedJws {
  if (token.length > (options.maxLength ?? DEFAULT_MAX_LENGTH)) throw invalid('token_too_large')
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  if (firstDot === -1 || secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) {
    throw invalid('not_three_segments')
  }
  const headerSegment = token.slice(0, firstDot)
  const payloadSegment = token.slice(firstDot + 1, secondDot)
  const signatureSegment = token.slice(secondDot + 1)

  const header = readHeader(headerSegment)
  const key = resolveKey(header)
  if (!key) throw invalid('unknown_key')
  if (key.alg !== header.alg) throw invalid('algorithm_mismatch')

  // Structure first: both segments must be canonical before the signature is checked. The payload's bytes are
  // only handed out after the signature holds.
  const payload = decodeBase64url(payloadSegment)
  if (!payload) throw invalid('payload_not_base64url')
  const signature = decodeBase64url(signatureSegment)
  if (!signature) throw invalid('signature_not_base64url')
  if (!checkSignature(key, token.slice(0, secondDot), signature)) throw invalid('bad_signature')
  return { header, payload, key }
}

function readHeader(segment: string): JwsHeader {
  const cached = headerCache.get(segment)
  if (cached) return cached
  const bytes = decodeBase64url(segment)
  if (!bytes) throw invalid('header_not_base64url')
  const header = parseStrictJsonObject(bytes.toString('utf8'))
  if (!header) throw invalid('header_not_json_object')
  for (const member of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) throw invalid(`header_${member}_refused`)
  }
  if (!isSupportedAlgorithm(header.alg)) throw invalid('unsupported_algorithm')
  if (header.kid !== undefined && typeof header.kid !== 'string') throw invalid('kid_not_string')
  if (header.typ !== undefined && typeof header.typ !== 'string') throw invalid('typ_not_string')
  // Cached headers are shared by every caller: frozen, so no caller can change what the next one sees.
  deepFreeze(header)
  if (headerCache.size >= HEADER_CACHE_LIMIT) headerCache.clear()
  headerCache.set(segment, header as JwsHeader)
  return header as JwsHeader
}

/** Freezes `value` and everything in it, iteratively (nesting depth is attacker-chosen). */
function deepFreeze(value: object): void {
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item !== 'object' || item === null || Object.isFrozen(item)) continue
    Object.freeze(item)
    for (const nested of Object.values(item as Record<string, unknown>)) pending.push(nested)
  }
}

function checkSignature(key: VerificationKey, signingInput: string, signature: Buffer): boolean {
  switch (key.alg) {
    case 'HS256': {
      const expected = createHmac('sha256', key.keyObject).update(signingInput).digest()
      return signature.length === expected.length && timingSafeEqual(signature, expected)
    }
    case 'ES256':
      // JWS carries r||s (IEEE P1363), 64 bytes; anything else is not an ES256 signature.
      return (
        signature.length === 64 &&
        verify(
          'sha256',
          Buffer.from(signingInput),
          { key: key.keyObject, dsaEncoding: 'ieee-p1363' },
          signature,
        )
      )
    case 'EdDSA':
      return signature.length === 64 && verify(null, Buffer.from(signingInput), key.keyObject, signature)
    case 'RS256':
      return verify('sha256', Buffer.from(signingInput), key.keyObject, signature)
  }
}

/** The encoded header segment for `key` with extra members (e.g. `typ`), built once per key by callers. */
export function encodeHeader(key: SigningKey, extra: Record<string, string> = {}): string {
  return encodeBase64url(JSON.stringify({ ...extra, alg: key.alg, kid: key.kid }))
}

/** Signs `payload` under a pre-encoded header segment from {@link encodeHeader} with the same key. */
export function signCompact(encodedHeader: string, payload: string | Uint8Array, key: SigningKey): string {
  const signingInput = `${encodedHeader}.${encodeBase64url(payload)}`
  return `${signingInput}.${encodeBase64url(createSignature(key, signingInput))}`
}

function createSignature(key: SigningKey, signingInput: string): Buffer {
  const data = Buffer.from(signingInput)
  switch (key.alg) {
    case 'HS256':
      return createHmac('sha256', key.keyObject).update(data).digest()
    case 'ES256':
      return sign('sha256', data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' })
    case 'EdDSA':
      return sign(null, data, key.keyObject)
    case 'RS256':
      return sign('sha256', data, key.keyObject)
  }
}
