/**
 * `sesame token decode`'s "Revoked:" line: whether the configured store holds something that kills this access
 * token, judged as bearer authentication judges it (`core/bearer.ts` over the list `core/revocation-list.ts`
 * fills from the store): the token's own `jti`, its family's `sid`, and its user's epoch ("log out
 * everywhere"). Nothing else: verification never reads the user, so a disabled account's token is refused only
 * through the revocations `disableUser` writes after setting the flag. The store is only read here.
 *
 * It answers "unknown" whenever the store cannot settle the question, never a hopeful "no": a token of another
 * issuer or of a user this store does not know, and an expired token (entries are dropped once the tokens they
 * kill have expired, so their absence proves nothing).
 */
import type { Store } from '../store/types.js'

/** The claims the revocation list keys on. */
export interface RevocationSubject {
  sub: string
  jti: string
  sid: string
  iat: number
  exp: number
}

/** The claims to look up, or why this store cannot say anything about the token. */
export function revocationSubject(
  claims: Record<string, unknown>,
  issuer: string,
): RevocationSubject | { unknown: string } {
  const { iss, sub, jti, sid, iat, exp } = claims
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    typeof sid !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    return { unknown: 'not a Sesame access token: it lacks iss, sub, jti, sid, iat or exp' }
  }
  // Only the issuer's own store knows its revocations; this one would find nothing and answer a false "no".
  if (iss !== issuer) {
    return { unknown: `issued by "${iss}", not by this configuration's issuer "${issuer}"` }
  }
  return { sub, jti, sid, iat, exp }
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

/**
 * What follows "Revoked: " for `token` at `now`. Of several reasons that hold, the broadest is given: signing
 * out everywhere also ends each session.
 */
export async function revocationStatus(token: RevocationSubject, store: Store, now: number): Promise<string> {
  const epoch = (await store.listUserEpochs(now)).find((entry) => entry.userId === token.sub)
  // As the engine judges it: tokens issued in the epoch's own second survive it.
  if (epoch && token.iat < epoch.epoch) return `yes (user signed out everywhere at ${iso(epoch.epoch)})`
  const revocations = await store.listAccessRevocations(now)
  if (revocations.some((entry) => entry.kind === 'sid' && entry.value === token.sid)) {
    const family = await store.findRefreshFamily(token.sid)
    // The family gives the time, unless its own expiry has come and the sweep has purged it since.
    return family && family.revokedAt !== null
      ? `yes (its session ended at ${iso(family.revokedAt)})`
      : 'yes (its session ended)'
  }
  if (revocations.some((entry) => entry.kind === 'jti' && entry.value === token.jti)) {
    return 'yes (this token was revoked)'
  }
  const user = await store.findUserById(token.sub)
  if (!user) return 'unknown (the configured store has no user with this sub)'
  if (token.exp <= now) return 'unknown (it has expired, and revocations are kept only until then)'
  // Disabling writes the flag first and the revocations after; a token caught between the two (or whose
  // revocations failed to be written) is still accepted by every verifier, so this is no "yes".
  if (user.disabledAt !== null) {
    return 'no (the user is disabled, but no revocation is recorded: accepted until it expires)'
  }
  return 'no'
}
