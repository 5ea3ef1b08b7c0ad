/**
 * All randomness Sesame uses comes from here, so it can be audited in one place. Everything is drawn from
 * the operating system's CSPRNG through `node:crypto`.
 *
 * Ids and secrets are cut from a pool refilled 4 KiB at a time, as Node's own `randomUUID` does: one
 * `randomBytes` call cost about 3 µs on the benchmark machine, ten times a pooled draw, and a token refresh
 * makes three (its profile: `npm run bench:profile -- sesame-memory --refresh`). Each draw is zeroed in
 * the pool once encoded, so a secret handed out does not linger there. The bytes not yet drawn do: a heap
 * snapshot or core dump shows the next hundred or so secrets before they are issued. The same dump holds
 * the signing keys, which is worse, so treat heap snapshots and core dumps of a Sesame process as secrets
 * either way.
 */
import { randomFillSync } from 'node:crypto'
import { withRoute } from './secret-route.js'

const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let drawn = POOL_BYTES

/** `bytes` fresh random bytes as unpadded base64url. */
function randomBase64url(bytes: number): string {
  if (bytes > POOL_BYTES) throw new RangeError(`At most ${POOL_BYTES} random bytes at a time.`)
  if (drawn + bytes > POOL_BYTES) {
    randomFillSync(pool)
    drawn = 0
  }
  const slice = pool.subarray(drawn, drawn + bytes)
  drawn += bytes
  const text = slice.toString('base64url')
  slice.fill(0)
  return text
}

/**
 * A bearer secret (session id, refresh token, one-time token): 32 random bytes = 256 bits of entropy, well
 * above the 112-bit floor of the Copenhagen Book and OWASP's 64 bits. Encoded as 43 unpadded base64url
 * characters, after the store's `route` and a `.` when it gives one (`secret-route.ts`).
 */
export function generateSecretToken(route: string | null = null): string {
  return withRoute(route, randomBase64url(32))
}

/**
 * A public identifier (user id, session id shown in device lists): 16 random bytes = 128 bits, so ids cannot
 * be guessed or enumerated. Encoded as 22 unpadded base64url characters, after `route` and a `.` for the ids
 * a store finds records by (refresh family ids). Not a credential.
 */
export function generatePublicId(route: string | null = null): string {
  return withRoute(route, randomBase64url(16))
}

const SECRET_TOKEN_PATTERN = /^(?:[0-9a-z]{1,4}\.)?[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

/**
 * True when `value` has the exact shape {@link generateSecretToken} produces: 43 base64url characters whose
 * last one carries no stray bits (so each secret has one spelling), routed or not. Checked before any store
 * lookup.
 */
export function isSecretTokenShape(value: string): boolean {
  return SECRET_TOKEN_PATTERN.test(value)
}
