/**
 * The second step of a sign-in, for an account with a second factor. After the first factor (a password, a
 * sign-in provider) the browser gets no session but a pending sign-in in its own cookie: sealed, five minutes,
 * good for one completion (`pending-sign-ins.ts`). The second step proves a factor of that same user and hands
 * back who signed in and how, for the session to be started.
 *
 * What a first factor alone cannot do here: start a session (of any kind: the password grant refuses such
 * accounts too), learn which user the pending cookie is for (it is encrypted), or try codes without limit (every
 * attempt counts against the account's second-factor limit before it is checked).
 */
import type { Clock } from '../core/clock.js'
import {
  type CookieDescription,
  type SessionCookieOptions,
  createPendingSignInCookie,
  pendingSignInCookieName,
  readCookie,
} from '../core/cookie.js'
import { AuthError, isAuthError } from '../core/errors.js'
import { SIGN_IN_METHOD } from '../core/sign-in-methods.js'
import type { Store, UserRecord } from '../store/types.js'
import type { PendingSignIns } from './pending-sign-ins.js'
import type { Passkeys } from './passkeys.js'
import type { SecondFactors } from './second-factors.js'

/** The refusals that mean the pending sign-in itself is gone (none sent, lapsed, used, another user's). */
const PENDING_GONE = new Set([
  'no_pending_sign_in',
  'duplicate_pending_cookie',
  'pending_unreadable',
  'pending_expired',
  'pending_used',
  'user_unavailable',
])

/** Whether `error` ends the pending sign-in (start again at the first factor), not just this attempt. */
export function isPendingSignInGone(error: unknown): boolean {
  return isAuthError(error, 'invalid_second_factor') && PENDING_GONE.has(error.reason ?? '')
}

/** A way to finish a pending sign-in, as the API and the pages name it. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey'

/** What a sign-in answers instead of a session when the account has a second factor. */
export interface SecondFactorRequired {
  secondFactor: {
    /** The ways this user can finish, in the order a page offers them. */
    methods: SecondFactorMethod[]
    expiresAt: number
  }
  /** The pending sign-in's cookie, to send with the answer (with `Cache-Control: no-store`). */
  pendingCookie: CookieDescription
}

/** What a first factor leads to: a session, or the request for a second factor. */
export type SignInOutcome<Result> = Result | SecondFactorRequired

/** Whether a sign-in stopped at its second step. */
export function isSecondFactorRequired<Result extends object>(
  outcome: SignInOutcome<Result>,
): outcome is SecondFactorRequired {
  return 'secondFactor' in outcome
}

/**
 * The second factor a client sends: a code from the authenticator app, one of the recovery codes, or a
 * passkey's answer to the ceremony from {@link SecondFactorSignIn.passkeyOptions}.
 */
export type SecondFactorProof =
  { code: string } | { recoveryCode: string } | { passkey: { ceremony: string; response: object } }

export interface SecondFactorSignIn {
  /** After a first factor (`amr`): what to ask for, or null when the user has no second factor. */
  challenge(userId: string, amr: readonly string[]): Promise<SecondFactorRequired | null>
  /**
   * Checks `proof` for the pending sign-in in `cookieHeader` and uses the sign-in up. Returns the user, re-read
   * (a user disabled meanwhile is refused before the code is spent), and every method passed; `onUser` learns
   * whose sign-in it is as soon as the note opens (for the audit event of a refusal). Throws
   * `invalid_second_factor` (no pending sign-in, lapsed or used, wrong code), `invalid_credentials`
   * (disabled), `rate_limited`.
   */
  prove(
    cookieHeader: string | undefined,
    proof: SecondFactorProof,
    onUser?: (userId: string) => void,
  ): Promise<{ user: UserRecord; amr: string[] }>
  /** The cookie that clears the pending sign-in, sent once it is done (or abandoned). */
  clearedCookie(): CookieDescription
  /** The passkey request for the pending sign-in in `cookieHeader` (its user's passkeys). */
  passkeyOptions(cookieHeader: string | undefined): ReturnType<Passkeys['beginSignIn']>
}

