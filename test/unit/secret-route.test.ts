import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../../src/core/random.js'
import { routeOf, withRoute } from '../../src/core/secret-route.js'
import { GROUP_COUNT, groupOf, groupOfRoute } from '../../src/store/redis/groups.js'

describe('secret routes', () => {
  it('puts a route in front of a secret, and reads it back', () => {
    const token = generateSecretToken('17')
    expect(token).toMatch(/^17\.[A-Za-z0-9_-]{43}$/)
    expect(routeOf(token)).toBe('17')
    expect(isSecretTokenShape(token)).toBe(true)
    expect(generatePublicId('0')).toMatch(/^0\.[A-Za-z0-9_-]{22}$/)
    expect(withRoute(null, 'abc')).toBe('abc')
  })

  it('finds no route in an unrouted secret, a JWT or a malformed prefix', () => {
    expect(routeOf(generateSecretToken())).toBeNull()
    expect(routeOf('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig')).toBeNull()
    for (const text of ['.abc', 'ABC.x', 'abcde.x', '1-2.x', '']) expect(routeOf(text), text).toBeNull()
  })

  it('refuses a route of the wrong shape when making a secret', () => {
    for (const route of ['', 'A', 'abcde', '1.2', '-']) {
      expect(() => generateSecretToken(route), route).toThrow(RangeError)
    }
  })

  it('keeps the route on the hash, so the store finds the shard from either', () => {
    const token = generateSecretToken('5')
    const hash = hashSecret(token)
    expect(hash).toMatch(/^5\.[A-Za-z0-9_-]{43}$/)
    expect(hash).toBe(`5.${createHash('sha256').update(token).digest('base64url')}`)
    // The digest covers the whole token, route included: another route makes another hash.
    expect(hashSecret(`6${token.slice(1)}`).slice(2)).not.toBe(hash.slice(2))
    expect(hashSecret(generateSecretToken())).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('accepts routed secrets of the right shape only', () => {
    const bare = generateSecretToken()
    expect(isSecretTokenShape(`1.${bare}`)).toBe(true)
    expect(isSecretTokenShape(`abcd.${bare}`)).toBe(true)
    expect(isSecretTokenShape(`abcde.${bare}`)).toBe(false)
    expect(isSecretTokenShape(`.${bare}`)).toBe(false)
    expect(isSecretTokenShape(`1.${bare}x`)).toBe(false)
  })
})

describe('Redis Cluster groups', () => {
  it('reads a group from its route, and nothing from a route it did not make', () => {
    for (let group = 0; group < GROUP_COUNT; group++) expect(groupOfRoute(String(group))).toBe(group)
    for (const route of [null, '32', '99', '01', 'a', '1a'])
      expect(groupOfRoute(route), String(route)).toBeNull()
  })

  it('spreads user ids over every group, none with more than twice its share', () => {
    const counts = new Array<number>(GROUP_COUNT).fill(0)
    for (let i = 0; i < 32_000; i++) counts[groupOf(generatePublicId())]!++
    expect(Math.min(...counts)).toBeGreaterThan(500)
    expect(Math.max(...counts)).toBeLessThan(2000)
  })
})
