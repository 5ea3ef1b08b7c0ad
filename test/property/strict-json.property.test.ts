/**
 * Property-based tests for the strict JOSE JSON parser: it never throws, accepts every JSON object text
 * `JSON.stringify` writes (and means the same object by it), and refuses any text where one object repeats a
 * member name, however the name is spelled.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseStrictJsonObject } from '../../src/core/jws/strict-json.js'

const NUM_RUNS = 500

/** JSON values of every kind, with member names drawn from awkward characters (quotes, backslashes, colons). */
const awkwardKey = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: fc.constantFrom('"', '\\', ':', '{', '}', ',', 'a', ' ', '\u2028', '\0'), maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
  fc.string({ unit: 'binary', maxLength: 6 }),
)
const jsonValue = fc.jsonValue({ maxDepth: 4 })
const jsonObject = fc.oneof(
  fc.dictionary(awkwardKey, jsonValue, { maxKeys: 6 }),
  fc.jsonValue({ maxDepth: 4 }).filter((v): v is Record<string, fc.JsonValue> => isPlainObject(v)),
  fc.object({ maxDepth: 3, values: [fc.jsonValue({ maxDepth: 2 })], key: awkwardKey }),
)

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `JSON.stringify` with optional whitespace, as another encoder might write it. */
function stringify(value: unknown, indent: number): string {
  return indent === 0 ? JSON.stringify(value) : JSON.stringify(value, null, indent)
}

/** Spells `key` as a JSON string literal with every character (or none) escaped as `\uXXXX`. */
function spellKey(key: string, escapeAll: boolean): string {
  if (!escapeAll) return JSON.stringify(key)
  let out = '"'
  for (let i = 0; i < key.length; i++) out += `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}`
  return `${out}"`
}

describe('parseStrictJsonObject (property)', () => {
  it('never throws for any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.json({ maxDepth: 4 }),
          fc.string({
            unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', '1', ' ', 'u', 'n'),
            maxLength: 60,
          }),
          // Valid JSON with a random cut or splice, so the parser sees near-misses.
          fc
            .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.string({ maxLength: 4 }))
            .map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk + text.slice(at % 7)),
        ),
        (text) => {
          const parsed = parseStrictJsonObject(text)
          if (parsed !== null) {
            expect(isPlainObject(parsed)).toBe(true)
            expect(parsed).toEqual(JSON.parse(text))
          }
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    )
  })

  it('accepts JSON.stringify of any object and returns the same object', () => {
    fc.assert(
      fc.property(jsonObject, fc.constantFrom(0, 1, 2), (value, indent) => {
        const text = stringify(value, indent)
        const parsed = parseStrictJsonObject(text)
        expect(parsed).not.toBeNull()
        // Compared as text: vitest's strict equality trips over a member named "constructor".
        expect(JSON.stringify(parsed)).toBe(JSON.stringify(value))
        expect(parsed).toEqual(JSON.parse(text))
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses non-objects: arrays, strings, numbers, booleans, null', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }).filter((v) => !isPlainObject(v)),
        (value) => {
          expect(parseStrictJsonObject(JSON.stringify(value))).toBeNull()
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('refuses an object whose member name is repeated, at the top or nested, however it is spelled', () => {
    const nonEmpty = jsonObject.filter((v) => Object.keys(v).length > 0)
    fc.assert(
      fc.property(
        nonEmpty,
        fc.nat(),
        jsonValue,
        fc.boolean(),
        fc.boolean(),
        fc.option(awkwardKey, { nil: undefined }),
        fc.constantFrom('', ' ', '\n\t'),
        (value, pick, extra, escapeAll, atEnd, wrapIn, space) => {
          const keys = Object.keys(value)
          const key = keys[pick % keys.length]!
          const member = `${spellKey(key, escapeAll)}${space}:${space}${JSON.stringify(extra)}`
          const inner = JSON.stringify(value)
          // Insert the repeated member first (before the original) or last (after it).
          const duplicated = atEnd ? `${inner.slice(0, -1)},${member}}` : `{${member},${inner.slice(1)}`
          const text =
            wrapIn === undefined ? duplicated : `{${JSON.stringify(wrapIn)}:[1,${duplicated},"x:"]}`
          // The text is valid JSON (JSON.parse keeps the last duplicate silently) ...
          expect(() => JSON.parse(text) as unknown).not.toThrow()
          // ... but the strict parser must refuse it.
          expect(parseStrictJsonObject(text)).toBeNull()
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
