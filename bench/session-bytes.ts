/**
 * Bytes per live cookie session, per store (issue 7, case 4). Run by bench/run.ts in a child process with
 * `--expose-gc`, so the memory store's heap can be measured after a full collection:
 * `node --expose-gc --import tsx bench/session-bytes.ts <sessions> [store]` prints one JSON line of results.
 *
 * Each store gets `sessions` sessions through the engine's own `createSession` (the records sign-in writes),
 * spread over one user per ten sessions, each with its own copy of a real browser User-Agent and an IPv4
 * address, as HTTP parsing would hand them over. Measured:
 * - memory: V8 heap used after a forced GC, before and after, divided by the number of sessions;
 * - Redis: `INFO memory` used_memory, before and after (the packed session, its entry in the user's index, the
 *   user's entry in the owners index, the shared User-Agent text); and once more with one session per user,
 *   each with a User-Agent of its own, the case where nothing is shared;
 * - PostgreSQL: the sessions table's total relation size (heap, TOAST, indexes) over its rows;
 * - SQLite: the database file's used pages (page_count - freelist_count) times page size, before and after.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import Database from 'better-sqlite3'
import { createAuth } from '../src/auth.js'
import { createMemoryStore } from '../src/store/memory/index.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createRedisStore } from '../src/store/redis/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { Store } from '../src/store/types.js'
import { generatePublicId } from '../src/core/random.js'
import { type PrivateServer, startPrivateRedis } from '../test/helpers/private-servers.js'
import { type PublicUser, toPublicUser } from '../src/engine/types.js'

const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const BATCH = 500

/** How the sessions are spread: the report's standard case shares users and the User-Agent text. */
interface Population {
  sessionsPerUser: number
  /** Every session gets a User-Agent text of its own (a counter appended). */
  distinctAgents: boolean
}
const STANDARD: Population = { sessionsPerUser: 10, distinctAgents: false }
const NOTHING_SHARED: Population = { sessionsPerUser: 1, distinctAgents: true }

export interface SessionBytes {
  store: string
  sessions: number
  bytesPerSession: number
  method: string
  /** Where a Redis session's bytes are, from MEMORY USAGE: each part's bytes per session. */
  parts?: Record<string, number>
}

/** Fresh strings, as a request parser would allocate them (not one shared constant). */
function clientOf(index: number, population: Population): { userAgent: string; ip: string } {
  return {
    userAgent: population.distinctAgents
      ? `${USER_AGENT} ${index}`
      : `${USER_AGENT.slice(0, -1)}${USER_AGENT.at(-1)!}`,
    ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
  }
}

/** Creates the users, then calls `measure` around creating `count` sessions for them. */
async function fill(
  store: Store,
  count: number,
  measure: (create: () => Promise<void>) => Promise<number>,
  population: Population = STANDARD,
) {
  const auth = await createAuth({ store })
  const users = []
  for (let i = 0; i < Math.ceil(count / population.sessionsPerUser); i++) {
    const now = Math.floor(Date.now() / 1000)
    const id = generatePublicId()
    const record = {
      id,
      email: `${id.toLowerCase()}@example.com`,
      passwordHash: 'x',
      roles: [],
      createdAt: now,
      disabledAt: null,
      emailVerifiedAt: null,
    }
    users.push(record)
  }
  for (let i = 0; i < users.length; i += BATCH)
    await Promise.all(users.slice(i, i + BATCH).map((u) => store.createUser(u)))
  const publicUsers = users.map(toPublicUser)
  const bytes = await measure(async () => {
    for (let i = 0; i < count; i += BATCH) {
      await Promise.all(
        Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
          auth.createSession(publicUsers[(i + j) % publicUsers.length]!, clientOf(i + j, population)),
        ),
      )
    }
  })
  await auth.close()
  await store.close()
  return bytes
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function memoryStore(count: number): Promise<SessionBytes> {
  const bytes = await fill(createMemoryStore(), count, async (create) => {
    const before = heapAfterGc()
    await create()
    return heapAfterGc() - before
  })
  return { store: 'memory', sessions: count, bytesPerSession: bytes / count, method: 'V8 heap used after GC' }
}

