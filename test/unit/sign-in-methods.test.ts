import { describe, expect, it } from 'vitest'
import {
  checkMethodList,
  methodListText,
  parseMethodListText,
  sharedMethodList,
} from '../../src/core/sign-in-methods.js'

describe('sign-in method lists', () => {
  it.each([[[]], [['pwd']], [['pwd', 'otp', 'mfa']], [['hwk', 'mfa']], [['urn_x-1']]])(
    'stores %j as one text that reads back exactly',
    (amr) => {
      expect(parseMethodListText(methodListText(amr))).toEqual(amr)
    },
  )

  it('reads a record from before methods (no text, or empty) as none', () => {
    expect(parseMethodListText(undefined)).toEqual([])
    expect(parseMethodListText(null)).toEqual([])
    expect(parseMethodListText('')).toEqual([])
  })

  it.each([[['']], [['p w d']], [['pwd|x']], [['a'.repeat(33)]], [['pwd', 'ünï']]])(
    'refuses %j, which would not read back (a TypeError: the caller’s mistake)',
    (amr) => {
      expect(() => checkMethodList(amr)).toThrow(TypeError)
      expect(() => methodListText(amr)).toThrow(TypeError)
    },
  )

  it('shares one frozen array per distinct list', () => {
    const a = sharedMethodList(['pwd', 'otp'])
    expect(sharedMethodList(['pwd', 'otp'])).toBe(a)
    expect(sharedMethodList(['pwd'])).not.toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
  })
})
