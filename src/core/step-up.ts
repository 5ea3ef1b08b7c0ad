/**
 * Step-up: a change that could lock the owner out of the account (setting up a second factor, which a
 * password reset does not remove) needs a sign-in of moments ago, not only a session, which may be hours old
 * on a borrowed or unlocked computer. A cookie session's `issuedAt` is its sign-in: renewals never move it.
 */
import { AuthError } from './errors.js'
import type { Principal } from './principal.js'

/** How recent the sign-in must be. */
export const RECENT_SIGN_IN_SECONDS = 900

/** Throws `step_up_required` unless `principal` signed in within {@link RECENT_SIGN_IN_SECONDS} of `now`. */
export function requireRecentSignIn(principal: Pick<Principal, 'issuedAt'>, now: number): void {
  if (now - principal.issuedAt > RECENT_SIGN_IN_SECONDS) {
    throw new AuthError('step_up_required', 'Sign in again to make this change.', {
      reason: 'sign_in_not_recent',
    })
  }
}
