/**
 * Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA1, 6 digits, 30-second
 * steps, through `@oslojs/otp`. What is Sesame's own is the acceptance rule: a code of the current step or one
 * step either side (clock drift between the phone and the server), reported with the step it matched so the
 * caller can accept each step once (the factor's counter is the last step accepted: a replayed code, or an
 * older one, is refused).
 */
import { randomBytes } from 'node:crypto'
import { createTOTPKeyURI, generateHOTP } from '@oslojs/otp'
import { decodeBase32IgnorePadding, encodeBase32NoPadding } from '@oslojs/encoding'
import { sameSecret } from './hash.js'

export const TOTP_PERIOD_SECONDS = 30
export const TOTP_DIGITS = 6
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW_STEPS = 1
/** 160 bits: the HMAC-SHA1 key size RFC 4226 §4 recommends, and what every authenticator app accepts. */
const KEY_BYTES = 20

export function generateTotpKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES))
}

/** The key as people type it into an app that cannot scan: base32, in groups of four. */
export function formatTotpKey(key: Uint8Array): string {
  return encodeBase32NoPadding(key).replace(/(.{4})(?=.)/g, '$1 ')
}

/** The key back from base32 text; null when it is not one of ours (20 bytes). */
export function parseTotpKey(text: string): Uint8Array | null {
  try {
    const key = decodeBase32IgnorePadding(text.replace(/\s+/g, '').toUpperCase())
    return key.length === KEY_BYTES ? key : null
  } catch {
    return null
  }
}

/** The `otpauth://` URI an authenticator app scans: `issuer` names the service, `account` the user. */
export function totpUri(issuer: string, account: string, key: Uint8Array): string {
  return createTOTPKeyURI(issuer, account, key, TOTP_PERIOD_SECONDS, TOTP_DIGITS)
}

/** The 30-second step `now` (Unix seconds) falls in. */
export function totpStep(now: number): number {
  return Math.floor(now / TOTP_PERIOD_SECONDS)
}

/** The code of `step`: what the app shows during it (tests compute codes with it too). */
export function totpCode(key: Uint8Array, step: number): string {
  return generateHOTP(key, BigInt(step), TOTP_DIGITS)
}

/**
 * The step whose code `code` is, among the current step at `now` and {@link TOTP_WINDOW_STEPS} either side,
 * or null. Every step of the window is computed and compared in constant time, whichever matches.
 */
export function matchTotpStep(key: Uint8Array, code: string, now: number): number | null {
  const typed = code.replace(/\s+/g, '')
  if (!/^\d{6}$/.test(typed)) return null
  const current = totpStep(now)
  let matched: number | null = null
  for (let step = current - TOTP_WINDOW_STEPS; step <= current + TOTP_WINDOW_STEPS; step++) {
    // The latest matching step wins: accepting an earlier one would let the same code pass twice.
    if (sameSecret(totpCode(key, step), typed)) matched = step
  }
  return matched
}
