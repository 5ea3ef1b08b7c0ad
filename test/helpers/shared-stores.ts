/**
 * Per-run isolation on the real shared servers: a fresh PostgreSQL schema or Redis key prefix for each store a
 * test opens, and cleanup of what it wrote. Uses `DATABASE_URL` / `REDIS_URL` (set by scripts/test-services.sh).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import postgres from 'postgres'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Test schemas and prefixes carry their creation time (hex seconds) before the random part, so that a run can
 * remove what a killed earlier run left without touching what a run going on beside it is using
 * (`removeStaleTestData`, run once before the suite).
 */
function stamp(randomBytesCount: number): string {
  return (
    Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0') + randomBytes(randomBytesCount).toString('hex')
  )
}

/** A schema name no other run uses. */
export function freshSchema(label = 'test'): string {
  return `sesame_${label}_${stamp(6)}`
}

/** A key prefix no other run uses; hex only, so it is also a literal SCAN pattern. */
export function freshPrefix(label = 'test'): string {
  return `sesame-${label}:${stamp(8)}:`
}

/** Test data older than this is from a run that ended without cleaning up (CI runs take under 25 minutes). */
const STALE_AFTER_SECONDS = 2 * 3600

/**
 * The creation time of a test schema or prefix name, or null for a name this module did not make (left alone:
 * it may belong to a run going on beside this one).
 */
function stampOf(name: string): number | null {
  const stamped =
    /^(?:sesame_[a-z0-9]+_([0-9a-f]{8})[0-9a-f]{12}|sesame-[a-z0-9]+:([0-9a-f]{8})[0-9a-f]{16}:)$/.exec(name)
  return stamped ? parseInt(stamped[1] ?? stamped[2]!, 16) : null
}

/** Drops test schemas and deletes test key prefixes older than two hours. Returns what it removed. */
export async function removeStaleTestData(now = Math.floor(Date.now() / 1000)): Promise<string[]> {
  const stale = (name: string): boolean => {
    const created = stampOf(name)
    return created !== null && now - created > STALE_AFTER_SECONDS
  }
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  let schemas: string[]
  try {
    const rows = await sql<
      { name: string }[]
    >`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'sesame\_%'`
    schemas = rows.map((row) => row.name).filter(stale)
  } finally {
    await sql.end({ timeout: 1 })
  }
  await dropSchemas(schemas)
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  const prefixes = new Set<string>()
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'sesame-*', 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        const prefix = /^sesame-[a-z0-9]+:[0-9a-f]+:/.exec(key)?.[0]
        if (prefix && stale(prefix)) prefixes.add(prefix)
      }
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  await deletePrefixes([...prefixes])
  return [...schemas, ...prefixes]
}

export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    for (const schema of schemas) {
      // A server process that was just killed may still have a transaction in flight on these tables until
      // PostgreSQL notices; dropping them then can deadlock with it (40P01). The server aborts the other side
      // and the drop goes through on a retry.
      for (let attempt = 1; ; attempt++) {
        try {
          await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
          break
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
        }
      }
    }
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/** Deletes every key under each prefix. SCAN is fine here: test cleanup, never a store code path. */
export async function deletePrefixes(prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return
  const redis = new Redis(REDIS_URL)
  try {
    for (const prefix of prefixes) {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        if (keys.length > 0) await redis.del(...keys)
        cursor = next
      } while (cursor !== '0')
    }
  } finally {
    await redis.quit()
  }
}
