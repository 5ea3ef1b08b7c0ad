/**
 * Property-based tests for the `Cookie` header reader and the `Set-Cookie` serialiser: whatever a client
 * sends, `readCookie` answers (never throws), reads back exactly what `serializeCookie` wrote, and refuses to
 * pick between two cookies of the same name.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CookieDescription, readCookie, serializeCookie } from '../../src/core/cookie.js'

const NUM_RUNS = 1000

/** RFC 6265 §4.1.1 token characters (what a cookie name may be made of). */
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/** RFC 6265 §4.1.1 cookie-octet: visible ASCII except `"`, `,`, `;` and `\`. */
const COOKIE_OCTETS = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => !'",;\\'.includes(c))
  .join('')

const cookieName = fc.oneof(
  fc.constant('__Host-sesame'),
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 }),
)
const cookieValue = fc.string({ unit: fc.constantFrom(...COOKIE_OCTETS), maxLength: 60 })
/** Anything a header could hold, and then some: full Unicode, lone surrogates, control characters. */
const anyHeader = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(';', '=', ' ', '\t', '"', 'a', '_', '-', 'H'), maxLength: 80 }),
  fc
    .array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })), { maxLength: 8 })
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
)
/** A stretch of header text that contains no `;`, so it stays one pair. */
const pairText = fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replaceAll(';', ''))
const padding = fc.constantFrom('', ' ', '  ', '\t')

function description(name: string, value: string, maxAgeSeconds: number, strict: boolean): CookieDescription {
  return {
    name,
    value,
    httpOnly: true,
    secure: true,
    sameSite: strict ? 'strict' : 'lax',
    path: '/',
    maxAgeSeconds,
  }
}

describe('readCookie (property)', () => {
  it('never throws and always answers absent, duplicate or present with a string', () => {
    fc.assert(
      fc.property(fc.option(anyHeader, { nil: undefined }), cookieName, (header, name) => {
        const lookup = readCookie(header, name)
        expect(['absent', 'duplicate', 'present']).toContain(lookup.status)
        if (lookup.status === 'present') {
          expect(typeof lookup.value).toBe('string')
          // The value is a substring of what was sent; nothing is invented or decoded.
          expect(header).toContain(lookup.value)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('reads back the value serializeCookie wrote, alone or among other cookies', () => {
    const otherPair = fc
      .tuple(fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 10 }), cookieValue)
      .map(([n, v]) => ({ name: n, pair: `${n}=${v}` }))
    fc.assert(
      fc.property(
        cookieName,
        cookieValue,
        fc.integer({ min: -10, max: 10_000_000 }),
        fc.boolean(),
        fc.array(otherPair, { maxLength: 4 }),
        fc.array(otherPair, { maxLength: 4 }),
        padding,
        (name, value, maxAge, strict, before, after, pad) => {
          const setCookie = serializeCookie(description(name, value, maxAge, strict))
          const pair = setCookie.split(';')[0]!
          expect(pair).toBe(`${name}=${value}`)
          expect(readCookie(pair, name)).toEqual({ status: 'present', value })
          const others = [...before, ...after].filter((o) => o.name !== name).map((o) => o.pair)
          const header = [
            ...others.slice(0, before.length),
            pad + pair + pad,
            ...others.slice(before.length),
          ].join('; ')
          expect(readCookie(header, name)).toEqual({ status: 'present', value })
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('serializeCookie either throws TypeError or writes name=value first', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (name, value) => {
          let header: string
          try {
            header = serializeCookie(description(name, value, 60, false))
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError)
            return
          }
          expect(header.startsWith(`${name}=${value}; `)).toBe(true)
          expect(readCookie(header.split(';')[0], name)).toEqual({ status: 'present', value })
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('answers duplicate whenever the name is sent twice, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        cookieName,
        pairText,
        pairText,
        fc.array(pairText, { maxLength: 3 }),
        fc.array(pairText, { maxLength: 3 }),
        fc.array(pairText, { maxLength: 3 }),
        padding,
        padding,
        (name, first, second, before, between, after, padA, padB) => {
          const header = [
            ...before,
            `${padA}${name}=${first}`,
            ...between,
            `${name}${padB}=${second}`,
            ...after,
          ].join(';')
          expect(readCookie(header, name)).toEqual({ status: 'duplicate' })
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
