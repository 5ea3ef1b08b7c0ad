/**
 * Store keys for bearer secrets. Sessions are looked up by SHA-256 of the secret, never by the secret, so a
 * leaked database or store dump grants no sessions (Lucia v3, the Copenhagen Book). A lookup by hash needs no
 * constant-time compare: finding a matching key requires a SHA-256 preimage, not a timing oracle.
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto'
import { routeOf } from './secret-route.js'

/**
 * SHA-256 of `secret` as unpadded base64url (43 characters), after the secret's route and its `.` when it has
 * one (`secret-route.ts`): the store finds the record's shard from the hash as it would from the secret. The
 * one-shot `crypto.hash` (Node 20.12+) costs a third of a `createHash` object's construction, update and
 * digest: every cookie request hashes its session id.
 */
export function hashSecret(secret: string): string {
  const digest = hash('sha256', secret, 'base64url')
  const route = routeOf(secret)
  return route === null ? digest : `${route}.${digest}`
}

/**
 * Whether two secrets are equal, in time that does not depend on where they differ: compared as SHA-256
 * digests, which have equal lengths whatever the inputs (so no length leaks either).
 */
export function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(a), digest(b))
}
