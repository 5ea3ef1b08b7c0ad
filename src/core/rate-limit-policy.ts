/**
 * Throttling rules for the endpoints attackers hammer, in fixed windows counted in the store so every
 * instance shares them. Limits are temporary by construction: a counter ends with its window, so nobody's
 * guesses lock a victim out for good.
 *
 * Sign-ins are limited twice. Per (account, address) pair, tightly: one attacker guessing from one address
 * locks only that pair, and the owner signing in from anywhere else is not affected. Per account, across every
 * address, loosely: OWASP ASVS 5.0 V6.3 allows at most 100 failures per account per hour, and distributed
 * guessing must stop there too. Only a distributed attack that reaches the account cap locks the owner out,
 * and then for the rest of that hour.
 *
 * The defaults and ranges are data here; the server's configuration reads them, so each is stated once.
 */
import { type Range, checkOptionObject, checkWholeNumber } from './option-checks.js'

export interface RateLimitRule {
  /** Hits allowed in one window; 0 turns the rule off. */
  limit: number
  windowSeconds: number
}

export interface RateLimitPolicy {
  /** Failed sign-ins against one account from one client address. Default 10 per 15 min. */
  loginFailuresPerAccountAndAddress: RateLimitRule
  /**
   * Sign-in attempts against one account from all addresses together, counted before the password is
   * checked (correct ones included). Default 100 per hour, ASVS's ceiling for failures.
   */
  loginAttemptsPerAccount: RateLimitRule
  /** Failures from one client address (sign-ins, refresh grants, revocations of unknown tokens). Default 100 per 15 min. */
  loginFailuresPerAddress: RateLimitRule
  /** Sign-ups from one client address. Default 20 per hour. */
  signupsPerAddress: RateLimitRule
  /**
   * Mails with a link (verification, password reset, email change) asked for one account, whether or not the
   * address has one, so the answer is the same. Default 5 per hour: enough to retry, too few to flood an inbox.
   */
  mailsPerAccount: RateLimitRule
  /** Mails with a link asked for from one client address, and failed link confirmations. Default 30 per hour. */
  mailsPerAddress: RateLimitRule
  /**
   * Second-factor codes (TOTP, recovery codes) tried for one account, from every address, counted before the
   * code is checked; a correct code clears the count. Default 5 per 15 min: with three TOTP steps accepted at a
   * time, one window of guesses succeeds with a chance of 5 × 3 / 10^6. It cannot be turned off (1 to 100).
   */
  secondFactorAttemptsPerAccount: RateLimitRule
  /** Failures of one (account, address) pair after which each further failed sign-in is answered this much later. */
  softDelay: { afterFailures: number; stepMs: number; maxMs: number }
}

export const DEFAULT_RATE_LIMIT_POLICY: Readonly<RateLimitPolicy> = Object.freeze({
  loginFailuresPerAccountAndAddress: { limit: 10, windowSeconds: 900 },
  loginAttemptsPerAccount: { limit: 100, windowSeconds: 3600 },
  loginFailuresPerAddress: { limit: 100, windowSeconds: 900 },
  signupsPerAddress: { limit: 20, windowSeconds: 3600 },
  mailsPerAccount: { limit: 5, windowSeconds: 3600 },
  mailsPerAddress: { limit: 30, windowSeconds: 3600 },
  secondFactorAttemptsPerAccount: { limit: 5, windowSeconds: 900 },
  softDelay: { afterFailures: 3, stepMs: 250, maxMs: 2000 },
})

export type RateLimitRuleName = Exclude<keyof RateLimitPolicy, 'softDelay'>

/** The rules, in a fixed order. */
export const RATE_LIMIT_RULES: readonly RateLimitRuleName[] = [
  'loginFailuresPerAccountAndAddress',
  'loginAttemptsPerAccount',
  'loginFailuresPerAddress',
  'signupsPerAddress',
  'mailsPerAccount',
  'mailsPerAddress',
  'secondFactorAttemptsPerAccount',
]

/**
 * Inclusive ranges of each rule's `limit` (0 = off). ASVS 5.0 V6.3 allows at most 100 failures per account per
 * hour, so neither per-account rule goes above 100.
 */
export const RATE_LIMIT_RANGES: Readonly<Record<RateLimitRuleName, Range>> = Object.freeze({
  loginFailuresPerAccountAndAddress: { min: 0, max: 100 },
  loginAttemptsPerAccount: { min: 0, max: 100 },
  loginFailuresPerAddress: { min: 0, max: 100_000 },
  signupsPerAddress: { min: 0, max: 100_000 },
  mailsPerAccount: { min: 0, max: 100 },
  mailsPerAddress: { min: 0, max: 100_000 },
  // Never off: six digits fall to unlimited guessing.
  secondFactorAttemptsPerAccount: { min: 1, max: 100 },
})

/** Every rule's window, in seconds: a second to a day. */
export const RATE_LIMIT_WINDOW_RANGE: Range = Object.freeze({ min: 1, max: 86_400 })

/** Ranges of the soft delay's members (`maxMs` caps the delay, whatever the step). */
export const SOFT_DELAY_RANGES: Readonly<Record<keyof RateLimitPolicy['softDelay'], Range>> = Object.freeze({
  afterFailures: { min: 0, max: 100 },
  stepMs: { min: 0, max: 10_000 },
  maxMs: { min: 0, max: 10_000 },
})

/**
 * Resolves `input` over {@link DEFAULT_RATE_LIMIT_POLICY} (a rule given in part keeps the default of the
 * rest) and checks every member; throws `SesameOptionError` naming it (`rateLimits.<rule>.<member>`). The
 * result is frozen.
 */
export function resolveRateLimitPolicy(input: unknown = {}): Readonly<RateLimitPolicy> {
  const given = checkOptionObject('rateLimits', input, [...RATE_LIMIT_RULES, 'softDelay']) ?? {}
  const resolved: Partial<RateLimitPolicy> = {}
  for (const rule of RATE_LIMIT_RULES) {
    const option = `rateLimits.${rule}`
    const part = checkOptionObject(option, given[rule], ['limit', 'windowSeconds']) ?? {}
    const merged = { ...DEFAULT_RATE_LIMIT_POLICY[rule], ...part }
    resolved[rule] = Object.freeze({
      limit: checkWholeNumber(`${option}.limit`, merged.limit, RATE_LIMIT_RANGES[rule]),
      windowSeconds: checkWholeNumber(
        `${option}.windowSeconds`,
        merged.windowSeconds,
        RATE_LIMIT_WINDOW_RANGE,
      ),
    })
  }
  const members = Object.keys(SOFT_DELAY_RANGES) as Array<keyof RateLimitPolicy['softDelay']>
  const softDelay = {
    ...DEFAULT_RATE_LIMIT_POLICY.softDelay,
    ...checkOptionObject('rateLimits.softDelay', given.softDelay, members),
  }
  for (const member of members) {
    checkWholeNumber(`rateLimits.softDelay.${member}`, softDelay[member], SOFT_DELAY_RANGES[member])
  }
  resolved.softDelay = Object.freeze(softDelay)
  return Object.freeze(resolved as RateLimitPolicy)
}

/** The soft delay, in ms, for a failed sign-in that is the `failures`-th of its (account, address) pair. */
export function softDelayMs(failures: number, policy: RateLimitPolicy): number {
  const { afterFailures, stepMs, maxMs } = policy.softDelay
  return failures <= afterFailures ? 0 : Math.min(maxMs, (failures - afterFailures) * stepMs)
}
