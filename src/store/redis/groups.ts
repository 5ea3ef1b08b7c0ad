/**
 * How the Cluster store (`sharded.ts`) spreads users over a Redis Cluster: in {@link GROUP_COUNT} groups, each a
 * hash tag, so each group's keys share one slot and every script runs within one group. A user's records (its
 * sessions, refresh families, one-time tokens, epoch, identities, factors, consents) live in the user's home
 * group, and the secrets and family ids that lead to them carry that group as their route
 * (`core/secret-route.ts`).
 *
 * The tags were chosen so that group `i`'s slot falls in the `i`-th of 32 equal slot ranges: however a Cluster
 * splits its 16,384 slots into contiguous ranges (as `redis-cli --cluster create` does), each master holds its
 * proportional share of groups (11, 10 and 11 on three masters). `test/integration/redis-cluster.test.ts`
 * checks the slots with the server's own CLUSTER KEYSLOT. The count is fixed: a user's home group is derived
 * from its id, so a different count would lose every user.
 */
import { hash } from 'node:crypto'

export const GROUP_COUNT = 32

/** Hash tags (without braces) whose CLUSTER KEYSLOT values climb through the slot ranges, one per group. */
// prettier-ignore
export const GROUP_TAGS: readonly string[] = Object.freeze([
  '0-63', '1-51', '2-10', '3-22', '4-70', '5-42', '6-113', '7-31', '8-53', '9-61', '10-73', '11-41', '12-71',
  '13-43', '14-60', '15-52', '16-61', '17-53', '18-41', '19-2', '20-61', '21-53', '22-0', '23-20', '24-73',
  '25-41', '26-152', '27-3', '28-51', '29-63', '30-31', '31-121',
])

/** The slots of {@link GROUP_TAGS}, as CLUSTER KEYSLOT computes them (the test checks them against Redis). */
// prettier-ignore
export const GROUP_SLOTS: readonly number[] = Object.freeze([
  381, 728, 1505, 1604, 2270, 2939, 3490, 4071, 4589, 4680, 5363, 5974, 6617, 6780, 7504, 7925, 8217, 9148,
  9249, 10178, 10578, 10999, 11437, 11883, 12496, 13173, 13707, 14142, 14786, 14951, 15606, 15883,
])

/** The group of a text that names a record (a user id, an email key, a claim key): stable and well spread. */
export function groupOf(text: string): number {
  return hash('sha1', text, 'buffer').readUInt32BE(0) % GROUP_COUNT
}

/** The group a route names (`core/secret-route.ts`), or null when it names none. */
export function groupOfRoute(route: string | null): number | null {
  if (route === null || !/^(?:0|[1-9][0-9]?)$/.test(route)) return null
  const group = Number(route)
  return group < GROUP_COUNT ? group : null
}

/** The key prefix of group `group` under the store's `prefix`: the group's hash tag comes first. */
export function groupPrefix(prefix: string, group: number): string {
  return `${prefix}{${GROUP_TAGS[group]!}}:`
}
