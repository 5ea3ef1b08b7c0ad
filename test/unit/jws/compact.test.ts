/** Sesame-specific behaviour of compact.ts that the interop and vector tests do not reach. */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AuthError } from '../../../src/core/errors.js'
import { encodeBase64url } from '../../../src/core/jws/base64url.js'
import { type JwsHeader, encodeHeader, signCompact, verifyCompact } from '../../../src/core/jws/compact.js'
import { importSigningKey, importVerificationKey } from '../../../src/core/jws/keys.js'
import { expectInvalidToken } from './refusal.js'

const secret = randomBytes(32).toString('base64url')
const signingKey = await importSigningKey({ kty: 'oct', k: secret, kid: 'compact-hs' }, 'HS256')
const verificationKey = await importVerificationKey({ kty: 'oct', k: secret, kid: 'compact-hs' }, 'HS256')
const resolve = () => verificationKey

function decodeHeader(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>
}

describe('encodeHeader', () => {
  it('writes alg and kid from the key, with extra members between them', () => {
    const header = decodeHeader(encodeHeader(signingKey, { typ: 'at+jwt' }))
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'compact-hs' })
  })

  it('does not let extra members replace the kid', () => {
    const header = decodeHeader(encodeHeader(signingKey, { kid: 'other' }))
    expect(header.kid).toBe('compact-hs')
  })

  it('does not let extra members replace the alg', () => {
    // Regression: `extra` once spread after `alg`, so an extra member could rename the algorithm.
    const header = decodeHeader(encodeHeader(signingKey, { alg: 'none' }))
    expect(header.alg).toBe('HS256')
  })
})

describe('verifyCompact', () => {
  it('returns the header, the payload bytes and the key the resolver chose', () => {
    const token = signCompact(encodeHeader(signingKey, { typ: 'JWT' }), 'hello', signingKey)
    const seen: JwsHeader[] = []
    const result = verifyCompact(token, (header) => {
      seen.push(header)
      return verificationKey
    })
    expect(seen).toEqual([{ alg: 'HS256', typ: 'JWT', kid: 'compact-hs' }])
    expect(result.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'compact-hs' })
    expect(result.payload.toString()).toBe('hello')
    expect(result.key).toBe(verificationKey)
  })

  it('keeps verifying correctly after the header cache has been cycled', () => {
    const first = signCompact(encodeHeader(signingKey, { n: 'first' }), 'one', signingKey)
    expect(verifyCompact(first, resolve).payload.toString()).toBe('one')
    for (let i = 0; i < 600; i++) {
      const token = signCompact(encodeHeader(signingKey, { n: String(i) }), 'x', signingKey)
      verifyCompact(token, resolve)
    }
    expect(verifyCompact(first, resolve).payload.toString()).toBe('one')
    const tampered = `${first.slice(0, first.lastIndexOf('.'))}.${'A'.repeat(43)}`
    expectInvalidToken(() => verifyCompact(tampered, resolve), 'bad_signature')
  })

  it('checks a cached header against each new key: a cached header is no pass', async () => {
    const token = signCompact(encodeHeader(signingKey), 'cached', signingKey)
    verifyCompact(token, resolve)
    const otherKey = await importVerificationKey(
      { kty: 'oct', k: randomBytes(32).toString('base64url') },
      'HS256',
    )
    expectInvalidToken(() => verifyCompact(token, () => otherKey), 'bad_signature')
  })

  it('gives each caller a frozen header: changing one result cannot change the next', () => {
    // Regression: the parsed header is cached by its segment text and shared, so it must be immutable.
    const token = signCompact(encodeHeader(signingKey, { typ: 'JWT', n: 'shared' }), 'shared', signingKey)
    const first = verifyCompact(token, resolve)
    expect(Object.isFrozen(first.header)).toBe(true)
    expect(() => {
      ;(first.header as { kid?: string }).kid = 'edited-by-a-caller'
    }).toThrow(TypeError)
    // With a kid-based resolver the edit even gets the next genuine token refused as 'unknown_key'.
    const second = verifyCompact(token, resolve)
    expect(second.header.kid).toBe('compact-hs')
  })

  it('refuses the deepest header nesting the default size allows with invalid_token', () => {
    const depth = 3000
    const header = encodeBase64url(`{"alg":"HS256","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)
    const token = `${header}.eA.${'A'.repeat(43)}`
    expect(token.length).toBeLessThanOrEqual(8192)
    expectInvalidToken(() => verifyCompact(token, resolve), 'bad_signature')
  })

  it('refuses a deeply nested header with invalid_token at the largest maxLength the token policy allows', () => {
    // Regression: the key count once recursed per nesting level, so a deeply nested header (reached before
    // any signature check) overflowed the stack and became a 500 instead of `invalid_token`.
    const depth = 24_000
    const header = encodeBase64url(`{"alg":"HS256","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)
    const token = `${header}.eA.${'A'.repeat(43)}`
    expect(token.length).toBeLessThanOrEqual(65_536)
    let thrown: unknown
    try {
      verifyCompact(token, resolve, { maxLength: 65_536 })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(AuthError)
    expect((thrown as AuthError).code).toBe('invalid_token')
  })
})
