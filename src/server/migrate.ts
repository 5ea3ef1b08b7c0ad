/**
 * `npm run migrate`: applies pending schema migrations to the configured stores and says what it did. The
 * server also migrates at start unless `SESAME_MIGRATE_ON_START=false`, for deployments that migrate in a
 * separate release step. Redis and memory hold no schema.
 */
import postgres from 'postgres'
import { migratePostgres } from '../store/postgres/index.js'
import { ConfigError, type Config, loadConfig } from './config.js'
import { openStore } from './open-store.js'

async function migrate(config: Readonly<Config>): Promise<void> {
  for (const kind of new Set([config.store, config.sessionStore])) {
    switch (kind) {
      case 'postgres': {
        const sql = postgres(config.databaseUrl!, { max: 1, onnotice: () => {} })
        try {
          const report = await migratePostgres(sql, config.postgresSchema)
          const applied = report.applied.map((step) => `${step.version} (${step.name})`).join(', ') || 'none'
          process.stdout.write(
            `postgres schema "${config.postgresSchema}": version ${report.from} -> ${report.to}; applied: ${applied}\n`,
          )
        } finally {
          await sql.end({ timeout: 1 })
        }
        break
      }
      case 'sqlite': {
        // Opening the SQLite store applies its migrations.
        const store = await openStore({ ...config, store: 'sqlite', sessionStore: 'sqlite' })
        await store.close()
        process.stdout.write(`sqlite database in "${config.dataDir}": up to date\n`)
        break
      }
      default:
        process.stdout.write(`${kind}: no schema to migrate\n`)
    }
  }
}

try {
  await migrate(loadConfig(process.env))
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error)
  process.stderr.write(`sesame migrate: ${message}\n`)
  process.exit(1)
}
