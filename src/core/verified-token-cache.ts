/**
 * A bounded cache of access tokens that passed full verification, keyed by the exact string they came in (the
 * `Authorization` header value, in `bearer.ts`). Clients send the same one on every request for the token's
 * whole lifetime, so a hit skips the signature and the claim parsing; the time checks are repeated on every
 * hit, and revocation is checked by the caller after it.
 * Entries are evicted oldest-first once full, and the cache must be cleared whenever a key leaves the ring.
 */
import type { AccessTokenClaims } from './access-token.js'

export class VerifiedTokenCache {
  readonly #maxEntries: number
  readonly #entries = new Map<string, AccessTokenClaims>()

  /** `maxEntries` tokens at most (default 10,000: a few MiB). */
  constructor(maxEntries = 10_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new TypeError('VerifiedTokenCache "maxEntries" must be a non-negative integer.')
    }
    this.#maxEntries = maxEntries
  }

  /** The claims of `token` if it was verified before and has not expired by `now` (with `leewaySeconds`). */
  get(token: string, now: number, leewaySeconds: number): AccessTokenClaims | undefined {
    const claims = this.#entries.get(token)
    if (claims === undefined) return undefined
    if (claims.exp <= now - leewaySeconds) {
      this.#entries.delete(token) // expired: let full verification say so
      return undefined
    }
    return claims
  }

  /** Remembers `claims` as the verified claims of `token`. */
  set(token: string, claims: AccessTokenClaims): void {
    if (this.#maxEntries === 0) return
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(token, claims)
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
