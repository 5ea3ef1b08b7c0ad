import { describe, expect, it } from 'vitest'
import { type FamilyState, decideRefresh, startFamilyTimes } from '../../src/core/refresh-rules.js'
import { resolveTokenPolicy } from '../../src/core/token-policy.js'

const T0 = 1_800_000_000
const IDLE = 3600
const ABSOLUTE = 86_400
const GRACE = 10
const policy = resolveTokenPolicy({
  issuer: 'https://auth.example',
  audience: 'https://api.example',
  refreshIdleSeconds: IDLE,
  refreshAbsoluteSeconds: ABSOLUTE,
  refreshGraceSeconds: GRACE,
})

/** A live family started at T0, at generation `generation`, last rotated at `rotatedAt`. */
function family(overrides: Partial<FamilyState> = {}): FamilyState {
  return {
    ...startFamilyTimes(T0, policy),
    generation: 0,
    rotatedAt: null,
    revokedAt: null,
    ...overrides,
  }
}

describe('startFamilyTimes', () => {
  it('starts now, idles out after the idle timeout, ends at the absolute timeout', () => {
    expect(startFamilyTimes(T0, policy)).toEqual({
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: T0 + IDLE,
      absoluteExpiresAt: T0 + ABSOLUTE,
    })
  })

  it('caps expiresAt at the absolute expiry when idle equals absolute', () => {
    const tight = { refreshIdleSeconds: 600, refreshAbsoluteSeconds: 600, refreshGraceSeconds: 0 }
    expect(startFamilyTimes(T0, tight)).toEqual({
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: T0 + 600,
      absoluteExpiresAt: T0 + 600,
    })
  })

  it('caps expiresAt at the absolute expiry for a policy with idle above absolute', () => {
    // resolveTokenPolicy refuses this, but the rules must still never let idle outlive absolute.
    const odd = { refreshIdleSeconds: 900, refreshAbsoluteSeconds: 600, refreshGraceSeconds: 0 }
    expect(startFamilyTimes(T0, odd)).toEqual({
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: T0 + 600,
      absoluteExpiresAt: T0 + 600,
    })
  })
})

