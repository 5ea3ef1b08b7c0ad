/**
 * The in-process list of revoked access tokens: by `jti` (one token), by `sid` (every token of a family), and
 * by user epoch (every token of a user issued before it: "log out everywhere"). Checking it is a few map
 * lookups, so access-token verification stays free of I/O; the engine fills it from the store at start, on
 * every revocation, and from the change feed. Revocation keys on claims, never on a hash of the token: ECDSA
 * signatures are malleable, so one token has several valid spellings. Entries expire with the tokens they kill.
 */
import type { AccessTokenClaims } from './access-token.js'

export type RevocationKind = 'jti' | 'sid'

export class RevocationList {
  readonly #byKind: Record<RevocationKind, Map<string, number>> = { jti: new Map(), sid: new Map() }
  readonly #epochs = new Map<string, { epoch: number; expiresAt: number }>()

  /** Revokes `value` of `kind` until `expiresAt` (Unix seconds); a later expiry extends an earlier one. */
  add(kind: RevocationKind, value: string, expiresAt: number): void {
    const entries = this.#byKind[kind]
    const current = entries.get(value)
    if (current === undefined || current < expiresAt) entries.set(value, expiresAt)
  }

  /**
   * Kills every token of `userId` whose `iat` is before `epoch`, until `expiresAt`. The later epoch and the
   * later expiry win. Tokens issued in the epoch's own second survive it (a new sign-in right after "log out
   * everywhere" must work); the engine revokes the user's families by `sid` as well, which covers those.
   */
  setEpoch(userId: string, epoch: number, expiresAt: number): void {
    const current = this.#epochs.get(userId)
    this.#epochs.set(userId, {
      epoch: Math.max(epoch, current?.epoch ?? -Infinity),
      expiresAt: Math.max(expiresAt, current?.expiresAt ?? -Infinity),
    })
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

  #isListed(kind: RevocationKind, value: string, now: number): boolean {
    const expiresAt = this.#byKind[kind].get(value)
    return expiresAt !== undefined && expiresAt > now
  }
}
