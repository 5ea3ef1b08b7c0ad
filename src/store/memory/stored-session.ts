/**
 * How the memory store holds a session: a fixed-shape object without the token hash (the map key already holds
 * it) and with an IPv4 address as a number. Sessions are what the store holds by the hundred thousand, and V8
 * charges 8 bytes per field and 16 bytes plus the characters per string: together with the fixed shape (a
 * spread copy took more), this took a session from 327 to 273 bytes (`npm run bench`, bytes per session).
 * IPv6 text, the IPv4-mapped form of a dual-stack listener (`::ffff:a.b.c.d`) included, stays a string.
 */
import { sharedMethodList } from '../../core/sign-in-methods.js'
import type { SessionRecord } from '../types.js'

export interface StoredSession {
  readonly id: string
  readonly userId: string
  readonly createdAt: number
  lastSeenAt: number
  expiresAt: number
  readonly absoluteExpiresAt: number
  readonly userAgent: string | null
  /** See {@link compactIp}. */
  readonly ip: string | number | null
  /** Shared and frozen ({@link sharedMethodList}). */
  readonly amr: readonly string[]
}

/** `session` as stored; `userAgent` is the copy to keep (the store's pooled one). */
export function toStoredSession(session: SessionRecord, userAgent: string | null): StoredSession {
  // One literal with every field, always in this order, so every stored session shares one V8 shape.
  return {
    id: session.id,
    userId: session.userId,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    userAgent,
    ip: compactIp(session.ip),
    amr: sharedMethodList(session.amr),
  }
}

/** A fresh record of a stored session, for a caller to keep or change. */
export function toSessionRecord(tokenHash: string, stored: StoredSession): SessionRecord {
  return {
    id: stored.id,
    tokenHash,
    userId: stored.userId,
    createdAt: stored.createdAt,
    lastSeenAt: stored.lastSeenAt,
    expiresAt: stored.expiresAt,
    absoluteExpiresAt: stored.absoluteExpiresAt,
    userAgent: stored.userAgent,
    ip: expandIp(stored.ip),
    amr: stored.amr,
  }
}

// A canonical dotted quad: four decimal octets, no leading zeros, so the text is exactly what expandIp writes.
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/**
 * A canonical IPv4 address as its 32 bits in a signed integer: a V8 small integer lives in the field itself,
 * where a dotted-quad string costs about 32 bytes more. Anything else, IPv6 included, stays as it came.
 */
export function compactIp(ip: string | null): string | number | null {
  if (ip === null || !IPV4.test(ip)) return ip
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number]
  return (a << 24) | (b << 16) | (c << 8) | d
}

/** The text {@link compactIp} was given. */
export function expandIp(ip: string | number | null): string | null {
  if (typeof ip !== 'number') return ip
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`
}
