import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SQLITE_FILE_NAME, openStore } from '../../src/server/open-store.js'

const memoryConfig = {
  store: 'memory',
  sessionStore: 'memory',
  production: true,
  dataDir: '/nonexistent',
  databaseUrl: undefined,
  redis: undefined,
  redisRevocationReplicas: 0,
  postgresSchema: 'sesame',
  redisPrefix: 'sesame:',
  migrateOnStart: true,
} as const

describe('openStore', () => {
  const warnings: Error[] = []
  const listener = (warning: Error) => warnings.push(warning)
  afterEach(() => {
    process.off('warning', listener)
  })

  it('warns SESAME_W001 once when the memory store is chosen in production', async () => {
    process.on('warning', listener)
    const first = await openStore(memoryConfig)
    const second = await openStore(memoryConfig)
    await new Promise((resolve) => setImmediate(resolve)) // warnings are delivered on the next tick
    const ours = warnings.filter((warning) => (warning as { code?: string }).code === 'SESAME_W001')
    expect(ours).toHaveLength(1)
    expect(ours[0]!.message).toMatch(/^The memory store keeps sessions in this process only/)
    expect(first.kind).toBe('memory')
    await first.close()
    await second.close()
  })

  describe('SQLite with SESAME_MIGRATE_ON_START=false', () => {
    const dirs: string[] = []
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    })
    function sqliteConfig(migrateOnStart: boolean) {
      const dataDir = dirs.at(-1)!
      return { ...memoryConfig, store: 'sqlite', sessionStore: 'sqlite', dataDir, migrateOnStart } as const
    }
    function newDir(): string {
      const dir = mkdtempSync(join(tmpdir(), 'sesame-open-store-'))
      dirs.push(dir)
      return dir
    }

    it('refuses a missing database file, creating nothing', async () => {
      const dir = newDir()
      await expect(openStore(sqliteConfig(false))).rejects.toThrow(
        /does not exist and SESAME_MIGRATE_ON_START=false; run sesame migrate\.$/,
      )
      expect(() => new Database(join(dir, SQLITE_FILE_NAME), { fileMustExist: true })).toThrow()
    })

    it('refuses an older schema, leaving it as it was', async () => {
      const dir = newDir()
      const db = new Database(join(dir, SQLITE_FILE_NAME))
      db.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      )
      db.exec("INSERT INTO schema_migrations VALUES (1, 'initial', 0)")
      db.close()
      await expect(openStore(sqliteConfig(false))).rejects.toThrow(
        /older than this Sesame's .*run sesame migrate/,
      )
      const after = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true })
      expect(after.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 1 })
      after.close()
    })

    it('opens a current database', async () => {
      newDir()
      await (await openStore(sqliteConfig(true))).close()
      const store = await openStore(sqliteConfig(false))
      expect(store.kind).toBe('sqlite')
      await store.close()
    })
  })
})
