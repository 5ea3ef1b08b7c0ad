/**
 * `sesame migrate` (and `npm run migrate`): applies pending schema migrations to the configured stores and says
 * what it did. The server also migrates at start unless `SESAME_MIGRATE_ON_START=false`, for deployments that
 * migrate in a separate release step. Redis has a key layout version instead of a schema; memory has neither.
 * Each driver is imported only when its store is configured (they are optional peer dependencies). What a migration tells the operator (accounts left without an email key) is printed.
 */
import type { Config } from './config.js'
import { openStore } from './open-store.js'
import { spreadCluster } from './redis-config.js'

/** Applies pending migrations to the configured stores, telling `write` what it did. */
export async function migrateStores(
  config: Readonly<Config>,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  for (const kind of new Set([config.store, config.sessionStore])) {
    switch (kind) {
      case 'postgres': {
        const [{ default: postgres }, { migratePostgres }] = await Promise.all([
          import('postgres'),
          import('../store/postgres/index.js'),
        ])
        const sql = postgres(config.databaseUrl!, { max: 1, onnotice: () => {} })
        try {
          const report = await migratePostgres(sql, config.postgresSchema)
          const applied = report.applied.map((step) => `${step.version} (${step.name})`).join(', ') || 'none'
          write(
            `postgres schema "${config.postgresSchema}": version ${report.from} -> ${report.to}; applied: ${applied}`,
          )
          for (const note of report.notes) write(`postgres schema "${config.postgresSchema}": ${note}`)
        } finally {
          await sql.end({ timeout: 1 })
        }
        break
      }
      case 'sqlite': {
        // Opening the SQLite store applies its migrations.
        const store = await openStore({
          ...config,
          store: 'sqlite',
          sessionStore: 'sqlite',
          migrateOnStart: true,
        })
        await store.close()
        write(`sqlite database in "${config.dataDir}": up to date`)
        break
      }
      case 'redis': {
        if (spreadCluster(config.redis, config.redisPrefix)) {
          write(`redis cluster prefix "${config.redisPrefix}": spread over the shards, nothing to migrate`)
          break
        }
        // Sessions-only too: layout 2 converts 0.1's sessions (the email-key step finds no users there).
        const { migrateRedis } = await import('../store/redis/index.js')
        const report = await migrateRedis({ ...config.redis!, keyPrefix: config.redisPrefix })
        write(`redis prefix "${config.redisPrefix}": layout version ${report.from} -> ${report.to}`)
        for (const line of [...report.log, ...report.notes])
          write(`redis prefix "${config.redisPrefix}": ${line}`)
        break
      }
      default:
        write(`${kind}: no schema to migrate`)
    }
  }
}
