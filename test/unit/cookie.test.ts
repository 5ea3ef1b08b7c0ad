import { describe, expect, it } from 'vitest'
import {
  type CookieDescription,
  createBlankSessionCookie,
  createSessionCookie,
  readCookie,
  resolveSessionCookieOptions,
  serializeCookie,
} from '../../src/core/cookie.js'

const NAME = '__Host-sesame'

function cookie(overrides: Partial<CookieDescription> = {}): CookieDescription {
  return {
    name: NAME,
    value: 'tok',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    path: '/',
    maxAgeSeconds: 600,
    ...overrides,
  }
}

describe('readCookie', () => {
  it('is absent for a missing or empty header', () => {
    expect(readCookie(undefined, NAME)).toEqual({ status: 'absent' })
    expect(readCookie('', NAME)).toEqual({ status: 'absent' })
  })

  it('is absent when only other cookies are sent', () => {
    expect(readCookie('a=1; b=2', NAME)).toEqual({ status: 'absent' })
  })

  it('finds the cookie alone, first, middle and last', () => {
    expect(readCookie('__Host-sesame=x', NAME)).toEqual({ status: 'present', value: 'x' })
    expect(readCookie('__Host-sesame=x; a=1', NAME)).toEqual({ status: 'present', value: 'x' })
    expect(readCookie('a=1; __Host-sesame=x; b=2', NAME)).toEqual({ status: 'present', value: 'x' })
    expect(readCookie('a=1; __Host-sesame=x', NAME)).toEqual({ status: 'present', value: 'x' })
  })

  it('reports a duplicate instead of choosing one', () => {
    expect(readCookie('a=1; __Host-sesame=x; __Host-sesame=y', NAME)).toEqual({ status: 'duplicate' })
    expect(readCookie('__Host-sesame=x; a=1; __Host-sesame=x', NAME)).toEqual({ status: 'duplicate' })
  })

  it('trims whitespace around names and values', () => {
    expect(readCookie('  a=1 ;   __Host-sesame =  x  ; b=2', NAME)).toEqual({ status: 'present', value: 'x' })
    expect(readCookie('a=1;__Host-sesame=x;b=2', NAME)).toEqual({ status: 'present', value: 'x' })
  })

  it('does not match names that only share a prefix or differ in case', () => {
    expect(readCookie('__Host-sesame2=x; __Host-sesam=y; x__Host-sesame=z', NAME)).toEqual({
      status: 'absent',
    })
    expect(readCookie('__host-sesame=x', NAME)).toEqual({ status: 'absent' })
    expect(readCookie('__Host-sesame2=x; __Host-sesame=y', NAME)).toEqual({ status: 'present', value: 'y' })
  })

  it('keeps "=" inside the value', () => {
    expect(readCookie('__Host-sesame=a=b==', NAME)).toEqual({ status: 'present', value: 'a=b==' })
  })

  it('ignores pairs without "=" and reads an empty value as present', () => {
    expect(readCookie('__Host-sesame; a=1', NAME)).toEqual({ status: 'absent' })
    expect(readCookie('__Host-sesame=', NAME)).toEqual({ status: 'present', value: '' })
  })
})

describe('serializeCookie', () => {
  it('serialises a secure lax cookie exactly', () => {
    expect(serializeCookie(cookie())).toBe(
      '__Host-sesame=tok; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('serialises a strict cookie exactly', () => {
    expect(serializeCookie(cookie({ sameSite: 'strict' }))).toBe(
      '__Host-sesame=tok; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Strict',
    )
  })

  it('omits Secure when secure is false', () => {
    expect(serializeCookie(cookie({ name: 'sesame', secure: false }))).toBe(
      'sesame=tok; Path=/; Max-Age=600; HttpOnly; SameSite=Lax',
    )
  })

  it('adds an epoch Expires when Max-Age is 0', () => {
    expect(serializeCookie(cookie({ value: '', maxAgeSeconds: 0 }))).toBe(
      '__Host-sesame=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('floors a fractional Max-Age', () => {
    expect(serializeCookie(cookie({ maxAgeSeconds: 59.9 }))).toBe(
      '__Host-sesame=tok; Path=/; Max-Age=59; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('accepts a base64url token value', () => {
    const value = 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'
    expect(serializeCookie(cookie({ value }))).toBe(
      `__Host-sesame=${value}; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax`,
    )
  })

  it.each([
    ['a semicolon', 'a;b'],
    ['a space', 'a b'],
    ['a comma', 'a,b'],
    ['a double quote', 'a"b'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\nb'],
    ['a non-ASCII character', 'é'],
  ])('refuses a value containing %s', (_label, value) => {
    expect(() => serializeCookie(cookie({ value }))).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        message: 'Cookie "__Host-sesame" has a name or value that cannot be sent in a header.',
      }),
    )
  })

  it.each([['a=b'], ['a b'], ['a;b'], ['']])('refuses the name %j', (name) => {
    expect(() => serializeCookie(cookie({ name }))).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        message: `Cookie "${name}" has a name or value that cannot be sent in a header.`,
      }),
    )
  })
})

