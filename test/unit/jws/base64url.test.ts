import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeBase64url, encodeBase64url, isCanonicalBase64url } from '../../../src/core/jws/base64url.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The definition: a string is canonical when it is exactly what encoding its own decoding gives back. */
function roundTrips(segment: string): boolean {
  return Buffer.from(segment, 'base64url').toString('base64url') === segment
}

describe('isCanonicalBase64url', () => {
  it('accepts the empty string and whole quantums', () => {
    expect(isCanonicalBase64url('')).toBe(true)
    expect(isCanonicalBase64url('AAAA')).toBe(true)
    expect(isCanonicalBase64url('eyJhbGciOiJFUzI1NiJ9')).toBe(true)
    expect(isCanonicalBase64url(ALPHABET)).toBe(true)
  })

  it('with two characters left over (one byte) allows only A, Q, g, w last', () => {
    const allowed = [...ALPHABET].filter((last) => isCanonicalBase64url(`AAAAA${last}`))
    expect(allowed.join('')).toBe('AQgw')
    for (const last of ALPHABET) expect(isCanonicalBase64url(`A${last}`)).toBe(roundTrips(`A${last}`))
  })

  it('with three characters left over (two bytes) allows only the 16 characters with two zero low bits', () => {
    const allowed = [...ALPHABET].filter((last) => isCanonicalBase64url(`AAAAAA${last}`))
    expect(allowed.join('')).toBe('AEIMQUYcgkosw048')
    for (const last of ALPHABET) expect(isCanonicalBase64url(`AA${last}`)).toBe(roundTrips(`AA${last}`))
  })

  it('agrees with the round-trip definition on every last character for every leftover count', () => {
    for (const prefix of ['', 'A', 'AA', 'AAA', 'zzzz', 'zzzzz', 'zzzzzz', 'zzzzzzz']) {
      for (const last of ALPHABET) {
        const segment = `${prefix}${last}`
        expect(isCanonicalBase64url(segment), segment).toBe(roundTrips(segment))
      }
    }
  })

  it('refuses every length that is 1 mod 4 (no byte string encodes to it)', () => {
    for (const length of [1, 5, 9, 13, 4097]) {
      for (const last of 'AQgw') expect(isCanonicalBase64url(`${'A'.repeat(length - 1)}${last}`)).toBe(false)
    }
  })

  it('refuses padding', () => {
    for (const padded of ['AA==', 'AAA=', 'AAAA====', '=', '==', 'QQ==', 'eyJhbGciOiJFUzI1NiJ9=']) {
      expect(isCanonicalBase64url(padded), padded).toBe(false)
    }
  })

  it('refuses the standard alphabet (+ and /) and every other character outside the URL-safe alphabet', () => {
    for (const segment of [
      'AA+A',
      'AA/A',
      '+/+/',
      'AA A',
      ' AAAA',
      'AAAA ',
      'AAAA\n',
      '\nAAAA',
      'AA.A',
      'AA?A',
    ]) {
      expect(isCanonicalBase64url(segment), JSON.stringify(segment)).toBe(false)
    }
    for (const segment of ['AAé', 'ＡＡＡＡ', 'AA\u0000A', 'AA\tA', 'AA%2B']) {
      expect(isCanonicalBase64url(segment), JSON.stringify(segment)).toBe(false)
    }
  })

  it('is fast on long input (no backtracking)', () => {
    const long = `${'A'.repeat(1_000_000)}!`
    const started = performance.now()
    expect(isCanonicalBase64url(long)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

describe('decodeBase64url', () => {
  it('decodes canonical input', () => {
    expect(decodeBase64url('')).toEqual(Buffer.alloc(0))
    expect(decodeBase64url('Zm9v')?.toString()).toBe('foo')
    expect(decodeBase64url('Zm8')?.toString()).toBe('fo')
    expect(decodeBase64url('Zg')?.toString()).toBe('f')
    expect(decodeBase64url('-_8')).toEqual(Buffer.from([0xfb, 0xff]))
  })

  it('refuses what Buffer.from would silently accept', () => {
    // Buffer.from drops the stray bits and skips characters outside the alphabet; decodeBase64url does not.
    expect(Buffer.from('Zh', 'base64url')).toEqual(Buffer.from('Zg', 'base64url'))
    expect(decodeBase64url('Zh')).toBeNull()
    expect(Buffer.from('Zm 9v', 'base64url').toString()).toBe('foo')
    expect(decodeBase64url('Zm 9v')).toBeNull()
    expect(decodeBase64url('Zm9v=')).toBeNull()
    expect(decodeBase64url('Zg==')).toBeNull()
    expect(decodeBase64url('Zm+v')).toBeNull()
    expect(decodeBase64url('Zm9vY')).toBeNull()
  })

  it('round-trips random bytes of every length from 0 to 100', () => {
    for (let length = 0; length <= 100; length++) {
      const bytes = randomBytes(length)
      const encoded = encodeBase64url(bytes)
      expect(isCanonicalBase64url(encoded)).toBe(true)
      expect(decodeBase64url(encoded)).toEqual(bytes)
    }
  })

  it('round-trips canonical text back to itself', () => {
    for (const segment of ['', 'AA', 'AAA', 'AAAA', '_-_-', 'eyJhbGciOiJFUzI1NiJ9', 'w6k', 'AQ', 'AAE']) {
      expect(encodeBase64url(decodeBase64url(segment)!)).toBe(segment)
    }
  })
})

describe('encodeBase64url', () => {
  it('encodes without padding and with the URL-safe alphabet', () => {
    expect(encodeBase64url(Buffer.from([0xfb, 0xff, 0xbf]))).toBe('-_-_')
    expect(encodeBase64url(Buffer.from([0xff]))).toBe('_w')
    expect(encodeBase64url(Buffer.from([0xff, 0xff]))).toBe('__8')
  })

  it('encodes strings as UTF-8', () => {
    expect(encodeBase64url('é')).toBe('w6k')
    expect(encodeBase64url('{"alg":"ES256"}')).toBe('eyJhbGciOiJFUzI1NiJ9')
    expect(encodeBase64url('')).toBe('')
  })

  it('accepts a plain Uint8Array as well as a Buffer', () => {
    expect(encodeBase64url(new Uint8Array([1, 2, 3]))).toBe('AQID')
    const view = new Uint8Array(new Uint8Array([9, 1, 2, 3, 9]).buffer, 1, 3)
    expect(encodeBase64url(view)).toBe('AQID')
  })
})

describe('decodeBase64url: regression for characters outside ASCII', () => {
  it('refuses a non-ASCII character whose low byte is a base64url character (found by fast-check)', () => {
    // Node reads only the low byte of each UTF-16 unit: '\u4d2d' decodes like '-'.
    expect(Buffer.from('-A-\u4d2d', 'base64url')).toEqual(Buffer.from('-A--', 'base64url'))
    expect(decodeBase64url('-A-\u4d2d')).toBeNull()
    expect(decodeBase64url('-A--')).not.toBeNull()
  })
})
