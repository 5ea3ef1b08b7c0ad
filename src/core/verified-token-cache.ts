/**
 * A bounded cache of access tokens that passed full verification, keyed by the exact string they came in (the
 * `Authorization` header value, in `bearer.ts`). Clients send the same one on every request for the token's
 * whole lifetime, so a hit skips the signature and the claim parsing; the time checks are repeated on every
 * hit, and revocation is checked by the caller after it.
 * Entries are evicted oldest-first once full, and the cache must be cleared whenever a key leaves the ring.
 *
 * The map is keyed by the token's last {@link KEY_LENGTH} characters, not the whole string: V8 hashes a map key
 * over every character, and a header value is a new string on every request, so a 600-character key cost more
 * than the rest of a hit (bench/RESULTS.md). The tail lies in the signature, which differs between any two
 * tokens; a hit still requires the whole stored string to equal the one presented, so two strings sharing a
 * tail (which only the holder of the token could craft) only take each other's place.
 */
import type { AccessTokenClaims } from './access-token.js'

/** Characters of the token the map is keyed by: 192 bits of a signature, in every algorithm's shortest. */
const KEY_LENGTH = 32

interface Entry {
  token: string
  claims: AccessTokenClaims
}

export class VerifiedTokenCache {
  readonly #maxEntries: number
  readonly #entries = new Map<string, Entry>()

  /** `maxEntries` tokens at most (default 10,000: a few MiB). */
  constructor(maxEntries = 10_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new TypeError('VerifiedTokenCache "maxEntries" must be a non-negative integer.')
    }
    this.#maxEntries = maxEntries
  }

  /** The claims of `token` if it was verified before and has not expired by `now` (with `leewaySeconds`). */
  get(token: string, now: number, leewaySeconds: number): AccessTokenClaims | undefined {
    const key = token.slice(-KEY_LENGTH)
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.claims.exp <= now - leewaySeconds) {
      this.#entries.delete(key) // expired: let full verification say so
      return undefined
    }
    return entry.claims
  }

  /** Remembers `claims` as the verified claims of `token`. */
  set(token: string, claims: AccessTokenClaims): void {
    if (this.#maxEntries === 0) return
    const key = token.slice(-KEY_LENGTH)
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      this.#entries.delete(this.#entries.keys().next().value!)
    }
    this.#entries.set(key, { token, claims })
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
