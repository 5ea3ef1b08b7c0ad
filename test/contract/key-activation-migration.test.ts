/**
 * Staged rotation's stored-format change (signing keys gain `activatesAt`) on every store with a stored
 * format: a key written before it existed reads as active since its creation, so an upgrade never leaves a
 * store without a key that signs. SQLite and PostgreSQL get it by migration 7, Redis by reading the old JSON.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createPostgresStore, migratePostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'
import { makeTempDir } from '../helpers/server.js'
import { CONTRACT_TIMEOUT_MS, makeSigningKey } from './store-contract.js'

/** A key as a Sesame before migration 7 stored it: no activation time. */
const legacy = makeSigningKey({ createdAt: 1_700_000_000 })
const legacyRetired = makeSigningKey({ createdAt: 1_690_000_000, retiredAt: 1_700_000_000 })
const expected = [
  { ...legacy, activatesAt: legacy.createdAt },
  { ...legacyRetired, activatesAt: legacyRetired.createdAt },
]

describe('signing keys stored before activation times existed', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('sqlite: migration 7 makes them active since their creation', async () => {
    const dir = makeTempDir()
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'data', 'sesame.db')
    mkdirSync(dirname(path), { recursive: true })
    const db = new Database(path)
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 6)) {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    const insert = db.prepare(
      `INSERT INTO signing_keys (kid, alg, private_jwk, created_at, retired_at)
       VALUES (@kid, @alg, @privateJwk, @createdAt, @retiredAt)`,
    )
    for (const key of [legacy, legacyRetired]) insert.run(key)
    db.close()

    const store = createSqliteStore({ path })
    cleanups.push(() => store.close())
    expect(await store.listSigningKeys()).toEqual(expected)
  })

  describe('postgres', () => {
    const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
    afterAll(() => admin.end({ timeout: 1 }))

    it('migration 7 makes them active since their creation, and takes an older writer’s insert', async () => {
      const schema = freshSchema('keys')
      cleanups.push(() => dropSchemas([schema]))
      const v6 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 6)
      await migratePostgres(admin, schema, v6)
      const insert = `INSERT INTO "${schema}".signing_keys (kid, alg, private_jwk, created_at, retired_at)
                      VALUES ($1, $2, $3, $4, $5)`
      for (const key of [legacy, legacyRetired]) {
        await admin.unsafe(insert, [key.kid, key.alg, key.privateJwk, key.createdAt, key.retiredAt])
      }
      const v7 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 7)
      expect(await migratePostgres(admin, schema, v7)).toMatchObject({ applied: [{ version: 7 }] })
      // An instance of the previous release, still running during the upgrade, inserts without the column.
      const late = makeSigningKey({ createdAt: 1_700_000_100 })
      await admin.unsafe(insert, [late.kid, late.alg, late.privateJwk, late.createdAt, late.retiredAt])

      const store = await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: CONTRACT_TIMEOUT_MS })
      cleanups.push(() => store.close())
      // Its key reads as active since 0: it signs at once, as it would have on the release that wrote it.
      expect(await store.listSigningKeys()).toEqual([{ ...late, activatesAt: 0 }, ...expected])
    })
  })

  it('redis: a key JSON without activatesAt reads as active since its creation', async () => {
    const prefix = freshPrefix('keys')
    cleanups.push(() => deletePrefixes([prefix]))
    const raw = new Redis(REDIS_URL)
    cleanups.push(async () => void (await raw.quit()))
    // The layout of the previous release: the fixed fields as JSON, retirement in its own hash.
    for (const key of [legacy, legacyRetired]) {
      const { kid, alg, privateJwk, createdAt } = key
      await raw.hset(`${prefix}{keys}`, kid, JSON.stringify({ kid, alg, privateJwk, createdAt }))
    }
    await raw.hset(`${prefix}{keys}:retired`, legacyRetired.kid, String(legacyRetired.retiredAt))

    const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: CONTRACT_TIMEOUT_MS })
    cleanups.push(() => store.close())
    expect(await store.listSigningKeys()).toEqual(expected)
    // The first-key guard reads the old JSON too: the unretired legacy key wins.
    expect(await store.createFirstSigningKey(makeSigningKey())).toEqual(expected[0])
  })
})
