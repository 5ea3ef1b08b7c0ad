import { describe, expect, it } from 'vitest'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../../src/core/random.js'

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** A token with one spelling: decoding and re-encoding gives it back (an oracle independent of the regex). */
function isCanonical(value: string): boolean {
  return Buffer.from(value, 'base64url').toString('base64url') === value
}

describe('generateSecretToken', () => {
  it('is 43 base64url characters that encode 32 bytes and match isSecretTokenShape', () => {
    const token = generateSecretToken()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect(isCanonical(token)).toBe(true)
    expect(isSecretTokenShape(token)).toBe(true)
  })

  it('gives 1000 distinct tokens, each of the right shape', () => {
    const tokens = Array.from({ length: 1000 }, generateSecretToken)
    expect(new Set(tokens).size).toBe(1000)
    expect(tokens.filter((token) => !isSecretTokenShape(token))).toEqual([])
  })
})

describe('generatePublicId', () => {
  it('is 22 base64url characters that encode 16 bytes', () => {
    const id = generatePublicId()
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(Buffer.from(id, 'base64url')).toHaveLength(16)
    expect(isCanonical(id)).toBe(true)
  })

  it('gives 1000 distinct ids', () => {
    expect(new Set(Array.from({ length: 1000 }, generatePublicId)).size).toBe(1000)
  })

  it('is not a secret token shape', () => {
    expect(isSecretTokenShape(generatePublicId())).toBe(false)
  })
})

describe('isSecretTokenShape', () => {
  const valid = 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0' // SHA-256("abc"), a canonical 32-byte value

  it('accepts a canonical 43-character value', () => {
    expect(isSecretTokenShape(valid)).toBe(true)
    expect(isSecretTokenShape('A'.repeat(43))).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['42 characters', valid.slice(0, 42)],
    ['44 characters', `${valid}A`],
    ['with a padding "="', `${valid}=`],
    ['padding in place of the last character', `${valid.slice(0, 42)}=`],
    ['standard base64 "+"', `+${valid.slice(1)}`],
    ['standard base64 "/"', `/${valid.slice(1)}`],
    ['a dot', `.${valid.slice(1)}`],
    ['a space', ` ${valid.slice(1)}`],
    ['a trailing newline', `${valid}\n`],
    ['a non-ASCII letter', `é${valid.slice(1)}`],
  ])('rejects a value %s', (_label, value) => {
    expect(isSecretTokenShape(value)).toBe(false)
  })

  it('rejects a non-canonical last character such as "B"', () => {
    const nonCanonical = `${valid.slice(0, 42)}B`
    expect(isCanonical(nonCanonical)).toBe(false)
    expect(isSecretTokenShape(nonCanonical)).toBe(false)
  })

  it('accepts exactly the 16 last characters that carry no stray bits', () => {
    const accepted = [...BASE64URL].filter((last) => isSecretTokenShape(`${valid.slice(0, 42)}${last}`))
    expect(accepted).toHaveLength(16)
    for (const last of BASE64URL) {
      const candidate = `${valid.slice(0, 42)}${last}`
      expect(isSecretTokenShape(candidate), candidate).toBe(isCanonical(candidate))
    }
  })
})

describe('the pooled draws behind both', () => {
  it('stay distinct and unbiased across many pool refills with mixed sizes', () => {
    // 3000 draws of 16 and 32 bytes cross the 4 KiB pool's refill point at ever-changing offsets.
    const draws = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? generatePublicId() : generateSecretToken(),
    )
    expect(new Set(draws).size).toBe(draws.length)
    const bytes = Buffer.concat(draws.map((draw) => Buffer.from(draw, 'base64url')))
    const counts = new Array<number>(256).fill(0)
    for (const byte of bytes) counts[byte]!++
    // ~80 KB: each byte value expected ~312 times; a zeroed or repeated pool would skew this at once.
    const expected = bytes.length / 256
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.6)
    expect(Math.max(...counts)).toBeLessThan(expected * 1.4)
  })
})
