/**
 * Token lifetimes and the verifier's rules. Access tokens are short (minutes: they cannot be recalled without
 * the revocation list), refresh families long (weeks), and the grace window for a just-rotated refresh token
 * short (seconds: long enough for a lost response or two tabs, too short to be worth stealing).
 */

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
}

export type TokenPolicyInput = Pick<TokenPolicy, 'issuer' | 'audience'> & Partial<TokenPolicy>

/** Resolves and checks a policy; throws `TypeError` naming the bad option. The result is frozen. */
export function resolveTokenPolicy(input: TokenPolicyInput): Readonly<TokenPolicy> {
  const policy: TokenPolicy = {
    issuer: input.issuer,
    audience: input.audience,
    accessTtlSeconds: input.accessTtlSeconds ?? 900,
    leewaySeconds: input.leewaySeconds ?? 30,
    refreshIdleSeconds: input.refreshIdleSeconds ?? 14 * 86_400,
    refreshAbsoluteSeconds: input.refreshAbsoluteSeconds ?? 30 * 86_400,
    refreshGraceSeconds: input.refreshGraceSeconds ?? 10,
    maxTokenLength: input.maxTokenLength ?? 4096,
  }
  for (const key of ['issuer', 'audience'] as const) {
    if (typeof policy[key] !== 'string' || policy[key] === '') {
      throw new TypeError(`Token option "${key}" is required and must be a non-empty string.`)
    }
  }
  const bounds: Array<[keyof TokenPolicy, number, number]> = [
    ['accessTtlSeconds', 1, 3600],
    ['leewaySeconds', 0, 60],
    ['refreshIdleSeconds', 1, 400 * 86_400],
    ['refreshAbsoluteSeconds', 1, 400 * 86_400],
    ['refreshGraceSeconds', 0, 60],
    ['maxTokenLength', 256, 65_536],
  ]
  for (const [key, min, max] of bounds) {
    const value = policy[key]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new TypeError(`Token option "${key}" must be a whole number from ${min} to ${max}.`)
    }
  }
  if (policy.refreshIdleSeconds > policy.refreshAbsoluteSeconds) {
    throw new TypeError('Token option "refreshIdleSeconds" must not exceed "refreshAbsoluteSeconds".')
  }
  return Object.freeze(policy)
}
