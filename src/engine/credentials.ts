/**
 * Checking an email and password, shared by cookie sign-in and the token endpoint's password grant.
 * An unknown email and a wrong password take the same path (one argon2id verification, against a dummy hash
 * for unknown accounts) and end in the same `invalid_credentials` error, so neither the answer nor its timing
 * tells whether an account exists. Throttling counts attempts per account, per (account, address) pair and per address the same way for
 * both. Old hashes are upgraded after a correct password.
 */
import { canonicalizeEmail } from '../core/email.js'
import { AuthError } from '../core/errors.js'
import type { PasswordHasher } from '../core/password-hasher.js'
import { readPassword } from '../core/password-policy.js'
import type { Store, UserRecord } from '../store/types.js'
import type { Throttle } from './throttle.js'

/**
 * Returns the user the credentials prove, or throws `invalid_request`, `invalid_credentials` or
 * `rate_limited` (too many failures for the account or from `ip`: the same answer whether or not it exists).
 */
export type CredentialChecker = (email: unknown, password: unknown, ip?: string) => Promise<UserRecord>

export function createCredentialChecker(
  store: Store,
  hasher: PasswordHasher,
  throttle: Throttle,
): CredentialChecker {
  return async function checkCredentials(email, password, ip) {
    if (typeof email !== 'string')
      throw new AuthError('invalid_request', 'The "email" field must be a string.')
    const normalizedPassword = readPassword(password)
    await throttle.checkSignIn(email, ip)
    // No format check: an address that could never have signed up simply finds no account.
    const user = await store.findUserByEmail(canonicalizeEmail(email))
    // An account made through a sign-in provider has no password yet: it takes the unknown account's path.
    const passwordHash = user?.passwordHash ?? null
    const valid =
      passwordHash !== null
        ? await hasher.verify(passwordHash, normalizedPassword)
        : await hasher.verifyDummy(normalizedPassword)
    if (!user || passwordHash === null || !valid || user.disabledAt !== null) {
      await throttle.recordSignInFailure(email, ip)
      throw new AuthError('invalid_credentials', 'The email or password is incorrect.', {
        reason: !user
          ? 'unknown_email'
          : passwordHash === null
            ? 'no_password'
            : !valid
              ? 'wrong_password'
              : 'user_disabled',
      })
    }
    await throttle.recordSignInSuccess(email, ip)
    if (hasher.needsRehash(passwordHash)) {
      await store.updatePasswordHash(user.id, await hasher.hash(normalizedPassword))
    }
    return user
  }
}
