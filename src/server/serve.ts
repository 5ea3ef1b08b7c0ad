/**
 * Starts the standalone server from the environment and stops it cleanly on SIGINT/SIGTERM; shared by
 * `npm start` (`main.ts`) and `sesame serve`. A configuration error throws `ConfigError` before anything starts.
 */
import type { AddressInfo } from 'node:net'
import { buildServer } from './app.js'
import { loadConfig } from './config.js'

export async function serve(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadConfig(env)
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
  const { port } = app.server.address() as AddressInfo
  // One line for the person at the terminal, on stderr so that stdout stays pure JSON for log collectors.
  process.stderr.write(`Sesame listening on ${urlToOpen(config.host, port)}\n`)
}

/** The URL a person on this machine opens: a wildcard address is reached as localhost. */
export function urlToOpen(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://localhost:${port}`
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
