/**
 * Strict base64url (RFC 7515 §2: unpadded, URL-safe alphabet). `Buffer.from(s, 'base64url')` silently skips
 * characters outside the alphabet, accepts `+` and `/` from standard base64, stops at `=`, and ignores stray
 * trailing bits, so different strings can decode to the same bytes; a verifier must accept exactly one
 * spelling of each value.
 *
 * The check is done on the decoder's own output, so it costs native scans instead of a regex: non-ASCII is
 * refused outright, every skipped or terminating ASCII character makes the output shorter than the length of
 * a canonical encoding predicts, the two foreign alphabet characters are looked for directly, and the last
 * character must carry no stray bits.
 */

/** Last characters with zero spare bits: after 2 leftover characters (4 spare bits), after 3 (2 spare bits). */
const CANONICAL_LAST_OF_2 = 'AQgw'
const CANONICAL_LAST_OF_3 = 'AEIMQUYcgkosw048'

/** Decodes canonical base64url; null for anything else. */
export function decodeBase64url(segment: string): Buffer | null {
  const rest = segment.length % 4
  if (rest === 1) return null // no byte string encodes to this length
  if (rest !== 0) {
    const last = segment[segment.length - 1]!
    if (!(rest === 2 ? CANONICAL_LAST_OF_2 : CANONICAL_LAST_OF_3).includes(last)) return null
  }
  if (segment.includes('+') || segment.includes('/')) return null
  // Node reads only the low byte of each UTF-16 unit, so '\u4d2d' would pass for '-': allow ASCII only
  // (the UTF-8 length equals the string length exactly when every unit is below 0x80).
  if (Buffer.byteLength(segment, 'utf8') !== segment.length) return null
  const bytes = Buffer.from(segment, 'base64url')
  return bytes.length === Math.floor((segment.length * 3) / 4) ? bytes : null
}

/** True when `segment` is canonical unpadded base64url. */
export function isCanonicalBase64url(segment: string): boolean {
  return decodeBase64url(segment) !== null
}

/** Encodes bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url')
}
