/**
 * Applies the rate-limit policy with the store's shared counters. Accounts are keyed by a hash of the email
 * key (`emailKey`, by which the store finds accounts), so no address is written into counter keys. A refused
 * request answers `429 rate_limited` with `Retry-After` set to the seconds left in the window that refused it.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../core/clock.js'
import { canonicalizeEmail, emailKey } from '../core/email.js'
import { AuthError } from '../core/errors.js'
import { type RateLimitPolicy, type RateLimitRule, softDelayMs } from '../core/rate-limit-policy.js'
import { rateLimitSlot } from '../store/rate-window.js'
import type { Store } from '../store/types.js'

export interface Throttle {
  /**
   * Counts a sign-in attempt against the (account, address) pair and against the account before the password
   * is checked (so parallel guesses cannot slip past a limit between a check and a count), and throws
   * `rate_limited` when the address, the pair or the account is over its limit.
   */
  checkSignIn(email: string, ip: string | undefined): Promise<void>
  /** Counts a failed sign-in against the address, then waits the soft delay for the (account, address) pair. */
  recordSignInFailure(email: string, ip: string | undefined): Promise<void>
  /** Clears the pair's failures after a correct password (the account-wide count stays: it caps attempts). */
  recordSignInSuccess(email: string, ip: string | undefined): Promise<void>
  /** Throws `rate_limited` when `ip` has failed too often (sign-ins, refresh grants and revocations alike). */
  checkAddress(ip: string | undefined): Promise<void>
  /** Counts a failed attempt (e.g. an invalid refresh token) from `ip`. */
  recordAddressFailure(ip: string | undefined): Promise<void>
  /** Counts a sign-up from `ip`; throws `rate_limited` past the limit. */
  checkSignUp(ip: string | undefined): Promise<void>
  /**
   * Counts a mail with a link asked for `email` from `ip` (whether or not the address has an account, so the
   * answer tells nothing); throws `rate_limited` past either mail rule.
   */
  checkMail(email: string, ip: string | undefined): Promise<void>
  /** Throws `rate_limited` when `ip` has failed too many link confirmations. */
  checkLinkAddress(ip: string | undefined): Promise<void>
  /** Counts a failed link confirmation from `ip`. */
  recordLinkFailure(ip: string | undefined): Promise<void>
  /**
   * Counts a second-factor attempt (a code) against the account before it is checked, and throws
   * `rate_limited` past the limit, so parallel guesses cannot slip past it.
   */
  checkSecondFactor(userId: string): Promise<void>
  /** Clears the account's second-factor count after a correct code. */
  recordSecondFactorSuccess(userId: string): Promise<void>
}

export interface ThrottleOptions {
  store: Store
  clock: Clock
  policy: Readonly<RateLimitPolicy>
  /** Waits `ms`; tests pass one that does not. Default: a timer. */
  sleep?: (ms: number) => Promise<void>
}

