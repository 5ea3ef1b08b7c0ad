/**
 * The pure rules of a cookie session's life: when it starts and ends, and when activity slides it forward.
 * No I/O: the engine reads the record, asks these rules, and writes what they return.
 *
 * Expiry is the earlier of `lastSeenAt + idle` and `createdAt + absolute`. Sliding renewal moves `lastSeenAt`
 * at most once per `renewAfterSeconds` (a throttled write, not one per request) and never past the absolute
 * limit.
 */
import type { SessionPolicy } from './session-policy.js'

/** The times a session record carries, in whole Unix seconds. */
export interface SessionTimes {
  createdAt: number
  lastSeenAt: number
  /** When the session ends if no request renews it: min(lastSeenAt + idle, absoluteExpiresAt). */
  expiresAt: number
  /** When the session ends regardless of activity. */
  absoluteExpiresAt: number
}

/** Times for a session that starts at `now`. */
export function startSessionTimes(now: number, policy: SessionPolicy): SessionTimes {
  const absoluteExpiresAt = now + policy.absoluteTimeoutSeconds
  return {
    createdAt: now,
    lastSeenAt: now,
    expiresAt: Math.min(now + policy.idleTimeoutSeconds, absoluteExpiresAt),
    absoluteExpiresAt,
  }
}

/** What a request at `now` means for a session. */
export type SessionCheck =
  | { status: 'expired'; reason: 'session_idle_timeout' | 'session_absolute_timeout' }
  | { status: 'active'; renewal: null }
  /** Active, and the record should be updated to `renewal` (and the cookie re-sent with the new expiry). */
  | { status: 'active'; renewal: Pick<SessionTimes, 'lastSeenAt' | 'expiresAt'> }

/**
 * Checks a session's times at `now`. The current policy's timeouts apply even to sessions written under longer
 * ones, so shortening either (say, after an incident) takes effect at once.
 */
export function checkSessionTimes(times: SessionTimes, now: number, policy: SessionPolicy): SessionCheck {
  const absoluteExpiresAt = Math.min(times.absoluteExpiresAt, times.createdAt + policy.absoluteTimeoutSeconds)
  if (now >= absoluteExpiresAt) return { status: 'expired', reason: 'session_absolute_timeout' }
  if (now >= times.expiresAt || now >= times.lastSeenAt + policy.idleTimeoutSeconds) {
    return { status: 'expired', reason: 'session_idle_timeout' }
  }
  if (now - times.lastSeenAt < policy.renewAfterSeconds) return { status: 'active', renewal: null }
  return {
    status: 'active',
    renewal: {
      lastSeenAt: now,
      expiresAt: Math.min(now + policy.idleTimeoutSeconds, absoluteExpiresAt),
    },
  }
}
