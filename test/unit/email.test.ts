import { describe, expect, it } from 'vitest'
import { normalizeEmail } from '../../src/core/email.js'

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
  ])('refuses %s', (_label, input) => {
    expect(() => normalizeEmail(input)).toThrow(INVALID)
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
