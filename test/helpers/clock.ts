/** A clock tests move by hand, so expiry edges are hit exactly and no test sleeps. */
import type { Clock } from '../../src/core/clock.js'

export interface ManualClock extends Clock {
  advance(seconds: number): void
  set(nowSeconds: number): void
}

export function createManualClock(startSeconds = 1_800_000_000): ManualClock {
  let now = startSeconds
  return {
    nowSeconds: () => now,
    advance(seconds) {
      now += seconds
    },
    set(nowSeconds) {
      now = nowSeconds
    },
  }
}
