/**
 * `npm start`: reads the configuration from the environment, starts the server, and stops it cleanly on
 * SIGINT/SIGTERM. A configuration error prints one line and exits with status 1.
 */
import { buildServer } from './app.js'
import { ConfigError, loadConfig } from './config.js'

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sesame: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const { app } = await buildServer({ config })
  app.log.info(
    { store: config.store, dataDir: config.store === 'sqlite' ? config.dataDir : undefined },
    'store opened',
  )
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down')
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    })
  }
  await app.listen({ port: config.port, host: config.host })
}

main().catch((error: unknown) => {
  process.stderr.write(`sesame: failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
