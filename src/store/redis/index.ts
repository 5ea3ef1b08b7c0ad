/**
 * The Redis store: the central session store many Sesame instances share, with its change feed on pub/sub.
 * Needs Redis 6.2 or later (ZADD GT). Every key starts with `keyPrefix`; `{x}` marks a Cluster hash tag.
 *
 * Key layout (`P` = keyPrefix):
 * | key                        | type   | holds                                        | TTL (EXPIREAT, seconds)         |
 * |----------------------------|--------|----------------------------------------------|---------------------------------|
 * | P user:{id}                | hash   | the user                                     | none: accounts are not sessions |
 * | P user-email:{email}       | string | user id, by exact normalised email           | none                            |
 * | P user-email-key:{key}     | string | user id, by email key (core/email.ts); with  | none                            |
 * |                            |        | the above, the uniqueness check              |                                 |
 * | P identity:{prov:subject}  | hash   | a federated identity                         | none: it belongs to the account |
 * | P user:{id}:identities     | hash   | provider -> subject, the user's identities   | none                            |
 * | P user:{id}:factors        | hash   | lookup key -> sign-in factor, packed         | none: it belongs to the account |
 * |                            |        | (records.ts)                                 |                                 |
 * | P session:{tokenHash}      | string | the session, packed (records.ts)             | expiresAt                       |
 * | P agent:{ref}              | string | a User-Agent text its sessions share         | its longest-lived session's     |
 * |                            |        |                                              | absoluteExpiresAt               |
 * | P user:{id}:sessions       | zset   | token hashes, scored by expiresAt            | its longest-lived member        |
 * | P session-owners-by-expiry | zset   | user ids, scored by their earliest expiresAt | its longest-lived user index's  |
 * | P sessions-by-expiry       | zset   | 0.1's sessions, scored by expiresAt; only    | its longest-lived member        |
 * |                            |        | layout 2 (migrations.ts) reads it, emptying  |                                 |
 * | P family:{id}              | hash   | the refresh family                           | expiresAt (moves on rotation)   |
 * | P family:{id}:tokens       | set    | every token hash issued in the family        | absoluteExpiresAt               |
 * | P refresh:{tokenHash}      | string | `${generation}:${familyId}`                  | the family's absoluteExpiresAt  |
 * | P user:{id}:families       | zset   | family ids, scored by absoluteExpiresAt      | its longest-lived member        |
 * | P families-by-expiry       | zset   | family ids, scored by expiresAt              | its longest-lived member        |
 * | P revocations              | zset   | `${kind}:${value}`, scored by expiresAt      | its longest-lived member        |
 * | P user:{id}:epoch          | string | the user's epoch                             | the epoch's expiresAt           |
 * | P epochs                   | zset   | user ids, scored by their epoch's expiresAt  | its longest-lived member        |
 * | P {keys} / P {keys}:retired| hash   | kid -> key JSON / kid -> retiredAt           | none                            |
 * | P secret:{name}            | string | the secret                                   | none                            |
 * | P layout-version           | string | the layout `migrateRedis` brought P to       | none                            |
 * | P rate:<slot>              | string | a rate-limit count (slot: see rate-window.ts)| its window's end (endsAt)       |
 * | P claim:{key}              | string | a single-use claim: its expiresAt            | expiresAt                       |
 * | P claims-by-expiry         | zset   | claim keys, scored by expiresAt              | its longest-lived member        |
 * | P ott:{tokenHash}          | hash   | a one-time token                             | expiresAt                       |
 * | P user:{id}:ott            | hash   | purpose -> token hash, the user's tokens     | its longest-lived member        |
 * | P otts-by-expiry           | zset   | token hashes, scored by expiresAt            | its longest-lived member        |
 * | P client:{id}              | hash   | an OAuth client                              | none: a registration            |
 * | P clients                  | zset   | client ids, all scored 0 (listed by id)      | none                            |
 * | P client:{id}:consenters   | set    | ids of users with a consent to the client    | none                            |
 * | P user:{id}:consents       | hash   | client id -> the consent (scopes, grantedAt) | none                            |
 * | P session-changes          | string | the number of the last sessions-changed      | none                            |
 * |                            |        | notice (scripts.ts `announce`)               |                                 |
 * Change feed: channel `P changes`. Every script that ends a session or changes a user also counts and publishes
 * a `sessions-changed` notice in the same atomic step (what the session caches of `engine/session-cache.ts`
 * follow).
 *
 * Records are hashes with one field per record field, except sessions, which are packed strings sharing their
 * User-Agent texts (`records.ts`: about 380 bytes per session in all); a null field is absent, numbers are
 * decimal strings (whole seconds round-trip exactly). A record's TTL is capped at its absolute expiry (see
 * `scripts.ts`). Sesame 0.1 stored sessions as hashes and fails (503 store_unavailable) on packed ones: stop
 * every 0.1 instance sharing a prefix before starting this release, and do not roll back while packed sessions
 * live. Layout version 2 (`migrations.ts`, run at start and by `sesame migrate`) converts 0.1's sessions, which
 * stay valid; the live scripts know the packed layout only. A hash session met anyway (a prefix nobody
 * migrated: SESAME_MIGRATE_ON_START=false and no `sesame migrate`, or a 0.1 instance still writing) fails
 * closed: reads and renewals find no session (the cookie gets 401 and signs in again), lists leave it out,
 * deletes remove it, and the store warns once (SESAME_W005).
 *
 * Operational choices:
 * - Nothing live is ever found by KEYS or SCAN (only the one-off layout steps of `migrations.ts` SCAN): both
 *   walk the whole keyspace (KEYS in one blocking call), so their cost grows with every other user's sessions. User-scoped operations read the user's own index, purges read
 *   the expiry indexes (ZRANGEBYSCORE), so each costs what it touches.
 * - Rate-limit counters (`rate:<slot>`, no hash tag: each is only ever touched alone) are purged by their TTL
 *   only; INCR and EXPIREAT run in one script, so a counter never exists without one.
 * - Redis TTLs do most of the purging: every session-state key expires on its own, and every write trims index
 *   entries whose records Redis has already expired. `deleteExpiredSessions`, `deleteExpiredRefreshFamilies`,
 *   `deleteExpiredAccessRevocations`, `deleteExpiredClaims` and `deleteExpiredOneTimeTokens` still delete what is
 *   due by the caller's clock, but their counts cover only what was left for them, not what Redis expired first.
 * - TTLs run on Redis's clock, expiry decisions on the engine's: a Redis clock ahead of the servers' removes
 *   records that much early. Keep both on NTP.
 * - Every write is one Lua script (`scripts.ts`), or one command (`resetRateLimit`'s DEL): atomic, one round
 *   trip, no WATCH retry loops. `changeUserEmail` and `deleteUser` read the user's email first, because Lua cannot
 *   compute the email key whose entry they remove; their script compares the email with the one read and
 *   changes nothing if it moved in between, and only then is the pair repeated (see `withStoredEmail`).
 * - Failures never hang and never queue without bound: see `connection.ts` for the offline queue and timeouts.
 * - Use `maxmemory-policy noeviction` (or a `volatile-*` policy): under `allkeys-*` Redis may evict users,
 *   clients, consents, signing keys and secrets, which have no TTL on purpose.
 *
 * Redis Cluster: an owner's keys share its hash tag (`user:{id}` with its `:sessions`, `:families` and `:epoch`;
 * `family:{id}` with its `:tokens`; `{keys}` with `{keys}:retired`). That is not enough for the scripts, which
 * join a lookup key (by token hash or email) to its owner's keys and to the shared expiry indexes. So on a
 * Cluster this store needs a prefix with a hash tag, e.g. `keyPrefix: '{sesame}:'` (it refuses one without):
 * every key then lands in one slot, one shard. To spread users over the shards, use the Cluster store
 * (`sharded.ts`, `createRedisClusterStore`), which runs this store's operations in groups of its own, each
 * under a tagged prefix (`redisStoreOn`). Tested: test/contract/redis-cluster.test.ts.
 */
