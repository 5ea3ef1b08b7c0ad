/**
 * Layout migrations for the Redis store. Redis has no schema, but a key layout can still change under data
 * already written: `P layout-version` records which changes a prefix has had, and `migrateRedis` applies the
 * missing ones. `sesame migrate` runs it, and so does the server at start unless SESAME_MIGRATE_ON_START=false;
 * once the prefix is current it costs one GET.
 *
 * Version 1, email keys: the `user-email-key:{key}` index (`emailKey` in `core/email.ts`) that sign-ups and
 * lookups use beside the exact `user-email:{email}` one. Users written before it get their entry here. Finding
 * them is the one place the store walks keys with SCAN (see the header of `index.ts` on why nothing else does):
 * once, over the `user-email:` entries only. Look-alike accounts that existed before keys keep working: the
 * oldest gets the key, the others none (see `store/email-keys.ts`), and the report names them. Stop instances
 * of earlier releases first: a user one of them creates after the migration has no key entry.
 */
import { type Cluster, Redis } from 'ioredis'
import { assignEmailKeys, describeKeylessUsers, type KeylessUser } from '../email-keys.js'
import { emailKey } from '../../core/email.js'
import {
  createCommandGuard,
  DEFAULT_REDIS_TIMEOUT_MS,
  quitConnection,
  redisClientOptions,
} from './connection.js'
import { createRedisKeys, type RedisKeys } from './keys.js'

/** The layout this Sesame writes. */
export const REDIS_LAYOUT_VERSION = 1

/** Commands sent at once while migrating: one round trip's worth, not one per user. */
const BATCH = 1000

export interface RedisMigrationOptions {
  /** Where Redis is; default `redis://127.0.0.1:6379`. Ignored when `client` is given. */
  url?: string
  /** An existing client instead of `url`; left open. */
  client?: Redis | Cluster
  keyPrefix: string
  /** Milliseconds per command (and to connect). Default 1000. */
  timeoutMs?: number
}

/** What {@link migrateRedis} did. */
export interface RedisMigrationReport {
  from: number
  to: number
  /** Lines for the operator (accounts left without an email key); often empty. */
  notes: string[]
}

/** Thrown when the prefix was migrated by a newer Sesame; nothing is changed. */
export class RedisLayoutTooNewError extends Error {
  override readonly name = 'RedisLayoutTooNewError'
}

/**
 * Brings the prefix's layout to {@link REDIS_LAYOUT_VERSION}. Safe to run from several processes at once (each
 * step is idempotent). Failures to reach Redis are `store_unavailable`.
 */
export async function migrateRedis(options: RedisMigrationOptions): Promise<RedisMigrationReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  const client =
    options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', redisClientOptions(timeoutMs))
  const guard = createCommandGuard(client, timeoutMs)
  const keys = createRedisKeys(options.keyPrefix)
  try {
    const current = Number((await guard.run(() => client.get(keys.layoutVersion))) ?? 0)
    if (current > REDIS_LAYOUT_VERSION) {
      throw new RedisLayoutTooNewError(
        `The Redis prefix "${options.keyPrefix}" is at layout version ${current}, newer than this Sesame knows (${REDIS_LAYOUT_VERSION}); upgrade Sesame.`,
      )
    }
    if (current === REDIS_LAYOUT_VERSION) return { from: current, to: current, notes: [] }
    const notes = await guard.run(() => fillEmailKeys(client, keys, options.keyPrefix))
    await guard.run(() => client.set(keys.layoutVersion, String(REDIS_LAYOUT_VERSION)))
    return { from: current, to: REDIS_LAYOUT_VERSION, notes }
  } finally {
    guard.close()
    if (!options.client) await quitConnection(client)
  }
}

/** Layout 1: an email-key entry for every user that has none, the oldest of look-alikes first. */
async function fillEmailKeys(client: Redis | Cluster, keys: RedisKeys, prefix: string): Promise<string[]> {
  const exactEntries = await scanAll(client, `${escapeGlob(prefix)}user-email:{*`)
  const ids = await inBatches(exactEntries, (entry) => client.get(entry))
  const records = await inBatches(ids, (id) =>
    id === null ? Promise.resolve(null) : client.hmget(keys.user(id), 'email', 'createdAt'),
  )
  const users = records.flatMap((fields, i) => {
    const [email, createdAt] = fields ?? []
    // An entry whose user hash is gone (never expected) has nothing to key.
    return email && createdAt ? [{ id: ids[i]!, email, createdAt: Number(createdAt) }] : []
  })
  const userKeys = [...new Set(users.map((user) => emailKey(user.email)))]
  const holders = await inBatches(userKeys, (key) => client.get(keys.userEmailKey(key)))
  const held = new Map<string, string>()
  userKeys.forEach((key, i) => {
    if (holders[i] != null) held.set(key, holders[i])
  })
  const { keyed, keyless } = assignEmailKeys(users, held)
  // NX: a sign-up racing this migration may take a key first; its user keeps it, and ours is keyless.
  const set = await inBatches(keyed, ({ id, key }) => client.set(keys.userEmailKey(key), id, 'NX'))
  const lost: KeylessUser[] = []
  for (const [i, { id, key }] of keyed.entries()) {
    if (set[i] === null) lost.push({ id, keptBy: (await client.get(keys.userEmailKey(key))) ?? '?' })
  }
  return describeKeylessUsers([...keyless, ...lost])
}

/** Every key matching `pattern`, from every master of a Cluster. */
async function scanAll(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  const found = new Set<string>()
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH)
      for (const key of batch) found.add(key)
      cursor = next
    } while (cursor !== '0')
  }
  return [...found]
}

/** `work` for each item, {@link BATCH} commands in flight at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (let start = 0; start < items.length; start += BATCH) {
    results.push(...(await Promise.all(items.slice(start, start + BATCH).map(work))))
  }
  return results
}

/** `text` as a literal inside a SCAN MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
