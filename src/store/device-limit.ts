/**
 * The device-limit decision the adapters that plan in TypeScript share (memory, SQLite, PostgreSQL; Redis does
 * the same in Lua): given a user's sessions and families as read inside the adapter's atomic step, which of
 * them to end before one more device is created, or that none may be.
 */
import {
  DEVICE_LIMIT_REACHED,
  type DeviceLimit,
  type RefreshFamilyRecord,
  type SessionRecord,
} from './types.js'

type SessionTimes = Pick<SessionRecord, 'id' | 'createdAt' | 'expiresAt' | 'absoluteExpiresAt'>
type FamilyTimes = Pick<RefreshFamilyRecord, 'id' | 'createdAt' | 'expiresAt' | 'revokedAt'>

/** What to end to make room: the oldest live devices, as the device list orders them. */
export function planDeviceLimit(
  limit: DeviceLimit,
  sessions: readonly SessionTimes[],
  families: readonly FamilyTimes[],
): typeof DEVICE_LIMIT_REACHED | { sessionIds: string[]; familyIds: string[] } {
  const { now } = limit
  const live = [
    ...sessions
      .filter((s) => s.expiresAt > now && s.absoluteExpiresAt > now)
      .map((s) => ({ id: s.id, createdAt: s.createdAt, kind: 'session' as const })),
    ...families
      .filter((f) => f.revokedAt === null && f.expiresAt > now)
      .map((f) => ({ id: f.id, createdAt: f.createdAt, kind: 'family' as const })),
  ].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const excess = live.length - limit.max + 1
  if (excess <= 0) return { sessionIds: [], familyIds: [] }
  if (limit.policy === 'deny') return DEVICE_LIMIT_REACHED
  const evicted = live.slice(0, excess)
  return {
    sessionIds: evicted.filter((d) => d.kind === 'session').map((d) => d.id),
    familyIds: evicted.filter((d) => d.kind === 'family').map((d) => d.id),
  }
}
