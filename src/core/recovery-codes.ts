/**
 * Recovery codes: single-use codes shown once when a second factor is set up, for the day the phone or the
 * security key is lost. Each carries 80 random bits, so a store holds only its SHA-256 (a leaked table cannot
 * be searched back to codes: 2^80 guesses per code), and the lookup by hash needs no slow hash.
 */
import { createHash, randomBytes } from 'node:crypto'
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'

/** How many codes a set holds. */
export const RECOVERY_CODE_COUNT = 10
/** 80 bits: sixteen base32 characters. */
const CODE_BYTES = 10

/** A fresh set of codes, as shown to the user: `abcd-efgh-ijkl-mnop`, lower-case base32. */
export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () =>
    encodeBase32LowerCaseNoPadding(randomBytes(CODE_BYTES)).replace(/(.{4})(?=.)/g, '$1-'),
  )
}

/**
 * What a typed code is looked up by: its sixteen characters with case, spaces and dashes dropped, hashed.
 * Null when the text cannot be a code (nothing is looked up for it).
 */
export function recoveryCodeLookupKey(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]+/g, '')
  return /^[a-z2-7]{16}$/.test(code) ? createHash('sha256').update(code).digest('base64url') : null
}
