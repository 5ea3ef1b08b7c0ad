/**
 * Authorization codes (RFC 6749 §4.1.2): nothing is stored when one is issued. The code is the grant itself,
 * sealed under a store secret (`core/sealed-box.ts`) so only this server can read or make one, living
 * {@link CODE_LIFETIME_SECONDS}; single use is enforced when it is redeemed, by claiming its id in the store.
 * It binds the client, the redirect URI, the PKCE challenge, the nonce and the scopes it was issued for, and
 * carries the id of the refresh family its tokens will belong to, so that a replayed code can revoke what
 * the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5).
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { sameSecret } from '../core/hash.js'
import { generatePublicId, generateSecretToken } from '../core/random.js'
import { type SealedBox, createSealedBox } from '../core/sealed-box.js'
import type { Store } from '../store/types.js'

/** RFC 6749 §4.1.2 recommends at most ten minutes; a client redeems at once, so one is plenty. */
export const CODE_LIFETIME_SECONDS = 60

/** What a code grants. */
export interface CodeGrant {
  /** Random: the key of the single-use claim. */
  id: string
  clientId: string
  redirectUri: string
  userId: string
  scopes: string[]
  nonce: string | undefined
  codeChallenge: string
  /** When the person signed in (the cookie session's start). */
  authTime: number
  /** How the person signed in (the cookie session's methods). */
  amr: readonly string[]
  /** The cookie session that authorized it (the ID token's `sid`). */
  sessionId: string
  /** The refresh family its tokens will belong to. */
  familyId: string
  expiresAt: number
}

export interface AuthorizationCodes {
  issue(grant: Omit<CodeGrant, 'id' | 'familyId' | 'expiresAt'>): Promise<string>
  /**
   * The grant in `code` if it is genuine, unexpired, for this client and redirect URI, and `codeVerifier`
   * matches its challenge; throws `invalid_grant` otherwise. Does not claim it: the caller does, last.
   */
  open(
    code: string,
    check: { clientId: string; redirectUri: string | undefined; codeVerifier: string | undefined },
  ): Promise<CodeGrant>
}

/** The store secret codes are sealed under; created on first use, shared by every instance. */
const CODE_KEY_SECRET = 'authorization-code-key'

export async function openAuthorizationCodes(options: {
  store: Pick<Store, 'getOrCreateSecret' | 'secretRoute'>
  clock: Clock
}): Promise<AuthorizationCodes> {
  const { clock } = options
  const key = await options.store.getOrCreateSecret(CODE_KEY_SECRET, generateSecretToken())
  const box: SealedBox<CodeGrant> = createSealedBox(Buffer.from(key, 'base64url'))

  return {
    issue: (grant) =>
      box.seal({
        ...grant,
        id: generatePublicId(),
        familyId: generatePublicId(options.store.secretRoute?.(grant.userId) ?? null),
        expiresAt: clock.nowSeconds() + CODE_LIFETIME_SECONDS,
      }),

    async open(code, check) {
      const grant = code.length <= 4096 ? await box.open(code) : null
      if (!grant) throw invalidGrant('unreadable_code')
      if (!(grant.expiresAt > clock.nowSeconds())) throw invalidGrant('code_expired')
      // A code stolen from one client and presented by another (code injection) fails here.
      if (grant.clientId !== check.clientId) throw invalidGrant('code_of_another_client')
      if (check.redirectUri !== grant.redirectUri) throw invalidGrant('redirect_uri_mismatch')
      if (check.codeVerifier === undefined || !/^[A-Za-z0-9._~-]{43,128}$/.test(check.codeVerifier)) {
        throw invalidGrant('code_verifier_malformed')
      }
      const challenge = createHash('sha256').update(check.codeVerifier).digest('base64url')
      if (!sameSecret(challenge, grant.codeChallenge)) throw invalidGrant('code_verifier_mismatch')
      // A code sealed by an instance that recorded no methods (during an upgrade) grants with none known.
      return { ...grant, amr: grant.amr ?? [] }
    },
  }
}

function invalidGrant(reason: string): AuthError {
  return new AuthError('invalid_grant', 'The authorization code is invalid, expired or used.', { reason })
}
