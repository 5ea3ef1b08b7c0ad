/**
 * The PostgreSQL store against a real server (`DATABASE_URL`, default the local test database). Every store
 * opened here gets a fresh random schema, dropped afterwards through a separate admin connection, so runs
 * never see each other's rows.
 */
import { randomBytes } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createPostgresStore, migratePostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres/index.js'
import { parseChangeEvent } from '../../src/core/change-event.js'
import { emailKey } from '../../src/core/email.js'
import { changeChannel } from '../../src/store/postgres/change-feed.js'
import type { ChangeEvent, Store } from '../../src/store/types.js'
import { freshSchema } from '../helpers/shared-stores.js'
import {
  CONTRACT_TIMEOUT_MS,
  describeStoreContract,
  makeFamily,
  makeSession,
  makeTokenHash,
  makeUser,
} from './store-contract.js'
import { expectKeylessAccountsMoveAndGo, expectMigratedKeys, legacyUsers } from './email-key-migration.js'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const admin = postgres(DATABASE_URL, { max: 2, onnotice: () => {} })

/** Stamped, so a killed run's schema is removed by a later run (test/global-setup.ts). */
function randomSchema(): string {
  return freshSchema('test')
}

async function dropSchema(schema: string): Promise<void> {
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}

afterAll(async () => {
  await admin.end({ timeout: 1 })
})

describeStoreContract('postgres', async () => {
  const schema = randomSchema()
  return {
    store: await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: CONTRACT_TIMEOUT_MS }),
    cleanup: () => dropSchema(schema),
    userForeignKey: true,
    sessionNotices: true,
  }
})

