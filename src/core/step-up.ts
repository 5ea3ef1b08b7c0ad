/**
 * Step-up: a change that could lock the owner out of the account needs a sign-in of moments ago, not only a
 * session, which may be hours old on a borrowed or unlocked computer: setting up a second factor (which a
 * password reset does not remove), and, for an account that has one, changing the password or the email or
 * deleting the account, which then also needs that factor. A cookie session's `issuedAt` is its sign-in:
 * renewals never move it.
 */
import { AuthError } from './errors.js'
import type { Principal } from './principal.js'
import { SIGN_IN_METHOD } from './sign-in-methods.js'

/** How recent the sign-in must be. */
export const RECENT_SIGN_IN_SECONDS = 900

/**
 * Throws `step_up_required` unless `principal` is a cookie session signed in within
 * {@link RECENT_SIGN_IN_SECONDS} of `now`. An access token is refused: its `issuedAt` is its own issue, which
 * every refresh renews, not the user's sign-in.
 */
export function requireRecentSignIn(principal: Pick<Principal, 'issuedAt' | 'method'>, now: number): void {
  if (principal.method !== 'cookie') {
    throw new AuthError('step_up_required', 'Make this change signed in through the browser.', {
      reason: 'token_cannot_step_up',
    })
  }
  if (now - principal.issuedAt > RECENT_SIGN_IN_SECONDS) {
    throw new AuthError('step_up_required', 'Sign in again to make this change.', {
      reason: 'sign_in_not_recent',
    })
  }
}

/**
 * The step-up of a sensitive change (the password, the email, deleting the account) for a user with a second
 * factor: the request must come from a cookie session signed in with that factor (`amr` holds `mfa`) within
 * {@link RECENT_SIGN_IN_SECONDS}. An access token cannot show a recent sign-in (it carries no sign-in time),
 * so it is refused for such a user: the change is made in the browser. A user without a second factor has
 * nothing stronger than the password the change already asks for; one without a password either needs a
 * recent sign-in.
 */
export function requireStrongRecentSignIn(
  principal: Pick<Principal, 'issuedAt' | 'amr' | 'method'>,
  now: number,
  user: { hasSecondFactor: boolean; hasPassword: boolean },
): void {
  // Without a password (an account made through a provider) the change asks for nothing else: a recent sign-in.
  if (!user.hasSecondFactor) {
    if (!user.hasPassword) requireRecentSignIn(principal, now)
    return
  }
  requireRecentSignIn(principal, now)
  if (!principal.amr.includes(SIGN_IN_METHOD.multiFactor)) {
    throw new AuthError('step_up_required', 'Sign in again with your second factor to make this change.', {
      reason: 'second_factor_needed',
    })
  }
}
