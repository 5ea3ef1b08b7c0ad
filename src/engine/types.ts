/** Shapes the engine's parts share, re-exported by `auth.ts`. */
import type { CookieDescription } from '../core/cookie.js'
import type { Principal } from '../core/principal.js'
import type { DeviceCreation, DeviceLimit, UserRecord } from '../store/types.js'

/** A user as shown to clients: no password hash. */
export interface PublicUser {
  id: string
  email: string
  roles: readonly string[]
  createdAt: number
  /** True once the email was proven to be the user's (a provider vouched for it). */
  emailVerified: boolean
  /** False for an account created through a sign-in provider that has not set a password yet. */
  hasPassword: boolean
}

/** Where a request came from, recorded on sessions and refresh families for device lists. */
export interface ClientContext {
  userAgent?: string | undefined
  ip?: string | undefined
}

/** A cookie session that was just created, with the cookie that carries it. */
export interface SignInResult {
  user: PublicUser
  principal: Principal
  /** The `Set-Cookie` to send; the response must also be `Cache-Control: no-store`. */
  cookie: CookieDescription
}

/** A request that a valid session cookie authenticated. */
export interface SessionAuthentication {
  user: PublicUser
  principal: Principal
  /** Non-null when sliding renewal moved the expiry: send it so the browser keeps the cookie as long. */
  cookie: CookieDescription | null
}

/** User-Agent strings are cut to this length before they are stored. */
export const MAX_USER_AGENT_LENGTH = 512

export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    roles: user.roles,
    createdAt: user.createdAt,
    emailVerified: user.emailVerifiedAt !== null,
    hasPassword: user.passwordHash !== null,
  }
}

/** The stored form of a client's User-Agent: cut to {@link MAX_USER_AGENT_LENGTH}, or null. */
export function storedUserAgent(userAgent: string | undefined): string | null {
  return userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null
}

/**
 * The session limit as the sign-in paths apply it (built by `devices.ts`); here, below the engine's modules, so
 * that cookie sessions and token grants take it without importing the devices module.
 */
export interface DeviceLimitGate {
  /** The limit to give the store's create at `now`; undefined when there is none. */
  at(now: number): DeviceLimit | undefined
  /**
   * After a create under {@link DeviceLimitGate.at}: throws `session_limit_reached` if the store denied it,
   * else kills the access tokens of the families it evicted (by `sid`; the store revoked the families).
   */
  settle(userId: string, created: DeviceCreation): Promise<void>
}
