import { describe, expect, it } from 'vitest'
import { RevocationList } from '../../src/core/revocation-list.js'

const T0 = 1_800_000_000

describe('RevocationList', () => {
  it('starts empty and revokes nothing', () => {
    const list = new RevocationList()
    expect(list.size).toBe(0)
    expect(list.isRevoked({ jti: 'j1', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(false)
  })

  it('revokes one token by jti, not its siblings in the same family', () => {
    const list = new RevocationList()
    list.add('jti', 'j1', T0 + 100)
    expect(list.isRevoked({ jti: 'j1', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.isRevoked({ jti: 'j2', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(false)
    expect(list.size).toBe(1)
  })

  it('revokes every token of a family by sid', () => {
    const list = new RevocationList()
    list.add('sid', 's1', T0 + 100)
    expect(list.isRevoked({ jti: 'j1', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.isRevoked({ jti: 'j2', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.isRevoked({ jti: 'j3', sid: 's2', sub: 'u1', iat: T0 }, T0)).toBe(false)
  })

  it('keeps the two kinds apart: a jti entry does not match a sid of the same value, nor the reverse', () => {
    const list = new RevocationList()
    list.add('jti', 'x', T0 + 100)
    expect(list.isRevoked({ jti: 'y', sid: 'x', sub: 'u1', iat: T0 }, T0)).toBe(false)
    list.add('sid', 'y', T0 + 100)
    expect(list.isRevoked({ jti: 'y', sid: 'z', sub: 'u1', iat: T0 }, T0)).toBe(false)
    expect(list.isRevoked({ jti: 'x', sid: 'z', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.isRevoked({ jti: 'z', sid: 'y', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.size).toBe(2)
  })

  it('revokes while expiresAt > now, and not from expiresAt on', () => {
    const list = new RevocationList()
    list.add('jti', 'j1', T0 + 100)
    list.add('sid', 's1', T0 + 100)
    expect(list.isRevoked({ jti: 'j1', sid: 'other', sub: 'u1', iat: T0 }, T0 + 99)).toBe(true)
    expect(list.isRevoked({ jti: 'j1', sid: 'other', sub: 'u1', iat: T0 }, T0 + 100)).toBe(false)
    expect(list.isRevoked({ jti: 'other', sid: 's1', sub: 'u1', iat: T0 }, T0 + 99)).toBe(true)
    expect(list.isRevoked({ jti: 'other', sid: 's1', sub: 'u1', iat: T0 }, T0 + 100)).toBe(false)
    expect(list.isRevoked({ jti: 'other', sid: 's1', sub: 'u1', iat: T0 }, T0 + 101)).toBe(false)
  })

  it('ignores an entry that is already expired when added', () => {
    const list = new RevocationList()
    list.add('jti', 'j1', T0)
    expect(list.isRevoked({ jti: 'j1', sid: 's1', sub: 'u1', iat: T0 }, T0)).toBe(false)
  })

  it('extends an entry when the same value is added with a later expiry', () => {
    const list = new RevocationList()
    list.add('sid', 's1', T0 + 100)
    list.add('sid', 's1', T0 + 200)
    expect(list.size).toBe(1)
    expect(list.isRevoked({ jti: 'j', sid: 's1', sub: 'u1', iat: T0 }, T0 + 199)).toBe(true)
    expect(list.isRevoked({ jti: 'j', sid: 's1', sub: 'u1', iat: T0 }, T0 + 200)).toBe(false)
  })

  it('does not shorten an entry when the same value is added with an earlier expiry', () => {
    const list = new RevocationList()
    list.add('jti', 'j1', T0 + 200)
    list.add('jti', 'j1', T0 + 100)
    expect(list.size).toBe(1)
    expect(list.isRevoked({ jti: 'j1', sid: 's', sub: 'u1', iat: T0 }, T0 + 150)).toBe(true)
    expect(list.isRevoked({ jti: 'j1', sid: 's', sub: 'u1', iat: T0 }, T0 + 199)).toBe(true)
    expect(list.isRevoked({ jti: 'j1', sid: 's', sub: 'u1', iat: T0 }, T0 + 200)).toBe(false)
  })

  it('prunes entries expired at or before now, counts them, and keeps the rest', () => {
    const list = new RevocationList()
    list.add('jti', 'old', T0 - 1)
    list.add('jti', 'edge', T0)
    list.add('jti', 'live', T0 + 1)
    list.add('sid', 'old-family', T0 - 50)
    list.add('sid', 'live-family', T0 + 50)
    expect(list.size).toBe(5)

    expect(list.prune(T0)).toBe(3)
    expect(list.size).toBe(2)
    expect(list.isRevoked({ jti: 'live', sid: 'x', sub: 'u1', iat: T0 }, T0)).toBe(true)
    expect(list.isRevoked({ jti: 'x', sid: 'live-family', sub: 'u1', iat: T0 }, T0)).toBe(true)

    expect(list.prune(T0)).toBe(0)
    expect(list.size).toBe(2)

    expect(list.prune(T0 + 50)).toBe(2)
    expect(list.size).toBe(0)
  })

  it('prunes an extended entry only at its later expiry', () => {
    const list = new RevocationList()
    list.add('sid', 's1', T0 + 10)
    list.add('sid', 's1', T0 + 20)
    expect(list.prune(T0 + 10)).toBe(0)
    expect(list.size).toBe(1)
    expect(list.prune(T0 + 20)).toBe(1)
    expect(list.size).toBe(0)
  })

  it('lets a pruned value be revoked again', () => {
    const list = new RevocationList()
    list.add('jti', 'j1', T0 + 10)
    expect(list.prune(T0 + 10)).toBe(1)
    list.add('jti', 'j1', T0 + 30)
    expect(list.isRevoked({ jti: 'j1', sid: 's', sub: 'u1', iat: T0 }, T0 + 20)).toBe(true)
  })

  describe('user epochs', () => {
    const token = (sub: string, iat: number) => ({ jti: `j-${iat}`, sid: 's', sub, iat })

    it("kills that user's tokens issued before the epoch, not those of its own second or later", () => {
      const list = new RevocationList()
      list.setEpoch('u1', T0, T0 + 900)
      expect(list.isRevoked(token('u1', T0 - 1), T0)).toBe(true)
      expect(list.isRevoked(token('u1', T0), T0)).toBe(false)
      expect(list.isRevoked(token('u1', T0 + 5), T0 + 5)).toBe(false)
      expect(list.isRevoked(token('u2', T0 - 1), T0)).toBe(false)
    })

    it('ends at its expiry, keeps the later epoch and the later expiry, and is pruned', () => {
      const list = new RevocationList()
      list.setEpoch('u1', T0 + 10, T0 + 100)
      list.setEpoch('u1', T0, T0 + 200)
      expect(list.isRevoked(token('u1', T0 + 5), T0 + 150)).toBe(true)
      expect(list.isRevoked(token('u1', T0 + 5), T0 + 200)).toBe(false)
      expect(list.size).toBe(1)
      expect(list.prune(T0 + 200)).toBe(1)
      expect(list.size).toBe(0)
    })
  })
})
