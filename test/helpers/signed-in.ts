/** Sign-ins that a test expects to end in a session: the account has no second factor. */
import { type SignInOutcome, isSecondFactorRequired } from '../../src/auth.js'

/** The session `outcome` started; throws when the sign-in asked for a second factor instead. */
export function sessionOf<Result extends object>(outcome: SignInOutcome<Result>): Result {
  if (isSecondFactorRequired(outcome))
    throw new Error('expected a session, not a request for a second factor')
  return outcome
}
