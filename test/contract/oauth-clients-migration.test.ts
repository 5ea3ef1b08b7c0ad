/**
 * OAuth clients' stored-format change (refresh families gain `clientId` and `scope`; clients and consents get
 * tables) on the SQL stores: families written before it keep working and read as issued to no client with no
 * scope. SQLite and PostgreSQL get it by migration 11; Redis reads a family hash without the fields as null (its
 * own test file checks the fields stay absent).
 */
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { emailKey } from '../../src/core/email.js'
import { createPostgresStore, migratePostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres/index.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import type { RefreshFamilyRecord, Store } from '../../src/store/types.js'
import { DATABASE_URL, dropSchemas, freshSchema } from '../helpers/shared-stores.js'
import { makeTempDir } from '../helpers/server.js'
import {
  CONTRACT_TIMEOUT_MS,
  makeClient,
  makeConsent,
  makeFamily,
  makeTokenHash,
  makeUser,
} from './store-contract.js'

/** The schema version before OAuth clients. */
const PREVIOUS_VERSION = 10
/** The migration under test. */
const CLIENTS_VERSION = 11

const user = makeUser()
/**
 * Families as the previous release wrote them: no client, no scope, no sign-in methods (the fixture's nulls and
 * empty list are what they read as).
 */
const legacy = [
  makeFamily(user.id, { amr: [] }),
  makeFamily(user.id, { createdAt: user.createdAt + 1, userAgent: null, amr: [] }),
]
const legacyTokens = legacy.map(() => makeTokenHash())

/** The family columns of the previous release, in the order the inserts below give them. */
const LEGACY_FAMILY_COLUMNS = `id, user_id, created_at, last_used_at, expires_at, absolute_expires_at, generation,
  rotated_at, revoked_at, user_agent, ip, successor_seal`

function legacyFamilyValues(f: RefreshFamilyRecord) {
  return [
    f.id,
    f.userId,
    f.createdAt,
    f.lastUsedAt,
    f.expiresAt,
    f.absoluteExpiresAt,
    f.generation,
    f.rotatedAt,
    f.revokedAt,
    f.userAgent,
    f.ip,
    f.successorSeal,
  ]
}

/** What a migrated store must still do with the old families, and now with clients and consents. */
async function expectMigrated(store: Store): Promise<void> {
  for (const [i, family] of legacy.entries()) {
    expect(family).toMatchObject({ clientId: null, scope: null })
    expect(await store.findRefreshFamily(family.id)).toEqual(family)
    expect(await store.findRefreshToken(legacyTokens[i]!)).toEqual({ family, generation: 0 })
  }
  expect(await store.listUserRefreshFamilies(user.id)).toEqual(legacy)

  // An old family still rotates, and keeps reading as issued to no client.
  const next = makeTokenHash()
  expect(
    await store.rotateRefreshFamily(legacy[0]!.id, 0, next, user.createdAt + 60, user.createdAt + 3600, 's'),
  ).toBe(true)
  expect((await store.findRefreshToken(next))?.family).toMatchObject({
    generation: 1,
    clientId: null,
    scope: null,
  })

  // New families carry their client and scope; clients and consents are stored, and go with the user.
  const scoped = makeFamily(user.id, { createdAt: user.createdAt + 5, clientId: 'app', scope: 'openid' })
  await store.createRefreshFamily(scoped, makeTokenHash())
  expect(await store.findRefreshFamily(scoped.id)).toEqual(scoped)
  const client = makeClient({ id: 'app' })
  expect(await store.createClient(client)).toEqual(client)
  await store.putConsent(makeConsent(user.id, 'app'))
  expect(await store.listUserConsents(user.id)).toEqual([makeConsent(user.id, 'app')])
  expect(await store.deleteUser(user.id)).toBe(true)
  expect(await store.findConsent(user.id, 'app')).toBeNull()
  expect(await store.listClients()).toEqual([client])
}

describe('refresh families stored before OAuth clients existed', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('sqlite: migration 11 keeps them, read as issued to no client with no scope', async () => {
    const dir = makeTempDir()
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'data', 'sesame.db')
    mkdirSync(dirname(path), { recursive: true })
    const db = new Database(path)
    db.pragma('foreign_keys = ON')
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= PREVIOUS_VERSION)) {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    db.prepare(
      `INSERT INTO users (id, email, email_key, password_hash, roles, created_at) VALUES (?, ?, ?, ?, '[]', ?)`,
    ).run(user.id, user.email, emailKey(user.email), user.passwordHash, user.createdAt)
    const insertFamily = db.prepare(
      `INSERT INTO refresh_families (${LEGACY_FAMILY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const insertToken = db.prepare(
      'INSERT INTO refresh_tokens (token_hash, family_id, generation) VALUES (?, ?, 0)',
    )
    for (const [i, family] of legacy.entries()) {
      insertFamily.run(...legacyFamilyValues(family))
      insertToken.run(legacyTokens[i], family.id)
    }
    db.close()

    const store = createSqliteStore({ path })
    cleanups.push(() => store.close())
    await expectMigrated(store)

    const check = new Database(path, { readonly: true })
    cleanups.push(() => void check.close())
    const versions = check
      .prepare('SELECT version FROM schema_migrations WHERE version > ? AND version <= ?')
      .all(PREVIOUS_VERSION, CLIENTS_VERSION)
    expect(versions).toEqual([{ version: CLIENTS_VERSION }])
  })

  describe('postgres', () => {
    const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
    afterAll(() => admin.end({ timeout: 1 }))

    it('migration 11 keeps them, read as issued to no client with no scope, and takes an older writer’s insert', async () => {
      const schema = freshSchema('clients')
      cleanups.push(() => dropSchemas([schema]))
      const previous = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= PREVIOUS_VERSION)
      await migratePostgres(admin, schema, previous)
      await admin.unsafe(
        `INSERT INTO "${schema}".users (id, email, email_key, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
        [user.id, user.email, emailKey(user.email), user.passwordHash, user.createdAt],
      )
      const insertFamily = (family: RefreshFamilyRecord, tokenHash: string) =>
        admin.begin(async (tx) => {
          await tx.unsafe(
            `INSERT INTO "${schema}".refresh_families (${LEGACY_FAMILY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            legacyFamilyValues(family),
          )
          await tx.unsafe(
            `INSERT INTO "${schema}".refresh_tokens (token_hash, family_id, generation) VALUES ($1, $2, 0)`,
            [tokenHash, family.id],
          )
        })
      await insertFamily(legacy[0]!, legacyTokens[0]!)
      const clients = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= CLIENTS_VERSION)
      expect(await migratePostgres(admin, schema, clients)).toMatchObject({
        from: PREVIOUS_VERSION,
        applied: [{ version: CLIENTS_VERSION }],
      })
      // An instance of the previous release, still running during the upgrade, inserts without the columns.
      await insertFamily(legacy[1]!, legacyTokens[1]!)

      const store = await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: CONTRACT_TIMEOUT_MS })
      cleanups.push(() => store.close())
      await expectMigrated(store)
    })
  })
})
