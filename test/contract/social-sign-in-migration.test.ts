/**
 * Sign-in providers' stored-format change (users gain `emailVerifiedAt` and may have no password; identities and
 * claims get tables) on every store with a stored format: users written before it keep their password hash,
 * read as unverified, and keep their sessions. SQLite and PostgreSQL get it by migrations 8 and 9, Redis by
 * reading a user hash without the new field.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { emailKey } from '../../src/core/email.js'
import { createPostgresStore, migratePostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createRedisKeys } from '../../src/store/redis/keys.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import type { Store, UserRecord } from '../../src/store/types.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'
import { makeTempDir } from '../helpers/server.js'
import { CONTRACT_TIMEOUT_MS, makeIdentity, makeSession, makeSocialUser, makeUser } from './store-contract.js'

/** The schema version before sign-in providers. */
const PREVIOUS_VERSION = 7
/** The last of the migrations under test: later ones are not this file's subject. */
const SOCIAL_VERSION = 9

/** Users as the previous release wrote them: every one has a password; none has `emailVerifiedAt`. */
const legacy = [
  makeUser({ createdAt: 1_700_000_000, roles: ['admin'] }),
  makeUser({ createdAt: 1_700_000_100, disabledAt: 1_700_000_200 }),
]
/** What they read as once migrated. */
const expected = legacy.map((user): UserRecord => ({ ...user, emailVerifiedAt: null }))

/** What a store that was migrated must still do with the old users, and now with new kinds of users. */
async function expectMigrated(store: Store, sessionOfFirst: string): Promise<void> {
  for (const user of expected) {
    expect(await store.findUserById(user.id)).toEqual(user)
    expect(await store.findUserByEmail(user.email)).toEqual(user)
  }
  expect((await store.findSessionWithUser(sessionOfFirst))?.user).toEqual(expected[0])
  // An old user may link a provider and then leave it again: it has its password.
  const identity = makeIdentity(expected[0]!.id)
  expect(await store.linkIdentity(identity)).toBe(true)
  expect(await store.unlinkIdentity(expected[0]!.id, identity.provider)).toBe(true)
  // A sign-up through a provider stores a user without a password, and a claim can be taken.
  const social = makeSocialUser()
  expect(await store.createUserWithIdentity(social, makeIdentity(social.id))).toEqual(social)
  expect(await store.findUserById(social.id)).toEqual(social)
  expect(await store.claimOnce('state-hash', 4_000_000_060, 4_000_000_000)).toBe(true)
}

describe('users stored before sign-in providers existed', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it(`sqlite: migrations 8 and 9 keep their password hashes and sessions, and read them as unverified`, async () => {
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
    const insert = db.prepare(
      `INSERT INTO users (id, email, email_key, password_hash, roles, created_at, disabled_at)
       VALUES (@id, @email, @key, @passwordHash, @roles, @createdAt, @disabledAt)`,
    )
    for (const user of legacy) {
      insert.run({ ...user, key: emailKey(user.email), roles: JSON.stringify(user.roles) })
    }
    // As the release before sign-in methods wrote it: none recorded.
    const session = makeSession(legacy[0]!.id, { amr: [] })
    db.prepare(
      `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, absolute_expires_at,
                             user_agent, ip)
       VALUES (@tokenHash, @id, @userId, @createdAt, @lastSeenAt, @expiresAt, @absoluteExpiresAt, @userAgent, @ip)`,
    ).run(session)
    db.close()

    const store = createSqliteStore({ path })
    cleanups.push(() => store.close())
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
    await expectMigrated(store, session.tokenHash)

    const check = new Database(path, { readonly: true })
    cleanups.push(() => void check.close())
    const versions = check
      .prepare('SELECT version FROM schema_migrations WHERE version > ? AND version <= ?')
      .all(PREVIOUS_VERSION, SOCIAL_VERSION)
    expect(versions).toEqual([{ version: 8 }, { version: 9 }])
  })

  describe('postgres', () => {
    const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
    afterAll(() => admin.end({ timeout: 1 }))

    it('migrations 8 and 9 keep their password hashes and sessions, and take an older writer’s insert', async () => {
      const schema = freshSchema('social')
      cleanups.push(() => dropSchemas([schema]))
      const previous = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= PREVIOUS_VERSION)
      await migratePostgres(admin, schema, previous)
      const insert = `INSERT INTO "${schema}".users (id, email, email_key, password_hash, roles, created_at, disabled_at)
                      VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7)`
      const insertUser = (user: UserRecord) =>
        admin.unsafe(insert, [
          user.id,
          user.email,
          emailKey(user.email),
          user.passwordHash,
          JSON.stringify(user.roles),
          user.createdAt,
          user.disabledAt,
        ])
      await insertUser(legacy[0]!)
      const session = makeSession(legacy[0]!.id, { amr: [] })
      await admin.unsafe(
        `INSERT INTO "${schema}".sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at,
                                           absolute_expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          session.tokenHash,
          session.id,
          session.userId,
          session.createdAt,
          session.lastSeenAt,
          session.expiresAt,
          session.absoluteExpiresAt,
          session.userAgent,
          session.ip,
        ],
      )
      const social = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= SOCIAL_VERSION)
      expect(await migratePostgres(admin, schema, social)).toMatchObject({
        from: PREVIOUS_VERSION,
        applied: [{ version: 8 }, { version: 9 }],
      })
      // An instance of the previous release, still running during the upgrade, inserts without the column.
      await insertUser(legacy[1]!)

      const store = await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: CONTRACT_TIMEOUT_MS })
      cleanups.push(() => store.close())
      expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      await expectMigrated(store, session.tokenHash)
    })
  })

  it('redis: a user hash without emailVerifiedAt reads as unverified, with its password hash', async () => {
    const prefix = freshPrefix('social')
    cleanups.push(() => deletePrefixes([prefix]))
    const raw = new Redis(REDIS_URL)
    cleanups.push(async () => void (await raw.quit()))
    const keys = createRedisKeys(prefix)
    // The layout of the previous release: one field per record field, none for emailVerifiedAt.
    for (const user of legacy) {
      await raw.hset(keys.user(user.id), {
        id: user.id,
        email: user.email,
        passwordHash: user.passwordHash!,
        roles: JSON.stringify(user.roles),
        createdAt: String(user.createdAt),
        ...(user.disabledAt !== null && { disabledAt: String(user.disabledAt) }),
      })
      await raw.set(keys.userEmail(user.email), user.id)
      await raw.set(keys.userEmailKey(emailKey(user.email)), user.id)
    }

    const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: CONTRACT_TIMEOUT_MS })
    cleanups.push(() => store.close())
    const session = makeSession(legacy[0]!.id)
    await store.createSession(session)
    await expectMigrated(store, session.tokenHash)
  })
})
