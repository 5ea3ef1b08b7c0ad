/**
 * The in-process list of revoked access tokens: by `jti` (one token), by `sid` (every token of a family), and
 * by user epoch (every token of a user issued before it: "log out everywhere"). Checking it is a few map
 * lookups, so access-token verification stays free of I/O; the engine fills it from the store at start, on
 * every revocation, and from the change feed. Revocation keys on claims, never on a hash of the token: ECDSA
 * signatures are malleable, so one token has several valid spellings. Entries expire with the tokens they kill.
 */
import type { AccessTokenClaims } from './access-token.js'
import type { RevocationEvent, RevocationKind, RevocationSnapshot } from './change-event.js'

export type { RevocationKind, RevocationSnapshot } from './change-event.js'

/** One entry of the list, as it travels to verifiers in other processes (see `change-event.ts`). */
export type RevocationEntry = RevocationEvent

export class RevocationList {
  readonly #byKind: Record<RevocationKind, Map<string, number>> = { jti: new Map(), sid: new Map() }
  readonly #epochs = new Map<string, { epoch: number; expiresAt: number }>()
  readonly #listeners = new Set<(entry: RevocationEntry) => void>()

  /**
   * Calls `listener` with every entry that changes the list from now on; returns the function that stops it.
   * Listeners run synchronously; an error one throws is dropped.
   */
  watch(listener: (entry: RevocationEntry) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Every entry still live at `now`. */
  snapshot(now: number): RevocationSnapshot {
    const revocations: RevocationSnapshot['revocations'] = []
    for (const kind of ['jti', 'sid'] as const) {
      for (const [value, expiresAt] of this.#byKind[kind]) {
        if (expiresAt > now) revocations.push({ kind, value, expiresAt })
      }
    }
    const epochs: RevocationSnapshot['epochs'] = []
    for (const [userId, { epoch, expiresAt }] of this.#epochs) {
      if (expiresAt > now) epochs.push({ userId, epoch, expiresAt })
    }
    return { revocations, epochs }
  }

  /** Revokes `value` of `kind` until `expiresAt` (Unix seconds); a later expiry extends an earlier one. */
  add(kind: RevocationKind, value: string, expiresAt: number): void {
    const entries = this.#byKind[kind]
    const current = entries.get(value)
    if (current !== undefined && current >= expiresAt) return
    entries.set(value, expiresAt)
    this.#notify({ type: 'access-revoked', revocation: { kind, value, expiresAt } })
  }

  /**
   * Kills every token of `userId` whose `iat` is before `epoch`, until `expiresAt`. The later epoch and the
   * later expiry win. Tokens issued in the epoch's own second survive it (a new sign-in right after "log out
   * everywhere" must work); the engine revokes the user's families by `sid` as well, which covers those.
   */
  setEpoch(userId: string, epoch: number, expiresAt: number): void {
    const current = this.#epochs.get(userId)
    const next = {
      epoch: Math.max(epoch, current?.epoch ?? -Infinity),
      expiresAt: Math.max(expiresAt, current?.expiresAt ?? -Infinity),
    }
    if (current && current.epoch === next.epoch && current.expiresAt === next.expiresAt) return
    this.#epochs.set(userId, next)
    this.#notify({ type: 'user-epoch', epoch: { userId, ...next } })
  }

  /** Applies one entry received from elsewhere (the change feed, the revocation stream): the later one wins. */
  apply(entry: RevocationEntry): void {
    if (entry.type === 'access-revoked') {
      this.add(entry.revocation.kind, entry.revocation.value, entry.revocation.expiresAt)
    } else {
      this.setEpoch(entry.epoch.userId, entry.epoch.epoch, entry.epoch.expiresAt)
    }
  }

  /** True when the token is revoked at `now` by its `jti`, its `sid`, or its user's epoch. */
  isRevoked(claims: Pick<AccessTokenClaims, 'jti' | 'sid' | 'sub' | 'iat'>, now: number): boolean {
    if (this.#isListed('jti', claims.jti, now) || this.#isListed('sid', claims.sid, now)) return true
    const epoch = this.#epochs.get(claims.sub)
    return epoch !== undefined && epoch.expiresAt > now && claims.iat < epoch.epoch
  }

  /** Drops entries that expired at or before `now`; returns how many. */
  prune(now: number): number {
    let pruned = 0
    for (const [userId, entry] of this.#epochs) {
      if (entry.expiresAt <= now && this.#epochs.delete(userId)) pruned++
    }
    for (const entries of Object.values(this.#byKind)) {
      for (const [value, expiresAt] of entries) {
        if (expiresAt <= now && entries.delete(value)) pruned++
      }
    }
    return pruned
  }

  get size(): number {
    return this.#byKind.jti.size + this.#byKind.sid.size + this.#epochs.size
  }

  #notify(entry: RevocationEntry): void {
    for (const listener of this.#listeners) {
      try {
        listener(entry)
      } catch {
        // A listener's failure must neither stop the others nor the revocation (and its publication) in the
        // caller: the entry is already in the list, which is what enforcement reads.
      }
    }
  }

  #isListed(kind: RevocationKind, value: string, now: number): boolean {
    const expiresAt = this.#byKind[kind].get(value)
    return expiresAt !== undefined && expiresAt > now
  }
}
