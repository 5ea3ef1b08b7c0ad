/**
 * Watching cookie sessions through a store failover: what the Sentinel and Cluster tests check the same way.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'

export interface FailoverWatch {
  /** Milliseconds from the kill to the first 503 of the live session. */
  firstRefusalMs: number
  /** Milliseconds from the kill to the live session served again. */
  recoveredMs: number
}

/**
 * Probes a live and a revoked session every `intervalMs` from `killedAt` (a `performance.now()`) until the
 * live one is served again after a 503, for at most `boundMs`. Asserts throughout that the revoked session is
 * never let in and the live one gets 200 or 503 only; at the end, that the dead master was noticed (a 503),
 * that service came back by itself, and that once refused the live session was never served before the
 * recovery (no stale answer from a cache that could not hear the store).
 */
export async function watchFailover(options: {
  killedAt: number
  boundMs: number
  probe: () => Promise<{ live: number; revoked: number }>
  intervalMs?: number
}): Promise<FailoverWatch> {
  const seen: Array<{ at: number; live: number }> = []
  let recoveredAt: number | null = null
  while (performance.now() - options.killedAt < options.boundMs) {
    const { live, revoked } = await options.probe()
    const at = performance.now() - options.killedAt
    expect(revoked, `revoked session at ${at.toFixed(0)} ms`).not.toBe(200)
    expect([200, 503], `live session at ${at.toFixed(0)} ms`).toContain(live)
    seen.push({ at, live })
    if (live === 200 && seen.some((s) => s.live === 503)) {
      recoveredAt = at
      break
    }
    await sleep(options.intervalMs ?? 50)
  }
  const firstRefusal = seen.find((s) => s.live === 503)
  expect(firstRefusal, 'the dead master was noticed').toBeDefined()
  expect(recoveredAt, 'service came back by itself').not.toBeNull()
  expect(seen.slice(seen.indexOf(firstRefusal!), -1).every((s) => s.live === 503)).toBe(true)
  return { firstRefusalMs: firstRefusal!.at, recoveredMs: recoveredAt! }
}