async function redisStore(
  count: number,
  url: string,
  prefix: string,
  population: Population = STANDARD,
): Promise<SessionBytes> {
  const admin = new Redis(url)
  const store = createRedisStore({ url, keyPrefix: prefix })
  const usedMemory = async (): Promise<number> =>
    Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
  try {
    let parts: Record<string, number> = {}
    const bytes = await fill(
      store,
      count,
      async (create) => {
        const before = await usedMemory()
        await create()
        const after = await usedMemory()
        parts = await redisParts(admin, prefix, count, population)
        return after - before
      },
      population,
    )
    return {
      store: population === STANDARD ? 'redis' : 'redis, one session per user, its own User-Agent',
      sessions: count,
      bytesPerSession: bytes / count,
      method: 'INFO memory used_memory',
      parts,
    }
  } finally {
    await admin.quit()
  }
}

/**
 * Where the bytes are, per session: MEMORY USAGE (on Redis 7, a key's value, its name and its entry in the key
 * table, but not its expiry entry or the tables' bucket arrays, so the parts add up to less than the total) of
 * up to 200 sessions, user indexes and User-Agent texts each, and of the owners index.
 */
async function redisParts(
  admin: Redis,
  prefix: string,
  count: number,
  population: Population,
): Promise<Record<string, number>> {
  const sample = async (pattern: string): Promise<{ average: number; keys: number }> => {
    let cursor = '0'
    let found = 0
    const taken: string[] = []
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 5000)
      found += batch.length
      taken.push(...batch.slice(0, 200 - taken.length))
      cursor = next
    } while (cursor !== '0')
    let total = 0
    for (const key of taken) total += Number(await admin.memory('USAGE', key))
    return { average: taken.length === 0 ? 0 : total / taken.length, keys: found }
  }
  const agents = await sample('agent:*')
  return {
    session: (await sample('session:*')).average,
    "user's index": (await sample('user:*:sessions')).average / population.sessionsPerUser,
    'owners index': Number(await admin.memory('USAGE', `${prefix}session-owners-by-expiry`)) / count,
    'User-Agent text': (agents.average * agents.keys) / count,
  }
}

/**
 * Runs `measure` on a private Redis with the server's default key prefix (`sesame:`): every key carries the
 * prefix, so the bench's long per-run prefix would add a Redis allocation class to each session key (32 bytes
 * here), and a server of its own counts nothing but these sessions. Falls back to the shared server, under
 * the run's prefix and a `label` of its own, saying so, when no redis-server binary is at hand.
 */
async function onPrivateRedis(
  sharedUrl: string,
  runPrefix: string,
  label: string,
  measure: (url: string, prefix: string) => Promise<SessionBytes>,
): Promise<SessionBytes> {
  let server: PrivateServer
  try {
    server = await startPrivateRedis(['--appendonly', 'no'])
  } catch {
    const prefix = `${runPrefix}${label}:`
    const result = await measure(sharedUrl, prefix)
    return { ...result, method: `${result.method}, shared server, prefix ${JSON.stringify(prefix)}` }
  }
  try {
    const result = await measure(server.url, 'sesame:')
    return { ...result, method: `${result.method}, private server, prefix "sesame:"` }
  } finally {
    await server.close()
  }
}

async function postgresStore(count: number, url: string, schema: string): Promise<SessionBytes> {
  const store = await createPostgresStore({ url, schema })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await fill(store, count, async (create) => {
      await create()
      return 0
    })
    await sql.unsafe(`VACUUM ANALYZE "${schema}".sessions`)
    const [row] = await sql.unsafe<Array<{ bytes: string; rows: string }>>(
      `SELECT pg_total_relation_size('"${schema}".sessions') AS bytes, (SELECT count(*) FROM "${schema}".sessions) AS rows`,
    )
    return {
      store: 'postgres',
      sessions: Number(row!.rows),
      bytesPerSession: Number(row!.bytes) / Number(row!.rows),
      method: 'pg_total_relation_size (table, TOAST, indexes) / rows',
    }
  } finally {
    await sql.end({ timeout: 1 })
  }
}

