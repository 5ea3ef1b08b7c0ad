/**
 * What every adapter does alike with federated identities (`FederatedIdentityRecord`): which identities a
 * store accepts, the order it lists them in, and when an unlink would lock the account out.
 */
import type { FederatedIdentityRecord } from './types.js'

/**
 * A provider id as Sesame's configuration names one. It never holds a colon, which the Redis layout relies on:
 * it keys an identity by `${provider}:${subject}`, and that reads back one way only if the provider has none.
 */
export const PROVIDER_ID_PATTERN = /^[a-z][a-z0-9_-]*$/

/**
 * Refuses (TypeError, a caller's mistake rather than a store failure) an identity with a provider id outside
 * {@link PROVIDER_ID_PATTERN}, or one created together with a user it does not name.
 */
export function checkIdentity(identity: FederatedIdentityRecord, userId: string = identity.userId): void {
  if (!PROVIDER_ID_PATTERN.test(identity.provider)) {
    throw new TypeError(`A provider id must match ${String(PROVIDER_ID_PATTERN)}.`)
  }
  if (identity.userId !== userId) {
    throw new TypeError('An identity created with its user must name that user.')
  }
}

/** The order of `listUserIdentities`: oldest first, then by provider id. */
export function byLinkTime(a: FederatedIdentityRecord, b: FederatedIdentityRecord): number {
  return a.createdAt - b.createdAt || (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0)
}

/**
 * Whether removing ONE of a user's identities or passkeys would leave no way to sign in, given the user's
 * `identityCount` identities and `passkeyCount` passkeys (factors of kind `passkey`; a TOTP secret or a
 * recovery code signs no one in alone): no password, and nothing else left. A user that is gone counts as
 * having no password.
 */
export function isLastSignInMethod(
  passwordHash: string | null | undefined,
  identityCount: number,
  passkeyCount: number,
): boolean {
  return (passwordHash ?? null) === null && identityCount + passkeyCount <= 1
}

/** Whether removing the password would leave no way to sign in: no identity and no passkey. */
export function isPasswordTheLastSignInMethod(identityCount: number, passkeyCount: number): boolean {
  return identityCount + passkeyCount === 0
}