export interface SecondFactorSignInOptions {
  store: Pick<Store, 'findUserById' | 'listUserFactors'>
  clock: Clock
  pending: PendingSignIns
  factors: Pick<SecondFactors, 'verifyTotp' | 'useRecoveryCode'>
  passkeys: Pick<Passkeys, 'beginSignIn' | 'finishSignIn'>
  cookie: Pick<SessionCookieOptions, 'secure'>
}

export function createSecondFactorSignIn(options: SecondFactorSignInOptions): SecondFactorSignIn {
  const { store, clock, pending, factors, passkeys, cookie } = options
  const noPendingSignIn = (reason: string) =>
    new AuthError('invalid_second_factor', 'The sign-in has expired; sign in again.', { reason })

  function pendingCookieValue(cookieHeader: string | undefined): string {
    const lookup = readCookie(cookieHeader, pendingSignInCookieName(cookie))
    if (lookup.status === 'absent') throw noPendingSignIn('no_pending_sign_in')
    // Two pending cookies: one was planted (a sibling host cannot set `__Host-`, but a plain-HTTP setup can).
    if (lookup.status === 'duplicate') throw noPendingSignIn('duplicate_pending_cookie')
    return lookup.value
  }

  return {
    async challenge(userId, amr) {
      const held = await store.listUserFactors(userId)
      const methods: SecondFactorMethod[] = []
      if (held.some((factor) => factor.kind === 'totp')) methods.push('totp')
      if (held.some((factor) => factor.kind === 'passkey')) methods.push('passkey')
      // Recovery codes stand in for a second factor; alone (which the engine never leaves) they ask for none.
      if (methods.length === 0) return null
      if (held.some((factor) => factor.kind === 'recovery-code')) methods.push('recovery_code')
      const { sealed, expiresAt } = await pending.start(userId, amr)
      return {
        secondFactor: { methods, expiresAt },
        pendingCookie: createPendingSignInCookie(cookie, sealed, expiresAt - clock.nowSeconds()),
      }
    },

    async prove(cookieHeader, proof, onUser) {
      const signIn = await pending.open(pendingCookieValue(cookieHeader))
      onUser?.(signIn.userId)
      // Who may not sign in is refused before anything is spent.
      const user = await store.findUserById(signIn.userId)
      if (!user) throw noPendingSignIn('user_unavailable')
      if (user.disabledAt !== null) {
        throw new AuthError('invalid_credentials', 'This account is disabled.', { reason: 'user_disabled' })
      }
      // The factor, then the single use: a mistyped code leaves the sign-in open for another try.
      let passed: readonly string[] = [SIGN_IN_METHOD.oneTimeCode]
      if ('code' in proof) await factors.verifyTotp(signIn.userId, proof.code)
      else if ('recoveryCode' in proof) await factors.useRecoveryCode(signIn.userId, proof.recoveryCode)
      else {
        const answer = await passkeys.finishSignIn(proof.passkey.ceremony, proof.passkey.response)
        if (answer.userId !== signIn.userId) {
          throw new AuthError('invalid_second_factor', "That passkey is not this account's.", {
            reason: 'other_user',
          })
        }
        passed = answer.amr.filter((method) => method !== SIGN_IN_METHOD.multiFactor)
      }
      await pending.finish(signIn)
      return { user, amr: [...signIn.amr, ...passed, SIGN_IN_METHOD.multiFactor] }
    },

    clearedCookie: () => createPendingSignInCookie(cookie, '', 0),

    async passkeyOptions(cookieHeader) {
      const signIn = await pending.open(pendingCookieValue(cookieHeader))
      return passkeys.beginSignIn(signIn.userId)
    },
  }
}
