import { describe, expect, it } from 'vitest'
import { generateRecoveryCodes, recoveryCodeLookupKey } from '../../src/core/recovery-codes.js'

describe('recovery codes', () => {
  it('makes ten distinct codes of sixteen base32 characters in groups of four', () => {
    const codes = generateRecoveryCodes()
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/)
  })

  it('looks a code up by the same key however it is typed: case, spaces, dashes', () => {
    const [code] = generateRecoveryCodes(1) as [string]
    const key = recoveryCodeLookupKey(code)
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(recoveryCodeLookupKey(code.toUpperCase())).toBe(key)
    expect(recoveryCodeLookupKey(code.replace(/-/g, ' '))).toBe(key)
    expect(recoveryCodeLookupKey(` ${code.replace(/-/g, '')} `)).toBe(key)
    expect(recoveryCodeLookupKey(generateRecoveryCodes(1)[0]!)).not.toBe(key)
  })

  it('looks nothing up for text that cannot be a code', () => {
    for (const text of [
      '',
      'abcd-efgh-ijkl-mno',
      'abcd-efgh-ijkl-mnop-q',
      'abcd-efgh-ijkl-mn0p',
      'ä'.repeat(16),
    ]) {
      expect(recoveryCodeLookupKey(text)).toBeNull()
    }
  })
})
