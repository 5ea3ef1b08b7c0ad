import { describe, expect, it } from 'vitest'
import { SesameOptionError } from '../../src/core/errors.js'
import {
  type TokenPolicy,
  type TokenPolicyInput,
  TOKEN_POLICY_DEFAULTS,
  TOKEN_POLICY_RANGES,
  jwksMaxAgeSeconds,
  resolveTokenPolicy,
} from '../../src/core/token-policy.js'

const REQUIRED = { issuer: 'https://auth.example', audience: 'https://api.example' }
const DAY = 86_400

/** The policy from `overrides` on top of the required options. */
function resolve(overrides: Partial<Record<keyof TokenPolicy, unknown>>): Readonly<TokenPolicy> {
  return resolveTokenPolicy({ ...REQUIRED, ...overrides } as TokenPolicyInput)
}

function boundMessage(key: string, min: number, max: number): string {
  return `Token option "${key}" must be a whole number from ${min} to ${max}.`
}

describe('resolveTokenPolicy', () => {
  it('fills the documented defaults around the required issuer and audience', () => {
    expect(resolveTokenPolicy(REQUIRED)).toEqual({
      issuer: 'https://auth.example',
      audience: 'https://api.example',
      accessTtlSeconds: 900,
      leewaySeconds: 30,
      refreshIdleSeconds: 14 * DAY,
      refreshAbsoluteSeconds: 30 * DAY,
      refreshGraceSeconds: 10,
      maxTokenLength: 4096,
      keyActivationDelaySeconds: 360,
    })
  })

  it('keeps explicit values', () => {
    const policy = resolve({
      accessTtlSeconds: 300,
      leewaySeconds: 5,
      refreshIdleSeconds: DAY,
      refreshAbsoluteSeconds: 7 * DAY,
      refreshGraceSeconds: 3,
      maxTokenLength: 2048,
      keyActivationDelaySeconds: 0,
    })
    expect(policy).toEqual({
      ...REQUIRED,
      accessTtlSeconds: 300,
      leewaySeconds: 5,
      refreshIdleSeconds: DAY,
      refreshAbsoluteSeconds: 7 * DAY,
      refreshGraceSeconds: 3,
      maxTokenLength: 2048,
      keyActivationDelaySeconds: 0,
    })
  })

  it('returns a frozen policy', () => {
    const policy = resolveTokenPolicy(REQUIRED)
    expect(Object.isFrozen(policy)).toBe(true)
    expect(() => {
      ;(policy as TokenPolicy).accessTtlSeconds = 1
    }).toThrow(TypeError)
    expect(policy.accessTtlSeconds).toBe(900)
  })

  describe('issuer and audience', () => {
    for (const key of ['issuer', 'audience'] as const) {
      const message = `Token option "${key}" is required and must be a non-empty string.`

      it(`refuses a missing ${key}`, () => {
        const input: Record<string, unknown> = { ...REQUIRED }
        delete input[key]
        expect(() => resolveTokenPolicy(input as TokenPolicyInput)).toThrow(
          new SesameOptionError(`tokens.${key}`, message),
        )
      })

      it(`refuses an empty ${key}`, () => {
        expect(() => resolve({ [key]: '' })).toThrow(new SesameOptionError(`tokens.${key}`, message))
      })

      it(`refuses a non-string ${key}`, () => {
        expect(() => resolve({ [key]: 42 })).toThrow(new SesameOptionError(`tokens.${key}`, message))
        expect(() => resolve({ [key]: null })).toThrow(new SesameOptionError(`tokens.${key}`, message))
        expect(() => resolve({ [key]: ['https://a.example'] })).toThrow(
          new SesameOptionError(`tokens.${key}`, message),
        )
      })
    }

    it('checks issuer before audience', () => {
      expect(() => resolveTokenPolicy({} as TokenPolicyInput)).toThrow(
        new SesameOptionError(
          'tokens.issuer',
          'Token option "issuer" is required and must be a non-empty string.',
        ),
      )
    })
  })

  describe('numeric bounds (inclusive)', () => {
    // Each option with its bounds, plus whatever other options a value at the bound needs to stay consistent
    // (refreshIdleSeconds must not exceed refreshAbsoluteSeconds).
    const cases: Array<{
      key: keyof TokenPolicy
      min: number
      max: number
      atMin?: Partial<TokenPolicy>
      atMax?: Partial<TokenPolicy>
    }> = [
      { key: 'accessTtlSeconds', min: 1, max: 3600 },
      { key: 'leewaySeconds', min: 0, max: 60 },
      {
        key: 'refreshIdleSeconds',
        min: 1,
        max: 400 * DAY,
        atMax: { refreshAbsoluteSeconds: 400 * DAY },
      },
      {
        key: 'refreshAbsoluteSeconds',
        min: 1,
        max: 400 * DAY,
        atMin: { refreshIdleSeconds: 1 },
      },
      { key: 'refreshGraceSeconds', min: 0, max: 60 },
      { key: 'maxTokenLength', min: 256, max: 65_536 },
      { key: 'keyActivationDelaySeconds', min: 0, max: 86_400 },
    ]

    for (const { key, min, max, atMin = {}, atMax = {} } of cases) {
      const message = boundMessage(key, min, max)

      describe(key, () => {
        it(`accepts the minimum ${min} and the maximum ${max}`, () => {
          expect(resolve({ ...atMin, [key]: min })[key]).toBe(min)
          expect(resolve({ ...atMax, [key]: max })[key]).toBe(max)
        })

        it(`refuses ${min - 1} and ${max + 1}`, () => {
          expect(() => resolve({ ...atMin, [key]: min - 1 })).toThrow(
            new SesameOptionError(`tokens.${key}`, message),
          )
          expect(() => resolve({ ...atMax, [key]: max + 1 })).toThrow(
            new SesameOptionError(`tokens.${key}`, message),
          )
        })

        it('refuses non-integers and non-numbers', () => {
          for (const bad of [min + 0.5, Number.NaN, Infinity, -Infinity, String(min), true]) {
            expect(() => resolve({ ...atMin, ...atMax, [key]: bad })).toThrow(
              new SesameOptionError(`tokens.${key}`, message),
            )
          }
        })
      })
    }
  })

  describe('refresh idle against absolute', () => {
    it('accepts an idle timeout equal to the absolute one', () => {
      const policy = resolve({ refreshIdleSeconds: 3600, refreshAbsoluteSeconds: 3600 })
      expect(policy.refreshIdleSeconds).toBe(3600)
      expect(policy.refreshAbsoluteSeconds).toBe(3600)
    })

    it('refuses an idle timeout longer than the absolute one', () => {
      const message = 'Token option "refreshIdleSeconds" must not exceed "refreshAbsoluteSeconds".'
      const error = new SesameOptionError('tokens.refreshIdleSeconds', message)
      expect(() => resolve({ refreshIdleSeconds: 3601, refreshAbsoluteSeconds: 3600 })).toThrow(error)
      // Against the default absolute timeout (30 days).
      expect(() => resolve({ refreshIdleSeconds: 30 * DAY + 1 })).toThrow(error)
      // And a shortened absolute timeout under the default idle timeout (14 days).
      expect(() => resolve({ refreshAbsoluteSeconds: 14 * DAY - 1 })).toThrow(error)
    })
  })

  describe('jwksMaxAgeSeconds', () => {
    it('is 300 s by default, so a staged rotation outlasts every cached JWKS by the 60 s margin', () => {
      expect(jwksMaxAgeSeconds(resolveTokenPolicy(REQUIRED))).toBe(300)
    })

    it('shrinks with a shorter activation delay, down to 0 (no caching) within the margin', () => {
      expect(jwksMaxAgeSeconds({ keyActivationDelaySeconds: 3600 })).toBe(300)
      expect(jwksMaxAgeSeconds({ keyActivationDelaySeconds: 120 })).toBe(60)
      expect(jwksMaxAgeSeconds({ keyActivationDelaySeconds: 60 })).toBe(0)
      expect(jwksMaxAgeSeconds({ keyActivationDelaySeconds: 0 })).toBe(0)
    })
  })

  describe('defaults and ranges as data', () => {
    it('are what resolveTokenPolicy applies', () => {
      expect(resolveTokenPolicy(REQUIRED)).toEqual({ ...REQUIRED, ...TOKEN_POLICY_DEFAULTS })
      for (const [key, range] of Object.entries(TOKEN_POLICY_RANGES)) {
        expect(() => resolve({ [key]: range.min - 1 })).toThrow(SesameOptionError)
      }
    })

    it('throw a TypeError with a stable code and the option path', () => {
      let thrown: unknown
      try {
        resolve({ accessTtlSeconds: 0 })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(TypeError)
      expect(thrown).toMatchObject({ code: 'invalid_option', option: 'tokens.accessTtlSeconds' })
    })
  })
})
