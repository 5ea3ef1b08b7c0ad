/**
 * Opens the store the configuration names: one adapter, or two joined by `createSplitStore` when session state
 * lives apart from users (e.g. users in PostgreSQL, sessions in Redis).
 *
 * Each adapter is imported only when chosen: its driver is an optional peer dependency, so an installation
 * on SQLite need not have `postgres` or `ioredis` at all.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { warnKeylessUsers } from '../store/email-keys.js'
import { createMemoryStore } from '../store/memory/index.js'
import { createSplitStore } from '../store/split-store.js'
import type { Store } from '../store/types.js'
import type { Config, StoreKind } from './config.js'
import { spreadCluster } from './redis-config.js'
import { emitSesameWarning } from './warnings.js'

/** The database file of the SQLite store inside the data directory. */
export const SQLITE_FILE_NAME = 'sesame.db'

export type StoreConfig = Pick<
  Config,
  | 'store'
  | 'sessionStore'
  | 'dataDir'
  | 'production'
  | 'databaseUrl'
  | 'redis'
  | 'redisRevocationReplicas'
  | 'postgresSchema'
  | 'redisPrefix'
  | 'migrateOnStart'
>

export interface OpenStoreOptions {
  /**
   * Open only to read, never changing a schema: SQLite read-only (its file must exist), PostgreSQL and Redis
   * without migrating whatever SESAME_MIGRATE_ON_START says. Memory has no schema. For inspection
   * (`sesame token decode`); writes through such a store fail.
   */
  readonly?: boolean
}

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const primary = await openOne(config.store, config, options)
  if (config.sessionStore === config.store) return primary
  try {
    return createSplitStore({
      users: primary,
      sessions: await openOne(config.sessionStore, config, options),
    })
  } catch (error) {
    await primary.close()
    throw error
  }
}

async function openOne(kind: StoreKind, config: StoreConfig, options: OpenStoreOptions): Promise<Store> {
  switch (kind) {
    case 'memory':
      if (config.production) emitSesameWarning('SESAME_W001')
      return createMemoryStore()
    case 'sqlite': {
      const { createSqliteStore } = await import('../store/sqlite/index.js')
      const path = join(config.dataDir, SQLITE_FILE_NAME)
      if (!config.migrateOnStart && !options.readonly) {
        // Opening the store for writing migrates it; with SESAME_MIGRATE_ON_START=false the file must already be
        // current. A read-only open checks exactly that (and changes nothing) before the real one.
        if (!existsSync(path)) {
          throw new Error(
            `The SQLite database ${path} does not exist and SESAME_MIGRATE_ON_START=false; run sesame migrate.`,
          )
        }
        await createSqliteStore({ path, readonly: true }).close()
      }
      return createSqliteStore({ path, readonly: options.readonly ?? false })
    }
    case 'postgres': {
      const { createPostgresStore } = await import('../store/postgres/index.js')
      return createPostgresStore({
        url: config.databaseUrl!,
        schema: config.postgresSchema,
        migrate: config.migrateOnStart && !options.readonly,
      })
    }
    case 'redis': {
      const cluster = spreadCluster(config.redis, config.redisPrefix)
      if (cluster) {
        const { createRedisClusterStore } = await import('../store/redis/sharded.js')
        // Born in its layout: nothing to migrate.
        return createRedisClusterStore({
          cluster,
          keyPrefix: config.redisPrefix,
          revocationReplicas: config.redisRevocationReplicas,
        })
      }
      const { createRedisStore, migrateRedis } = await import('../store/redis/index.js')
      // Sessions-only too: layout 2 converts 0.1's sessions (the email-key step finds no users there).
      if (config.migrateOnStart && !options.readonly) {
        const report = await migrateRedis({ ...config.redis!, keyPrefix: config.redisPrefix })
        warnKeylessUsers(report.notes)
      }
      return createRedisStore({
        ...config.redis!,
        keyPrefix: config.redisPrefix,
        revocationReplicas: config.redisRevocationReplicas,
      })
    }
  }
}
