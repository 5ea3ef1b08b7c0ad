/**
 * The revocation and change messages instances and verifiers exchange, and their one parser. The same shapes
 * travel three ways: between instances over the store's change feed (Redis pub/sub, PostgreSQL NOTIFY), from
 * the engine's revocation list to `GET /auth/revocations`, and from there into resource-server verifiers. They
 * live here, below the store, the engine and the verifier, so each reads them with the same checks.
 *
 * Every channel is reachable by more than its intended writers (any database user can NOTIFY, any Redis client
 * can PUBLISH, a proxy can alter a stream) and its entries feed revocation lists, so every field is checked: a
 * malformed message is dropped, never applied half-understood.
 */

/** What an access-token revocation targets: one token (`jti`) or every token of a family (`sid`). */
export type RevocationKind = 'jti' | 'sid'

/** One token (`jti`) or family (`sid`) revoked until `expiresAt`, when its tokens have expired anyway. */
export interface AccessRevocation {
  kind: RevocationKind
  value: string
  expiresAt: number
}

/**
 * A user's revocation epoch ("log out everywhere"): every access token of the user whose `iat` is before
 * `epoch` is dead. Kept until `expiresAt`, when every such token has expired anyway.
 */
export interface UserEpoch {
  userId: string
  epoch: number
  expiresAt: number
}

/** One entry of a revocation list, as it travels to other instances and verifiers. */
export type RevocationEvent =
  { type: 'access-revoked'; revocation: AccessRevocation } | { type: 'user-epoch'; epoch: UserEpoch }

/**
 * A numbered notice that a user's sessions or account changed (a session ended, the password, email or
 * status changed, the account went): every instance drops what its session cache holds for the user. The store
 * writes it in the same atomic step as the change and numbers a feed's notices 1, 2, 3… with no gap, so a
 * subscriber that sees a number skipped, or finds the store's count ahead of what it heard, knows it missed one
 * (see `engine/session-cache.ts`).
 */
export interface SessionChange {
  type: 'sessions-changed'
  userId: string
  /**
   * The notice's number, from 1; 0 for this process's own change, which the store object that made it tells
   * its subscribers at once, before its numbered notice comes back over the feed (never sent between
   * processes: the parser refuses 0).
   */
  seq: number
}

/** The unnumbered notice of a change this process made (see {@link SessionChange.seq}). */
export function localSessionChange(userId: string): SessionChange {
  return { type: 'sessions-changed', userId, seq: 0 }
}

/**
 * What one instance tells the others: a revocation, that the signing keys changed (reload them), or that a
 * user's sessions changed.
 */
export type ChangeEvent = RevocationEvent | { type: 'keys-changed' } | SessionChange

/** Every live entry of a revocation list at one moment: the first message of the revocation stream. */
export interface RevocationSnapshot {
  revocations: AccessRevocation[]
  epochs: UserEpoch[]
}

/** True for the events that change a revocation list (the others reload keys or drop cached sessions). */
export function isRevocationEvent(event: ChangeEvent): event is RevocationEvent {
  return event.type === 'access-revoked' || event.type === 'user-epoch'
}

/** The event in a published message, or null when it is not a well-formed {@link ChangeEvent}. */
export function parseChangeEvent(payload: string): ChangeEvent | null {
  const value = parseJson(payload)
  return value === undefined ? null : readChangeEvent(value)
}

/** `value` as a {@link ChangeEvent}, or null when any field is off. */
export function readChangeEvent(value: unknown): ChangeEvent | null {
  if (!isObject(value)) return null
  switch (value.type) {
    case 'keys-changed':
      return { type: 'keys-changed' }
    case 'access-revoked': {
      const revocation = readAccessRevocation(value.revocation)
      return revocation && { type: 'access-revoked', revocation }
    }
    case 'user-epoch': {
      const epoch = readUserEpoch(value.epoch)
      return epoch && { type: 'user-epoch', epoch }
    }
    case 'sessions-changed':
      if (typeof value.userId !== 'string' || !Number.isSafeInteger(value.seq) || (value.seq as number) < 1)
        return null
      return { type: 'sessions-changed', userId: value.userId, seq: value.seq as number }
    default:
      return null
  }
}

/**
 * The entries of a snapshot message, each checked like a single event (a malformed one is dropped), or null
 * when the message is not a snapshot at all: then nothing in it can be trusted to be complete.
 */
export function parseRevocationSnapshot(payload: string): RevocationEvent[] | null {
  const value = parseJson(payload)
  if (!isObject(value) || !Array.isArray(value.revocations) || !Array.isArray(value.epochs)) return null
  const entries: RevocationEvent[] = []
  for (const item of value.revocations as unknown[]) {
    const revocation = readAccessRevocation(item)
    if (revocation) entries.push({ type: 'access-revoked', revocation })
  }
  for (const item of value.epochs as unknown[]) {
    const epoch = readUserEpoch(item)
    if (epoch) entries.push({ type: 'user-epoch', epoch })
  }
  return entries
}

function readAccessRevocation(r: unknown): AccessRevocation | null {
  if (!isObject(r) || (r.kind !== 'jti' && r.kind !== 'sid')) return null
  if (typeof r.value !== 'string' || !isSeconds(r.expiresAt)) return null
  return { kind: r.kind, value: r.value, expiresAt: r.expiresAt }
}

function readUserEpoch(e: unknown): UserEpoch | null {
  if (!isObject(e) || typeof e.userId !== 'string' || !isSeconds(e.epoch) || !isSeconds(e.expiresAt))
    return null
  return { userId: e.userId, epoch: e.epoch, expiresAt: e.expiresAt }
}

/** The JSON value of `payload`, or undefined when it is not JSON. */
function parseJson(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown
  } catch {
    return undefined
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isSeconds(value: unknown): value is number {
  return Number.isSafeInteger(value)
}
