/**
 * Session lifetimes: an idle timeout (no request for this long ends the session), an absolute timeout (no
 * session outlives this, however active), and the renewal throttle for sliding expiry. Defaults follow the
 * OWASP Session Management Cheat Sheet: 30 minutes idle, 12 hours absolute.
 *
 * The defaults and ranges are exported as data: the server's configuration (`server/config.ts`) reads them
 * from here, so each rule is stated once.
 */
import { SesameOptionError } from './errors.js'
import { type Range, checkOptionObject, checkWholeNumber } from './option-checks.js'

export interface SessionPolicy {
  /** Seconds without a request before a session ends. Default 1800 (30 min). */
  idleTimeoutSeconds: number
  /** Seconds after sign-in when a session ends whatever its activity. Default 43200 (12 h). */
  absoluteTimeoutSeconds: number
  /**
   * Seconds a session's last-seen time may lag before a request renews it (one store write). Bounds writes to
   * one per session per this interval. Default: the smaller of 60 and half the idle timeout.
   */
  renewAfterSeconds: number
}

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5); a longer session could not be carried. */
export const MAX_COOKIE_LIFETIME_SECONDS = 400 * 86_400

export const SESSION_POLICY_DEFAULTS: Readonly<Omit<SessionPolicy, 'renewAfterSeconds'>> = Object.freeze({
  idleTimeoutSeconds: 1800,
  absoluteTimeoutSeconds: 43_200,
})

/** Inclusive ranges, in seconds. An idle timeout of 1 s would leave no shorter interval to renew at. */
export const SESSION_POLICY_RANGES: Readonly<Record<keyof SessionPolicy, Range>> = Object.freeze({
  idleTimeoutSeconds: { min: 2, max: MAX_COOKIE_LIFETIME_SECONDS },
  absoluteTimeoutSeconds: { min: 2, max: MAX_COOKIE_LIFETIME_SECONDS },
  renewAfterSeconds: { min: 1, max: MAX_COOKIE_LIFETIME_SECONDS },
})

/** Devices (sessions + token families) one user may have at once: 0 (no limit, the default) to this. */
export const SESSION_LIMIT_RANGE: Range = Object.freeze({ min: 0, max: 1000 })
export const SESSION_LIMIT_POLICIES = ['evict-oldest', 'deny'] as const

/**
 * Resolves and checks a policy; throws {@link SesameOptionError} naming the bad option (`session.<key>`).
 * The result is frozen.
 */
export function resolveSessionPolicy(input: Partial<SessionPolicy> = {}): Readonly<SessionPolicy> {
  checkOptionObject('session', input, Object.keys(SESSION_POLICY_RANGES))
  const idleTimeoutSeconds =
    input.idleTimeoutSeconds === undefined
      ? SESSION_POLICY_DEFAULTS.idleTimeoutSeconds
      : input.idleTimeoutSeconds
  const absoluteTimeoutSeconds =
    input.absoluteTimeoutSeconds === undefined
      ? SESSION_POLICY_DEFAULTS.absoluteTimeoutSeconds
      : input.absoluteTimeoutSeconds
  const policy = { idleTimeoutSeconds, absoluteTimeoutSeconds, renewAfterSeconds: 0 }
  for (const key of ['idleTimeoutSeconds', 'absoluteTimeoutSeconds'] as const) {
    checkWholeNumber(`session.${key}`, policy[key], SESSION_POLICY_RANGES[key], rangeMessage(key))
  }
  policy.renewAfterSeconds =
    input.renewAfterSeconds === undefined
      ? Math.max(1, Math.min(60, Math.floor(idleTimeoutSeconds / 2)))
      : input.renewAfterSeconds
  checkWholeNumber(
    'session.renewAfterSeconds',
    policy.renewAfterSeconds,
    SESSION_POLICY_RANGES.renewAfterSeconds,
    rangeMessage('renewAfterSeconds'),
  )
  if (idleTimeoutSeconds > absoluteTimeoutSeconds) {
    throw new SesameOptionError(
      'session.idleTimeoutSeconds',
      'Session option "idleTimeoutSeconds" must not exceed "absoluteTimeoutSeconds".',
    )
  }
  if (policy.renewAfterSeconds >= idleTimeoutSeconds) {
    throw new SesameOptionError(
      'session.renewAfterSeconds',
      'Session option "renewAfterSeconds" must be less than "idleTimeoutSeconds".',
    )
  }
  return Object.freeze(policy)
}

function rangeMessage(key: keyof SessionPolicy): string {
  const { min, max } = SESSION_POLICY_RANGES[key]
  return `Session option "${key}" must be a whole number of seconds from ${min} to ${max}.`
}
