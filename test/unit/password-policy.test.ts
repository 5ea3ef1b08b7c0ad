import { describe, expect, it } from 'vitest'
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  checkNewPassword,
  normalizePassword,
  readPassword,
} from '../../src/core/password-policy.js'

const EMOJI = '\u{1F600}' // one code point, two UTF-16 units

const TOO_SHORT: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'invalid_request',
  message: 'The "password" field must be at least 8 characters.',
})
const TOO_LONG: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'invalid_request',
  message: 'The "password" field must be at most 256 characters.',
})
const NOT_A_STRING: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'invalid_request',
  message: 'The "password" field must be a string.',
})

describe('bounds', () => {
  it('are 8 and 256', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(8)
    expect(MAX_PASSWORD_LENGTH).toBe(256)
  })
})

describe('checkNewPassword', () => {
  it('accepts exactly 8 and exactly 256 characters', () => {
    expect(checkNewPassword('q7w-x9z!')).toBe('q7w-x9z!')
    expect(checkNewPassword('a'.repeat(256))).toBe('a'.repeat(256))
  })

  it('refuses 7 characters', () => {
    expect(() => checkNewPassword('a'.repeat(7))).toThrow(TOO_SHORT)
    expect(() => checkNewPassword('')).toThrow(TOO_SHORT)
  })

  it('refuses 257 characters', () => {
    expect(() => checkNewPassword('a'.repeat(257))).toThrow(TOO_LONG)
  })

  it('counts code points, not UTF-16 units', () => {
    expect(EMOJI).toHaveLength(2)
    // 4 emoji are 8 UTF-16 units but only 4 characters.
    expect(() => checkNewPassword(EMOJI.repeat(4))).toThrow(TOO_SHORT)
    expect(() => checkNewPassword(EMOJI.repeat(7))).toThrow(TOO_SHORT)
    expect(checkNewPassword(EMOJI.repeat(8))).toBe(EMOJI.repeat(8))
    // 256 emoji are 512 UTF-16 units.
    expect(checkNewPassword(EMOJI.repeat(256))).toBe(EMOJI.repeat(256))
    expect(() => checkNewPassword(EMOJI.repeat(257))).toThrow(TOO_LONG)
  })

  it('counts length after NFKC normalisation', () => {
    // U+FB03 (ﬃ) is one code point that NFKC expands to "ffi".
    expect(checkNewPassword('\uFB03'.repeat(3))).toBe('ffi'.repeat(3))
    // "e" + combining acute is two code points that NFKC composes to one "é".
    expect(() => checkNewPassword('e\u0301'.repeat(4))).toThrow(TOO_SHORT)
  })

  it('normalises fullwidth letters to ASCII', () => {
    expect(checkNewPassword('ｐａｓｓ－ｗｏｒｄ７')).toBe('pass-word7')
  })

  it('does not trim or alter spaces', () => {
    expect(checkNewPassword('  pass word  ')).toBe('  pass word  ')
  })

  it.each([[undefined], [null], [12345678], [['password']], [{}]])('refuses the non-string %j', (input) => {
    expect(() => checkNewPassword(input)).toThrow(NOT_A_STRING)
  })
})

describe('readPassword', () => {
  it('has no minimum', () => {
    expect(readPassword('')).toBe('')
    expect(readPassword('a')).toBe('a')
    expect(readPassword('a'.repeat(7))).toBe('a'.repeat(7))
  })

  it('applies the maximum in code points', () => {
    expect(readPassword('a'.repeat(256))).toBe('a'.repeat(256))
    expect(readPassword(EMOJI.repeat(256))).toBe(EMOJI.repeat(256))
    expect(() => readPassword('a'.repeat(257))).toThrow(TOO_LONG)
    expect(() => readPassword(EMOJI.repeat(257))).toThrow(TOO_LONG)
  })

  it('normalises the same way as checkNewPassword', () => {
    expect(readPassword('ｐａｓｓ')).toBe('pass')
    expect(readPassword('Ｐａｓｓ－ｗｏｒｄ１')).toBe(checkNewPassword('Pass-word1'))
  })

  it.each([[undefined], [null], [1], [true], [{}]])('refuses the non-string %j', (input) => {
    expect(() => readPassword(input)).toThrow(NOT_A_STRING)
  })
})

describe('normalizePassword', () => {
  it('applies NFKC', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password')
    expect(normalizePassword('e\u0301')).toBe('\u00e9')
    expect(normalizePassword('\u2460')).toBe('1') // circled digit one
  })

  it('leaves NFKC text unchanged', () => {
    expect(normalizePassword('correct horse battery staple')).toBe('correct horse battery staple')
  })

  describe('checkNewPassword refuses guessable passwords', () => {
    it.each(['password', 'PASSWORD', '12345678', 'iloveyou', 'Password1'])(
      'refuses the common password %j',
      (password) => {
        expect(() => checkNewPassword(password)).toThrow(
          expect.objectContaining({
            code: 'invalid_request',
            message: 'The "password" field is one of the most common passwords; choose another.',
          }),
        )
      },
    )

    it('refuses the email address and its local part, in any case', () => {
      const error = expect.objectContaining({
        code: 'invalid_request',
        message: 'The "password" field must not be the email address.',
      })
      expect(() => checkNewPassword('Ann.Lee@Example.com', { email: 'ann.lee@example.com' })).toThrow(error)
      expect(() => checkNewPassword('ANN.LEE.42', { email: 'ann.lee.42@example.com' })).toThrow(error)
      expect(checkNewPassword('ann.lee-not-quite', { email: 'ann.lee@example.com' })).toBe(
        'ann.lee-not-quite',
      )
    })
  })
})
