/**
 * A routing part on bearer secrets and the ids a store finds records by (refresh family ids): `<route>.<value>`.
 * A store that spreads users over shards (the Redis Cluster store) keeps a user's records on the user's home
 * shard, and must find that home from the secret alone, before it knows the user: the route names it. Stores
 * that need none give no route, and their secrets stay bare.
 *
 * The route is not secret and not trusted: a forged one only sends the lookup to another shard, where the
 * secret's hash is not found. A bare value never holds a `.` (base64url has none), so a value without one is
 * unrouted, as every secret issued before routes existed is.
 */

/** A route: a few lower-case letters or digits. */
const ROUTE_PATTERN = /^[0-9a-z]{1,4}$/

/** The longest route, so that a value's `.` further in is not taken for the separator. */
export const MAX_ROUTE_LENGTH = 4

/** `value` with `route` in front; `value` itself when `route` is null. Throws on a route of the wrong shape. */
export function withRoute(route: string | null, value: string): string {
  if (route === null) return value
  if (!ROUTE_PATTERN.test(route)) throw new RangeError(`"${route}" is not a secret route.`)
  return `${route}.${value}`
}

/** The route `text` carries, or null for an unrouted one. */
export function routeOf(text: string): string | null {
  const dot = text.indexOf('.')
  if (dot < 1 || dot > MAX_ROUTE_LENGTH) return null
  const route = text.slice(0, dot)
  return ROUTE_PATTERN.test(route) ? route : null
}