import type { Cluster, Redis } from 'ioredis'
import type { Store } from '../types.js'
import { createRedisChangeFeed } from './change-feed.js'
import {
  createCommandGuard,
  DEFAULT_REDIS_TIMEOUT_MS,
  openRedisConnection,
  quitConnection,
  type RedisClusterOptions,
  type RedisSentinelOptions,
  redisTarget,
} from './connection.js'
import { createRedisKeys, hasHashTag } from './keys.js'
import { redisStoreOn, revocationConfirmation } from './operations.js'

export { DEFAULT_REDIS_TIMEOUT_MS, openRedisConnection, redisClientOptions } from './connection.js'
export type {
  RedisClusterOptions,
  RedisNode,
  RedisAccess,
  RedisSentinelOptions,
  RedisTarget,
} from './connection.js'
export { migrateRedis, REDIS_LAYOUT_VERSION, RedisLayoutTooNewError } from './migrations.js'
export type { RedisMigrationOptions, RedisMigrationReport } from './migrations.js'

export interface RedisStoreOptions {
  /**
   * Where Redis is, e.g. `redis://:password@host:6379/0` (`rediss://` for TLS). Default
   * `redis://127.0.0.1:6379` when neither `sentinel` nor `cluster` is given either.
   */
  url?: string
  /** A master found through Sentinel, instead of `url`. */
  sentinel?: RedisSentinelOptions
  /** A Redis Cluster, instead of `url`. */
  cluster?: RedisClusterOptions
  /**
   * An existing ioredis client (standalone, Sentinel or Cluster) instead of `url`. The caller owns it: `close()`
   * leaves it open. Create it with {@link redisClientOptions} so that an outage fails fast, and without
   * ioredis's own `keyPrefix` (the store prefixes keys itself).
   */
  client?: Redis | Cluster
  /** Prepended to every key and to the change-feed channel, e.g. `sesame:`. Stores with one prefix share data. */
  keyPrefix: string
  /**
   * Replicas that must hold each revocation (an ended session, a revoked or rotated token, a user's epoch,
   * disable or password change) before the store answers it: Redis WAIT, at most 3/4 of `timeoutMs`, after the
   * script. Fewer in time fail the call with `store_unavailable` (the revocation holds on the master, and a
   * retry is safe). Default 0: nothing waits, and a failover may lose what the master had not yet sent on.
   */
  revocationReplicas?: number
  /**
   * Milliseconds a command may wait for a (re)connection, and then for its answer, before failing with
   * `store_unavailable`. Default 1000. Applies to connections the store opens (its own and the subscriber).
   */
  timeoutMs?: number
}

