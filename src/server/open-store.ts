/** Opens the store the configuration names. */
import { join } from 'node:path'
import { createMemoryStore } from '../store/memory/index.js'
import { createSqliteStore } from '../store/sqlite/index.js'
import type { Store } from '../store/types.js'
import type { Config } from './config.js'
import { emitSesameWarning } from './warnings.js'

/** The database file of the SQLite store inside the data directory. */
export const SQLITE_FILE_NAME = 'sesame.db'

export function openStore(config: Pick<Config, 'store' | 'dataDir' | 'production'>): Store {
  switch (config.store) {
    case 'memory':
      if (config.production) emitSesameWarning('SESAME_W001')
      return createMemoryStore()
    case 'sqlite':
      return createSqliteStore({ path: join(config.dataDir, SQLITE_FILE_NAME) })
  }
}
