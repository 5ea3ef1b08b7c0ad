/**
 * What a password must be, per NIST SP 800-63B §3.1.1.2: at least 8 characters, long passphrases allowed (256
 * here), never truncated, no composition rules. Length counts Unicode code points after NFKC normalisation,
 * which is also the form that is hashed, so the same passphrase typed on two keyboards matches.
 */
import { isCommonPassword } from './common-passwords/index.js'
import { AuthError } from './errors.js'

export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 256

/** The form of a password that is hashed and verified. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

/**
 * Returns the normalised password for a new credential, or throws `invalid_request` naming "password".
 * Login does not apply the minimum (old accounts may predate it) but does apply the type and maximum.
 */
export function checkNewPassword(input: unknown, context: { email?: string } = {}): string {
  const password = readPassword(input)
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new AuthError(
      'invalid_request',
      `The "password" field must be at least ${MIN_PASSWORD_LENGTH} characters.`,
    )
  }
  if (isCommonPassword(password)) {
    throw new AuthError(
      'invalid_request',
      'The "password" field is one of the most common passwords; choose another.',
    )
  }
  if (context.email !== undefined && isEmailLike(password, context.email)) {
    throw new AuthError('invalid_request', 'The "password" field must not be the email address.')
  }
  return password
}

/** True when the password is the email address, or its local part, whatever the case. */
function isEmailLike(password: string, email: string): boolean {
  const lowered = password.toLowerCase()
  const canonical = email.toLowerCase()
  return lowered === canonical || lowered === canonical.slice(0, canonical.lastIndexOf('@'))
}

/** Returns the normalised password presented at login, or throws `invalid_request`. */
export function readPassword(input: unknown): string {
  if (typeof input !== 'string') {
    throw new AuthError('invalid_request', 'The "password" field must be a string.')
  }
  // NFKC can expand text up to 18x, so far-too-long input is refused before any normalisation work is done.
  // 4 UTF-16 units per allowed character leaves room for every legitimate input.
  const password = input.length > MAX_PASSWORD_LENGTH * 4 ? input : normalizePassword(input)
  if ([...password].length > MAX_PASSWORD_LENGTH) {
    throw new AuthError(
      'invalid_request',
      `The "password" field must be at most ${MAX_PASSWORD_LENGTH} characters.`,
    )
  }
  return password
}
