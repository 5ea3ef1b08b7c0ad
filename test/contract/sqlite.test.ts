import { mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { makeTempDir } from '../helpers/server.js'
import { expectKeylessAccountsMoveAndGo, expectMigratedKeys, legacyUsers } from './email-key-migration.js'
import { emailKey } from '../../src/core/email.js'
import { describeStoreContract, makeFamily, makeSession, makeTokenHash, makeUser } from './store-contract.js'

describeStoreContract('sqlite', async () => {
  const dir = makeTempDir()
  return {
    store: createSqliteStore({ path: join(dir, 'sesame.db') }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    userForeignKey: true,
  }
})

describe('sqlite store specifics', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  function tempPath(): string {
    const dir = makeTempDir()
    dirs.push(dir)
    return join(dir, 'nested', 'sesame.db')
  }

  it('creates the file 0600 in a new directory, in WAL mode', async () => {
    const path = tempPath()
    const store = createSqliteStore({ path })
    await store.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('records each migration once and reopens without re-running them', async () => {
    const path = tempPath()
    await createSqliteStore({ path }).close()
    await createSqliteStore({ path }).close()
    const db = new Database(path, { readonly: true })
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
    db.close()
    expect(rows).toEqual(SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })))
  })

  it('keeps users and sessions across a close and reopen (a restart)', async () => {
    const path = tempPath()
    const first = createSqliteStore({ path })
    const user = makeUser()
    const session = makeSession(user.id)
    await first.createUser(user)
    await first.createSession(session)
    await first.close()
    const second = createSqliteStore({ path })
    expect(await second.findUserById(user.id)).toEqual(user)
    expect(await second.findSessionByTokenHash(session.tokenHash)).toEqual(session)
    await second.close()
  })

  it('refuses a database written by a newer schema, without touching it', async () => {
    const path = tempPath()
    await createSqliteStore({ path }).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future')
    db.close()
    expect(() => createSqliteStore({ path })).toThrow(/schema version 999, newer than this Sesame knows/)
  })

  it('gives existing users their email key in migration 6: the oldest look-alike keeps it, and is reported', async () => {
    const path = tempPath()
    mkdirSync(dirname(path), { recursive: true })
    // A database as 0.2 left it: schema version 5, users without keys.
    const db = new Database(path)
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 5)) {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    const users = legacyUsers()
    const insert = db.prepare(
      `INSERT INTO users (id, email, password_hash, roles, created_at, disabled_at)
       VALUES (@id, @email, @passwordHash, '[]', @createdAt, NULL)`,
    )
    for (const user of Object.values(users)) insert.run(user)
    db.close()

    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const store = createSqliteStore({ path })
    const notes = warn.mock.calls
      .filter(([, options]) => typeof options === 'object' && options.code === 'SESAME_W004')
      .map(([message]) => String(message))
    warn.mockRestore()
    await expectMigratedKeys(store, users, notes)

    const check = new Database(path, { readonly: true })
    const keyless = check.prepare('SELECT id FROM users WHERE email_key IS NULL ORDER BY id').all()
    check.close()
    expect(keyless).toEqual(
      [{ id: users.lookalike.id }, { id: users.plainOffice.id }].sort((a, b) => (a.id < b.id ? -1 : 1)),
    )
    await expectKeylessAccountsMoveAndGo(store, users)
    await store.close()
  })

  it('reads sessions and refresh families stored before migration 12 as signed in by no recorded method', async () => {
    const path = tempPath()
    mkdirSync(dirname(path), { recursive: true })
    // A database as the previous release left it: schema version 11, no `amr` columns, no factors table.
    const db = new Database(path)
    db.pragma('foreign_keys = ON')
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 11)) {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    const user = makeUser()
    const session = makeSession(user.id, { amr: [] })
    const family = makeFamily(user.id, { amr: [], clientId: 'app', scope: 'openid' })
    const tokenHash = makeTokenHash()
    db.prepare(
      `INSERT INTO users (id, email, email_key, password_hash, roles, created_at) VALUES (?, ?, ?, ?, '[]', ?)`,
    ).run(user.id, user.email, emailKey(user.email), user.passwordHash, user.createdAt)
    db.prepare(
      `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, absolute_expires_at,
                             user_agent, ip)
       VALUES (@tokenHash, @id, @userId, @createdAt, @lastSeenAt, @expiresAt, @absoluteExpiresAt, @userAgent, @ip)`,
    ).run({ ...session, amr: undefined })
    db.prepare(
      `INSERT INTO refresh_families (id, user_id, created_at, last_used_at, expires_at, absolute_expires_at,
                                     generation, rotated_at, revoked_at, user_agent, ip, successor_seal,
                                     client_id, scope)
       VALUES (@id, @userId, @createdAt, @lastUsedAt, @expiresAt, @absoluteExpiresAt, @generation, @rotatedAt,
               @revokedAt, @userAgent, @ip, @successorSeal, @clientId, @scope)`,
    ).run({ ...family, amr: undefined })
    db.prepare('INSERT INTO refresh_tokens (token_hash, family_id, generation) VALUES (?, ?, 0)').run(
      tokenHash,
      family.id,
    )
    db.close()

    const store = createSqliteStore({ path })
    try {
      expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
      expect(await store.listUserSessions(user.id)).toEqual([session])
      expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
      expect(await store.listUserRefreshFamilies(user.id)).toEqual([family])
      // An old family still rotates, and keeps reading as signed in by no recorded method.
      expect(
        await store.rotateRefreshFamily(
          family.id,
          0,
          makeTokenHash(),
          family.createdAt + 5,
          family.expiresAt,
          's',
        ),
      ).toBe(true)
      expect((await store.findRefreshFamily(family.id))?.amr).toEqual([])
      // New records keep theirs beside the old ones.
      const fresh = makeSession(user.id, { createdAt: session.createdAt + 1, amr: ['pwd', 'otp', 'mfa'] })
      await store.createSession(fresh)
      expect(await store.listUserSessions(user.id)).toEqual([session, fresh])
      expect(await store.listUserFactors(user.id)).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('turns driver failures into store_unavailable', async () => {
    const store = createSqliteStore({ path: tempPath() })
    await store.close()
    await expect(store.findUserById('x')).rejects.toMatchObject({
      code: 'store_unavailable',
      message: 'The SQLite store could not complete the operation.',
    })
  })
})
