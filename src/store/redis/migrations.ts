/**
 * Layout migrations for the Redis store. Redis has no schema, but a key layout can still change under data
 * already written: `P layout-version` records which changes a prefix has had, and `migrateRedis` applies the
 * missing ones. `sesame migrate` runs it, and so does the server at start unless SESAME_MIGRATE_ON_START=false;
 * once the prefix is current it costs one GET.
 *
 * Version 1, email keys: the `user-email-key:{key}` index (`emailKey` in `core/email.ts`) that sign-ups and
 * lookups use beside the exact `user-email:{email}` one. Users written before it get their entry here. Finding
 * them is one of the two places the store walks keys with SCAN, both here (see the header of `index.ts` on why
 * nothing live does): once, over the `user-email:` entries only. Look-alike accounts that existed before keys keep working: the
 * oldest gets the key, the others none (see `store/email-keys.ts`), and the report names them. Stop instances
 * of earlier releases first: a user one of them creates after the migration has no key entry.
 *
 * Version 2, packed sessions: every session Sesame 0.1 wrote as a hash becomes the packed string of
 * `records.ts`, after which the live scripts know that layout only (a hash they still meet is no session to
 * them, and the store warns SESAME_W005). Found by SCAN over `session:{*` keys of type hash, a batch at a time,
 * then 0.1's `sessions-by-expiry` index is drained (a session it lists that the walk missed is converted too).
 * Each session is converted by one script (`convertSession`), so live traffic, including a renewal by an
 * instance of the previous release, never sees it half done, and a second migrator running at once finds it
 * converted. Unreadable or already expired hashes are deleted. The packed layout is the one new sessions
 * already use, so the store does not grow. Stop 0.1 instances first: a hash one writes afterwards is no session.
 */
import type { Cluster, Redis } from 'ioredis'
import { assignEmailKeys, describeKeylessUsers, type KeylessUser } from '../email-keys.js'
import { emailKey } from '../../core/email.js'
import {
  createCommandGuard,
  DEFAULT_REDIS_TIMEOUT_MS,
  quitConnection,
  openRedisConnection,
  type RedisClusterOptions,
  type RedisSentinelOptions,
  redisTarget,
} from './connection.js'
import { createRedisKeys, type RedisKeys } from './keys.js'
import { agentRef } from './records.js'
import { defineScripts, type RunScript } from './scripts.js'

/** The layout this Sesame writes. */
export const REDIS_LAYOUT_VERSION = 2

interface MigrationContext {
  client: Redis | Cluster
  keys: RedisKeys
  script: RunScript
}

/** What a step did: lines for the operator to act on (`notes`), and lines that only say what was done (`log`). */
interface StepResult {
  notes: string[]
  log: string[]
}

/** The steps, in order; step `version` brings a prefix from `version - 1` to `version`. */
const STEPS: ReadonlyArray<{ version: number; run: (context: MigrationContext) => Promise<StepResult> }> = [
  { version: 1, run: async (context) => ({ notes: await fillEmailKeys(context), log: [] }) },
  { version: 2, run: convertSessions },
]

/** Commands sent at once while migrating: one round trip's worth, not one per user. */
const BATCH = 1000

export interface RedisMigrationOptions {
  /** Where Redis is, as for the store; default `redis://127.0.0.1:6379`. Ignored when `client` is given. */
  url?: string
  sentinel?: RedisSentinelOptions
  cluster?: RedisClusterOptions
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
  /** What the applied steps did (sessions converted), for `sesame migrate` to print; no action needed. */
  log: string[]
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
  const client = options.client ?? openRedisConnection(redisTarget(options), timeoutMs)
  const guard = createCommandGuard(client, timeoutMs)
  const keys = createRedisKeys(options.keyPrefix)
  try {
    const current = Number((await guard.run(() => client.get(keys.layoutVersion))) ?? 0)
    if (current > REDIS_LAYOUT_VERSION) {
      throw new RedisLayoutTooNewError(
        `The Redis prefix "${options.keyPrefix}" is at layout version ${current}, newer than this Sesame knows (${REDIS_LAYOUT_VERSION}); upgrade Sesame.`,
      )
    }
    const report: RedisMigrationReport = { from: current, to: current, notes: [], log: [] }
    if (current === REDIS_LAYOUT_VERSION) return report
    const context = { client, keys, script: defineScripts(client, options.keyPrefix) }
    for (const step of STEPS) {
      if (step.version <= current) continue
      const { notes, log } = await guard.run(() => step.run(context))
      report.notes.push(...notes)
      report.log.push(...log)
      // Step by step, so a migration cut short resumes after the last step it finished.
      await guard.run(() => client.set(keys.layoutVersion, String(step.version)))
      report.to = step.version
    }
    return report
  } finally {
    guard.close()
    if (!options.client) await quitConnection(client)
  }
}

