/** The fixed rate-limit window holding `now`, shared by every adapter so they all count the same windows. */

/** The counter id for `key` in the window of `windowSeconds` holding `now`, and the second that window ends. */
export function rateLimitSlot(
  key: string,
  windowSeconds: number,
  now: number,
): { id: string; endsAt: number } {
  const window = Math.floor(now / windowSeconds)
  return { id: `${key}:${windowSeconds}:${window}`, endsAt: (window + 1) * windowSeconds }
}
