import { describe, expect, it } from 'vitest'
import {
  formatTotpKey,
  generateTotpKey,
  matchTotpStep,
  parseTotpKey,
  totpCode,
  totpStep,
  totpUri,
} from '../../src/core/totp.js'

// RFC 6238 Appendix B's SHA-1 key ("12345678901234567890") and its 8-digit codes; an app shows the last six.
const RFC_KEY = new TextEncoder().encode('12345678901234567890')
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

describe('TOTP (RFC 6238)', () => {
  it.each(RFC_VECTORS)('computes the RFC 6238 code at %i s', (time, eightDigits) => {
    expect(totpCode(RFC_KEY, totpStep(time))).toBe(eightDigits.slice(2))
  })

  it('accepts the current step and one step either side, and says which step matched', () => {
    const key = generateTotpKey()
    const now = 1_800_000_015
    const step = totpStep(now)
    expect(matchTotpStep(key, totpCode(key, step), now)).toBe(step)
    expect(matchTotpStep(key, totpCode(key, step - 1), now)).toBe(step - 1)
    expect(matchTotpStep(key, totpCode(key, step + 1), now)).toBe(step + 1)
  })

  it('refuses a code two steps away, another key, and anything not six digits', () => {
    const key = generateTotpKey()
    const now = 1_800_000_015
    const step = totpStep(now)
    const twoAway = [totpCode(key, step - 2), totpCode(key, step + 2)]
    const window = [step - 1, step, step + 1].map((s) => totpCode(key, s))
    for (const code of twoAway) if (!window.includes(code)) expect(matchTotpStep(key, code, now)).toBeNull()
    expect(matchTotpStep(generateTotpKey(), totpCode(key, step), now)).toBeNull()
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345a', '１２３４５６']) {
      expect(matchTotpStep(key, bad, now)).toBeNull()
    }
  })

  it('takes a code typed with a space in the middle', () => {
    const key = generateTotpKey()
    const code = totpCode(key, totpStep(1_800_000_000))
    expect(matchTotpStep(key, `${code.slice(0, 3)} ${code.slice(3)}`, 1_800_000_000)).not.toBeNull()
  })

  it('writes the key as base32 in groups of four, which reads back', () => {
    const key = generateTotpKey()
    const text = formatTotpKey(key)
    expect(text).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/)
    expect(parseTotpKey(text.toLowerCase())).toEqual(key)
    expect(parseTotpKey('AAAA')).toBeNull()
    expect(parseTotpKey('not base32!')).toBeNull()
  })

  it('makes the otpauth URI authenticator apps scan', () => {
    const key = RFC_KEY
    const uri = new URL(totpUri('Sesame Example', 'ana@example.com', key))
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(decodeURIComponent(uri.pathname)).toBe('/Sesame Example:ana@example.com')
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'Sesame Example',
      algorithm: 'SHA1',
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      period: '30',
      digits: '6',
    })
  })
})