describe('resolveSessionCookieOptions', () => {
  it('defaults to a secure lax __Host- cookie, frozen', () => {
    const options = resolveSessionCookieOptions()
    expect(options).toEqual({ name: '__Host-sesame', secure: true, sameSite: 'lax' })
    expect(Object.isFrozen(options)).toBe(true)
    expect(resolveSessionCookieOptions({})).toEqual(options)
  })

  it('accepts explicit valid options', () => {
    expect(resolveSessionCookieOptions({ name: 'sid', secure: false, sameSite: 'strict' })).toEqual({
      name: 'sid',
      secure: false,
      sameSite: 'strict',
    })
    expect(resolveSessionCookieOptions({ name: '__Secure-sid' })).toEqual({
      name: '__Secure-sid',
      secure: true,
      sameSite: 'lax',
    })
  })

  it.each([['__Host-sesame'], ['__host-sesame'], ['__HOST-x']])(
    'refuses secure false for the name %s',
    (name) => {
      expect(() => resolveSessionCookieOptions({ name, secure: false })).toThrow(
        expect.objectContaining({
          name: 'SesameOptionError',
          message: 'Cookie option "secure" must be true for a "__Host-" cookie name (RFC 6265bis §4.1.3.2).',
        }),
      )
    },
  )

  it('refuses secure false for a __Secure- name', () => {
    expect(() => resolveSessionCookieOptions({ name: '__Secure-sid', secure: false })).toThrow(
      expect.objectContaining({
        name: 'SesameOptionError',
        message: 'Cookie option "secure" must be true for a "__Secure-" cookie name (RFC 6265bis §4.1.3.1).',
      }),
    )
  })

  it.each([[''], ['a b'], ['a=b'], ['a;b'], ['a,b'], ['(sid)'], ['sé'], ['a\tb']])(
    'refuses the name %j',
    (name) => {
      expect(() => resolveSessionCookieOptions({ name })).toThrow(
        expect.objectContaining({
          name: 'SesameOptionError',
          message: 'Cookie option "name" must be an RFC 6265 token (letters, digits, and !#$%&\'*+-.^_`|~).',
        }),
      )
    },
  )

  it.each([['none'], ['Lax'], ['']])('refuses sameSite %j', (sameSite) => {
    expect(() => resolveSessionCookieOptions({ sameSite: sameSite as 'lax' })).toThrow(
      expect.objectContaining({
        name: 'SesameOptionError',
        message: 'Cookie option "sameSite" must be "lax" or "strict".',
      }),
    )
  })
})

describe('resolveSessionCookieOptions types', () => {
  it.each([
    [{ secure: 'false' }, 'cookie.secure'],
    [{ secure: 0 }, 'cookie.secure'],
    [{ name: 42 }, 'cookie.name'],
    [{ sameSite: null }, 'cookie.sameSite'],
    [{ domain: 'example.com' }, 'cookie.domain'],
  ])('refuses %j with a coded TypeError naming %s', (input, option) => {
    expect(() => resolveSessionCookieOptions(input as never)).toThrow(
      expect.objectContaining({ code: 'invalid_option', option }),
    )
    expect(() => resolveSessionCookieOptions(input as never)).toThrow(TypeError)
  })
})

describe('createSessionCookie and createBlankSessionCookie', () => {
  const options = resolveSessionCookieOptions({ sameSite: 'strict' })

  it('describes an HttpOnly, Path=/ cookie carrying the token', () => {
    expect(createSessionCookie(options, 'tok', 1800)).toEqual({
      name: '__Host-sesame',
      value: 'tok',
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
      maxAgeSeconds: 1800,
    })
  })

  it('clamps a negative lifetime to 0', () => {
    expect(createSessionCookie(options, 'tok', -5).maxAgeSeconds).toBe(0)
  })

  it('blanks the cookie with an empty value and Max-Age 0', () => {
    const blank = createBlankSessionCookie(options)
    expect(blank).toMatchObject({ name: '__Host-sesame', value: '', maxAgeSeconds: 0 })
    expect(serializeCookie(blank)).toBe(
      '__Host-sesame=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict',
    )
  })
})
