/**
 * The strategy lab's user model and the rules of each strategy, as plain functions: a seeded population of
 * users makes visits over 30 days, each visit a run of requests; each strategy decides, request by request,
 * whether the credential the client holds still works, and counts the sign-ins it forces. Nothing here does
 * I/O; the measured half of the lab (req/s, store operations, header bytes) is in `run.ts`.
 *
 * The population (chosen to look like a consumer web app, stated so it can be argued with):
 * - 10,000 users over 90 days (so 30-day lifetimes show their steady-state cost); each user's mean visits per
 *   day is drawn log-normally around 2 (light users 0.2/day, heavy ones 10+/day), and each day's count is
 *   Poisson around it;
 * - visits start uniformly between 07:00 and 24:00; a visit lasts a log-normal 8 minutes (median), at most 3 h,
 *   with one request every 20 s while it lasts;
 * - servers restart once a day at 04:00 (a deploy), which only the in-memory store notices.
 */

export const DAY = 86_400

/** A strategy's lifetimes, in seconds. */
export interface StrategyRules {
  name: string
  /** How one credential is judged: by age only (a JWT), or by idle and absolute limits (a session/family). */
  kind: 'token' | 'session'
  /** Token: lifetime. Session: idle limit (activity extends it). */
  lifetime: number
  /** Session: absolute limit. */
  absolute?: number
  /** True when the credential dies with a server restart (state only in one process's memory). */
  lostOnRestart?: boolean
}

/** A small, fast, seeded PRNG (mulberry32), so every run models the same population. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
}

function poisson(next: () => number, mean: number): number {
  const limit = Math.exp(-mean)
  let count = 0
  for (let product = next(); product > limit; product *= next()) count++
  return count
}

/** One user's visits over `days`: [start, end] in seconds from the first midnight, sorted. */
export function userVisits(next: () => number, days: number): Array<[number, number]> {
  const perDay = Math.exp(Math.log(2) + 0.9 * normal(next))
  const visits: Array<[number, number]> = []
  for (let day = 0; day < days; day++) {
    for (let i = poisson(next, perDay); i > 0; i--) {
      const start = day * DAY + 7 * 3600 + next() * 17 * 3600
      const length = Math.min(3 * 3600, 8 * 60 * Math.exp(0.8 * normal(next)))
      visits.push([start, start + length])
    }
  }
  return visits.sort((a, b) => a[0] - b[0])
}

export const REQUEST_INTERVAL = 20
export const RESTART_HOUR = 4 * 3600

/** Sign-ins a strategy forces on one user's visits (the first sign-in of the month is not counted). */
export function reLogins(rules: StrategyRules, visits: ReadonlyArray<readonly [number, number]>): number {
  let logins = 0
  let issuedAt = -Infinity
  let lastSeen = -Infinity
  const valid = (now: number): boolean => {
    if (rules.lostOnRestart && restartBetween(lastSeen, now)) return false
    if (rules.kind === 'token') return now < issuedAt + rules.lifetime
    return now < lastSeen + rules.lifetime && now < issuedAt + (rules.absolute ?? Infinity)
  }
  for (const [start, end] of visits) {
    for (let now = start; now <= end; now += REQUEST_INTERVAL) {
      if (!valid(now)) {
        logins++
        issuedAt = now
      }
      lastSeen = now
    }
  }
  return Math.max(0, logins - 1)
}

/** True when a 04:00 restart falls in (from, to]. */
function restartBetween(from: number, to: number): boolean {
  if (!Number.isFinite(from)) return false
  const firstRestartAfter = Math.floor((from - RESTART_HOUR) / DAY) * DAY + RESTART_HOUR + DAY
  return firstRestartAfter <= to
}

/** Mean re-logins per user-day, and the requests the population made, over `users` users and `days` days. */
export function simulate(
  rules: readonly StrategyRules[],
  users = 10_000,
  days = 90,
  seed = 20261201,
): { reLoginsPerUserDay: number[]; requestsPerUserDay: number } {
  const next = random(seed)
  const totals = rules.map(() => 0)
  let requests = 0
  for (let user = 0; user < users; user++) {
    const visits = userVisits(next, days)
    for (const [start, end] of visits) requests += Math.floor((end - start) / REQUEST_INTERVAL) + 1
    rules.forEach((rule, index) => (totals[index]! += reLogins(rule, visits)))
  }
  return {
    reLoginsPerUserDay: totals.map((total) => total / (users * days)),
    requestsPerUserDay: requests / (users * days),
  }
}
