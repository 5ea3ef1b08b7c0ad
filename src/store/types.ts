/**
 * The Store contract: everything Sesame keeps. Every adapter (memory, sqlite, later postgres and redis)
 * implements it and passes the one conformance suite in `test/contract/`.
 *
 * Conventions, for every method:
 * - Times are whole Unix seconds (so a round trip through any database compares equal).
 * - "Not found" is `null` (or `false` for deletes), never an exception.
 * - Session records are keyed by `tokenHash` (SHA-256 of the secret cookie value); the secret itself is never
 *   given to a store. `id` is a separate public identifier, safe to show in device lists.
 * - A record whose `expiresAt` is at or before "now" may still be returned: expiry is the engine's decision,
 *   and `deleteExpiredSessions` purges what is left.
 * - Failures to reach the backing service throw `AuthError('store_unavailable')`; nothing is half-written
 *   (each method is one atomic change).
 */

/** A registered account. */
export interface UserRecord {
  /** Public id, 22 base64url characters. */
  id: string
  /** Normalised email (see `core/email.ts`); unique across users. */
  email: string
  /** argon2id PHC string. */
  passwordHash: string
  roles: readonly string[]
  createdAt: number
  /** Set when an operator disables the account; a disabled user cannot sign in. */
  disabledAt: number | null
}

/** A cookie session, as stored. */
export interface SessionRecord {
  /** Public id, 22 base64url characters; used in device lists and `DELETE /auth/sessions/{id}`. */
  id: string
  /** SHA-256 (base64url) of the secret the cookie carries. The lookup key. */
  tokenHash: string
  userId: string
  createdAt: number
  lastSeenAt: number
  /** min(lastSeenAt + idle timeout, absoluteExpiresAt). */
  expiresAt: number
  absoluteExpiresAt: number
  /** User-Agent at sign-in, truncated by the engine; null when absent. */
  userAgent: string | null
  /** Client IP at sign-in; null when unknown. */
  ip: string | null
}

/** Result of {@link Store.createUser} when the email is taken. */
export const EMAIL_TAKEN = Symbol('email_taken')

export interface Store {
  /** Adapter name, for logs and `/readyz`. */
  readonly kind: string

  /**
   * Creates a user. Atomic with the email uniqueness check: of two concurrent calls with one email, exactly
   * one succeeds and the other returns {@link EMAIL_TAKEN}.
   */
  createUser(user: UserRecord): Promise<UserRecord | typeof EMAIL_TAKEN>
  /** The user with this normalised email, or null. */
  findUserByEmail(email: string): Promise<UserRecord | null>
  /** The user with this id, or null. */
  findUserById(id: string): Promise<UserRecord | null>
  /** Replaces a user's password hash (rehash on login, password change). False if the user does not exist. */
  updatePasswordHash(userId: string, passwordHash: string): Promise<boolean>

  /** Stores a new session. The `tokenHash` and `id` are fresh random values; collisions are not expected. */
  createSession(session: SessionRecord): Promise<void>
  /** The session with this token hash, or null. */
  findSessionByTokenHash(tokenHash: string): Promise<SessionRecord | null>
  /**
   * Slides a session forward (sliding renewal). Updates only if the session still exists, so a renewal racing
   * a logout never resurrects it. False if it no longer exists.
   */
  touchSession(tokenHash: string, lastSeenAt: number, expiresAt: number): Promise<boolean>
  /** Deletes the session with this token hash. False if there was none. */
  deleteSessionByTokenHash(tokenHash: string): Promise<boolean>
  /** A user's sessions, oldest first, expired ones included until purged. O(sessions of that user). */
  listUserSessions(userId: string): Promise<SessionRecord[]>
  /** Deletes every session whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>

  /** Resolves when the backing service answers; throws `store_unavailable` otherwise. */
  ping(): Promise<void>
  /** Releases connections and file handles. The store is unusable afterwards. */
  close(): Promise<void>
}
