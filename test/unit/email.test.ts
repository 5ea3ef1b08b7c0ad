import { describe, expect, it } from 'vitest'
import { emailKey, normalizeEmail } from '../../src/core/email.js'

const INVALID: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'invalid_request',
  message: 'The "email" field is not a valid email address.',
})

describe('normalizeEmail', () => {
  it('returns a plain address unchanged', () => {
    expect(normalizeEmail('ann@example.com')).toBe('ann@example.com')
  })

  it('trims surrounding whitespace', () => {
    expect(normalizeEmail('  ann@example.com\t\n')).toBe('ann@example.com')
  })

  it('lower-cases local part and domain', () => {
    expect(normalizeEmail('Ann.Lee@Example.COM')).toBe('ann.lee@example.com')
  })

  it('composes to NFC so two spellings of one address are one account', () => {
    const decomposed = 'Jose\u0301@example.com'
    const composed = 'jos\u00e9@example.com'
    expect(decomposed).not.toBe(composed)
    expect(normalizeEmail(decomposed)).toBe(composed)
    expect(normalizeEmail(composed)).toBe(composed)
  })

  it('accepts plus tags, subdomains and non-ASCII domains', () => {
    expect(normalizeEmail('a+tag@mail.example.co.uk')).toBe('a+tag@mail.example.co.uk')
    expect(normalizeEmail('ann@bücher.example')).toBe('ann@bücher.example')
  })

  it('accepts a local part of exactly 64 characters and refuses 65', () => {
    const ok = `${'a'.repeat(64)}@example.com`
    expect(normalizeEmail(ok)).toBe(ok)
    expect(() => normalizeEmail(`${'a'.repeat(65)}@example.com`)).toThrow(INVALID)
  })

  it('accepts exactly 254 characters and refuses 255', () => {
    const domainOf = (length: number) => `${'d'.repeat(length - 4)}.com`
    const at254 = `${'a'.repeat(64)}@${domainOf(254 - 65)}`
    expect(at254).toHaveLength(254)
    expect(normalizeEmail(at254)).toBe(at254)
    const at255 = `${'a'.repeat(64)}@${domainOf(255 - 65)}`
    expect(at255).toHaveLength(255)
    expect(() => normalizeEmail(at255)).toThrow(INVALID)
  })

  it('measures length after trimming', () => {
    const at254 = `${'a'.repeat(64)}@${'d'.repeat(185)}.com`
    expect(normalizeEmail(`   ${at254}   `)).toBe(at254)
  })

  it.each([
    ['an empty string', ''],
    ['only whitespace', '   '],
    ['no @', 'ann.example.com'],
    ['two @', 'ann@bob@example.com'],
    ['an empty local part', '@example.com'],
    ['an empty domain', 'ann@'],
    ['no dot in the domain', 'ann@localhost'],
    ['a trailing dot in the domain', 'ann@example.com.'],
    ['a leading dot in the domain', 'ann@.example.com'],
    ['an empty domain label', 'ann@example..com'],
    ['a space in the local part', 'ann lee@example.com'],
    ['a space in the domain', 'ann@exa mple.com'],
    ['a tab inside', 'ann\t@example.com'],
    ['a no-break space inside', 'ann\u00a0lee@example.com'],
    ['a NUL', 'ann\u0000@example.com'],
    ['a DEL', 'ann\u007f@example.com'],
    ['a C1 control character', 'ann\u0085x@example.com'],
    ['an escape character', 'ann@exam\u001bple.com'],
    ['a byte order mark inside (a format character JavaScript counts as a space)', 'ann@ex\ufeffample.com'],
  ])('refuses %s', (_label, input) => {
    expect(() => normalizeEmail(input)).toThrow(INVALID)
  })

  it.each([
    ['a zero-width space (Cf)', 'vic\u200btim@example.com'],
    ['a zero-width joiner (Cf)', 'ann\u200d@example.com'],
    ['a soft hyphen (Cf)', 'ann\u00adlee@example.com'],
    ['a right-to-left override (Cf)', 'ann@exa\u202emple.com'],
    ['a word joiner (Cf)', 'ann\u2060@example.com'],
    ['a tag character (Cf)', 'ann\u{e0041}@example.com'],
    ['a Hangul filler (invisible letter)', 'ann\u3164@example.com'],
    ['a variation selector', 'ann\ufe0f@example.com'],
    ['a private-use character (Co)', 'ann\ue000@example.com'],
    ['an unassigned code point (Cn)', 'ann\u0378@example.com'],
    ['a noncharacter (Cn)', 'ann\uffff@example.com'],
    ['a lone surrogate (Cs)', 'ann\ud800@example.com'],
  ])('refuses %s, naming the field', (_label, input) => {
    expect(() => normalizeEmail(input)).toThrow(
      expect.objectContaining({
        name: 'AuthError',
        code: 'invalid_request',
        message: 'The "email" field contains an invisible, private-use or unassigned character.',
      }),
    )
  })

  it('accepts visible non-ASCII letters, marks and symbols', () => {
    for (const email of [
      'jürgen@example.de',
      'δοκιμή@παράδειγμα.ελ',
      '用户@例子.广告',
      'ann+✓@example.com',
    ]) {
      expect(normalizeEmail(email)).toBe(email)
    }
  })

  it.each([[undefined], [null], [42], [{}], [['ann@example.com']]])('refuses the non-string %j', (input) => {
    expect(() => normalizeEmail(input)).toThrow(
      expect.objectContaining({
        name: 'AuthError',
        code: 'invalid_request',
        message: 'The "email" field must be a string.',
      }),
    )
  })
})

