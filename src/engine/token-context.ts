/**
 * What the token engine's parts share: the store, the injected clock, the policy, and the two in-memory
 * structures bearer authentication reads without I/O (the key source and the revocation list). Each part
 * (`token-grants.ts`, `token-revocation.ts`, `signing-keys.ts`, `token-sync.ts`) is a set of named functions
 * over this context; `tokens.ts` builds it once and composes them.
 */
import type { AccessTokenRules } from '../core/access-token.js'
import type { Clock } from '../core/clock.js'
import type { RevocationList } from '../core/revocation-list.js'
import type { TokenPolicy } from '../core/token-policy.js'
import type { VerifiedTokenCache } from '../core/verified-token-cache.js'
import type { Store } from '../store/types.js'
import type { SigningKeys } from './signing-keys.js'
import type { Throttle } from './throttle.js'

export interface TokenContext {
  store: Store
  clock: Clock
  policy: Readonly<TokenPolicy>
  /** What an access token must satisfy here (derived from the policy once). */
  rules: AccessTokenRules
  keys: SigningKeys
  revocations: RevocationList
  /** Claims of tokens that passed full verification; cleared whenever the key set changes. */
  verified: VerifiedTokenCache
  /** Counts failed refresh grants and revocations of unknown tokens per client address. */
  throttle: Pick<Throttle, 'checkAddress' | 'recordAddressFailure'> | undefined
  /** Told about background failures (feed resyncs, key reloads), which must not crash the process. */
  reportBackgroundError: (error: unknown) => void
}