describe('postgres store specifics', () => {
  const schemas: string[] = []
  const stores: Store[] = []
  const servers: Array<{ server: Server; sockets: Set<Socket> }> = []

  function schemaForTest(): string {
    const schema = randomSchema()
    schemas.push(schema)
    return schema
  }
  async function open(schema: string, options: { migrate?: boolean } = {}): Promise<Store> {
    const store = await createPostgresStore({ url: DATABASE_URL, schema, ...options })
    stores.push(store)
    return store
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
    for (const schema of schemas.splice(0)) await dropSchema(schema)
    for (const { server, sockets } of servers.splice(0)) {
      for (const socket of sockets) socket.destroy()
      if (server.listening) await new Promise((resolve) => server.close(resolve))
    }
  })

  it("numbers an operator's writes too: a TRUNCATE moves the count with no notice, a lost count row starts again", async () => {
    const schema = schemaForTest()
    const store = await open(schema)
    const count = () => store.sessionFeeds![0]!.lastSessionChange()
    const user = makeUser()
    await store.createUser(user)
    await store.createSession(makeSession(user.id))
    // psql, not Sesame: the triggers announce it.
    await admin.unsafe(`UPDATE "${schema}".users SET disabled_at = 1 WHERE id = $1`, [user.id])
    expect(await count()).toBe(1)
    await admin.unsafe(`TRUNCATE "${schema}".sessions`)
    expect(await count()).toBe(2)
    await admin.unsafe(`DELETE FROM "${schema}".session_change_count`)
    expect(await count()).toBe(0)
    // The next write recreates the row and its notice numbers from 1: no write fails for want of it.
    expect(await store.setUserDisabled(user.id, null)).toBe(true)
    expect(await count()).toBe(1)
  })

  /** A TCP proxy to the test server that can be cut (every connection reset) and restored on one port. */
  async function startProxy(): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
    const target = new URL(DATABASE_URL)
    const sockets = new Set<Socket>()
    let server = listen()
    let port = 0
    function listen(): Server {
      const created = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('close', () => sockets.delete(socket))
          socket.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
      })
      servers.push({ server: created, sockets })
      return created
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
    const url = new URL(DATABASE_URL)
    url.host = `127.0.0.1:${port}`
    return {
      url: url.toString(),
      async down() {
        const closed = new Promise((resolve) => server.close(resolve))
        for (const socket of sockets) socket.resetAndDestroy()
        await closed
      },
      async up() {
        server = listen()
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
      },
    }
  }

  async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const started = Date.now()
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error('condition not met in time')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  async function appliedMigrations(schema: string): Promise<unknown[]> {
    return admin.unsafe(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`)
  }

  it('creates its schema, records each migration once, and reopens without re-running them', async () => {
    const schema = schemaForTest()
    await open(schema)
    await open(schema)
    expect(await appliedMigrations(schema)).toEqual(
      POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    )
  })

  it('migrates exactly once when several instances start at once on one schema', async () => {
    const schema = schemaForTest()
    const opened = await Promise.all(Array.from({ length: 5 }, () => open(schema)))
    expect(opened).toHaveLength(5)
    expect(await appliedMigrations(schema)).toEqual(
      POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    )
    // Every instance sees the same tables: a user written through one is read through another.
    const user = makeUser()
    await opened[0]!.createUser(user)
    expect(await opened[4]!.findUserById(user.id)).toEqual(user)
  })

  it('leaves the schema alone with migrate: false', async () => {
    const schema = schemaForTest()
    const store = await open(schema, { migrate: false })
    await store.ping()
    const [row] = await admin`SELECT count(*)::int4 AS n FROM pg_namespace WHERE nspname = ${schema}`
    expect(row!.n).toBe(0)
  })

  it('refuses a schema written by a newer Sesame, without touching it', async () => {
    const schema = schemaForTest()
    await open(schema)
    await admin.unsafe(
      `INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`,
    )
    await expect(createPostgresStore({ url: DATABASE_URL, schema })).rejects.toThrow(
      /schema version 999, newer than this Sesame knows/,
    )
    expect(await appliedMigrations(schema)).toEqual([
      ...POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
      { version: 999, name: 'future' },
    ])
  })

  it('keeps users and sessions across a close and reopen (a restart)', async () => {
    const schema = schemaForTest()
    const first = await createPostgresStore({ url: DATABASE_URL, schema })
    const user = makeUser({ roles: ['admin'] })
    const session = makeSession(user.id)
    await first.createUser(user)
    await first.createSession(session)
    await first.close()
    const second = await open(schema)
    expect(await second.findUserById(user.id)).toEqual(user)
    expect(await second.findSessionByTokenHash(session.tokenHash)).toEqual(session)
  })

  it('round-trips times past 2038 as numbers (BIGINT columns)', async () => {
    const store = await open(schemaForTest())
    const year2100 = 4_102_444_800
    const user = makeUser({ createdAt: year2100, disabledAt: year2100 + 1 })
    await store.createUser(user)
    expect(await store.findUserById(user.id)).toEqual(user)
    const family = makeFamily(user.id, { expiresAt: year2100, absoluteExpiresAt: year2100 + 10 })
    await store.createRefreshFamily(family, 'token-hash')
    expect(await store.findRefreshFamily(family.id)).toEqual(family)
    await store.setUserEpoch({ userId: user.id, epoch: year2100, expiresAt: year2100 + 900 })
    expect(await store.listUserEpochs(year2100)).toEqual([
      { userId: user.id, epoch: year2100, expiresAt: year2100 + 900 },
    ])
  })

  it('gives existing users their email key in migration 6: the oldest look-alike keeps it, and is reported', async () => {
    const schema = schemaForTest()
    const v5 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 5)
    expect(await migratePostgres(admin, schema, v5)).toMatchObject({ from: 0, to: 5, notes: [] })
    const users = legacyUsers()
    for (const user of Object.values(users)) {
      await admin.unsafe(
        `INSERT INTO "${schema}".users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)`,
        [user.id, user.email, user.passwordHash, user.createdAt],
      )
    }
    // Up to 6 only: later migrations are not this test's subject.
    const v6 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 6)
    const report = await migratePostgres(admin, schema, v6)
    expect(report).toMatchObject({ from: 5, to: 6, applied: [{ version: 6 }] })
    const store = await open(schema)
    await expectMigratedKeys(store, users, report.notes)
    const keyless = await admin.unsafe<Array<{ id: string }>>(
      `SELECT id FROM "${schema}".users WHERE email_key IS NULL ORDER BY id`,
    )
    expect(keyless.map((row) => row.id)).toEqual([users.lookalike.id, users.plainOffice.id].sort())
    await expectKeylessAccountsMoveAndGo(store, users)
    // Opening the store applied the rest; nothing is left to do or to report.
    expect(await migratePostgres(admin, schema)).toMatchObject({ applied: [], notes: [] })
  })

  it('upgrades a version-3 schema in place: existing families get a null seal, then rotate with one', async () => {
    const schema = schemaForTest()
    const v3 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 3)
    expect(await migratePostgres(admin, schema, v3)).toMatchObject({ from: 0, to: 3 })
    // Written the way a version-3 Sesame wrote them: no successor_seal column exists yet (nor amr, which
    // migration 13 reads as none).
    const user = makeUser()
    const family = makeFamily(user.id, { successorSeal: null, amr: [] })
    const token0 = makeTokenHash()
    await admin.unsafe(
      `INSERT INTO "${schema}".users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)`,
      [user.id, user.email, user.passwordHash, user.createdAt],
    )
    await admin.unsafe(
      `INSERT INTO "${schema}".refresh_families (id, user_id, created_at, last_used_at, expires_at,
         absolute_expires_at, generation, rotated_at, revoked_at, user_agent, ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        family.id,
        family.userId,
        family.createdAt,
        family.lastUsedAt,
        family.expiresAt,
        family.absoluteExpiresAt,
        family.generation,
        family.rotatedAt,
        family.revokedAt,
        family.userAgent,
        family.ip,
      ],
    )
    await admin.unsafe(
      `INSERT INTO "${schema}".refresh_tokens (token_hash, family_id, generation) VALUES ($1, $2, 0)`,
      [token0, family.id],
    )

    const store = await open(schema)
    expect(await appliedMigrations(schema)).toEqual(
      POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    )
    expect(await store.findRefreshFamily(family.id)).toEqual(family)
    const seal = 'S'.repeat(220)
    const now = family.createdAt + 60
    expect(await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), now, now + 900, seal)).toBe(true)
    expect(await store.findRefreshToken(token0)).toEqual({
      family: {
        ...family,
        generation: 1,
        rotatedAt: now,
        lastUsedAt: now,
        expiresAt: now + 900,
        successorSeal: seal,
      },
      generation: 0,
    })
  })

  it('upgrades a version-12 schema in place: sessions and families stored before read as signed in by no method', async () => {
    const schema = schemaForTest()
    const v12 = POSTGRES_MIGRATIONS.filter((migration) => migration.version <= 12)
    expect(await migratePostgres(admin, schema, v12)).toMatchObject({ from: 0, to: 12 })
    // Written the way a version-12 Sesame wrote them: no amr column exists yet.
    const user = makeUser()
    const session = makeSession(user.id, { amr: [] })
    const family = makeFamily(user.id, { clientId: 'app', scope: 'openid', amr: [] })
    const token0 = makeTokenHash()
    await admin.unsafe(
      `INSERT INTO "${schema}".users (id, email, email_key, password_hash, roles, created_at)
       VALUES ($1, $2, $3, $4, $5::text::jsonb, $6)`,
      [
        user.id,
        user.email,
        emailKey(user.email),
        user.passwordHash,
        JSON.stringify(user.roles),
        user.createdAt,
      ],
    )
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
    await admin.unsafe(
      `INSERT INTO "${schema}".refresh_families (id, user_id, created_at, last_used_at, expires_at,
         absolute_expires_at, generation, rotated_at, revoked_at, successor_seal, user_agent, ip, client_id, scope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        family.id,
        family.userId,
        family.createdAt,
        family.lastUsedAt,
        family.expiresAt,
        family.absoluteExpiresAt,
        family.generation,
        family.rotatedAt,
        family.revokedAt,
        family.successorSeal,
        family.userAgent,
        family.ip,
        family.clientId,
        family.scope,
      ],
    )
    await admin.unsafe(
      `INSERT INTO "${schema}".refresh_tokens (token_hash, family_id, generation) VALUES ($1, $2, 0)`,
      [token0, family.id],
    )

    const store = await open(schema)
    expect(await appliedMigrations(schema)).toEqual(
      POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    )
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
    expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
    expect(await store.listUserSessions(user.id)).toEqual([session])
    expect(await store.findRefreshToken(token0)).toEqual({ family, generation: 0 })
    expect(await store.listUserRefreshFamilies(user.id)).toEqual([family])
    // Stored as '' by the column's default, not rewritten: the migration changed no row.
    const stored = await admin.unsafe(
      `SELECT (SELECT amr FROM "${schema}".sessions) AS session, (SELECT amr FROM "${schema}".refresh_families) AS family`,
    )
    expect(stored).toEqual([{ session: '', family: '' }])
    // A version-12 Sesame still running during the upgrade inserts without the column: its rows read the same.
    const late = makeSession(user.id, { amr: [] })
    await admin.unsafe(
      `INSERT INTO "${schema}".sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at,
         absolute_expires_at, user_agent, ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        late.tokenHash,
        late.id,
        late.userId,
        late.createdAt,
        late.lastSeenAt,
        late.expiresAt,
        late.absoluteExpiresAt,
        late.userAgent,
        late.ip,
      ],
    )
    expect(await store.findSessionByTokenHash(late.tokenHash)).toEqual(late)
  })

  it('sets the seal of exactly the winning rotation, and no other, when rotations race', async () => {
    const store = await open(schemaForTest())
    const user = makeUser()
    await store.createUser(user)
    const family = makeFamily(user.id, { successorSeal: null })
    await store.createRefreshFamily(family, makeTokenHash())
    const attempts = Array.from({ length: 10 }, (_, i) => ({
      hash: makeTokenHash(),
      // Opaque text near the contract's upper size, distinct per attempt.
      seal: `${i}.${randomBytes(150).toString('base64url')}`,
    }))
    const results = await Promise.all(
      attempts.map(({ hash, seal }) =>
        store.rotateRefreshFamily(family.id, 0, hash, family.createdAt + 60, family.createdAt + 900, seal),
      ),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = attempts[results.indexOf(true)]!
    const stored = await store.findRefreshFamily(family.id)
    expect(stored).toMatchObject({ generation: 1, successorSeal: winner.seal })
    // A losing compare changes nothing, the seal included.
    expect(
      await store.rotateRefreshFamily(
        family.id,
        0,
        makeTokenHash(),
        family.createdAt + 120,
        family.createdAt + 2000,
        'late',
      ),
    ).toBe(false)
    expect(await store.findRefreshFamily(family.id)).toEqual(stored)
    for (const [i, { hash }] of attempts.entries()) {
      expect(await store.findRefreshToken(hash)).toEqual(
        i === results.indexOf(true) ? { family: stored, generation: 1 } : null,
      )
    }
  })

  it('stores roles correctly as the very first statement of a fresh pool (no migration ran on it)', async () => {
    const schema = schemaForTest()
    await open(schema)
    const fresh = await open(schema, { migrate: false })
    const user = makeUser({ roles: ['admin', 'quote"comma,brace{'] })
    await fresh.createUser(user)
    expect(await fresh.findUserById(user.id)).toEqual(user)
  })

  it('keeps the later of two epochs and of two expiries independently', async () => {
    const store = await open(schemaForTest())
    await store.setUserEpoch({ userId: 'u', epoch: 100, expiresAt: 1000 })
    await store.setUserEpoch({ userId: 'u', epoch: 50, expiresAt: 2000 })
    await store.setUserEpoch({ userId: 'u', epoch: 200, expiresAt: 1500 })
    expect(await store.listUserEpochs(0)).toEqual([{ userId: 'u', epoch: 200, expiresAt: 2000 }])
    expect(await store.deleteExpiredAccessRevocations(2000)).toBe(1)
    expect(await store.listUserEpochs(0)).toEqual([])
  })

  it('purges counters of ended rate-limit windows on later hits, a bounded batch at a time', async () => {
    const schema = schemaForTest()
    const store = await open(schema)
    const now = 4_000_000_000
    const slots = async (): Promise<string[]> =>
      (await admin.unsafe(`SELECT slot FROM "${schema}".rate_limits ORDER BY slot`)).map(
        (row) => row.slot as string,
      )
    const minute = Math.floor(now / 60)
    const hour = Math.floor(now / 3600)
    expect(await store.hitRateLimit('a', 60, now)).toBe(1)
    expect(await store.hitRateLimit('b', 3600, now)).toBe(1)
    // The next minute: a's window has ended, but is kept for a minute's grace (instances' clocks differ).
    expect(await store.hitRateLimit('c', 60, now + 60)).toBe(1)
    expect(await slots()).toEqual([`a:60:${minute}`, `b:3600:${hour}`, `c:60:${minute + 1}`])
    // Two minutes on, a's window goes; b's hour has not ended.
    expect(await store.hitRateLimit('d', 60, now + 120)).toBe(1)
    const live = [`b:3600:${hour}`, `c:60:${minute + 1}`, `d:60:${minute + 2}`]
    expect(await slots()).toEqual(live)

    // 250 ended windows left behind: each hit deletes at most 100 of them, oldest first.
    await admin.unsafe(
      `INSERT INTO "${schema}".rate_limits (slot, count, ends_at)
       SELECT 'old:' || i, 1, $1::bigint - 1000 + i FROM generate_series(1, 250) AS i`,
      [now],
    )
    const old = async (): Promise<number> =>
      (
        await admin.unsafe(`SELECT count(*)::int4 AS n FROM "${schema}".rate_limits WHERE slot LIKE 'old:%'`)
      )[0]!.n as number
    expect(await store.hitRateLimit('c', 60, now + 60)).toBe(2)
    expect(await old()).toBe(150)
    await store.hitRateLimit('c', 60, now + 60)
    await store.hitRateLimit('c', 60, now + 60)
    expect(await old()).toBe(0)
    expect(await slots()).toEqual(live)
    expect(await store.countRateLimit('c', 60, now + 60)).toBe(4)
  })

  it('refuses an unsafe schema name or a search_path in the URL', async () => {
    await expect(
      createPostgresStore({ url: DATABASE_URL, schema: 'x"; DROP TABLE users; --' }),
    ).rejects.toThrow(TypeError)
    await expect(createPostgresStore({ url: DATABASE_URL, schema: 'Upper' })).rejects.toThrow(TypeError)
    await expect(
      createPostgresStore({ url: `${DATABASE_URL}?search_path=public`, schema: schemaForTest() }),
    ).rejects.toThrow(TypeError)
  })

  describe('when the server cannot be reached', () => {
    const CLOSED_PORT_URL = 'postgres://postgres@127.0.0.1:1/test'

    it('fails ping and operations with store_unavailable (connection refused)', async () => {
      const unreachable = await createPostgresStore({ url: CLOSED_PORT_URL, migrate: false })
      stores.push(unreachable)
      expect(unreachable.kind).toBe('postgres')
      await expect(unreachable.ping()).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(unreachable.findUserById('x')).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(unreachable.createUser(makeUser())).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(unreachable.changes.publish({ type: 'keys-changed' })).rejects.toMatchObject({
        code: 'store_unavailable',
      })
      await expect(
        unreachable.changes.subscribe(
          () => {},
          () => {},
        ),
      ).rejects.toMatchObject({
        code: 'store_unavailable',
      })
    })

    it('rejects store creation with store_unavailable when migrating', async () => {
      await expect(createPostgresStore({ url: CLOSED_PORT_URL })).rejects.toMatchObject({
        code: 'store_unavailable',
      })
    })

    it('fails with store_unavailable, not a hang, when the server accepts but never answers', async () => {
      const sockets = new Set<Socket>()
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
      })
      servers.push({ server, sockets })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as { port: number }
      const silent = await createPostgresStore({
        url: `postgres://postgres@127.0.0.1:${port}/test`,
        migrate: false,
      })
      stores.push(silent)
      // Many at once, more than the pool has connections, so some wait in the driver's queue.
      const results = await Promise.allSettled([
        silent.ping(),
        ...Array.from({ length: 15 }, () => silent.findUserById('x')),
      ])
      for (const result of results) {
        expect(result).toMatchObject({ status: 'rejected', reason: { code: 'store_unavailable' } })
      }
    })

    it('recovers when the server comes back, and resyncs its change feed', async () => {
      const schema = schemaForTest()
      const direct = await open(schema)
      const proxy = await startProxy()
      const proxied = await createPostgresStore({ url: proxy.url, schema, migrate: false })
      stores.push(proxied)
      const events: ChangeEvent[] = []
      let resyncs = 0
      await proxied.changes.subscribe(
        (event) => events.push(event),
        () => resyncs++,
      )
      const user = makeUser()
      await proxied.createUser(user)

      await proxy.down()
      await expect(proxied.ping()).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(proxied.findUserById(user.id)).rejects.toMatchObject({ code: 'store_unavailable' })
      // Missed while the feed is down: the resync on reconnect is what makes up for it.
      await direct.changes.publish({ type: 'keys-changed' })

      await proxy.up()
      await eventually(() => resyncs === 2)
      await eventually(async () => (await proxied.findUserById(user.id).catch(() => null)) !== null)
      expect(await proxied.findUserById(user.id)).toEqual(user)
      const revoked: ChangeEvent = {
        type: 'access-revoked',
        revocation: { kind: 'sid', value: 'family', expiresAt: 1_800_000_900 },
      }
      await direct.changes.publish(revoked)
      await eventually(() => events.length === 1)
      expect(events).toEqual([revoked])
    })

    it('fails operations with store_unavailable after close', async () => {
      const store = await createPostgresStore({ url: DATABASE_URL, schema: schemaForTest() })
      await store.close()
      await expect(store.findUserById('x')).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' })
      await expect(store.changes.publish({ type: 'keys-changed' })).rejects.toMatchObject({
        code: 'store_unavailable',
      })
      // No LISTEN connection is opened (and leaked) for a store that is closed.
      await expect(
        store.changes.subscribe(
          () => {},
          () => {},
        ),
      ).rejects.toMatchObject({
        code: 'store_unavailable',
      })
    })
  })

  describe('change feed', () => {
    function nextEvent(events: ChangeEvent[], count: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const started = Date.now()
        const poll = setInterval(() => {
          if (events.length >= count) {
            clearInterval(poll)
            resolve()
          } else if (Date.now() - started > 5000) {
            clearInterval(poll)
            reject(new Error(`expected ${count} events, got ${events.length}`))
          }
        }, 10)
      })
    }

    it('delivers an event published by one instance to a subscriber on another, after a resync', async () => {
      const schema = schemaForTest()
      const publisher = await open(schema)
      const subscriber = await open(schema)
      const events: ChangeEvent[] = []
      let resyncs = 0
      const unsubscribe = await subscriber.changes.subscribe(
        (event) => events.push(event),
        () => resyncs++,
      )
      expect(resyncs).toBe(1)

      const revoked: ChangeEvent = {
        type: 'access-revoked',
        revocation: { kind: 'jti', value: 'abc', expiresAt: 1_800_000_900 },
      }
      const epoch: ChangeEvent = {
        type: 'user-epoch',
        epoch: { userId: 'u1', epoch: 1_800_000_000, expiresAt: 1_800_000_900 },
      }
      await publisher.changes.publish(revoked)
      await publisher.changes.publish(epoch)
      await publisher.changes.publish({ type: 'keys-changed' })
      await nextEvent(events, 3)
      expect(events).toEqual([revoked, epoch, { type: 'keys-changed' }])

      await unsubscribe()
      await unsubscribe()
      await publisher.changes.publish({ type: 'keys-changed' })
      // A NOTIFY to a channel nobody listens on goes nowhere; give it time to (not) arrive.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(events).toHaveLength(3)
    })

    it('does not deliver events across schemas', async () => {
      const mine = await open(schemaForTest())
      const theirs = await open(schemaForTest())
      const events: ChangeEvent[] = []
      await mine.changes.subscribe(
        (event) => events.push(event),
        () => {},
      )
      await theirs.changes.publish({ type: 'keys-changed' })
      await mine.changes.publish({ type: 'keys-changed' })
      await nextEvent(events, 1)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(events).toEqual([{ type: 'keys-changed' }])
    })

    it('resyncs after its LISTEN connection is killed, and keeps delivering', async () => {
      const schema = schemaForTest()
      const publisher = await open(schema)
      const subscriber = await open(schema)
      const events: ChangeEvent[] = []
      let resyncs = 0
      await subscriber.changes.subscribe(
        (event) => events.push(event),
        () => resyncs++,
      )
      expect(resyncs).toBe(1)

      const killed = await admin`
        SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE query = ${`listen "${changeChannel(schema)}"`}`
      expect(killed).toHaveLength(1)

      const started = Date.now()
      while (resyncs < 2 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20))
      expect(resyncs).toBe(2)
      await publisher.changes.publish({ type: 'keys-changed' })
      await nextEvent(events, 1)
      expect(events).toEqual([{ type: 'keys-changed' }])
    })

    it('drops malformed payloads instead of delivering them', async () => {
      const schema = schemaForTest()
      const store = await open(schema)
      const events: ChangeEvent[] = []
      await store.changes.subscribe(
        (event) => events.push(event),
        () => {},
      )
      const channel = changeChannel(schema)
      for (const payload of ['not json', '{"type":"nope"}', '{"type":"access-revoked","revocation":{}}']) {
        await admin`SELECT pg_notify(${channel}, ${payload})`
      }
      await store.changes.publish({ type: 'keys-changed' })
      await nextEvent(events, 1)
      expect(events).toEqual([{ type: 'keys-changed' }])
      expect(parseChangeEvent('{"type":"user-epoch","epoch":{"userId":"u","epoch":1.5,"expiresAt":2}}')).toBe(
        null,
      )
    })

    it('names channels within PostgreSQL’s 63-byte limit, distinct per schema', () => {
      expect(changeChannel('sesame')).toBe('sesame_changes')
      const long = 'a'.repeat(63)
      expect(changeChannel(long).length).toBeLessThanOrEqual(63)
      expect(changeChannel(long)).not.toBe(changeChannel(`${'a'.repeat(62)}b`))
    })
  })
})
