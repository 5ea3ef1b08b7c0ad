/**
 * `npm start`: reads the configuration from the environment, starts the server, and stops it cleanly on
 * SIGINT/SIGTERM. A configuration error prints one line and exits with status 1.
 */
import { ConfigError } from './config.js'
import { serve } from './serve.js'

serve(process.env).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(
    error instanceof ConfigError ? `sesame: ${message}\n` : `sesame: failed to start: ${message}\n`,
  )
  process.exit(1)
})
