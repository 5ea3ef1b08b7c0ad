import { describe, expect, it } from 'vitest'
import { splitUtf8 } from '../../src/store/redis/records.js'

describe('splitUtf8', () => {
  const cases: Array<[string, string]> = [
    [
      'ASCII',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0',
    ],
    ['two-byte characters', 'é'.repeat(100)],
    ['three-byte characters', '日本語'.repeat(30)],
    ['surrogate pairs', `a${'😀'.repeat(40)}`],
    ['lone surrogates', '\ud800'.repeat(100)],
    ['exactly the limit', 'x'.repeat(64)],
    ['one over the limit', 'x'.repeat(65)],
  ]

  it.each(cases)('cuts %s into pieces of at most 64 bytes that join back to the text', (_name, text) => {
    const pieces = splitUtf8(text, 64)
    expect(pieces.join('')).toBe(text)
    let offset = 0
    for (const piece of pieces) {
      expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(64)
      expect(piece.length).toBeGreaterThan(0)
      offset += piece.length
      // A surrogate pair is never cut in two.
      const endsHigh = /[\ud800-\udbff]$/.test(piece)
      const nextLow = /^[\udc00-\udfff]/.test(text.slice(offset))
      expect(endsHigh && nextLow).toBe(false)
    }
    // Greedy: every piece but the last is full but for at most two characters (the next one did not fit, and
    // a high surrogate is held back for its pair).
    for (const piece of pieces.slice(0, -1)) expect(Buffer.byteLength(piece)).toBeGreaterThan(64 - 8)
  })

  it('keeps an empty text as one empty piece, distinct from no text', () => {
    expect(splitUtf8('', 64)).toEqual([''])
  })

  it('refuses a limit too small to hold every character, instead of looping', () => {
    expect(() => splitUtf8('😀', 3)).toThrow(RangeError)
    expect(() => splitUtf8('x', 0)).toThrow(RangeError)
    expect(() => splitUtf8('x', Number.NaN)).toThrow(RangeError)
  })
})
