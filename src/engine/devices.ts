/**
 * A user's devices: their cookie sessions and token families, listed together, ended one at a time, all but
 * the caller's, or all at once ("log out everywhere", which also starts a per-user epoch so even access tokens
 * of families this instance never saw die at once). Also the per-user session limit.
 * Every operation reads only that user's records: O(their sessions), never a scan of the store.
 */
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import type { Principal } from '../core/principal.js'
import { DEVICE_LIMIT_REACHED, type Store } from '../store/types.js'
import type { TokenEngine } from './tokens.js'
import type { ClientContext, DeviceLimitGate } from './types.js'

export type { DeviceLimitGate }

/** One signed-in device: a cookie session or a token family. */
export interface Device {
  id: string
  kind: 'cookie' | 'token'
  userAgent: string | null
  ip: string | null
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  /** True for the device making the request. */
  current: boolean
}

/** What to do when a user signs in with `max` devices already live. */
export interface SessionLimit {
  /** 0 = no limit. */
  max: number
  /** `evict-oldest` ends the oldest devices to make room (the notes' "the phone logs the web out"); `deny` refuses. */
  policy: 'evict-oldest' | 'deny'
}

/**
 * The session limit as sign-ins apply it. The count cannot be a separate read before the create: parallel
 * sign-ins (on any instance) would all count before any of them created, and all get in. So the store checks
 * the limit in the create itself (see `DeviceLimit`), and the engine only finishes what it decided.
 */
export interface Devices {
  list(principal: Principal): Promise<Device[]>
  /**
   * Ends one of the caller's devices. False when the id is not one of theirs (or already ended). `context`
   * (where the request came from) is for the audit event, here and below.
   */
  end(principal: Principal, deviceId: string, context?: ClientContext): Promise<boolean>
  /** Ends every device of the caller but the one making the request; returns how many. */
  endOthers(principal: Principal, context?: ClientContext): Promise<number>
  /** Ends every device of the caller, the current one included, and kills all their access tokens. */
  endAll(principal: Principal, context?: ClientContext): Promise<void>
  /** An operator's view of `userId`'s live devices (none is `current`). */
  listForUser(userId: string): Promise<Device[]>
  /** An operator's "log out everywhere" for `userId`: every device and access token. */
  endAllForUser(userId: string): Promise<void>
  /** The per-user session limit, for the sign-ins that create devices. */
  limit: DeviceLimitGate
}

export interface DevicesOptions {
  store: Store
  clock: Clock
  /** Null when the engine has no tokens. */
  tokens: TokenEngine | null
  limit: SessionLimit
}

export function createDevices({ store, clock, tokens, limit }: DevicesOptions): Devices {
  async function liveDevices(userId: string, principal: Principal | null): Promise<Device[]> {
    const now = clock.nowSeconds()
    const sessions = await store.listUserSessions(userId)
    const families = tokens ? await store.listUserRefreshFamilies(userId) : []
    const devices: Device[] = []
    for (const session of sessions) {
      if (session.expiresAt <= now || session.absoluteExpiresAt <= now) continue
      devices.push({
        id: session.id,
        kind: 'cookie',
        userAgent: session.userAgent,
        ip: session.ip,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
        current: principal?.method === 'cookie' && principal.sessionId === session.id,
      })
    }
    for (const family of families) {
      if (family.revokedAt !== null || family.expiresAt <= now) continue
      devices.push({
        id: family.id,
        kind: 'token',
        userAgent: family.userAgent,
        ip: family.ip,
        createdAt: family.createdAt,
        lastSeenAt: family.lastUsedAt,
        expiresAt: family.expiresAt,
        current: principal?.method === 'token' && principal.sessionId === family.id,
      })
    }
    return devices.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  /**
   * Ends `userId`'s devices but the excepted ones in one atomic store change (see `Store.endUserDevices`):
   * on failure (a 503) all of it or none of it happened, so the caller may retry. Returns how many ended.
   */
  async function endDevices(
    userId: string,
    exceptSessionId: string | null,
    exceptFamilyId: string | null,
  ): Promise<number> {
    if (tokens) return tokens.endUserDevices({ userId, exceptSessionId, exceptFamilyId })
    // A cookie-only engine issues no access tokens, so there is no epoch to start.
    const ended = await store.endUserDevices({
      userId,
      epoch: null,
      exceptSessionId,
      exceptFamilyId,
      now: clock.nowSeconds(),
    })
    return ended.sessionsEnded + ended.familiesRevoked.length
  }

  async function endAllForUser(userId: string): Promise<void> {
    await endDevices(userId, null, null)
  }

  return {
    list: (principal) => liveDevices(principal.userId, principal),

    async end(principal, deviceId) {
      if (await store.deleteUserSession(principal.userId, deviceId)) return true
      return tokens ? tokens.endFamily(principal.userId, deviceId) : false
    },

    async endOthers(principal) {
      const keepCookie = principal.method === 'cookie' ? principal.sessionId : null
      const keepFamily = principal.method === 'token' ? principal.sessionId : null
      return endDevices(principal.userId, keepCookie, keepFamily)
    },

    endAll: (principal) => endAllForUser(principal.userId),
    listForUser: (userId) => liveDevices(userId, null),
    endAllForUser,

    limit: {
      at: (now) => (limit.max === 0 ? undefined : { max: limit.max, now, policy: limit.policy }),
      async settle(userId, created) {
        if (created === DEVICE_LIMIT_REACHED) {
          throw new AuthError(
            'session_limit_reached',
            `This account is already signed in on ${limit.max} devices.`,
          )
        }
        // Repeating endFamily for a family the store already revoked only writes its `sid` kill.
        for (const familyId of created.evictedFamilies) await tokens?.endFamily(userId, familyId)
      },
    },
  }
}
