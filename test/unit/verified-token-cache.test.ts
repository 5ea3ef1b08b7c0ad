import { describe, expect, it } from 'vitest'
import type { AccessTokenClaims } from '../../src/core/access-token.js'
import { VerifiedTokenCache } from '../../src/core/verified-token-cache.js'

const T0 = 1_800_000_000

function claims(exp: number, jti = 'j'): AccessTokenClaims {
  return { iss: 'i', sub: 's', aud: 'a', exp, iat: T0, jti, sid: 'f', roles: [] }
}

describe('VerifiedTokenCache', () => {
  it('returns the claims of a remembered token until its expiry, with the leeway', () => {
    const cache = new VerifiedTokenCache(10)
    cache.set('t', claims(T0 + 100))
    expect(cache.get('t', T0 + 129, 30)).toEqual(claims(T0 + 100))
    expect(cache.get('t', T0 + 130, 30)).toBeUndefined()
    expect(cache.size).toBe(0) // the expired entry is dropped
  })

  it('misses on any other string, however close', () => {
    const cache = new VerifiedTokenCache(10)
    cache.set('abc', claims(T0 + 100))
    expect(cache.get('abd', T0, 0)).toBeUndefined()
    expect(cache.get('abc ', T0, 0)).toBeUndefined()
  })

  it('never hands one token the claims of another that ends the same (the map key is the tail)', () => {
    const cache = new VerifiedTokenCache(10)
    const tail = 'S'.repeat(40)
    const real = `Bearer header.payload.${tail}`
    const forged = `Bearer header.forged-payload.${tail}`
    cache.set(real, claims(T0 + 100, 'real'))
    expect(cache.get(forged, T0, 0)).toBeUndefined()
    expect(cache.get(real, T0, 0)?.jti).toBe('real')
    // Stored under the same key, the later one takes the earlier one's place; neither sees the other's claims.
    cache.set(forged, claims(T0 + 100, 'forged'))
    expect(cache.size).toBe(1)
    expect(cache.get(real, T0, 0)).toBeUndefined()
    expect(cache.get(forged, T0, 0)?.jti).toBe('forged')
  })

  it('evicts the oldest entry when full, and clear() empties it', () => {
    const cache = new VerifiedTokenCache(2)
    cache.set('a', claims(T0 + 100, 'a'))
    cache.set('b', claims(T0 + 100, 'b'))
    cache.set('c', claims(T0 + 100, 'c'))
    expect(cache.size).toBe(2)
    expect(cache.get('a', T0, 0)).toBeUndefined()
    expect(cache.get('c', T0, 0)?.jti).toBe('c')
    cache.clear()
    expect(cache.get('c', T0, 0)).toBeUndefined()
  })

  it('caches nothing with size 0, and refuses a bad size', () => {
    const cache = new VerifiedTokenCache(0)
    cache.set('a', claims(T0 + 100))
    expect(cache.get('a', T0, 0)).toBeUndefined()
    expect(() => new VerifiedTokenCache(-1)).toThrow(
      new TypeError('VerifiedTokenCache "maxEntries" must be a non-negative integer.'),
    )
  })
})
