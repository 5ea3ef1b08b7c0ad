/**
 * Time is passed in, never read inside the rules: every core function takes `now` (whole Unix seconds) or a
 * {@link Clock}. Tests then drive expiry edges exactly, with no fake timers.
 */

/** A source of the current time in whole Unix seconds. */
export interface Clock {
  nowSeconds(): number
}

/** The wall clock. */
export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
}
