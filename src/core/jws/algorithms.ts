/**
 * The JWS algorithms Sesame signs and verifies (RFC 7518 §3, RFC 8037 for EdDSA), each bound to exactly one key
 * type. Anything else (`none`, PS*, RS384, ES384, HS512, ...) is unsupported and refused: a smaller surface
 * is a safer one.
 */

export type JwsAlgorithm = 'HS256' | 'ES256' | 'EdDSA' | 'RS256'

export const SUPPORTED_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze([
  'ES256',
  'EdDSA',
  'RS256',
  'HS256',
])

/** True when `value` names a supported algorithm (exact, case-sensitive match, as RFC 7515 §4.1.1 requires). */
export function isSupportedAlgorithm(value: unknown): value is JwsAlgorithm {
  return value === 'ES256' || value === 'EdDSA' || value === 'RS256' || value === 'HS256'
}

/** True for algorithms whose verification key is public (and so may be published in a JWKS). */
export function isAsymmetric(alg: JwsAlgorithm): boolean {
  return alg !== 'HS256'
}
