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
import {
  type AccessRevocationKind,
  type AccessRevocationRecord,
  CLIENT_TAKEN,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  PROVIDER_LINKED,
  type Store,
  type UserEpochRecord,
} from '../types.js'
import { emailKey } from '../../core/email.js'
import { byCodeUnits, copyClient } from '../clients.js'
import { byLinkTime, checkIdentity, PROVIDER_ID_PATTERN } from '../identities.js'
import { isUsable } from '../one-time-tokens.js'
import { rateLimitSlot } from '../rate-window.js'
import { announcingWrites } from '../local-announcements.js'
import { createRedisChangeFeed, type RedisChangeFeed } from './change-feed.js'
import {
  type CommandGuard,
  createCommandGuard,
  DEFAULT_REDIS_TIMEOUT_MS,
  openRedisConnection,
  quitConnection,
  type RedisClusterOptions,
  type RedisSentinelOptions,
  redisTarget,
} from './connection.js'
import { createRedisKeys, hasHashTag } from './keys.js'
import {
  decodeClient,
  decodeConsent,
  decodeFamily,
  decodeIdentity,
  decodeOneTimeToken,
  decodeSigningKey,
  decodeUser,
  encodeConsent,
  encodeSigningKey,
  fieldsFromList,
  type HashFields,
  toFieldList,
  packedTime,
  packSession,
  unpackSession,
  agentRef,
} from './records.js'
import { defineScripts, type RevocationConfirmation } from './scripts.js'

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

/** Session and family purges delete at most this many records per script, so no call blocks Redis for long. */
const PURGE_BATCH = 500

/** What the email-keyed scripts answer when the user's email is no longer the one the caller read. */
const EMAIL_MOVED = -2
/**
 * Reads and scripts `withStoredEmail` tries before it gives up: each miss means another change of that user's
 * email committed in between, so a run of misses this long is not a race but a fault.
 */
const EMAIL_ATTEMPTS = 5

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

/** WAIT for `replicas` after each revoking script, within the command timeout (so WAIT's own answer arrives). */
export function revocationConfirmation(replicas: number, timeoutMs: number): RevocationConfirmation {
  return { replicas, timeoutMs: Math.max(1, Math.floor(timeoutMs * 0.75)) }
}

/** What {@link redisStoreOn} builds a store on: connection, guard and feed are the caller's to close. */
export interface RedisStoreBase {
  client: Redis | Cluster
  guard: CommandGuard
  /** The feed the store announces its writes on locally, and hands out as `changes` and `sessionFeeds`. */
  changes: RedisChangeFeed
  keyPrefix: string
  confirm: RevocationConfirmation
}

/**
 * The store's operations on keys under `base.keyPrefix`, on a connection and feed the caller owns: what
 * {@link createRedisStore} returns, and what the Cluster store (`sharded.ts`) runs in each of its groups.
 * Its `close()` closes nothing.
 */
