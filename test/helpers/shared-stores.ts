/**
 * Per-run isolation on the real shared servers: a fresh PostgreSQL schema or Redis key prefix for each store a
 * test opens, and cleanup of what it wrote. Uses `DATABASE_URL` / `REDIS_URL` (set by scripts/test-services.sh).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import postgres from 'postgres'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A schema name no other run uses. */
export function freshSchema(label = 'test'): string {
  return `sesame_${label}_${randomBytes(6).toString('hex')}`
}

/** A key prefix no other run uses; hex only, so it is also a literal SCAN pattern. */
export function freshPrefix(label = 'test'): string {
  return `sesame-${label}:${randomBytes(8).toString('hex')}:`
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
