/**
 * The state of a sign-in through a provider, between the redirect there and the callback here: kept in the
 * browser that started it, in a short-lived HttpOnly cookie, sealed under a server secret
 * (`core/sealed-box.ts`), so nothing of it is stored and nothing in it can be read or changed. It binds the callback to that browser (login CSRF): a callback without the cookie, or with another
 * browser's, fails. Single use is enforced at the callback by claiming the state in the store.
 */
import { AuthError } from '../core/errors.js'
import { createSealedBox } from '../core/sealed-box.js'

/** What the cookie carries. */
export interface FlowState {
  provider: string
  state: string
  nonce: string
  codeVerifier: string
  /** A same-origin path to land on (already checked by `safeReturnTo`). */
  returnTo: string
  /** For a "link this provider" flow: the signed-in user and session that asked; null for a sign-in. */
  link: { userId: string; sessionId: string } | null
  /** Unix seconds after which the callback is refused. */
  expiresAt: number
}

/** Minutes are enough to sign in at a provider; the state is useless, and refused, afterwards. */
export const FLOW_LIFETIME_SECONDS = 600

export interface FlowSealer {
  seal(state: FlowState): Promise<string>
  /** The state in `sealed`, or throws `social_sign_in_failed` (forged, damaged, expired). */
  open(sealed: string, now: number): Promise<FlowState>
}

/** `key` must be 32 random bytes, the same on every instance (a store secret). */
export function createFlowSealer(key: Uint8Array): FlowSealer {
  const box = createSealedBox<FlowState>(key)
  return {
    seal: (state) => box.seal(state),

    async open(sealed, now) {
      const state = await box.open(sealed)
      if (state === null) {
        throw new AuthError('social_sign_in_failed', 'The sign-in could not be verified; start again.', {
          reason: 'unreadable_state_cookie',
        })
      }
      if (!(typeof state.expiresAt === 'number' && state.expiresAt > now)) {
        throw new AuthError('social_sign_in_failed', 'The sign-in took too long; start again.', {
          reason: 'state_expired',
        })
      }
      return state
    },
  }
}