/**
 * Opens a Redis {@link Store}. Returns at once; connecting happens in the background, and a command issued
 * before Redis answers waits for it up to `timeoutMs`.
 *
 * @example
 * const store = createRedisStore({ url: process.env.REDIS_URL, keyPrefix: 'sesame:' })
 * await store.ping()
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  if ((options.cluster ?? options.client?.isCluster) && !hasHashTag(options.keyPrefix)) {
    throw new TypeError(
      `On a Redis Cluster the key prefix needs a {hash tag} (e.g. "{sesame}:"): the store's scripts join keys of one slot. To spread keys over the shards instead, use createRedisClusterStore (sesame-auth/store/redis-cluster).`,
    )
  }
  const ownsClient = options.client === undefined
  const client = options.client ?? openRedisConnection(redisTarget(options), timeoutMs)
  const keys = createRedisKeys(options.keyPrefix)
  const guard = createCommandGuard(client, timeoutMs)
  const changes = createRedisChangeFeed(client, guard, keys.changes, keys.sessionChangeCount, timeoutMs)
  const store = redisStoreOn({
    client,
    guard,
    changes,
    keyPrefix: options.keyPrefix,
    confirm: revocationConfirmation(options.revocationReplicas ?? 0, timeoutMs),
  })
  return {
    ...store,
    async close() {
      guard.close()
      await changes.close()
      if (ownsClient) await quitConnection(client)
    },
  }
}
