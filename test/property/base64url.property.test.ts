/**
 * Property-based tests for the strict base64url decoder: it never throws, accepts exactly one spelling of
 * every byte string (the one `Buffer` writes), and refuses padding, the standard-base64 alphabet, whitespace
 * and impossible lengths.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64url, encodeBase64url, isCanonicalBase64url } from '../../src/core/jws/base64url.js'

const NUM_RUNS = 1000

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const FOREIGN = ['=', '+', '/', ' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '.', '\0', 'é', '\u{1F600}']

/** Strings that look like base64url most of the time, so both branches of the decoder are exercised. */
const nearlyBase64url = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 64 }),
  fc.string({
    unit: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...ALPHABET) }, fc.constantFrom(...FOREIGN)),
    maxLength: 64,
  }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.base64String({ maxLength: 64 }),
)
const bytes = fc.uint8Array({ maxLength: 96 })

describe('decodeBase64url (property)', () => {
  it('never throws, and anything it accepts is the canonical encoding of what it returns', () => {
    fc.assert(
      fc.property(nearlyBase64url, (text) => {
        const decoded = decodeBase64url(text)
        expect(isCanonicalBase64url(text)).toBe(decoded !== null)
        if (decoded !== null) {
          expect(decoded.toString('base64url')).toBe(text)
          expect(encodeBase64url(decoded)).toBe(text)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('decodes the encoding of any bytes back to those bytes', () => {
    fc.assert(
      fc.property(bytes, (input) => {
        const text = encodeBase64url(input)
        expect(text).toBe(Buffer.from(input).toString('base64url'))
        const decoded = decodeBase64url(text)
        expect(decoded).not.toBeNull()
        expect(new Uint8Array(decoded!)).toEqual(input)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses an encoding with padding, +, /, whitespace or any other foreign character inserted', () => {
    fc.assert(
      fc.property(bytes, fc.constantFrom(...FOREIGN), fc.nat(), (input, foreign, at) => {
        const text = encodeBase64url(input)
        const position = at % (text.length + 1)
        expect(decodeBase64url(text.slice(0, position) + foreign + text.slice(position))).toBeNull()
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses standard base64 with padding whenever it differs from base64url', () => {
    fc.assert(
      fc.property(bytes, (input) => {
        const standard = Buffer.from(input).toString('base64')
        fc.pre(standard !== Buffer.from(input).toString('base64url'))
        expect(decodeBase64url(standard)).toBeNull()
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses every string whose length is 1 more than a multiple of 4', () => {
    fc.assert(
      fc.property(nearlyBase64url, fc.constantFrom(...ALPHABET), (text, extra) => {
        const padded = text.length % 4 === 1 ? text : text + extra.repeat((5 - (text.length % 4)) % 4)
        expect(padded.length % 4).toBe(1)
        expect(decodeBase64url(padded)).toBeNull()
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses a last character carrying stray bits (a second spelling of the same bytes)', () => {
    fc.assert(
      fc.property(
        bytes.filter((b) => b.length % 3 !== 0),
        fc.integer({ min: 1, max: 15 }),
        (input, noise) => {
          const text = encodeBase64url(input)
          const last = ALPHABET.indexOf(text[text.length - 1]!)
          const spareBits = input.length % 3 === 1 ? 4 : 2
          const altered = last ^ (noise & ((1 << spareBits) - 1))
          fc.pre(altered !== last)
          const variant = text.slice(0, -1) + ALPHABET[altered]!
          // Buffer decodes the variant to the same bytes; the strict decoder must not.
          expect(new Uint8Array(Buffer.from(variant, 'base64url'))).toEqual(input)
          expect(decodeBase64url(variant)).toBeNull()
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
