/**
 * Opens the store the configuration names: one adapter, or two joined by `createSplitStore` when session state
 * lives apart from users (e.g. users in PostgreSQL, sessions in Redis).
 */
import { join } from 'node:path'
import { createMemoryStore } from '../store/memory/index.js'
import { createPostgresStore } from '../store/postgres/index.js'
import { createRedisStore } from '../store/redis/index.js'
import { createSplitStore } from '../store/split-store.js'
import { createSqliteStore } from '../store/sqlite/index.js'
import type { Store } from '../store/types.js'
import type { Config, StoreKind } from './config.js'
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
  | 'redisUrl'
  | 'postgresSchema'
  | 'redisPrefix'
  | 'migrateOnStart'
>

export async function openStore(config: StoreConfig): Promise<Store> {
  const primary = await openOne(config.store, config)
  if (config.sessionStore === config.store) return primary
  try {
    return createSplitStore({ users: primary, sessions: await openOne(config.sessionStore, config) })
  } catch (error) {
    await primary.close()
    throw error
  }
}

async function openOne(kind: StoreKind, config: StoreConfig): Promise<Store> {
  switch (kind) {
    case 'memory':
      if (config.production) emitSesameWarning('SESAME_W001')
      return createMemoryStore()
    case 'sqlite':
      return createSqliteStore({ path: join(config.dataDir, SQLITE_FILE_NAME) })
    case 'postgres':
      return createPostgresStore({
        url: config.databaseUrl!,
        schema: config.postgresSchema,
        migrate: config.migrateOnStart,
      })
    case 'redis':
      return createRedisStore({ url: config.redisUrl!, keyPrefix: config.redisPrefix })
  }
}