describe('decideRefresh', () => {
  describe('the current generation', () => {
    it('rotates, with a fresh idle window from now', () => {
      expect(decideRefresh(family(), 0, T0 + 100, policy)).toEqual({
        action: 'rotate',
        expiresAt: T0 + 100 + IDLE,
      })
      const later = family({ generation: 5, lastUsedAt: T0 + 1000, expiresAt: T0 + 1000 + IDLE })
      expect(decideRefresh(later, 5, T0 + 2000, policy)).toEqual({
        action: 'rotate',
        expiresAt: T0 + 2000 + IDLE,
      })
    })

    it('caps the new expiresAt at the absolute expiry', () => {
      const now = T0 + ABSOLUTE - 100
      const late = family({ generation: 3, lastUsedAt: now - 10, expiresAt: now - 10 + IDLE })
      expect(decideRefresh(late, 3, now, policy)).toEqual({ action: 'rotate', expiresAt: T0 + ABSOLUTE })
    })

    it('rotates even when rotatedAt is long past (grace only matters for the previous generation)', () => {
      const f = family({ generation: 2, rotatedAt: T0, lastUsedAt: T0 + 1000, expiresAt: T0 + 1000 + IDLE })
      expect(decideRefresh(f, 2, T0 + 1500, policy)).toEqual({
        action: 'rotate',
        expiresAt: T0 + 1500 + IDLE,
      })
    })
  })

  describe('the previous generation (replay)', () => {
    const rotatedAt = T0 + 500
    const rotated = family({ generation: 4, rotatedAt, lastUsedAt: rotatedAt, expiresAt: rotatedAt + IDLE })

    it('replays at the moment of rotation and exactly at the end of the grace window', () => {
      expect(decideRefresh(rotated, 3, rotatedAt, policy)).toEqual({ action: 'replay' })
      expect(decideRefresh(rotated, 3, rotatedAt + GRACE - 1, policy)).toEqual({ action: 'replay' })
      expect(decideRefresh(rotated, 3, rotatedAt + GRACE, policy)).toEqual({ action: 'replay' })
    })

    it('revokes the family one second after the grace window', () => {
      expect(decideRefresh(rotated, 3, rotatedAt + GRACE + 1, policy)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
    })

    it('revokes for generation - 2 even within the grace window', () => {
      expect(decideRefresh(rotated, 2, rotatedAt, policy)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
      expect(decideRefresh(rotated, 0, rotatedAt + 1, policy)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
    })

    it('revokes for an older generation when the family never rotated (rotatedAt null)', () => {
      const f = family({ generation: 1, rotatedAt: null })
      expect(decideRefresh(f, 0, T0 + 1, policy)).toEqual({ action: 'revoke', reason: 'refresh_token_reuse' })
    })

    it('does not read a null rotatedAt as time 0 (no replay near the epoch)', () => {
      const early = { createdAt: 0, lastUsedAt: 0, expiresAt: IDLE, absoluteExpiresAt: ABSOLUTE }
      const f = { ...early, generation: 1, rotatedAt: null, revokedAt: null }
      expect(decideRefresh(f, 0, GRACE - 1, policy)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
      expect(decideRefresh({ ...f, rotatedAt: 0 }, 0, GRACE - 1, policy)).toEqual({ action: 'replay' })
    })

    it('revokes for a generation the family has not reached', () => {
      expect(decideRefresh(rotated, 5, rotatedAt, policy)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
    })

    it('replays with no grace only at the very second of rotation', () => {
      const noGrace = { ...policy, refreshGraceSeconds: 0 }
      expect(decideRefresh(rotated, 3, rotatedAt, noGrace)).toEqual({ action: 'replay' })
      expect(decideRefresh(rotated, 3, rotatedAt + 1, noGrace)).toEqual({
        action: 'revoke',
        reason: 'refresh_token_reuse',
      })
    })
  })

  describe('a revoked family', () => {
    const revoked = family({ generation: 2, rotatedAt: T0 + 10, revokedAt: T0 + 20 })

    it('rejects every generation with family_revoked, the current one included', () => {
      for (const presented of [2, 1, 0, 3]) {
        expect(decideRefresh(revoked, presented, T0 + 20, policy)).toEqual({
          action: 'reject',
          reason: 'family_revoked',
        })
      }
    })

    it('reports family_revoked rather than refresh_expired once it has also expired', () => {
      expect(decideRefresh(revoked, 2, T0 + ABSOLUTE + 1, policy)).toEqual({
        action: 'reject',
        reason: 'family_revoked',
      })
    })
  })

  describe('expiry', () => {
    it('rotates one second before expiresAt and rejects from expiresAt on (idle)', () => {
      const f = family()
      expect(decideRefresh(f, 0, T0 + IDLE - 1, policy)).toEqual({
        action: 'rotate',
        expiresAt: T0 + IDLE - 1 + IDLE,
      })
      expect(decideRefresh(f, 0, T0 + IDLE, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
      expect(decideRefresh(f, 0, T0 + IDLE + 1, policy)).toEqual({
        action: 'reject',
        reason: 'refresh_expired',
      })
    })

    it('rejects an idle-expired family before considering replay or reuse', () => {
      const rotatedAt = T0 + IDLE - 5
      const f = family({ generation: 1, rotatedAt, lastUsedAt: T0, expiresAt: T0 + IDLE })
      expect(decideRefresh(f, 0, rotatedAt + 4, policy)).toEqual({ action: 'replay' })
      expect(decideRefresh(f, 0, T0 + IDLE, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
      expect(decideRefresh(f, 1, T0 + IDLE, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })

    it('rotates one second before absoluteExpiresAt and rejects from it on, however recently used', () => {
      const abs = T0 + ABSOLUTE
      const f = family({ generation: 9, lastUsedAt: abs - 60, expiresAt: abs, rotatedAt: abs - 60 })
      expect(decideRefresh(f, 9, abs - 1, policy)).toEqual({ action: 'rotate', expiresAt: abs })
      expect(decideRefresh(f, 9, abs, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
      expect(decideRefresh(f, 9, abs + 1, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })

    it('rejects at the stored absoluteExpiresAt even when the stored expiresAt lies beyond it', () => {
      // A record whose expiresAt was written uncapped: the absolute limit still wins.
      const abs = T0 + ABSOLUTE
      const f = family({ generation: 1, lastUsedAt: abs - 60, expiresAt: abs - 60 + IDLE })
      expect(decideRefresh(f, 1, abs - 1, policy)).toEqual({ action: 'rotate', expiresAt: abs })
      expect(decideRefresh(f, 1, abs, policy)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })
  })

  describe('when the policy changed after the family was written', () => {
    it('applies a shortened absolute timeout to old families at once, and caps rotations by it', () => {
      const shorter = { ...policy, refreshAbsoluteSeconds: 7200 }
      const f = family({ generation: 1, lastUsedAt: T0 + 7000, expiresAt: T0 + 7000 + IDLE })
      expect(f.absoluteExpiresAt).toBe(T0 + ABSOLUTE)
      expect(decideRefresh(f, 1, T0 + 7199, shorter)).toEqual({ action: 'rotate', expiresAt: T0 + 7200 })
      expect(decideRefresh(f, 1, T0 + 7200, shorter)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })

    it('applies a shortened idle timeout to old families at once', () => {
      const shorter = { ...policy, refreshIdleSeconds: 600 }
      const f = family()
      expect(f.expiresAt).toBe(T0 + IDLE)
      expect(decideRefresh(f, 0, T0 + 599, shorter)).toEqual({ action: 'rotate', expiresAt: T0 + 599 + 600 })
      expect(decideRefresh(f, 0, T0 + 600, shorter)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })

    it('does not extend an old family under a longer absolute timeout', () => {
      const longer = { ...policy, refreshAbsoluteSeconds: 2 * ABSOLUTE }
      const abs = T0 + ABSOLUTE
      const f = family({ generation: 1, lastUsedAt: abs - 60, expiresAt: abs })
      expect(decideRefresh(f, 1, abs - 1, longer)).toEqual({ action: 'rotate', expiresAt: abs })
      expect(decideRefresh(f, 1, abs, longer)).toEqual({ action: 'reject', reason: 'refresh_expired' })
    })

    it('does not revive a family past its stored expiresAt under a longer idle timeout', () => {
      const longer = { ...policy, refreshIdleSeconds: 2 * IDLE }
      expect(decideRefresh(family(), 0, T0 + IDLE, longer)).toEqual({
        action: 'reject',
        reason: 'refresh_expired',
      })
    })
  })
})