/** Layout 1: an email-key entry for every user that has none, the oldest of look-alikes first. */
async function fillEmailKeys({ client, keys }: MigrationContext): Promise<string[]> {
  const found = new Set<string>()
  await scanAll(client, keyPattern(keys.userEmail), null, async (batch) => {
    for (const key of batch) found.add(key)
  })
  const exactEntries = [...found]
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

/** Times `convertSession` re-reads a hash whose User-Agent changed under it (only a rewrite does that). */
const CONVERT_ATTEMPTS = 3

/** Layout 2: every session 0.1 wrote as a hash, packed. */
async function convertSessions(context: MigrationContext): Promise<StepResult> {
  const { client, keys } = context
  const tally = { converted: 0, deleted: 0 }
  const tokenHashOf = keyToId(keys.session)
  await scanAll(client, keyPattern(keys.session), 'hash', async (batch) => {
    await inBatches(batch, (key) => convertSession(context, tokenHashOf(key), tally))
  })
  // 0.1 listed its sessions here too: convert any the walk missed (one written while it ran); each call removes
  // its entry, so this ends with the index gone.
  for (;;) {
    const listed = await client.zrange(keys.sessionExpiry, 0, BATCH - 1)
    if (listed.length === 0) break
    await inBatches(listed, (tokenHash) => convertSession(context, tokenHash, tally))
  }
  const log = [`sessions in the 0.1 hash layout: ${tally.converted} converted to the packed layout`]
  if (tally.deleted > 0)
    log.push(`sessions in the 0.1 hash layout: ${tally.deleted} unreadable or expired, deleted`)
  return { notes: [], log }
}

async function convertSession(
  { client, keys, script }: MigrationContext,
  tokenHash: string,
  tally: { converted: number; deleted: number },
): Promise<void> {
  const key = keys.session(tokenHash)
  for (let attempt = 0; attempt < CONVERT_ATTEMPTS; attempt++) {
    // The agent reference is a SHA-256, which Redis's Lua lacks: computed here from the hash as read, and the
    // script converts only if the hash still holds that text.
    const fields = await client.hgetall(key).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes('WRONGTYPE')) return null // converted meanwhile
      throw error
    })
    const text = fields === null ? null : storedUserAgent(fields)
    const ref = text === null ? '' : agentRef(text)
    const result = await script(
      'convertSession',
      [key, keys.userAgent(ref)],
      [tokenHash, ref, ...(text === null ? [] : [text])],
    )
    if (result === 1) tally.converted++
    if (result === 2) tally.deleted++
    if (result !== -1) return
  }
  throw new Error(`The session hash ${key} kept changing while it was converted.`)
}

/** A 0.1 session hash's User-Agent text: whole, or in 64-byte pieces `userAgent.0`, `userAgent.1`, ... */
function storedUserAgent(fields: Record<string, string>): string | null {
  if (fields.userAgent !== undefined) return fields.userAgent
  const pieces: string[] = []
  while (fields[`userAgent.${pieces.length}`] !== undefined)
    pieces.push(fields[`userAgent.${pieces.length}`]!)
  return pieces.length === 0 ? null : pieces.join('')
}

/** The SCAN pattern of every key of one record kind. */
function keyPattern(key: (id: string) => string): string {
  const [before, after] = key('\0').split('\0') as [string, string]
  return `${escapeGlob(before)}*${escapeGlob(after)}`
}

/** The id a record key names. */
function keyToId(key: (id: string) => string): (name: string) => string {
  const [before, after] = key('\0').split('\0') as [string, string]
  return (name) => name.slice(before.length, name.length - after.length)
}

/**
 * Every key matching `pattern` (and of `type`, if given), from every master of a Cluster, handed to `each` a
 * SCAN batch at a time. A key may come twice (SCAN's guarantee is at least once), so `each` must be idempotent.
 */
async function scanAll(
  client: Redis | Cluster,
  pattern: string,
  type: string | null,
  each: (batch: string[]) => Promise<void>,
): Promise<void> {
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, batch] =
        type === null
          ? await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH)
          : await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH, 'TYPE', type)
      if (batch.length > 0) await each(batch)
      cursor = next
    } while (cursor !== '0')
  }
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
