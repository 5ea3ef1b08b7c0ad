/**
 * What every adapter does alike with sign-in factors (`FactorRecord`): the order it lists them in, which of them
 * count as a way to sign in, and which replacement sets it accepts.
 */
import type { FactorKind, FactorRecord } from './types.js'

/** The order of `listUserFactors`: oldest first, then by id in code-unit order (SQL's `COLLATE "C"`). */
export function byCreation(a: FactorRecord, b: FactorRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** How many of `factors` sign a user in on their own: passkeys (a TOTP secret or a recovery code does not). */
export function countPasskeys(factors: Iterable<Pick<FactorRecord, 'kind'>>): number {
  let count = 0
  for (const factor of factors) if (factor.kind === 'passkey') count++
  return count
}

/**
 * Refuses (TypeError, a caller's mistake rather than a store failure) a replacement set for `replaceFactors`
 * holding a factor of another user or kind, or two factors with one lookup key.
 */
export function checkReplacement(userId: string, kind: FactorKind, factors: readonly FactorRecord[]): void {
  const keys = new Set<string>()
  for (const factor of factors) {
    if (factor.userId !== userId || factor.kind !== kind) {
      throw new TypeError(`A replacement of ${kind} factors must hold only that user's ${kind} factors.`)
    }
    if (keys.has(factor.lookupKey)) throw new TypeError('A replacement set must not repeat a lookup key.')
    keys.add(factor.lookupKey)
  }
}
