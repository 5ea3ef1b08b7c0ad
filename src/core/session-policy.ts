/**
 * Session lifetimes: an idle timeout (no request for this long ends the session), an absolute timeout (no
 * session outlives this, however active), and the renewal throttle for sliding expiry. Defaults follow the
 * OWASP Session Management Cheat Sheet: 30 minutes idle, 12 hours absolute.
 */

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

/** Resolves and checks a policy; throws `TypeError` naming the bad option. The result is frozen. */
export function resolveSessionPolicy(input: Partial<SessionPolicy> = {}): Readonly<SessionPolicy> {
  const idleTimeoutSeconds = input.idleTimeoutSeconds ?? 1800
  const absoluteTimeoutSeconds = input.absoluteTimeoutSeconds ?? 43_200
  const renewAfterSeconds =
    input.renewAfterSeconds ?? Math.max(1, Math.min(60, Math.floor(idleTimeoutSeconds / 2)))
  const policy = { idleTimeoutSeconds, absoluteTimeoutSeconds, renewAfterSeconds }
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`Session option "${key}" must be a positive whole number of seconds.`)
    }
  }
  if (idleTimeoutSeconds < 2) {
    throw new TypeError(
      'Session option "idleTimeoutSeconds" must be at least 2 (renewal needs a shorter interval).',
    )
  }
  if (idleTimeoutSeconds > absoluteTimeoutSeconds) {
    throw new TypeError('Session option "idleTimeoutSeconds" must not exceed "absoluteTimeoutSeconds".')
  }
  if (renewAfterSeconds >= idleTimeoutSeconds) {
    throw new TypeError('Session option "renewAfterSeconds" must be less than "idleTimeoutSeconds".')
  }
  // Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5); a longer session could not be carried.
  if (absoluteTimeoutSeconds > 400 * 86_400) {
    throw new TypeError('Session option "absoluteTimeoutSeconds" must be at most 400 days.')
  }
  return Object.freeze(policy)
}
