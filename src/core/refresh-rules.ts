/**
 * The refresh-token family state machine, pure. A family has one live token (its current generation). When a
 * token is presented:
 * - the current one rotates: it dies and a successor becomes current (one compare-and-set in the store);
 * - the one rotated out less than `refreshGraceSeconds` ago replays: the client gets the same successor again,
 *   so a lost response or two tabs refreshing at once do not sign the user out (the successor is kept sealed
 *   under a key derived from the presented token: see `successor-seal.ts`; no usable token is ever stored);
 * - any older token, or the previous one after the grace window, is reuse: a copy of the token is in someone
 *   else's hands, so the whole family is revoked, access tokens included (RFC 9700 §4.14.2).
 */
import type { TokenPolicy } from './token-policy.js'

/** The family fields the rules read. */
export interface FamilyState {
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  absoluteExpiresAt: number
  generation: number
  rotatedAt: number | null
  revokedAt: number | null
}

export type RefreshDecision =
  | { action: 'rotate'; expiresAt: number }
  | { action: 'replay' }
  | { action: 'reject'; reason: 'family_revoked' | 'refresh_expired' }
  | { action: 'revoke'; reason: 'refresh_token_reuse' }

type FamilyPolicy = Pick<TokenPolicy, 'refreshIdleSeconds' | 'refreshAbsoluteSeconds' | 'refreshGraceSeconds'>

/** Times for a family that starts at `now`. */
export function startFamilyTimes(
  now: number,
  policy: FamilyPolicy,
): Pick<FamilyState, 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'absoluteExpiresAt'> {
  const absoluteExpiresAt = now + policy.refreshAbsoluteSeconds
  return {
    createdAt: now,
    lastUsedAt: now,
    expiresAt: Math.min(now + policy.refreshIdleSeconds, absoluteExpiresAt),
    absoluteExpiresAt,
  }
}

/** What to do with a presented token of generation `presented` at `now`. */
export function decideRefresh(
  family: FamilyState,
  presented: number,
  now: number,
  policy: FamilyPolicy,
): RefreshDecision {
  if (family.revokedAt !== null) return { action: 'reject', reason: 'family_revoked' }
  const absoluteExpiresAt = Math.min(
    family.absoluteExpiresAt,
    family.createdAt + policy.refreshAbsoluteSeconds,
  )
  if (
    now >= absoluteExpiresAt ||
    now >= family.expiresAt ||
    now >= family.lastUsedAt + policy.refreshIdleSeconds
  ) {
    return { action: 'reject', reason: 'refresh_expired' }
  }
  if (presented === family.generation) {
    return { action: 'rotate', expiresAt: Math.min(now + policy.refreshIdleSeconds, absoluteExpiresAt) }
  }
  if (
    presented === family.generation - 1 &&
    family.rotatedAt !== null &&
    now - family.rotatedAt <= policy.refreshGraceSeconds
  ) {
    return { action: 'replay' }
  }
  return { action: 'revoke', reason: 'refresh_token_reuse' }
}
