/**
 * Email addresses as account keys. Normalised once at the edge (trim, lower case, then Unicode NFC: in that
 * order the result is stable) so that `Ann@Example.com` and `ann@example.com` are one account. Validation is deliberately loose (one `@`, a dotted
 * domain, sane lengths, no spaces or control characters): the only real proof of an address is mail
 * delivered to it, and strict RFC 5322 parsers reject addresses people really use.
 */
import { AuthError } from './errors.js'

const MAX_EMAIL_LENGTH = 254 // RFC 5321 §4.5.3.1.3 path limit, less the angle brackets
const MAX_LOCAL_LENGTH = 64 // RFC 5321 §4.5.3.1.1
const EMAIL_PATTERN = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}.]+(?:\.[^\s@\p{Cc}.]+)+$/u

/** The canonical form of an address, without validating it (sign-in looks up whatever was typed). */
export function canonicalizeEmail(input: string): string {
  return input.trim().toLowerCase().normalize('NFC')
}

/** Returns the canonical form of `input`, or throws `invalid_request` naming the "email" field. */
export function normalizeEmail(input: unknown): string {
  if (typeof input !== 'string') throw new AuthError('invalid_request', 'The "email" field must be a string.')
  const email = canonicalizeEmail(input)
  const at = email.indexOf('@')
  if (email.length > MAX_EMAIL_LENGTH || at > MAX_LOCAL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new AuthError('invalid_request', 'The "email" field is not a valid email address.')
  }
  return email
}
