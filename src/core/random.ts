/**
 * All randomness Sesame uses comes from here, so it can be audited in one place. Everything is drawn from
 * the operating system's CSPRNG through `node:crypto`.
 */
import { randomBytes } from 'node:crypto'

/**
 * A bearer secret (session id, later refresh token): 32 random bytes = 256 bits of entropy, well above the
 * 112-bit floor of the Copenhagen Book and OWASP's 64 bits. Encoded as 43 unpadded base64url characters.
 */
export function generateSecretToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * A public identifier (user id, session id shown in device lists): 16 random bytes = 128 bits, so ids cannot
 * be guessed or enumerated. Encoded as 22 unpadded base64url characters. Not a credential.
 */
export function generatePublicId(): string {
  return randomBytes(16).toString('base64url')
}

const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

/**
 * True when `value` has the exact shape {@link generateSecretToken} produces: 43 base64url characters whose
 * last one carries no stray bits (so each secret has one spelling). Checked before any store lookup.
 */
export function isSecretTokenShape(value: string): boolean {
  return SECRET_TOKEN_PATTERN.test(value)
}