async function sqliteStore(count: number): Promise<SessionBytes> {
  const path = join(mkdtempSync(join(tmpdir(), 'sesame-bytes-')), 'sesame.db')
  const store = createSqliteStore({ path })
  const reader = new Database(path) // read-write: only a writer connection may checkpoint the WAL
  const usedBytes = (): number => {
    reader.pragma('wal_checkpoint(PASSIVE)')
    const pages =
      Number(reader.pragma('page_count', { simple: true })) -
      Number(reader.pragma('freelist_count', { simple: true }))
    return pages * Number(reader.pragma('page_size', { simple: true }))
  }
  try {
    const bytes = await fill(store, count, async (create) => {
      const before = usedBytes()
      await create()
      return usedBytes() - before
    })
    return {
      store: 'sqlite',
      sessions: count,
      bytesPerSession: bytes / count,
      method: 'database pages in use',
    }
  } finally {
    reader.close()
  }
}

/**
 * Bytes per session in one instance's session cache (`engine/session-cache.ts`), on Redis: the sessions are
 * created, then each is authenticated once through the engine, which caches it; the V8 heap after a full
 * collection, before and after those requests, over the sessions. Also reports the cache's own estimate
 * (what its byte limit counts), to check the estimate against the heap.
 */
async function sessionCacheBytes(count: number, url: string, prefix: string): Promise<SessionBytes> {
  const store = createRedisStore({ url, keyPrefix: prefix })
  const auth = await createAuth({ store, sessionCache: { maxEntries: count, maxBytes: 2 ** 40 } })
  const users: PublicUser[] = []
  for (let i = 0; i < Math.ceil(count / STANDARD.sessionsPerUser); i++) {
    const id = generatePublicId()
    const user = {
      id,
      email: `${id.toLowerCase()}@example.com`,
      passwordHash: 'x',
      roles: [],
      createdAt: Math.floor(Date.now() / 1000),
      disabledAt: null,
      emailVerifiedAt: null,
    }
    await store.createUser(user)
    users.push(toPublicUser(user))
  }
  const cookies: string[] = []
  for (let i = 0; i < count; i += BATCH) {
    const made = await Promise.all(
      Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
        auth.createSession(users[(i + j) % users.length]!, clientOf(i + j, STANDARD)),
      ),
    )
    for (const { cookie } of made) cookies.push(`${cookie.name}=${cookie.value}`)
  }
  const before = heapAfterGc()
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(cookies.slice(i, i + BATCH).map((cookie) => auth.authenticateSession(cookie)))
  }
  const grown = heapAfterGc() - before
  const stats = auth.sessionCache!.stats()
  if (stats.entries !== count) throw new Error(`the cache holds ${stats.entries} of ${count} sessions`)
  await auth.close()
  await store.close()
  return {
    store: 'session cache (one instance)',
    sessions: count,
    bytesPerSession: grown / count,
    method: `V8 heap used after GC; the cache's own estimate ${Math.round(stats.bytes / count)}`,
  }
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000)
  const { REDIS_URL, DATABASE_URL, SESAME_REDIS_PREFIX, SESAME_POSTGRES_SCHEMA } = process.env
  if (!REDIS_URL || !DATABASE_URL || !SESAME_REDIS_PREFIX || !SESAME_POSTGRES_SCHEMA) {
    throw new Error('needs REDIS_URL, DATABASE_URL, SESAME_REDIS_PREFIX and SESAME_POSTGRES_SCHEMA')
  }
  const only = process.argv[3] // one store's name, to measure just that one
  const measures: Record<string, () => Promise<SessionBytes | null>> = {
    memory: () => memoryStore(count),
    redis: () =>
      onPrivateRedis(REDIS_URL, SESAME_REDIS_PREFIX, 'shared', (url, prefix) =>
        redisStore(count, url, prefix),
      ),
    'redis-unshared': () =>
      onPrivateRedis(REDIS_URL, SESAME_REDIS_PREFIX, 'unshared', (url, prefix) =>
        redisStore(count, url, prefix, NOTHING_SHARED),
      ),
    postgres: () => postgresStore(count, DATABASE_URL, SESAME_POSTGRES_SCHEMA),
    sqlite: () => sqliteStore(count),
    'session cache': () =>
      onPrivateRedis(REDIS_URL, SESAME_REDIS_PREFIX, 'cache', (url, prefix) =>
        sessionCacheBytes(count, url, prefix),
      ),
  }
  const results: SessionBytes[] = []
  for (const [name, measure] of Object.entries(measures)) {
    if (only && only !== name) continue
    const result = await measure()
    if (result) results.push(result)
  }
  process.stdout.write(`${JSON.stringify(results)}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
