/**
 * Property-based tests for the request validators: for any value at all (what a JSON or form body can carry,
 * and more), each either returns a string it promises or throws `AuthError('invalid_request')`. Nothing else.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeEmail } from '../../src/core/email.js'
import { AuthError } from '../../src/core/errors.js'
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  checkNewPassword,
  readPassword,
} from '../../src/core/password-policy.js'
import { readRequiredStringFields, readStringFields } from '../../src/http/request-fields.js'

const NUM_RUNS = 1000

/** Returns what `validate` returns, or null when it throws invalid_request; rethrows anything else. */
function validated<T>(validate: () => T): T | null {
  try {
    return validate()
  } catch (error) {
    if (error instanceof AuthError && error.code === 'invalid_request') return null
    throw error
  }
}

/** Any value, weighted towards strings, which is what the validators mostly see. */
const anyInput = fc.oneof(
  fc.anything({
    withNullPrototype: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withBigInt: true,
  }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.emailAddress(),
  fc
    .tuple(fc.string({ unit: 'binary', maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 70 }))
    .map(([local, domain]) => `${local}@${domain}`),
  // Long and NFKC-expanding text around the length limits (U+FDFA expands to 18 code points).
  fc
    .tuple(
      fc.constantFrom('a', '\uFDFA', 'é', 'e\u0301', '\u{1F600}', '\uD800'),
      fc.integer({ min: 0, max: 1200 }),
    )
    .map(([c, n]) => c.repeat(n)),
)

describe('normalizeEmail (property)', () => {
  it('returns a canonical address or throws invalid_request, for any input', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const email = validated(() => normalizeEmail(input))
        if (email === null) return
        expect(typeof input).toBe('string')
        expect(email.length).toBeLessThanOrEqual(254)
        expect(email).toBe(email.trim())
        expect(email).toBe(email.toLowerCase())
        expect(email.split('@')).toHaveLength(2)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  // Regression: NFC once ran before lower-casing, which can create a sequence NFC composes, so
  // normalizeEmail('T\u0308@a.aa') was 't\u0308@a.aa' but normalizing that again gave '\u1e97@a.aa': two
  // accounts for one address. Lower-casing first makes the canonical form stable.
  it('is idempotent: the canonical form of a canonical address is itself', () => {
    const caseAndMarks = fc.string({
      unit: fc.constantFrom(
        'T',
        '\u0308',
        't',
        'J',
        '\u030C',
        'j',
        '\u0386',
        '\u0345',
        'A',
        'a',
        '\u0301',
        'İ',
      ),
      minLength: 1,
      maxLength: 6,
    })
    fc.assert(
      fc.property(
        fc.oneof(
          anyInput,
          caseAndMarks.map((local) => `${local}@a.aa`),
        ),
        (input) => {
          const email = validated(() => normalizeEmail(input))
          if (email !== null) expect(normalizeEmail(email)).toBe(email)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('readPassword and checkNewPassword (property)', () => {
  it('return a password within the limits or throw invalid_request, for any input', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const atLogin = validated(() => readPassword(input))
        const atSignUp = validated(() => checkNewPassword(input))
        if (atLogin !== null) {
          expect(typeof input).toBe('string')
          expect([...atLogin].length).toBeLessThanOrEqual(MAX_PASSWORD_LENGTH)
          expect(atLogin).toBe(atLogin.normalize('NFKC'))
        }
        if (atSignUp !== null) {
          expect(atSignUp).toBe(atLogin)
          expect([...atSignUp].length).toBeGreaterThanOrEqual(MIN_PASSWORD_LENGTH)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('readStringFields and readRequiredStringFields (property)', () => {
  const NAMES = ['email', 'password', 'grant_type', 'token'] as const
  const fieldValue = fc.oneof(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 }))
  const body = fc.oneof(
    anyInput,
    fc.record(
      { email: fieldValue, password: fieldValue, grant_type: fieldValue, token: fieldValue },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.constantFrom(...NAMES, '__proto__', 'constructor', 'x'), fieldValue, { maxKeys: 5 }),
  )

  it('return only strings or undefined, or throw invalid_request, for any body', () => {
    fc.assert(
      fc.property(body, (input) => {
        const fields = validated(() => readStringFields(input, NAMES))
        const required = validated(() => readRequiredStringFields(input, NAMES))
        if (fields !== null) {
          expect(Object.keys(fields).sort()).toEqual([...NAMES].sort())
          for (const name of NAMES) expect(['string', 'undefined']).toContain(typeof fields[name])
          // Only own members count: nothing is read through the prototype chain.
          for (const name of NAMES) {
            if (fields[name] !== undefined) expect(Object.hasOwn(input as object, name)).toBe(true)
          }
        }
        if (required !== null) {
          expect(required).toEqual(fields)
          for (const name of NAMES) expect(typeof required[name]).toBe('string')
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
