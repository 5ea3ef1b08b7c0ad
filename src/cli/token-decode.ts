/**
 * `sesame token decode`: shows what a JWT says (header, claims, readable times) and whether its signature
 * holds against a key set. Decoding is for reading only: the claims are shown even when the signature fails,
 * and the verdict says so plainly.
 */
import { AuthError } from '../core/errors.js'
import { decodeBase64url } from '../core/jws/base64url.js'
import { type KeyResolver, verifyCompact } from '../core/jws/compact.js'
import { parseStrictJsonObject } from '../core/jws/strict-json.js'

export interface DecodedToken {
  header: Record<string, unknown>
  claims: Record<string, unknown>
}

/** Splits and parses a compact JWT without checking it; throws `invalid_token` when it is not one. */
export function decodeToken(token: string): DecodedToken {
  const segments = token.trim().split('.')
  if (segments.length !== 3) {
    throw new AuthError(
      'invalid_token',
      `Not a JWT: expected 3 dot-separated segments, found ${segments.length}.`,
    )
  }
  const part = (segment: string, name: string): Record<string, unknown> => {
    const bytes = decodeBase64url(segment)
    const value = bytes && parseStrictJsonObject(bytes.toString('utf8'))
    if (!value) throw new AuthError('invalid_token', `Not a JWT: the ${name} is not base64url JSON.`)
    return value
  }
  return { header: part(segments[0]!, 'header'), claims: part(segments[1]!, 'payload') }
}

export type SignatureVerdict =
  { status: 'valid' } | { status: 'unknown_key' } | { status: 'invalid'; reason: string }

/** Whether the JWS layer accepts `token` with the keys `resolveKey` offers (claims are not judged here). */
export function checkSignature(token: string, resolveKey: KeyResolver): SignatureVerdict {
  try {
    verifyCompact(token.trim(), resolveKey)
    return { status: 'valid' }
  } catch (error) {
    const reason = (error instanceof AuthError && error.reason) || 'unreadable'
    return reason === 'unknown_key' ? { status: 'unknown_key' } : { status: 'invalid', reason }
  }
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat']

/** The decoded token as readable text: header, claims with ISO times and how far from `now` they are. */
export function formatDecoded({ header, claims }: DecodedToken, now: number): string {
  const lines = ['Header:', indent(JSON.stringify(header, null, 2)), 'Claims:']
  for (const [name, value] of Object.entries(claims)) {
    let shown = JSON.stringify(value)
    // Only times a Date can hold (within 8.64e12 s of 1970); anything else is shown as the number it is.
    if (TIME_CLAIMS.includes(name) && typeof value === 'number' && Math.abs(value) <= 8.64e12) {
      shown += `  (${new Date(value * 1000).toISOString()}, ${relative(value - now)})`
    }
    lines.push(`  ${name}: ${shown}`)
  }
  return lines.join('\n')
}

function relative(seconds: number): string {
  const magnitude = Math.abs(Math.round(seconds))
  const text =
    magnitude < 120
      ? `${magnitude} s`
      : magnitude < 7200
        ? `${Math.round(magnitude / 60)} min`
        : `${Math.round(magnitude / 3600)} h`
  return seconds >= 0 ? `in ${text}` : `${text} ago`
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}
