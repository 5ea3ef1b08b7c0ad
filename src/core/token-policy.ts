/**
 * Token lifetimes and the verifier's rules. Access tokens are short (minutes: they cannot be recalled without
 * the revocation list), refresh families long (weeks), and the grace window for a just-rotated refresh token
 * short (seconds: long enough for a lost response or two tabs, too short to be worth stealing).
 */
import type { AccessTokenRules } from './access-token.js'
import { SesameOptionError } from './errors.js'
import { type Range, checkWholeNumber } from './option-checks.js'
import { MAX_COOKIE_LIFETIME_SECONDS } from './session-policy.js'

export interface TokenPolicy {
  /** `iss` of issued tokens, and the only one accepted. Required. */
  issuer: string
  /** `aud` of issued tokens, and the one a token must name. Required. */
  audience: string
  /** Access-token lifetime in seconds. Default 900 (15 min); at most 3600. */
  accessTtlSeconds: number
  /** Clock skew tolerated when checking times, in seconds. Default 30; at most 60. */
  leewaySeconds: number
  /** A refresh family ends after this many seconds unused. Default 1209600 (14 days). */
  refreshIdleSeconds: number
  /** A refresh family ends this many seconds after sign-in, however used. Default 2592000 (30 days). */
  refreshAbsoluteSeconds: number
  /** Seconds a rotated-out refresh token still yields the same successor. Default 10; at most 60. */
  refreshGraceSeconds: number
  /** Longest access token accepted, in characters. Default 4096. */
  maxTokenLength: number
  /**
   * Seconds between a rotation publishing a new signing key (in the JWKS) and that key signing. Default 360:
   * the JWKS's cache lifetime ({@link JWKS_MAX_AGE_SECONDS}) plus a margin, so every JWKS cached before the
   * rotation has expired by then. At most 86400. 0 signs at once, as an emergency rotation always does.
   */
  keyActivationDelaySeconds: number
}

/** The longest the JWKS may be cached (its `Cache-Control: max-age`) when the activation delay allows it. */
export const JWKS_MAX_AGE_SECONDS = 300
/**
 * Slack between the JWKS's cache lifetime and a new key's activation: a verifier fetches a little after its
 * copy expires (clock skew, a request that fetched just before, a refresh timer that fires late).
 */
export const KEY_ACTIVATION_MARGIN_SECONDS = 60
export const DEFAULT_KEY_ACTIVATION_DELAY_SECONDS = JWKS_MAX_AGE_SECONDS + KEY_ACTIVATION_MARGIN_SECONDS

/**
 * The `max-age` the JWKS must be served with, so that no cached copy outlives a rotation's activation delay:
 * {@link JWKS_MAX_AGE_SECONDS} by default, shorter when the delay is shorter, and 0 (revalidate every time)
 * when the delay leaves no room for the margin.
 */
export function jwksMaxAgeSeconds(policy: Pick<TokenPolicy, 'keyActivationDelaySeconds'>): number {
  const room = policy.keyActivationDelaySeconds - KEY_ACTIVATION_MARGIN_SECONDS
  return Math.min(JWKS_MAX_AGE_SECONDS, Math.max(0, room))
}

export type TokenPolicyInput = Pick<TokenPolicy, 'issuer' | 'audience'> & Partial<TokenPolicy>

/** What an access token must satisfy to verify under `policy` (see `core/access-token.ts`). */
export function accessTokenRules(policy: Readonly<TokenPolicy>): AccessTokenRules {
  return {
    issuer: policy.issuer,
    audience: policy.audience,
    leewaySeconds: policy.leewaySeconds,
    maxTokenLength: policy.maxTokenLength,
    // Tokens issued under an earlier, longer lifetime are refused after a change: their clients refresh once.
    maxLifetimeSeconds: policy.accessTtlSeconds,
  }
}

/** Defaults of the optional members. */
export const TOKEN_POLICY_DEFAULTS: Readonly<Omit<TokenPolicy, 'issuer' | 'audience'>> = Object.freeze({
  accessTtlSeconds: 900,
  leewaySeconds: 30,
  refreshIdleSeconds: 14 * 86_400,
  refreshAbsoluteSeconds: 30 * 86_400,
  refreshGraceSeconds: 10,
  maxTokenLength: 4096,
  keyActivationDelaySeconds: DEFAULT_KEY_ACTIVATION_DELAY_SECONDS,
})

/**
 * Inclusive ranges of the numeric members. Refresh lifetimes stop at the 400 days browsers allow a cookie
 * (the refresh token may travel in one).
 */
export const TOKEN_POLICY_RANGES: Readonly<Record<keyof typeof TOKEN_POLICY_DEFAULTS, Range>> = Object.freeze(
  {
    accessTtlSeconds: { min: 1, max: 3600 },
    leewaySeconds: { min: 0, max: 60 },
    refreshIdleSeconds: { min: 1, max: MAX_COOKIE_LIFETIME_SECONDS },
    refreshAbsoluteSeconds: { min: 1, max: MAX_COOKIE_LIFETIME_SECONDS },
    refreshGraceSeconds: { min: 0, max: 60 },
    maxTokenLength: { min: 256, max: 65_536 },
    keyActivationDelaySeconds: { min: 0, max: 86_400 },
  },
)

/**
 * Resolves and checks a policy; throws {@link SesameOptionError} naming the bad option (`tokens.<key>`).
 * Members other than the policy's (`signing`) are the caller's to check. The result is frozen.
 */
export function resolveTokenPolicy(input: TokenPolicyInput): Readonly<TokenPolicy> {
  const policy: TokenPolicy = {
    issuer: input.issuer,
    audience: input.audience,
    ...TOKEN_POLICY_DEFAULTS,
  }
  for (const key of Object.keys(TOKEN_POLICY_DEFAULTS) as Array<keyof typeof TOKEN_POLICY_DEFAULTS>) {
    if (input[key] !== undefined) policy[key] = input[key]
  }
  for (const key of ['issuer', 'audience'] as const) {
    if (typeof policy[key] !== 'string' || policy[key] === '') {
      throw new SesameOptionError(
        `tokens.${key}`,
        `Token option "${key}" is required and must be a non-empty string.`,
      )
    }
  }
  for (const [key, range] of Object.entries(TOKEN_POLICY_RANGES) as Array<
    [keyof typeof TOKEN_POLICY_RANGES, Range]
  >) {
    checkWholeNumber(
      `tokens.${key}`,
      policy[key],
      range,
      `Token option "${key}" must be a whole number from ${range.min} to ${range.max}.`,
    )
  }
  if (policy.refreshIdleSeconds > policy.refreshAbsoluteSeconds) {
    throw new SesameOptionError(
      'tokens.refreshIdleSeconds',
      'Token option "refreshIdleSeconds" must not exceed "refreshAbsoluteSeconds".',
    )
  }
  return Object.freeze(policy)
}
