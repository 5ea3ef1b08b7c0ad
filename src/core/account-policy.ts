/**
 * The rules of the links Sesame mails (email verification, password reset, email change): how long each
 * stays valid, and whether an unverified email may sign in. A link is a one-time token: 256 random bits
 * (`core/random.ts`), stored only as its hash, taken once, and only the newest of each purpose per user works
 * (`Store.putOneTimeToken`). A reset link is short-lived because whoever holds it owns the account.
 *
 * The defaults and ranges are data here; the server's configuration reads them, so each is stated once.
 */
import { SesameOptionError } from './errors.js'
import { type Range, checkOptionObject, checkWholeNumber } from './option-checks.js'

export interface AccountPolicy {
  /** Seconds a verification link stays valid. Default 86400 (24 h). */
  verifyEmailSeconds: number
  /** Seconds a password-reset link stays valid. Default 1800 (30 min). */
  resetPasswordSeconds: number
  /** Seconds an email-change confirmation link stays valid. Default 86400 (24 h). */
  changeEmailSeconds: number
  /** Refuse sign-ins (cookie and token) until the account's email is verified. Default false. */
  requireEmailVerification: boolean
}

export const ACCOUNT_POLICY_DEFAULTS: Readonly<AccountPolicy> = Object.freeze({
  verifyEmailSeconds: 86_400,
  resetPasswordSeconds: 1800,
  changeEmailSeconds: 86_400,
  requireEmailVerification: false,
})

type LinkLifetime = 'verifyEmailSeconds' | 'resetPasswordSeconds' | 'changeEmailSeconds'

/** Inclusive ranges, in seconds: at least five minutes to reach the mail, at most a week (a day to reset). */
export const ACCOUNT_POLICY_RANGES: Readonly<Record<LinkLifetime, Range>> = Object.freeze({
  verifyEmailSeconds: { min: 300, max: 604_800 },
  resetPasswordSeconds: { min: 300, max: 86_400 },
  changeEmailSeconds: { min: 300, max: 604_800 },
})

/** Resolves `input` over the defaults; throws `SesameOptionError` naming a bad member (`accounts.<name>`). */
export function resolveAccountPolicy(input: unknown = {}): Readonly<AccountPolicy> {
  const given = checkOptionObject('accounts', input, Object.keys(ACCOUNT_POLICY_DEFAULTS)) ?? {}
  const merged = { ...ACCOUNT_POLICY_DEFAULTS, ...given } as Record<string, unknown>
  const lifetimes = Object.keys(ACCOUNT_POLICY_RANGES) as LinkLifetime[]
  const resolved = Object.fromEntries(
    lifetimes.map((name) => [
      name,
      checkWholeNumber(`accounts.${name}`, merged[name], ACCOUNT_POLICY_RANGES[name]),
    ]),
  ) as Record<LinkLifetime, number>
  const require = merged['requireEmailVerification']
  if (typeof require !== 'boolean') {
    throw new SesameOptionError(
      'accounts.requireEmailVerification',
      'Option "accounts.requireEmailVerification" must be true or false.',
    )
  }
  return Object.freeze({ ...resolved, requireEmailVerification: require })
}
