/**
 * A sign-in halfway: the password (or another first factor) was right, and the account asks for a second
 * factor. What the client holds meanwhile is not a session but this sealed note of who passed which factor,
 * for five minutes; it is good for one completion (a single-use claim in the store, so a copy cannot start a
 * second session), and it carries nothing a thief could use without the second factor.
 */
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import { generatePublicId, generateSecretToken } from '../core/random.js'
import { type SealedBox, createSealedBox } from '../core/sealed-box.js'
import type { Store } from '../store/types.js'

/** How long a pending sign-in waits for its second factor. */
export const PENDING_SIGN_IN_SECONDS = 300

export interface PendingSignIn {
  /** Random: the key of its single-use claim. */
  id: string
  userId: string
  /** The factors passed so far (`core/sign-in-methods.ts`). */
  amr: readonly string[]
  expiresAt: number
}

export interface PendingSignIns {
  /** Seals a pending sign-in for `userId`, who has passed `amr`; `expiresAt` is when it lapses. */
  start(userId: string, amr: readonly string[]): Promise<{ sealed: string; expiresAt: number }>
  /** The pending sign-in in `sealed`; throws `invalid_second_factor` when it is not one or has lapsed. */
  open(sealed: string): Promise<PendingSignIn>
  /** Uses it up; throws `invalid_second_factor` when it was used already. */
  finish(pending: PendingSignIn): Promise<void>
}

const PENDING_KEY_SECRET = 'pending-sign-in-key'

export async function openPendingSignIns(options: {
  store: Pick<Store, 'getOrCreateSecret' | 'claimOnce'>
  clock: Clock
}): Promise<PendingSignIns> {
  const { store, clock } = options
  const key = await store.getOrCreateSecret(PENDING_KEY_SECRET, generateSecretToken())
  const box: SealedBox<PendingSignIn> = createSealedBox(Buffer.from(key, 'base64url'))
  const refuse = (reason: string) =>
    new AuthError('invalid_second_factor', 'The sign-in has expired; sign in again.', { reason })

  return {
    async start(userId, amr) {
      const expiresAt = clock.nowSeconds() + PENDING_SIGN_IN_SECONDS
      return {
        sealed: await box.seal({ id: generatePublicId(), userId, amr: [...amr], expiresAt }),
        expiresAt,
      }
    },

    async open(sealed) {
      const pending = sealed.length <= 4096 ? await box.open(sealed) : null
      if (!pending) throw refuse('pending_unreadable')
      if (!(pending.expiresAt > clock.nowSeconds())) throw refuse('pending_expired')
      return pending
    },

    async finish(pending) {
      const claimed = await store.claimOnce(
        hashSecret(`pending-sign-in:${pending.id}`),
        pending.expiresAt,
        clock.nowSeconds(),
      )
      if (!claimed) throw refuse('pending_used')
    },
  }
}
