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
 */

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
  /** Failures of one (account, address) pair after which each further failed sign-in is answered this much later. */
  softDelay: { afterFailures: number; stepMs: number; maxMs: number }
}

export const DEFAULT_RATE_LIMIT_POLICY: Readonly<RateLimitPolicy> = Object.freeze({
  loginFailuresPerAccountAndAddress: { limit: 10, windowSeconds: 900 },
  loginAttemptsPerAccount: { limit: 100, windowSeconds: 3600 },
  loginFailuresPerAddress: { limit: 100, windowSeconds: 900 },
  signupsPerAddress: { limit: 20, windowSeconds: 3600 },
  softDelay: { afterFailures: 3, stepMs: 250, maxMs: 2000 },
})

/** The soft delay, in ms, for a failed sign-in that is the `failures`-th of its (account, address) pair. */
export function softDelayMs(failures: number, policy: RateLimitPolicy): number {
  const { afterFailures, stepMs, maxMs } = policy.softDelay
  return failures <= afterFailures ? 0 : Math.min(maxMs, (failures - afterFailures) * stepMs)
}
