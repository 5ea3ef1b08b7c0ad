/**
 * Reading change-feed messages. The channel is reachable by anyone with access to the backing store (any
 * database user can NOTIFY, any Redis client can PUBLISH), and its events feed the revocation lists, so every
 * field is checked: a malformed message is dropped, never applied half-understood.
 */
import type { ChangeEvent } from './types.js'

/** The event in a published message, or null when it is not a well-formed {@link ChangeEvent}. */
export function parseChangeEvent(payload: string): ChangeEvent | null {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return null
  }
  return readChangeEvent(value)
}

/** `value` as a {@link ChangeEvent}, or null when any field is off. */
export function readChangeEvent(value: unknown): ChangeEvent | null {
  if (!isObject(value)) return null
  switch (value.type) {
    case 'keys-changed':
      return { type: 'keys-changed' }
    case 'access-revoked': {
      const r = value.revocation
      if (!isObject(r) || (r.kind !== 'jti' && r.kind !== 'sid')) return null
      if (typeof r.value !== 'string' || !isSeconds(r.expiresAt)) return null
      return { type: 'access-revoked', revocation: { kind: r.kind, value: r.value, expiresAt: r.expiresAt } }
    }
    case 'user-epoch': {
      const e = value.epoch
      if (!isObject(e) || typeof e.userId !== 'string' || !isSeconds(e.epoch) || !isSeconds(e.expiresAt)) {
        return null
      }
      return { type: 'user-epoch', epoch: { userId: e.userId, epoch: e.epoch, expiresAt: e.expiresAt } }
    }
    default:
      return null
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isSeconds(value: unknown): value is number {
  return Number.isSafeInteger(value)
}
