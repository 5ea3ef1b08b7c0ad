/**
 * The in-process list of revoked access tokens: by `jti` (one token) or `sid` (every token of a family).
 * Checking it is a map lookup, so access-token verification stays free of I/O; the engine fills it from the
 * store at start and on every revocation. Entries expire with the tokens they kill.
 */
import type { AccessTokenClaims } from './access-token.js'

export type RevocationKind = 'jti' | 'sid'

export class RevocationList {
  readonly #byKind: Record<RevocationKind, Map<string, number>> = { jti: new Map(), sid: new Map() }

  /** Revokes `value` of `kind` until `expiresAt` (Unix seconds); a later expiry extends an earlier one. */
  add(kind: RevocationKind, value: string, expiresAt: number): void {
    const entries = this.#byKind[kind]
    const current = entries.get(value)
    if (current === undefined || current < expiresAt) entries.set(value, expiresAt)
  }

  /** True when the token's `jti` or `sid` is revoked at `now`. */
  isRevoked(claims: Pick<AccessTokenClaims, 'jti' | 'sid'>, now: number): boolean {
    return this.#isListed('jti', claims.jti, now) || this.#isListed('sid', claims.sid, now)
  }

  /** Drops entries that expired at or before `now`; returns how many. */
  prune(now: number): number {
    let pruned = 0
    for (const entries of Object.values(this.#byKind)) {
      for (const [value, expiresAt] of entries) {
        if (expiresAt <= now && entries.delete(value)) pruned++
      }
    }
    return pruned
  }

  get size(): number {
    return this.#byKind.jti.size + this.#byKind.sid.size
  }

  #isListed(kind: RevocationKind, value: string, now: number): boolean {
    const expiresAt = this.#byKind[kind].get(value)
    return expiresAt !== undefined && expiresAt > now
  }
}