export function createThrottle({ store, clock, policy, sleep = defaultSleep }: ThrottleOptions): Throttle {
  // By email key, as the store looks accounts up: every look-alike spelling of an address counts against it.
  const accountId = (email: string): string =>
    createHash('sha256')
      .update(emailKey(canonicalizeEmail(email)))
      .digest('base64url')
  const accountKey = (email: string): string => `login:account:${accountId(email)}`
  // Without an address (an embedder that passes none) the pair is the account alone.
  const pairKey = (email: string, ip: string | undefined): string =>
    `login-fail:pair:${accountId(email)}:${ip ?? ''}`
  const addressKey = (ip: string): string => `login-fail:ip:${ip}`
  // User ids are public random ids: nothing personal in the key.
  const secondFactorKey = (userId: string): string => `second-factor:account:${userId}`

  function refuse(rule: RateLimitRule, now: number, reason: string): AuthError {
    return new AuthError('rate_limited', 'Too many attempts; try again later.', {
      reason,
      retryAfterSeconds: rateLimitSlot('', rule.windowSeconds, now).endsAt - now,
    })
  }

  async function over(key: string, rule: RateLimitRule, now: number): Promise<boolean> {
    return rule.limit > 0 && (await store.countRateLimit(key, rule.windowSeconds, now)) >= rule.limit
  }

  /** Counts one hit now and tells whether it went past the rule's limit. */
  async function hitOver(key: string, rule: RateLimitRule, now: number): Promise<boolean> {
    return rule.limit > 0 && (await store.hitRateLimit(key, rule.windowSeconds, now)) > rule.limit
  }

  async function checkAddress(ip: string | undefined): Promise<void> {
    const rule = policy.loginFailuresPerAddress
    const now = clock.nowSeconds()
    if (ip && (await over(addressKey(ip), rule, now))) throw refuse(rule, now, 'address_failures')
  }

  async function recordAddressFailure(ip: string | undefined): Promise<void> {
    const rule = policy.loginFailuresPerAddress
    if (ip && rule.limit > 0) await store.hitRateLimit(addressKey(ip), rule.windowSeconds, clock.nowSeconds())
  }

  return {
    checkAddress,
    recordAddressFailure,

    async checkSignIn(email, ip) {
      await checkAddress(ip)
      const now = clock.nowSeconds()
      // Counted up front, atomically in the store; a success clears the pair again (recordSignInSuccess).
      const pair = policy.loginFailuresPerAccountAndAddress
      if (await hitOver(pairKey(email, ip), pair, now)) throw refuse(pair, now, 'pair_login_failures')
      const account = policy.loginAttemptsPerAccount
      if (await hitOver(accountKey(email), account, now)) throw refuse(account, now, 'account_login_attempts')
    },

    async recordSignInFailure(email, ip) {
      await recordAddressFailure(ip)
      const pair = policy.loginFailuresPerAccountAndAddress
      if (pair.limit === 0) return
      const failures = await store.countRateLimit(pairKey(email, ip), pair.windowSeconds, clock.nowSeconds())
      const delay = softDelayMs(failures, policy)
      if (delay > 0) await sleep(delay)
    },

    async recordSignInSuccess(email, ip) {
      const pair = policy.loginFailuresPerAccountAndAddress
      if (pair.limit > 0)
        await store.resetRateLimit(pairKey(email, ip), pair.windowSeconds, clock.nowSeconds())
    },

    async checkSignUp(ip) {
      const rule = policy.signupsPerAddress
      if (!ip || rule.limit === 0) return
      const now = clock.nowSeconds()
      if (await hitOver(`signup:ip:${ip}`, rule, now)) throw refuse(rule, now, 'address_signups')
    },

    async checkMail(email, ip) {
      const now = clock.nowSeconds()
      const address = policy.mailsPerAddress
      if (ip && (await hitOver(`mail:ip:${ip}`, address, now))) throw refuse(address, now, 'address_mails')
      const account = policy.mailsPerAccount
      if (await hitOver(`mail:account:${accountId(email)}`, account, now)) {
        throw refuse(account, now, 'account_mails')
      }
    },

    async checkSecondFactor(userId) {
      const rule = policy.secondFactorAttemptsPerAccount
      const now = clock.nowSeconds()
      if (await hitOver(secondFactorKey(userId), rule, now)) {
        throw refuse(rule, now, 'account_second_factor_attempts')
      }
    },

    async recordSecondFactorSuccess(userId) {
      const rule = policy.secondFactorAttemptsPerAccount
      if (rule.limit > 0)
        await store.resetRateLimit(secondFactorKey(userId), rule.windowSeconds, clock.nowSeconds())
    },

    async checkLinkAddress(ip) {
      const rule = policy.mailsPerAddress
      const now = clock.nowSeconds()
      if (ip && (await over(`link-fail:ip:${ip}`, rule, now)))
        throw refuse(rule, now, 'address_link_failures')
    },

    async recordLinkFailure(ip) {
      const rule = policy.mailsPerAddress
      if (ip && rule.limit > 0)
        await store.hitRateLimit(`link-fail:ip:${ip}`, rule.windowSeconds, clock.nowSeconds())
    },
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
