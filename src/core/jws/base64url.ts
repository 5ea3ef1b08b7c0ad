/**
 * Strict base64url (RFC 7515 §2: unpadded, URL-safe alphabet). `Buffer.from(s, 'base64url')` silently skips
 * characters outside the alphabet and ignores stray trailing bits, so two different strings can decode to the
 * same bytes; a verifier must accept exactly one spelling of each value.
 */

const ALPHABET_PATTERN = /^[A-Za-z0-9_-]*$/
const CANONICAL_LAST = {
  // With 2 characters left over (1 byte), the last carries 4 spare bits; with 3 (2 bytes), 2 spare bits.
  2: /[AQgw]$/,
  3: /[AEIMQUYcgkosw048]$/,
} as const

/** True when `segment` is canonical unpadded base64url. */
export function isCanonicalBase64url(segment: string): boolean {
  if (!ALPHABET_PATTERN.test(segment)) return false
  const rest = segment.length % 4
  if (rest === 0) return true
  if (rest === 1) return false // no byte string encodes to this length
  return CANONICAL_LAST[rest as 2 | 3].test(segment)
}

/** Decodes canonical base64url; null for anything else. */
export function decodeBase64url(segment: string): Buffer | null {
  return isCanonicalBase64url(segment) ? Buffer.from(segment, 'base64url') : null
}

/** Encodes bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url')
}
