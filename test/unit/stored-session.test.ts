import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compactIp,
  expandIp,
  toSessionRecord,
  toStoredSession,
} from '../../src/store/memory/stored-session.js'
import { makeSession } from '../contract/store-contract.js'

const octet = fc.integer({ min: 0, max: 255 })
const dottedQuad = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'))

describe('IPv4 addresses held as numbers in the memory store', () => {
  it('keeps every canonical dotted quad as a 32-bit integer and gives back the same text', () => {
    fc.assert(
      fc.property(dottedQuad, (ip) => {
        const compact = compactIp(ip)
        expect(typeof compact).toBe('number')
        expect(Number.isInteger(compact) && (compact as number) === ((compact as number) | 0)).toBe(true)
        expect(expandIp(compact)).toBe(ip)
      }),
      { numRuns: 2000 },
    )
    for (const ip of ['0.0.0.0', '255.255.255.255', '127.0.0.1', '128.0.0.0', '10.0.0.255']) {
      expect(expandIp(compactIp(ip))).toBe(ip)
    }
  })

  it.each([
    '010.0.0.1',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    ' 1.2.3.4',
    '1.2.3.4\n',
    '::1',
    '::ffff:10.0.0.1',
    '1.2.3.-4',
    '',
  ])('keeps %j as the string it is', (ip) => {
    expect(compactIp(ip)).toBe(ip)
    expect(expandIp(compactIp(ip))).toBe(ip)
  })

  it('gives back any string at all unchanged, and null as null', () => {
    fc.assert(
      fc.property(fc.string(), (ip) => {
        expect(expandIp(compactIp(ip))).toBe(ip)
      }),
    )
    expect(expandIp(compactIp(null))).toBeNull()
  })

  it('stores a session without its token hash and reads back an equal, separate record', () => {
    const session = makeSession('UUUUUUUUUUUUUUUUUUUUUU', { ip: '203.0.113.7' })
    const stored = toStoredSession(session, session.userAgent)
    expect(Object.keys(stored)).not.toContain('tokenHash')
    expect(stored.ip).toBe(compactIp('203.0.113.7'))
    const record = toSessionRecord(session.tokenHash, stored)
    expect(record).toEqual(session)
    record.lastSeenAt = 0
    expect(stored.lastSeenAt).toBe(session.lastSeenAt)
  })
})
