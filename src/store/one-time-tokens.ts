/**
 * What the adapters that judge one-time tokens in TypeScript (memory, and Redis on a plain read) decide alike
 * about a stored `OneTimeTokenRecord`; the SQL stores say the same in their WHERE clauses.
 */
import type { OneTimeTokenPurpose, OneTimeTokenRecord } from './types.js'

/**
 * Whether `token` answers a find or take for `purpose` at `now`: a token of another purpose is not the one asked
 * for, and a token has expired at its `expiresAt`, as sessions and claims have.
 */
export function isUsable(token: OneTimeTokenRecord, purpose: OneTimeTokenPurpose, now: number): boolean {
  return token.purpose === purpose && token.expiresAt > now
}
