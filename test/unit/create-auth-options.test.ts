/** Every option of createAuth is checked at creation: a bad one throws a coded TypeError naming its path. */
import { describe, expect, it } from 'vitest'
import { type AuthOptions, SesameOptionError, createAuth } from '../../src/auth.js'
import { DEFAULT_RATE_LIMIT_POLICY, resolveRateLimitPolicy } from '../../src/core/rate-limit-policy.js'
import { createMemoryStore } from '../../src/store/memory/index.js'

const store = createMemoryStore()
const TOKENS = { issuer: 'https://auth.example', audience: 'https://api.example' }

async function refusal(options: Record<string, unknown>): Promise<SesameOptionError> {
  try {
    await createAuth({ store, ...options })
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(SesameOptionError)
    expect((error as SesameOptionError).code).toBe('invalid_option')
    return error as SesameOptionError
  }
  throw new Error('createAuth accepted the options')
}

describe('createAuth option checks', () => {
  it.each<[string, Record<string, unknown>, string]>([
    // The object itself and unknown names (a typo must not leave a default in force).
    ['an unknown option', { sesionLimit: { max: 1, policy: 'deny' } }, 'sesionLimit'],
    ['no store', { store: undefined }, 'store'],
    ['a store that is not one', { store: {} }, 'store'],
    ['a non-function passwordHasher', { passwordHasher: { hash: 'x' } }, 'passwordHasher'],
    ['a clock without nowSeconds', { clock: { now: () => 0 } }, 'clock'],
    ['a non-function sleep', { sleep: 100 }, 'sleep'],
    ['a non-function onBackgroundError', { onBackgroundError: true }, 'onBackgroundError'],
    // session
    ['session null', { session: null }, 'session'],
    ['an unknown session member', { session: { idleTimeout: 60 } }, 'session.idleTimeout'],
    ['idle 1 s', { session: { idleTimeoutSeconds: 1 } }, 'session.idleTimeoutSeconds'],
    ['idle as a string', { session: { idleTimeoutSeconds: '1800' } }, 'session.idleTimeoutSeconds'],
    ['absolute 0', { session: { absoluteTimeoutSeconds: 0 } }, 'session.absoluteTimeoutSeconds'],
    [
      'absolute over 400 days',
      { session: { absoluteTimeoutSeconds: 400 * 86_400 + 1 } },
      'session.absoluteTimeoutSeconds',
    ],
    ['renewal NaN', { session: { renewAfterSeconds: Number.NaN } }, 'session.renewAfterSeconds'],
    // cookie
    ['a cookie name with a space', { cookie: { name: 'a b' } }, 'cookie.name'],
    ['secure as a string', { cookie: { name: 'sid', secure: 'false' } }, 'cookie.secure'],
    ['sameSite none', { cookie: { sameSite: 'none' } }, 'cookie.sameSite'],
    ['a cookie domain', { cookie: { domain: 'example.com' } }, 'cookie.domain'],
    // tokens
    ['tokens without an issuer', { tokens: { audience: 'a' } }, 'tokens.issuer'],
    ['an unknown token member', { tokens: { ...TOKENS, accessTtl: 60 } }, 'tokens.accessTtl'],
    ['a 2-hour access token', { tokens: { ...TOKENS, accessTtlSeconds: 7200 } }, 'tokens.accessTtlSeconds'],
    ['leeway -1', { tokens: { ...TOKENS, leewaySeconds: -1 } }, 'tokens.leewaySeconds'],
    ['grace 61', { tokens: { ...TOKENS, refreshGraceSeconds: 61 } }, 'tokens.refreshGraceSeconds'],
    ['maxTokenLength 10', { tokens: { ...TOKENS, maxTokenLength: 10 } }, 'tokens.maxTokenLength'],
    [
      'activation delay 1.5',
      { tokens: { ...TOKENS, keyActivationDelaySeconds: 1.5 } },
      'tokens.keyActivationDelaySeconds',
    ],
    [
      'refresh idle > absolute',
      { tokens: { ...TOKENS, refreshIdleSeconds: 100, refreshAbsoluteSeconds: 50 } },
      'tokens.refreshIdleSeconds',
    ],
    [
      'refresh absolute null',
      { tokens: { ...TOKENS, refreshAbsoluteSeconds: null } },
      'tokens.refreshAbsoluteSeconds',
    ],
    ['an unknown signing member', { tokens: { ...TOKENS, signing: { alg: 'ES256' } } }, 'tokens.signing.alg'],
    ['alg none', { tokens: { ...TOKENS, signing: { algorithm: 'none' } } }, 'tokens.signing.algorithm'],
    [
      'HS256 without a secret',
      { tokens: { ...TOKENS, signing: { algorithm: 'HS256' } } },
      'tokens.signing.hmacSecret',
    ],
    [
      'HS256 with a short secret',
      { tokens: { ...TOKENS, signing: { algorithm: 'HS256', hmacSecret: Buffer.alloc(31) } } },
      'tokens.signing.hmacSecret',
    ],
    [
      'HS256 with a string secret',
      { tokens: { ...TOKENS, signing: { algorithm: 'HS256', hmacSecret: 'x'.repeat(64) } } },
      'tokens.signing.hmacSecret',
    ],
    [
      'a secret with ES256',
      { tokens: { ...TOKENS, signing: { hmacSecret: Buffer.alloc(32) } } },
      'tokens.signing.hmacSecret',
    ],
    // rateLimits: the two cases first
    [
      'a negative limit (throttling silently off)',
      { rateLimits: { loginFailuresPerAddress: { limit: -5, windowSeconds: 900 } } },
      'rateLimits.loginFailuresPerAddress.limit',
    ],
    [
      'a 0-second window (Retry-After: NaN)',
      { rateLimits: { signupsPerAddress: { limit: 5, windowSeconds: 0 } } },
      'rateLimits.signupsPerAddress.windowSeconds',
    ],
    ['rateLimits as an array', { rateLimits: [] }, 'rateLimits'],
    [
      'an unknown rule',
      { rateLimits: { loginFailuresPerIp: { limit: 5 } } },
      'rateLimits.loginFailuresPerIp',
    ],
    [
      'an unknown rule member',
      { rateLimits: { signupsPerAddress: { max: 5 } } },
      'rateLimits.signupsPerAddress.max',
    ],
    ['a rule as a number', { rateLimits: { signupsPerAddress: 5 } }, 'rateLimits.signupsPerAddress'],
    [
      'a per-account attempt cap over ASVS 100',
      { rateLimits: { loginAttemptsPerAccount: { limit: 101, windowSeconds: 3600 } } },
      'rateLimits.loginAttemptsPerAccount.limit',
    ],
    [
      'a pair limit over 100',
      { rateLimits: { loginFailuresPerAccountAndAddress: { limit: 1000, windowSeconds: 900 } } },
      'rateLimits.loginFailuresPerAccountAndAddress.limit',
    ],
    [
      'a fractional limit',
      { rateLimits: { signupsPerAddress: { limit: 2.5, windowSeconds: 60 } } },
      'rateLimits.signupsPerAddress.limit',
    ],
    [
      'a window over a day',
      { rateLimits: { signupsPerAddress: { limit: 5, windowSeconds: 86_401 } } },
      'rateLimits.signupsPerAddress.windowSeconds',
    ],
    [
      'a string window',
      { rateLimits: { signupsPerAddress: { limit: 5, windowSeconds: '60' } } },
      'rateLimits.signupsPerAddress.windowSeconds',
    ],
    [
      'a negative soft-delay step',
      { rateLimits: { softDelay: { afterFailures: 3, stepMs: -1, maxMs: 2000 } } },
      'rateLimits.softDelay.stepMs',
    ],
    [
      'an unknown soft-delay member',
      { rateLimits: { softDelay: { delayMs: 5 } } },
      'rateLimits.softDelay.delayMs',
    ],
    // sessionLimit
    ['a negative session limit', { sessionLimit: { max: -1, policy: 'deny' } }, 'sessionLimit.max'],
    ['a session limit over 1000', { sessionLimit: { max: 1001, policy: 'deny' } }, 'sessionLimit.max'],
    ['an unknown session-limit policy', { sessionLimit: { max: 1, policy: 'drop' } }, 'sessionLimit.policy'],
    ['a session limit as a number', { sessionLimit: 3 }, 'sessionLimit'],
  ])('refuses %s, naming %s', async (_case, options, option) => {
    expect((await refusal(options)).option).toBe(option)
  })

  it('refuses a missing options object', async () => {
    await expect(createAuth(undefined as unknown as AuthOptions)).rejects.toThrow(SesameOptionError)
  })

  it('never echoes a secret in its message', async () => {
    const error = await refusal({
      tokens: { ...TOKENS, signing: { algorithm: 'HS256', hmacSecret: 'super-secret-value' } },
    })
    expect(error.message).not.toContain('super-secret-value')
  })
})

describe('resolveRateLimitPolicy', () => {
  it('defaults to DEFAULT_RATE_LIMIT_POLICY, frozen', () => {
    const policy = resolveRateLimitPolicy()
    expect(policy).toEqual(DEFAULT_RATE_LIMIT_POLICY)
    expect(Object.isFrozen(policy)).toBe(true)
    expect(Object.isFrozen(policy.signupsPerAddress)).toBe(true)
  })

  it('keeps the default of what a rule leaves out, and 0 turns a rule off', () => {
    const policy = resolveRateLimitPolicy({ signupsPerAddress: { limit: 0 }, softDelay: { maxMs: 0 } })
    expect(policy.signupsPerAddress).toEqual({ limit: 0, windowSeconds: 3600 })
    expect(policy.softDelay).toEqual({ afterFailures: 3, stepMs: 250, maxMs: 0 })
  })
})
