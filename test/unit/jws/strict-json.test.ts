import { describe, expect, it } from 'vitest'
import { parseStrictJsonObject } from '../../../src/core/jws/strict-json.js'

describe('parseStrictJsonObject', () => {
  it('returns the parsed object', () => {
    expect(parseStrictJsonObject('{"alg":"ES256","kid":"k1"}')).toEqual({ alg: 'ES256', kid: 'k1' })
    expect(parseStrictJsonObject('{}')).toEqual({})
    expect(parseStrictJsonObject(' \t\r\n{ "a" : 1 ,\n "b" : [ 1 , 2 ] }\n ')).toEqual({ a: 1, b: [1, 2] })
  })

  it('keeps nested values of every JSON type', () => {
    const text = '{"s":"x","n":-1.5e3,"t":true,"f":false,"z":null,"a":[1,"2",[3]],"o":{"p":{"q":{}}}}'
    expect(parseStrictJsonObject(text)).toEqual(JSON.parse(text))
  })

  describe('duplicate member names', () => {
    it.each([
      ['same value', '{"a":1,"a":1}'],
      ['different values', '{"alg":"ES256","alg":"none"}'],
      ['not adjacent', '{"a":1,"b":2,"c":3,"a":4}'],
      ['with whitespace', '{ "a" : 1 , "a" : 2 }'],
      ['the empty name', '{"":1,"":2}'],
    ])('refuses a duplicate at the top level (%s)', (_name, text) => {
      expect(parseStrictJsonObject(text)).toBeNull()
    })

    it.each([
      ['in a nested object', '{"a":{"b":1,"b":2}}'],
      ['deeper down', '{"a":{"b":{"c":{"d":1,"d":1}}}}'],
      ['in an object inside an array', '{"a":[1,{"b":1,"b":2}]}'],
      ['in an array of arrays', '{"a":[[{"x":0}],[{"y":1,"y":1}]]}'],
      ['next to a non-duplicate elsewhere', '{"a":{"k":1},"b":{"k":1,"k":2}}'],
    ])('refuses a duplicate %s', (_name, text) => {
      expect(parseStrictJsonObject(text)).toBeNull()
    })

    it('accepts the same name at different levels or in sibling objects', () => {
      expect(parseStrictJsonObject('{"a":{"a":{"a":1}}}')).toEqual({ a: { a: { a: 1 } } })
      expect(parseStrictJsonObject('{"a":1,"b":{"a":2}}')).toEqual({ a: 1, b: { a: 2 } })
      expect(parseStrictJsonObject('{"list":[{"a":1},{"a":2}]}')).toEqual({ list: [{ a: 1 }, { a: 2 }] })
    })

    it.each([
      ['\\u0061 vs a', '{"a":1,"\\u0061":2}'],
      ['a vs \\u0061', '{"\\u0061":1,"a":2}'],
      ['upper-case hex escape', '{"alg":"ES256","\\u0061\\u006C\\u0067":"none"}'],
      ['escaped solidus', '{"a/b":1,"a\\/b":2}'],
      ['non-ASCII vs its escape', '{"é":1,"\\u00e9":2}'],
      ['escaped quote inside the name', '{"a\\"b":1,"a\\u0022b":2}'],
      ['nested, escaped', '{"h":{"kid":"1","\\u006bid":"2"}}'],
    ])('refuses names that are equal once unescaped (%s)', (_name, text) => {
      expect(parseStrictJsonObject(text)).toBeNull()
    })
  })

  describe('string contents do not confuse the duplicate count', () => {
    it('accepts colons inside names and values', () => {
      expect(parseStrictJsonObject('{"a:b":"c:d","e":"::","f":"{\\"g\\":1}"}')).toEqual({
        'a:b': 'c:d',
        e: '::',
        f: '{"g":1}',
      })
    })

    it('still refuses a duplicate next to values full of colons', () => {
      expect(parseStrictJsonObject('{"a":"x:y:z","a":"w"}')).toBeNull()
      expect(parseStrictJsonObject('{"u":"http://a:1/b","v":{"u":"x:y","u":"z"}}')).toBeNull()
    })

    it('accepts escaped quotes and backslashes in strings', () => {
      expect(parseStrictJsonObject('{"q":"he said \\"a:b\\"","b":"\\\\","c":"\\\\\\"","d":":"}')).toEqual({
        q: 'he said "a:b"',
        b: '\\',
        c: '\\"',
        d: ':',
      })
    })

    it('accepts a value ending in an escaped backslash followed by more members', () => {
      // "\\\\" is two backslashes: the string ends at the next quote, so ":" after it is a member colon.
      expect(parseStrictJsonObject('{"a":"\\\\\\\\","b":1}')).toEqual({ a: '\\\\', b: 1 })
      expect(parseStrictJsonObject('{"a":"\\\\\\\\","a":1}')).toBeNull()
    })

    it('accepts a \\u0022-escaped quote followed by a colon inside a name', () => {
      expect(parseStrictJsonObject('{"a\\u0022:":1,"b":2}')).toEqual({ 'a":': 1, b: 2 })
    })
  })

  describe('__proto__ and other special names', () => {
    it('keeps "__proto__" as an ordinary own member and counts it', () => {
      const parsed = parseStrictJsonObject('{"__proto__":{"polluted":true},"alg":"ES256"}')
      expect(parsed).not.toBeNull()
      expect(Object.hasOwn(parsed!, '__proto__')).toBe(true)
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(parsed!.alg).toBe('ES256')
    })

    it('refuses "__proto__" twice, or spelled once plainly and once escaped', () => {
      expect(parseStrictJsonObject('{"__proto__":1,"__proto__":2}')).toBeNull()
      expect(parseStrictJsonObject('{"__proto__":1,"\\u005f_proto__":2}')).toBeNull()
    })

    it('counts members nested under "__proto__"', () => {
      expect(parseStrictJsonObject('{"__proto__":{"a":1,"a":2}}')).toBeNull()
      expect(parseStrictJsonObject('{"__proto__":{"a":1,"b":2}}')).not.toBeNull()
    })

    it('accepts names that shadow Object.prototype members', () => {
      expect(parseStrictJsonObject('{"constructor":1,"toString":2,"hasOwnProperty":3}')).toEqual({
        constructor: 1,
        toString: 2,
        hasOwnProperty: 3,
      })
    })
  })

  describe('only one JSON object', () => {
    it.each([
      ['an array', '[]'],
      ['an array holding an object', '[{"alg":"ES256"}]'],
      ['a string', '"{\\"alg\\":\\"ES256\\"}"'],
      ['a number', '1'],
      ['true', 'true'],
      ['null', 'null'],
      ['the empty text', ''],
      ['whitespace', '  '],
      ['two objects', '{"a":1}{"b":2}'],
      ['trailing text', '{"a":1}x'],
      ['a trailing comma', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
      ['unquoted names', '{a:1}'],
      ['a comment', '{"a":1/* c */}'],
      ['a byte-order mark', '\uFEFF{"a":1}'],
      ['an unterminated string', '{"a":"b}'],
    ])('refuses %s', (_name, text) => {
      expect(parseStrictJsonObject(text)).toBeNull()
    })
  })

  it('handles many members in linear fashion and still finds a late duplicate', () => {
    const members = Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`)
    expect(Object.keys(parseStrictJsonObject(`{${members.join(',')}}`)!)).toHaveLength(5000)
    expect(parseStrictJsonObject(`{${members.join(',')},"k0":0}`)).toBeNull()
  })

  it('never throws, even on very deeply nested input (it answers with the object or null)', () => {
    // Regression: the key count once recursed per nesting level and overflowed the stack on deep input.
    const depth = 100_000
    const nested = `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`
    expect(() => JSON.parse(nested) as unknown).not.toThrow()
    expect(() => parseStrictJsonObject(nested)).not.toThrow()
    expect(Object.keys(parseStrictJsonObject(nested) ?? {})).toEqual(['a']) // accepted, not refused
    const nestedDuplicate = `{"a":${'['.repeat(depth)}{"b":1,"b":2}${']'.repeat(depth)}}`
    expect(() => parseStrictJsonObject(nestedDuplicate)).not.toThrow()
    expect(parseStrictJsonObject(nestedDuplicate)).toBeNull() // the duplicate deep inside is still found
  })
})
