import { describe, expect, it } from 'vitest'
import { resolveSessionPolicy } from '../../src/core/session-policy.js'
import { type SessionTimes, checkSessionTimes, startSessionTimes } from '../../src/core/session-rules.js'
import { createManualClock } from '../helpers/clock.js'

const T0 = 1_800_000_000
const policy = resolveSessionPolicy({
  idleTimeoutSeconds: 1800,
  absoluteTimeoutSeconds: 43_200,
  renewAfterSeconds: 60,
})

describe('startSessionTimes', () => {
  it('starts now, idles out after the idle timeout, ends at the absolute timeout', () => {
    expect(startSessionTimes(T0, policy)).toEqual({
      createdAt: T0,
      lastSeenAt: T0,
      expiresAt: T0 + 1800,
      absoluteExpiresAt: T0 + 43_200,
    })
  })

  it('caps expiresAt at the absolute expiry when idle equals absolute', () => {
    const tight = resolveSessionPolicy({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 600 })
    expect(startSessionTimes(T0, tight)).toEqual({
      createdAt: T0,
      lastSeenAt: T0,
      expiresAt: T0 + 600,
      absoluteExpiresAt: T0 + 600,
    })
  })
})

describe('checkSessionTimes', () => {
  const fresh = startSessionTimes(T0, policy)

  it('is active without renewal right after sign-in', () => {
    expect(checkSessionTimes(fresh, T0, policy)).toEqual({ status: 'active', renewal: null })
  })

  it('renews only once renewAfterSeconds have passed since lastSeenAt', () => {
    expect(checkSessionTimes(fresh, T0 + 59, policy)).toEqual({ status: 'active', renewal: null })
    expect(checkSessionTimes(fresh, T0 + 60, policy)).toEqual({
      status: 'active',
      renewal: { lastSeenAt: T0 + 60, expiresAt: T0 + 1860 },
    })
  })

  it('is active one second before expiresAt and idle-expired at expiresAt', () => {
    expect(checkSessionTimes(fresh, fresh.expiresAt - 1, policy)).toEqual({
      status: 'active',
      renewal: { lastSeenAt: T0 + 1799, expiresAt: T0 + 1799 + 1800 },
    })
    expect(checkSessionTimes(fresh, fresh.expiresAt, policy)).toEqual({
      status: 'expired',
      reason: 'session_idle_timeout',
    })
    expect(checkSessionTimes(fresh, fresh.expiresAt + 1000, policy)).toEqual({
      status: 'expired',
      reason: 'session_idle_timeout',
    })
  })

  describe('near the absolute limit', () => {
    const abs = T0 + 43_200
    const late: SessionTimes = {
      createdAt: T0,
      lastSeenAt: abs - 100,
      expiresAt: abs,
      absoluteExpiresAt: abs,
    }

    it('is active one second before absoluteExpiresAt, and renewal never extends past it', () => {
      expect(checkSessionTimes(late, abs - 1, policy)).toEqual({
        status: 'active',
        renewal: { lastSeenAt: abs - 1, expiresAt: abs },
      })
    })

    it('is absolute-expired at absoluteExpiresAt, even though idle also ends there', () => {
      expect(checkSessionTimes(late, abs, policy)).toEqual({
        status: 'expired',
        reason: 'session_absolute_timeout',
      })
      expect(checkSessionTimes(late, abs + 1, policy)).toEqual({
        status: 'expired',
        reason: 'session_absolute_timeout',
      })
    })

    it('reports absolute rather than idle when both have passed', () => {
      const idleLongAgo: SessionTimes = { ...late, lastSeenAt: T0, expiresAt: T0 + 1800 }
      expect(checkSessionTimes(idleLongAgo, abs + 5, policy)).toEqual({
        status: 'expired',
        reason: 'session_absolute_timeout',
      })
    })

    it('caps a renewal whose idle window would cross the absolute limit', () => {
      const times: SessionTimes = {
        createdAt: T0,
        lastSeenAt: abs - 1000,
        expiresAt: abs - 1000 + 1800,
        absoluteExpiresAt: abs,
      }
      expect(checkSessionTimes(times, abs - 900, policy)).toEqual({
        status: 'active',
        renewal: { lastSeenAt: abs - 900, expiresAt: abs },
      })
    })
  })

  describe('when the policy changed after the record was written', () => {
    it('applies a shortened idle timeout to old records at once', () => {
      const shorter = resolveSessionPolicy({ idleTimeoutSeconds: 600, renewAfterSeconds: 60 })
      expect(fresh.expiresAt).toBe(T0 + 1800)
      expect(checkSessionTimes(fresh, T0 + 599, shorter)).toEqual({
        status: 'active',
        renewal: { lastSeenAt: T0 + 599, expiresAt: T0 + 599 + 600 },
      })
      expect(checkSessionTimes(fresh, T0 + 600, shorter)).toEqual({
        status: 'expired',
        reason: 'session_idle_timeout',
      })
    })

    it('applies a shortened absolute timeout to old records at once, and caps renewals by it', () => {
      const shorter = resolveSessionPolicy({ idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 3600 })
      expect(fresh.absoluteExpiresAt).toBe(T0 + 43_200)
      expect(
        checkSessionTimes({ ...fresh, lastSeenAt: T0 + 3000, expiresAt: T0 + 4800 }, T0 + 3599, shorter),
      ).toEqual({
        status: 'active',
        renewal: { lastSeenAt: T0 + 3599, expiresAt: T0 + 3600 },
      })
      expect(
        checkSessionTimes({ ...fresh, lastSeenAt: T0 + 3599, expiresAt: T0 + 5399 }, T0 + 3600, shorter),
      ).toEqual({
        status: 'expired',
        reason: 'session_absolute_timeout',
      })
    })

    it('does not revive a record past its stored expiresAt under a longer idle timeout', () => {
      const longer = resolveSessionPolicy({ idleTimeoutSeconds: 3600 })
      expect(checkSessionTimes(fresh, T0 + 1800, longer)).toEqual({
        status: 'expired',
        reason: 'session_idle_timeout',
      })
    })
  })

  it('keeps an active user signed in until the absolute limit, then ends the session', () => {
    const clock = createManualClock(T0)
    let times = startSessionTimes(clock.nowSeconds(), policy)
    let requests = 0
    for (;;) {
      clock.advance(1700) // always inside the idle window
      const check = checkSessionTimes(times, clock.nowSeconds(), policy)
      if (check.status === 'expired') {
        expect(check.reason).toBe('session_absolute_timeout')
        break
      }
      requests++
      expect(check.renewal).not.toBeNull()
      if (check.renewal) {
        expect(check.renewal.expiresAt).toBeLessThanOrEqual(times.absoluteExpiresAt)
        times = { ...times, ...check.renewal }
      }
    }
    expect(clock.nowSeconds()).toBeGreaterThanOrEqual(T0 + 43_200)
    expect(clock.nowSeconds() - 1700).toBeLessThan(T0 + 43_200)
    expect(requests).toBe(Math.floor((43_200 - 1) / 1700))
  })

  it('ends an inactive session exactly idleTimeoutSeconds after the last renewal', () => {
    const clock = createManualClock(T0)
    let times = startSessionTimes(clock.nowSeconds(), policy)
    clock.advance(100)
    const check = checkSessionTimes(times, clock.nowSeconds(), policy)
    if (check.status !== 'active' || !check.renewal) throw new Error('expected a renewal')
    times = { ...times, ...check.renewal }
    clock.advance(1799)
    expect(checkSessionTimes(times, clock.nowSeconds(), policy).status).toBe('active')
    clock.advance(1)
    expect(checkSessionTimes(times, clock.nowSeconds(), policy)).toEqual({
      status: 'expired',
      reason: 'session_idle_timeout',
    })
  })

  it('does not renew between throttle points, so the stored lastSeenAt lags by less than renewAfterSeconds', () => {
    const renewed = { ...fresh, lastSeenAt: T0 + 60, expiresAt: T0 + 1860 }
    expect(checkSessionTimes(renewed, T0 + 119, policy)).toEqual({ status: 'active', renewal: null })
    expect(checkSessionTimes(renewed, T0 + 120, policy)).toEqual({
      status: 'active',
      renewal: { lastSeenAt: T0 + 120, expiresAt: T0 + 1920 },
    })
  })
})
