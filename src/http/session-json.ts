/**
 * The JSON of a signed-in user and their session, as every sign-in route and `GET /auth/me` answer it.
 */
import type { PublicUser } from '../auth.js'
import type { Principal } from '../core/principal.js'
import { isoTime } from './iso-time.js'

export function userJSON(user: PublicUser): { id: string; email: string; email_verified: boolean } {
  return { id: user.id, email: user.email, email_verified: user.emailVerified }
}

export function sessionJSON(principal: Principal): {
  id: string
  method: string
  amr: readonly string[]
  created_at: string
  expires_at: string
} {
  return {
    id: principal.sessionId,
    method: principal.method,
    amr: principal.amr,
    created_at: isoTime(principal.issuedAt),
    expires_at: isoTime(principal.expiresAt),
  }
}