export function redisStoreOn(base: RedisStoreBase): Store {
  const { client, guard, changes, keyPrefix } = base
  const keys = createRedisKeys(keyPrefix)
  const script = defineScripts(client, keyPrefix, base.confirm)
  const { run } = guard

  let warned = false
  /**
   * A session Sesame 0.1 wrote as a hash, which layout version 2 converts (`migrations.ts`): no session here
   * (fail closed: the cookie gets 401 and signs in again), and one SESAME_W005 warning per store.
   */
  function unconverted(): null {
    if (!warned) {
      warned = true
      process.emitWarning(
        `The Redis prefix "${keyPrefix}" holds sessions in the 0.1 hash layout, which this release treats as signed out. Run \`sesame migrate\` (or start with SESAME_MIGRATE_ON_START=true) to convert them.`,
        { type: 'SesameWarning', code: 'SESAME_W005' },
      )
    }
    return null
  }

  /**
   * Runs `attempt` (an email-keyed script) with the user's email as read just before; 0 (the scripts' "no such
   * user") when there is none. Lua cannot compute an email key, so the script gets the key of the email read
   * here and answers {@link EMAIL_MOVED}, changing nothing, if the user's email changed in between: then both
   * steps are repeated.
   */
  async function withStoredEmail(
    userId: string,
    attempt: (email: string) => Promise<unknown>,
  ): Promise<unknown> {
    for (let tries = 0; tries < EMAIL_ATTEMPTS; tries++) {
      const email = await client.hget(keys.user(userId), 'email')
      if (email === null) return 0
      const answer = await attempt(email)
      if (answer !== EMAIL_MOVED) return answer
    }
    throw new Error(`The email of user ${userId} kept changing while it was being read.`)
  }

  async function purgeInBatches(
    name: 'purgeSessions' | 'purgeFamilies' | 'purgeClaims' | 'purgeOneTimeTokens',
    indexes: readonly string[],
    now: number,
  ): Promise<number> {
    let deleted = 0
    for (;;) {
      const [count, examined] = (await script(name, indexes, [now, PURGE_BATCH])) as [number, number]
      deleted += count
      if (examined < PURGE_BATCH) return deleted
    }
  }

  return announcingWrites(changes, {
    kind: 'redis',

    createUser: (user) =>
      run(async () => {
        const created = await script(
          'createUser',
          [keys.userEmail(user.email), keys.userEmailKey(emailKey(user.email)), keys.user(user.id)],
          [user.id, ...toFieldList(user)],
        )
        return created === 1 ? { ...user, roles: [...user.roles] } : EMAIL_TAKEN
      }),
    findUserByEmail: (email) =>
      run(async () => {
        const list = (await script(
          'findUserByEmail',
          [keys.userEmail(email), keys.userEmailKey(emailKey(email))],
          [],
        )) as string[]
        return list.length === 0 ? null : decodeUser(fieldsFromList(list))
      }),
    findUserById: (id) =>
      run(async () => {
        const fields = await client.hgetall(keys.user(id))
        return isEmpty(fields) ? null : decodeUser(fields)
      }),
    updatePasswordHash: (userId, passwordHash) =>
      run(
        async () =>
          (await script('updateUser', [keys.user(userId)], [userId, 1, 'passwordHash', passwordHash])) === 1,
      ),
    setUserDisabled: (userId, disabledAt) =>
      run(async () => {
        const change = disabledAt === null ? [0, 'disabledAt'] : [1, 'disabledAt', disabledAt]
        return (await script('updateUser', [keys.user(userId)], [userId, ...change])) === 1
      }),
    setEmailVerified: (userId, email, verifiedAt) =>
      run(
        async () =>
          (await script('setEmailVerified', [keys.user(userId)], [email, verifiedAt, userId])) === 1,
      ),
    changeUserEmail: (userId, email, verifiedAt) =>
      run(async () => {
        const changed = await withStoredEmail(userId, (current) =>
          script(
            'changeUserEmail',
            [
              keys.user(userId),
              keys.userEmail(current),
              keys.userEmailKey(emailKey(current)),
              keys.userEmail(email),
              keys.userEmailKey(emailKey(email)),
            ],
            [userId, current, email, verifiedAt],
          ),
        )
        return changed === -1 ? EMAIL_TAKEN : changed === 1
      }),
    deleteUser: (userId) =>
      run(async () => {
        const deleted = await withStoredEmail(userId, (current) =>
          script(
            'deleteUser',
            [
              keys.user(userId),
              keys.userEmail(current),
              keys.userEmailKey(emailKey(current)),
              keys.userIdentities(userId),
              keys.userOneTimeTokens(userId),
              keys.userSessions(userId),
              keys.userFamilies(userId),
              keys.userConsents(userId),
            ],
            [userId, current],
          ),
        )
        return deleted === 1
      }),

    putOneTimeToken: (token) =>
      run(async () => {
        await script(
          'putOneTimeToken',
          [keys.oneTimeToken(token.tokenHash), keys.userOneTimeTokens(token.userId), keys.oneTimeTokenExpiry],
          [token.purpose, token.tokenHash, token.expiresAt, ...toFieldList(token)],
        )
      }),
    takeOneTimeToken: (purpose, tokenHash, now) =>
      run(async () => {
        const list = (await script(
          'takeOneTimeToken',
          [keys.oneTimeToken(tokenHash)],
          [tokenHash, purpose, now],
        )) as string[]
        return list.length === 0 ? null : decodeOneTimeToken(fieldsFromList(list))
      }),
    findOneTimeToken: (purpose, tokenHash, now) =>
      run(async () => {
        const fields = await client.hgetall(keys.oneTimeToken(tokenHash))
        if (isEmpty(fields)) return null
        const token = decodeOneTimeToken(fields)
        return isUsable(token, purpose, now) ? token : null
      }),
    deleteExpiredOneTimeTokens: (now) =>
      run(() => purgeInBatches('purgeOneTimeTokens', [keys.oneTimeTokenExpiry], now)),

    // Checked before `run`, so a caller's mistake stays a TypeError rather than store_unavailable.
    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      const userFields = toFieldList(user)
      return run(async () => {
        const created = await script(
          'createUserWithIdentity',
          [
            keys.userEmail(user.email),
            keys.userEmailKey(emailKey(user.email)),
            keys.user(user.id),
            keys.identity(identityId(identity.provider, identity.subject)),
            keys.userIdentities(user.id),
          ],
          [
            user.id,
            identity.provider,
            identity.subject,
            userFields.length / 2,
            ...userFields,
            ...toFieldList(identity),
          ],
        )
        if (created === -1) return IDENTITY_TAKEN
        return created === 1 ? { ...user, roles: [...user.roles] } : EMAIL_TAKEN
      })
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      return run(async () => {
        const linked = await script(
          'linkIdentity',
          [
            keys.user(identity.userId),
            keys.identity(identityId(identity.provider, identity.subject)),
            keys.userIdentities(identity.userId),
          ],
          [identity.provider, identity.subject, ...toFieldList(identity)],
        )
        if (linked === -1) return IDENTITY_TAKEN
        if (linked === -2) return PROVIDER_LINKED
        return linked === 1
      })
    },
    findIdentity: (provider, subject) =>
      run(async () => {
        // A provider id outside the pattern is never stored, and its key could name another identity's.
        if (!PROVIDER_ID_PATTERN.test(provider)) return null
        const fields = await client.hgetall(keys.identity(identityId(provider, subject)))
        return isEmpty(fields) ? null : decodeIdentity(fields)
      }),
    listUserIdentities: (userId) =>
      run(async () => {
        const lists = (await script('listUserIdentities', [keys.userIdentities(userId)], [])) as string[][]
        return lists.map((list) => decodeIdentity(fieldsFromList(list))).sort(byLinkTime)
      }),
    unlinkIdentity: (userId, provider) =>
      run(async () => {
        const unlinked = await script(
          'unlinkIdentity',
          [keys.user(userId), keys.userIdentities(userId)],
          [provider],
        )
        if (unlinked === -1) return LAST_SIGN_IN_METHOD
        return unlinked === 1
      }),

    createSession: (session, limit) =>
      run(async () => {
        const { userAgent } = session
        const ref = userAgent === null ? '' : agentRef(userAgent)
        const created = await script(
          'createSession',
          [
            keys.session(session.tokenHash),
            keys.userSessions(session.userId),
            keys.sessionOwners,
            keys.userAgent(ref),
          ],
          [
            session.tokenHash,
            session.userId,
            session.expiresAt,
            session.absoluteExpiresAt,
            packSession(session, ref),
            ...limitArgs(limit),
            ...(userAgent === null ? [] : [userAgent]),
          ],
        )
        return toDeviceCreation(created)
      }),
    findSessionByTokenHash: (tokenHash) =>
      run(async () => {
        const found = (await script('findSession', [keys.session(tokenHash)], [])) as ScriptSession | [] | 0
        if (found === 0) return unconverted()
        return found.length === 0 ? null : unpackSession(found[0], found[1], tokenHash)
      }),
    findSessionWithUser: (tokenHash) =>
      run(async () => {
        const found = (await script('findSessionWithUser', [keys.session(tokenHash)], [])) as
          [...ScriptSession, string[]] | [] | 0
        if (found === 0) return unconverted()
        if (found.length === 0) return null
        const [packed, userAgent, user] = found
        return {
          session: unpackSession(packed, userAgent, tokenHash),
          user: user.length === 0 ? null : decodeUser(fieldsFromList(user)),
        }
      }),
    touchSession: (tokenHash, lastSeenAt, expiresAt) =>
      run(async () => {
        const touched = await script(
          'touchSession',
          [keys.session(tokenHash)],
          [tokenHash, packedTime(lastSeenAt), packedTime(expiresAt)],
        )
        if (touched === -1) return unconverted() !== null
        return touched === 1
      }),
    deleteSessionByTokenHash: (tokenHash) =>
      run(async () => (await script('deleteSession', [keys.session(tokenHash)], [tokenHash])) === 1),
    listUserSessions: (userId) =>
      run(async () => {
        const found = (await script('listUserSessions', [keys.userSessions(userId)], [])) as Array<
          [string, ...ScriptSession] | [string]
        >
        return found
          .flatMap((entry) => (entry.length === 1 ? (unconverted() ?? []) : [entry]))
          .map(([tokenHash, packed, userAgent]) => unpackSession(packed, userAgent, tokenHash))
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      }),
    deleteUserSession: (userId, sessionId) =>
      run(
        async () =>
          (await script('deleteUserSession', [keys.userSessions(userId)], [userId, sessionId])) === 1,
      ),
    deleteUserSessions: (userId, exceptSessionId) =>
      run(
        async () =>
          (await script(
            'deleteUserSessions',
            [keys.userSessions(userId)],
            [userId, exceptSessionId ?? ''],
          )) as number,
      ),
    deleteExpiredSessions: (now) => run(() => purgeInBatches('purgeSessions', [keys.sessionOwners], now)),

    listSigningKeys: () =>
      run(async () => {
        const [stored, retired] = (await script(
          'listSigningKeys',
          [keys.signingKeys, keys.retiredKeys],
          [],
        )) as [string[], string[]]
        const retiredAt = fieldsFromList(retired)
        return Object.entries(fieldsFromList(stored))
          .map(([kid, json]) => decodeSigningKey(json, retiredAt[kid]))
          .sort((a, b) => b.createdAt - a.createdAt || b.kid.localeCompare(a.kid))
      }),
    createSigningKey: (key) =>
      run(async () => {
        await script(
          'createSigningKey',
          [keys.signingKeys, keys.retiredKeys],
          [key.kid, encodeSigningKey(key), key.retiredAt ?? ''],
        )
      }),
    createFirstSigningKey: (key) =>
      run(async () => {
        const json = (await script(
          'createFirstSigningKey',
          [keys.signingKeys, keys.retiredKeys],
          [key.kid, encodeSigningKey({ ...key, retiredAt: null }), key.alg],
        )) as string
        // The winner is unretired by construction: its kid is absent from the retired hash.
        return decodeSigningKey(json, undefined)
      }),
    retireSigningKeysExcept: (kid, retiredAt) =>
      run(async () => {
        await script('retireSigningKeys', [keys.signingKeys, keys.retiredKeys], [kid, retiredAt])
      }),
    deleteSigningKey: (kid) =>
      run(async () => (await script('deleteSigningKey', [keys.signingKeys, keys.retiredKeys], [kid])) === 1),

    getOrCreateSecret: (name, value) =>
      run(async () => (await script('getOrCreateSecret', [keys.secret(name)], [value])) as string),

    createRefreshFamily: (family, tokenHash, limit) =>
      run(async () => {
        const created = await script(
          'createFamily',
          [
            keys.family(family.id),
            keys.familyTokens(family.id),
            keys.refreshToken(tokenHash),
            keys.userFamilies(family.userId),
            keys.familyExpiry,
          ],
          [
            family.id,
            tokenHash,
            family.generation,
            family.expiresAt,
            family.absoluteExpiresAt,
            ...limitArgs(limit),
            family.userId,
            ...toFieldList(family),
          ],
        )
        return toDeviceCreation(created)
      }),
    findRefreshToken: (tokenHash) =>
      run(async () => {
        const found = (await script('findRefreshToken', [keys.refreshToken(tokenHash)], [])) as
          [] | [string, string[]]
        if (found.length === 0) return null
        return { family: decodeFamily(fieldsFromList(found[1])), generation: Number(found[0]) }
      }),
    findRefreshFamily: (familyId) =>
      run(async () => {
        const fields = await client.hgetall(keys.family(familyId))
        return isEmpty(fields) ? null : decodeFamily(fields)
      }),
    rotateRefreshFamily: (familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal) =>
      run(async () => {
        const rotated = await script(
          'rotateFamily',
          [
            keys.family(familyId),
            keys.familyTokens(familyId),
            keys.refreshToken(newTokenHash),
            keys.familyExpiry,
          ],
          [familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal],
        )
        return rotated === 1
      }),
    revokeRefreshFamily: (familyId, now) =>
      run(async () => (await script('revokeFamily', [keys.family(familyId)], [now])) === 1),
    listUserRefreshFamilies: (userId) =>
      run(async () => {
        const lists = (await script('listUserFamilies', [keys.userFamilies(userId)], [])) as string[][]
        return lists
          .map((list) => decodeFamily(fieldsFromList(list)))
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      }),
    revokeUserRefreshFamilies: (userId, now, exceptFamilyId) =>
      run(
        async () =>
          (await script(
            'revokeUserFamilies',
            [keys.userFamilies(userId)],
            [now, exceptFamilyId ?? ''],
          )) as string[],
      ),
    // One script: Redis runs all of it or none, however the connection fails around it.
    endUserDevices: ({ userId, epoch, exceptSessionId, exceptFamilyId, now }) =>
      run(async () => {
        const [sessionsEnded, familiesRevoked] = (await script(
          'endUserDevices',
          [
            keys.userEpoch(epoch?.userId ?? userId),
            keys.epochs,
            keys.userSessions(userId),
            keys.userFamilies(userId),
          ],
          [
            userId,
            epoch?.epoch ?? '',
            epoch?.userId ?? '',
            epoch?.expiresAt ?? '',
            exceptSessionId ?? '',
            exceptFamilyId ?? '',
            now,
          ],
        )) as [number, string[]]
        return { sessionsEnded, familiesRevoked }
      }),
    deleteExpiredRefreshFamilies: (now) =>
      run(() => purgeInBatches('purgeFamilies', [keys.familyExpiry], now)),

    addAccessRevocation: (revocation) =>
      run(async () => {
        await script(
          'addRevocation',
          [keys.revocations],
          [`${revocation.kind}:${revocation.value}`, revocation.expiresAt],
        )
      }),
    listAccessRevocations: (now) =>
      run(async () => {
        const flat = await client.zrangebyscore(keys.revocations, `(${now}`, '+inf', 'WITHSCORES')
        const revocations: AccessRevocationRecord[] = []
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const member = flat[i]!
          const colon = member.indexOf(':')
          revocations.push({
            kind: member.slice(0, colon) as AccessRevocationKind,
            value: member.slice(colon + 1),
            expiresAt: Number(flat[i + 1]),
          })
        }
        return revocations
      }),
    deleteExpiredAccessRevocations: (now) =>
      run(async () => (await script('purgeRevocations', [keys.revocations, keys.epochs], [now])) as number),
    setUserEpoch: (epoch) =>
      run(async () => {
        await script(
          'setUserEpoch',
          [keys.userEpoch(epoch.userId), keys.epochs],
          [epoch.userId, epoch.epoch, epoch.expiresAt],
        )
      }),
    listUserEpochs: (now) =>
      run(async () => {
        const rows = (await script('listUserEpochs', [keys.epochs], [now])) as Array<[string, string, string]>
        return rows.map(([userId, epoch, expiresAt]): UserEpochRecord => ({
          userId,
          epoch: Number(epoch),
          expiresAt: Number(expiresAt),
        }))
      }),

    hitRateLimit: (key, windowSeconds, now) =>
      run(async () => {
        const slot = rateLimitSlot(key, windowSeconds, now)
        return (await script('hitRateLimit', [keys.rateLimit(slot.id)], [slot.endsAt])) as number
      }),
    countRateLimit: (key, windowSeconds, now) =>
      run(async () =>
        Number((await client.get(keys.rateLimit(rateLimitSlot(key, windowSeconds, now).id))) ?? 0),
      ),
    resetRateLimit: (key, windowSeconds, now) =>
      run(async () => {
        await client.del(keys.rateLimit(rateLimitSlot(key, windowSeconds, now).id))
      }),

    createClient: (c) =>
      run(async () => {
        const created = await script(
          'createClient',
          [keys.client(c.id), keys.clients],
          [c.id, ...toFieldList(c)],
        )
        return created === 1 ? copyClient(c) : CLIENT_TAKEN
      }),
    findClient: (clientId) =>
      run(async () => {
        const fields = await client.hgetall(keys.client(clientId))
        return isEmpty(fields) ? null : decodeClient(fields)
      }),
    listClients: () =>
      run(async () => {
        const lists = (await script('listClients', [keys.clients], [])) as string[][]
        return lists.map((list) => decodeClient(fieldsFromList(list)))
      }),
    deleteClient: (clientId) =>
      run(
        async () =>
          (await script(
            'deleteClient',
            [keys.client(clientId), keys.clientConsenters(clientId), keys.clients],
            [clientId],
          )) === 1,
      ),

    putConsent: (consent) =>
      run(async () => {
        const { userId, clientId } = consent
        await script(
          'putConsent',
          [
            keys.user(userId),
            keys.client(clientId),
            keys.userConsents(userId),
            keys.clientConsenters(clientId),
          ],
          [userId, clientId, encodeConsent(consent)],
        )
      }),
    findConsent: (userId, clientId) =>
      run(async () => {
        const json = await client.hget(keys.userConsents(userId), clientId)
        return json === null ? null : decodeConsent(userId, clientId, json)
      }),
    listUserConsents: (userId) =>
      run(async () => {
        const given = await client.hgetall(keys.userConsents(userId))
        return Object.entries(given)
          .map(([clientId, json]) => decodeConsent(userId, clientId, json))
          .sort((a, b) => byCodeUnits(a.clientId, b.clientId))
      }),
    deleteConsent: (userId, clientId) =>
      run(
        async () =>
          (await script(
            'deleteConsent',
            [keys.userConsents(userId), keys.clientConsenters(clientId)],
            [userId, clientId],
          )) === 1,
      ),

    claimOnce: (key, expiresAt, now) =>
      run(
        async () =>
          (await script('claimOnce', [keys.claim(key), keys.claimExpiry], [key, expiresAt, now])) === 1,
      ),
    deleteExpiredClaims: (now) => run(() => purgeInBatches('purgeClaims', [keys.claimExpiry], now)),

    changes,
    sessionFeeds: [changes],

    ping: () =>
      run(async () => {
        await client.ping()
      }),
    async close() {},
  })
}

/** The id an identity's key is built from: the provider id holds no colon, so this reads back one way. */
function identityId(provider: string, subject: string): string {
  return `${provider}:${subject}`
}

/** A session as the scripts return it: its packed string and the User-Agent text its reference names. */
type ScriptSession = [packed: string, userAgent: string | null]

function isEmpty(fields: HashFields): boolean {
  for (const _ in fields) return false
  return true
}

/** A device limit as the create scripts take it: max (0 for none), now, policy. */
function limitArgs(limit: DeviceLimit | undefined): Array<string | number> {
  return limit ? [limit.max, limit.now, limit.policy] : [0, 0, '']
}

/** A create script's answer: -1 when the limit denied it, else the family ids evicted for it. */
function toDeviceCreation(answer: unknown): DeviceCreation {
  return answer === -1 ? DEVICE_LIMIT_REACHED : { evictedFamilies: answer as string[] }
}
