/** The strategy lab's population model: seeded (the same numbers every run) and each strategy's rules. */
import { describe, expect, it } from 'vitest'
import { DAY, type StrategyRules, reLogins, simulate } from '../../bench/lab/model.js'

const SHORT: StrategyRules = { name: 'short', kind: 'token', lifetime: 900 }
const SLIDING: StrategyRules = { name: 'sliding', kind: 'session', lifetime: 1800, absolute: 12 * 3600 }
const MEMORY: StrategyRules = { ...SLIDING, name: 'memory', lostOnRestart: true }

describe('strategy lab model', () => {
  it('counts the sign-ins a strategy forces, after the first', () => {
    const hour = 3600
    // Two visits an hour apart, the first 20 minutes long.
    const visits: Array<[number, number]> = [
      [10 * hour, 10 * hour + 1200],
      [11 * hour, 11 * hour + 60],
    ]
    expect(reLogins(SHORT, visits)).toBe(2) // expires mid-visit (at 15 min), and again before the second
    expect(reLogins(SLIDING, visits)).toBe(1) // idle 40 min > 30 min
    expect(reLogins({ ...SLIDING, lifetime: 3600 }, visits)).toBe(0)
    // Across the 04:00 restart: only the in-memory store loses the session.
    const overnight: Array<[number, number]> = [
      [3 * hour, 3 * hour + 60],
      [4 * hour + 600, 4 * hour + 660],
    ]
    expect(reLogins({ ...SLIDING, lifetime: 2 * hour }, overnight)).toBe(0)
    expect(reLogins({ ...MEMORY, lifetime: 2 * hour }, overnight)).toBe(1)
  })

  it('models the same population every run, and orders the strategies as the notes say', () => {
    const rules: StrategyRules[] = [
      SHORT,
      { name: 'long', kind: 'token', lifetime: 30 * DAY },
      { name: 'refresh', kind: 'session', lifetime: 14 * DAY, absolute: 30 * DAY },
      SLIDING,
    ]
    const first = simulate(rules, 300, 30)
    expect(simulate(rules, 300, 30)).toEqual(first)
    const [short, long, refresh, sliding] = first.reLoginsPerUserDay as [number, number, number, number]
    expect(short).toBeGreaterThan(sliding)
    expect(sliding).toBeGreaterThan(refresh)
    expect(long).toBeLessThanOrEqual(refresh)
    expect(first.requestsPerUserDay).toBeGreaterThan(10)
  })
})
