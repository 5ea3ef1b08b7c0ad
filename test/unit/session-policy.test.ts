import { describe, expect, it } from 'vitest'
import { SesameOptionError } from '../../src/core/errors.js'
import {
  SESSION_POLICY_DEFAULTS,
  SESSION_POLICY_RANGES,
  resolveSessionPolicy,
} from '../../src/core/session-policy.js'

const DAY = 86_400

function invalidNumber(key: keyof typeof SESSION_POLICY_RANGES): unknown {
  const { min, max } = SESSION_POLICY_RANGES[key]
  return new SesameOptionError(
    `session.${key}`,
    `Session option "${key}" must be a whole number of seconds from ${min} to ${max}.`,
  )
}

describe('resolveSessionPolicy', () => {
  it('defaults to 30 minutes idle, 12 hours absolute, renewal after 60 s, frozen', () => {
    const policy = resolveSessionPolicy()
    expect(policy).toEqual({
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43_200,
      renewAfterSeconds: 60,
    })
    expect(Object.isFrozen(policy)).toBe(true)
    expect(resolveSessionPolicy({})).toEqual(policy)
  })

  it('defaults renewal to half the idle timeout when that is under 60 s', () => {
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 100 }).renewAfterSeconds).toBe(50)
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 121 }).renewAfterSeconds).toBe(60)
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 119 }).renewAfterSeconds).toBe(59)
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 3 }).renewAfterSeconds).toBe(1)
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 2 }).renewAfterSeconds).toBe(1)
  })

  it('keeps explicit valid values', () => {
    expect(
      resolveSessionPolicy({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600, renewAfterSeconds: 599 }),
    ).toEqual({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600, renewAfterSeconds: 599 })
  })

  it('allows idle equal to absolute', () => {
    expect(resolveSessionPolicy({ idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 3600 })).toMatchObject({
      idleTimeoutSeconds: 3600,
      absoluteTimeoutSeconds: 3600,
    })
  })

  it('allows an absolute timeout of exactly 400 days and refuses one second more', () => {
    expect(resolveSessionPolicy({ absoluteTimeoutSeconds: 400 * DAY }).absoluteTimeoutSeconds).toBe(400 * DAY)
    expect(() => resolveSessionPolicy({ absoluteTimeoutSeconds: 400 * DAY + 1 })).toThrow(
      invalidNumber('absoluteTimeoutSeconds'),
    )
  })

  const badNumbers: Array<[unknown]> = [
    [0],
    [-1],
    [1.5],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [2 ** 53],
    ['1800'],
  ]

  it.each(badNumbers)('refuses idleTimeoutSeconds %j', (value) => {
    expect(() => resolveSessionPolicy({ idleTimeoutSeconds: value as number })).toThrow(
      invalidNumber('idleTimeoutSeconds'),
    )
  })

  it.each(badNumbers)('refuses absoluteTimeoutSeconds %j', (value) => {
    expect(() => resolveSessionPolicy({ absoluteTimeoutSeconds: value as number })).toThrow(
      invalidNumber('absoluteTimeoutSeconds'),
    )
  })

  it.each(badNumbers)('refuses renewAfterSeconds %j', (value) => {
    expect(() => resolveSessionPolicy({ renewAfterSeconds: value as number })).toThrow(
      invalidNumber('renewAfterSeconds'),
    )
  })

  it('refuses an idle timeout longer than the absolute one', () => {
    expect(() => resolveSessionPolicy({ idleTimeoutSeconds: 3601, absoluteTimeoutSeconds: 3600 })).toThrow(
      expect.objectContaining({
        name: 'SesameOptionError',
        message: 'Session option "idleTimeoutSeconds" must not exceed "absoluteTimeoutSeconds".',
      }),
    )
    // The default absolute timeout (12 h) bounds a custom idle timeout too.
    expect(() => resolveSessionPolicy({ idleTimeoutSeconds: 43_201 })).toThrow(
      expect.objectContaining({
        name: 'SesameOptionError',
        message: 'Session option "idleTimeoutSeconds" must not exceed "absoluteTimeoutSeconds".',
      }),
    )
  })

  it.each([[1800], [1801], [100_000]])(
    'refuses renewAfterSeconds %j with the default 1800 s idle',
    (value) => {
      expect(() => resolveSessionPolicy({ renewAfterSeconds: value })).toThrow(
        expect.objectContaining({
          name: 'SesameOptionError',
          message: 'Session option "renewAfterSeconds" must be less than "idleTimeoutSeconds".',
        }),
      )
    },
  )

  it('accepts renewAfterSeconds one below the idle timeout', () => {
    expect(resolveSessionPolicy({ renewAfterSeconds: 1799 }).renewAfterSeconds).toBe(1799)
  })

  it('refuses a 1-second idle timeout, which leaves no room for renewal', () => {
    expect(() => resolveSessionPolicy({ idleTimeoutSeconds: 1 })).toThrow(invalidNumber('idleTimeoutSeconds'))
  })

  it('throws a TypeError with a stable code and the option path, and refuses unknown members', () => {
    let thrown: unknown
    try {
      resolveSessionPolicy({ idleTimeout: 60 } as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect(thrown).toMatchObject({ code: 'invalid_option', option: 'session.idleTimeout' })
    expect(() => resolveSessionPolicy(null as never)).toThrow(
      new SesameOptionError('session', 'Option "session" must be an object.'),
    )
  })

  it('exports the defaults it applies', () => {
    expect(resolveSessionPolicy()).toMatchObject(SESSION_POLICY_DEFAULTS)
  })
})