describe('emailKey', () => {
  const key = (email: string) => emailKey(normalizeEmail(email))

  it('is the normalised email itself for a plain ASCII address', () => {
    expect(key('Ann.Lee@Example.com')).toBe('ann.lee@example.com')
  })

  it('folds fullwidth letters into their plain ones (NFKC)', () => {
    expect(key('\uff56ictim@example.com')).toBe('victim@example.com')
    expect(key('\uff36\uff29\uff23\uff34\uff29\uff2d@example.com')).toBe('victim@example.com')
  })

  it('folds ligatures and other compatibility forms', () => {
    expect(key('\ufb01nance@example.com')).toBe('finance@example.com') // ﬁ
    expect(key('\ufb00@example.com')).toBe('ff@example.com') // ﬀ
    expect(key('\u2168@example.com')).toBe('ix@example.com') // Ⅸ, roman numeral nine
    expect(key('\u210cello@example.com')).toBe('hello@example.com') // ℌ
    expect(key('\u212aelvin@example.com')).toBe('kelvin@example.com') // K, Kelvin sign
    expect(key('a\u00b2@example.com')).toBe('a2@example.com') // superscript two
  })

  it('folds German ß and capital ẞ to ss, as full case folding does (STRASSE is straße upper-cased)', () => {
    expect(key('stra\u00dfe@example.de')).toBe('strasse@example.de')
    expect(key('STRA\u1e9eE@example.de')).toBe('strasse@example.de')
    expect(key('STRASSE@example.de')).toBe('strasse@example.de')
  })

  it('folds Greek final sigma and the iota subscript', () => {
    expect(key('\u03bf\u03b4\u03bf\u03c2@example.gr')).toBe(key('\u039f\u0394\u039f\u03a3@example.gr'))
    expect(key('\u03bf\u03b4\u03bf\u03c3@example.gr')).toBe(key('\u03bf\u03b4\u03bf\u03c2@example.gr'))
    expect(key('\u1fb3@example.gr')).toBe('\u03b1\u03b9@example.gr') // ᾳ
  })

  it('keeps Turkish dotless ı a letter of its own, and dotted İ apart from i (no locale tailoring)', () => {
    expect(key('k\u0131r@example.com')).toBe('k\u0131r@example.com')
    expect(key('k\u0131r@example.com')).not.toBe(key('kir@example.com'))
    expect(key('KIR@example.com')).toBe('kir@example.com')
    expect(key('\u0130stanbul@example.com')).toBe('i\u0307stanbul@example.com')
    expect(key('\u0130stanbul@example.com')).not.toBe(key('istanbul@example.com'))
  })

  it('removes invisible characters, so a stored or typed U+200B changes nothing', () => {
    expect(emailKey('vic\u200btim@example.com')).toBe('victim@example.com')
    expect(emailKey('ann\u00ad\u2060\ufeff@exa\u202emple.com')).toBe('ann@example.com')
    expect(emailKey('e\u200b\u0301@example.com')).toBe('\u00e9@example.com') // recomposed once the ZWSP is gone
  })

  it('leaves cross-script look-alikes apart (confusables are not case or compatibility forms)', () => {
    expect(key('\u0430nn@example.com')).not.toBe(key('ann@example.com')) // Cyrillic а
  })

  it('is idempotent, and one key for a code point and its upper and lower case, for every assigned code point', () => {
    const unassignedOrPrivate = /[\p{Cn}\p{Co}\p{Cs}]/u
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const c = String.fromCodePoint(cp)
      if (unassignedOrPrivate.test(c)) continue
      const k = emailKey(c)
      if (emailKey(k) !== k) throw new Error(`key of U+${cp.toString(16)} is not stable`)
      if (emailKey(c.toUpperCase()) !== k || emailKey(c.toLowerCase()) !== k) {
        if (cp === 0x131) continue // dotless ı upper-cases to I, but folds to itself
        throw new Error(`U+${cp.toString(16)} and its case forms have different keys`)
      }
    }
  })
})
