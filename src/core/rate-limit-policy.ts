/**
 * Throttling rules for the endpoints attackers hammer: failed sign-ins per account and per client address,
 * and sign-ups per address. Fixed windows, counted in the store so every instance shares them. Limits are
 * temporary by construction: a counter ends with its window, so someone else's guesses can lock a victim out
 * for at most one window, never for good (OWASP ASVS 5.0 V6.3: at most 100 failures per account per hour;
 * the defaults are tighter, with a soft delay before the hard limit).
 */

export interface RateLimitRule {
  /** Hits allowed in one window; 0 turns the rule off. */
  limit: number
  windowSeconds: number
}

export interface RateLimitPolicy {
  /** Failed sign-ins against one account. Default 10 per 15 min. */
  loginFailuresPerAccount: RateLimitRule
  /** Failed sign-ins from one client address. Default 100 per 15 min (addresses can be shared by many people). */
  loginFailuresPerAddress: RateLimitRule
  /** Sign-ups from one client address. Default 20 per hour. */
  signupsPerAddress: RateLimitRule
  /** Failures against an account after which each further failed sign-in is answered this much later. */
  softDelay: { afterFailures: number; stepMs: number; maxMs: number }
}

export const DEFAULT_RATE_LIMIT_POLICY: Readonly<RateLimitPolicy> = Object.freeze({
  loginFailuresPerAccount: { limit: 10, windowSeconds: 900 },
  loginFailuresPerAddress: { limit: 100, windowSeconds: 900 },
  signupsPerAddress: { limit: 20, windowSeconds: 3600 },
  softDelay: { afterFailures: 3, stepMs: 250, maxMs: 2000 },
})

/** The soft delay, in ms, for a failed sign-in that is the `failures`-th against its account. */
export function softDelayMs(failures: number, policy: RateLimitPolicy): number {
  const { afterFailures, stepMs, maxMs } = policy.softDelay
  return failures <= afterFailures ? 0 : Math.min(maxMs, (failures - afterFailures) * stepMs)
}
