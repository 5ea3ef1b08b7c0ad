/**
 * Builds a real Sesame server for a test: the same `buildServer` as `npm start`, with the config loaded from
 * an env-like object (so tests exercise the same schema) and a fresh temporary data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../src/core/clock.js'
import { buildServer, type SesameServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import type { SocialProvider } from '../../src/social/provider.js'
import type { Store } from '../../src/store/types.js'

export interface TestServerOptions {
  env?: Record<string, string>
  clock?: Clock
  store?: Store
  /** Replaces the soft delay of repeated failed sign-ins. Default: none at all (tests never wait). */
  sleep?: (ms: number) => Promise<void>
  /** Reuse a data directory (to test restarts); default: a new temporary one. */
  dataDir?: string
  /** Adds test-only routes or hooks before the server is ready. */
  configure?: (app: SesameServer['app']) => void
  /** Sign-in providers built by the test (a preset pointed at a local stand-in), instead of the env's. */
  socialProviders?: SocialProvider[]
}

export interface TestServer extends SesameServer {
  dataDir: string
  /** Closes the server; removes the data directory unless it was given. */
  close(): Promise<void>
}

export function makeTempDir(prefix = 'sesame-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? makeTempDir()
  const config = loadConfig({ SESAME_DATA_DIR: dataDir, SESAME_LOG_LEVEL: 'silent', ...options.env })
  const server = await buildServer({
    config,
    ...(options.clock && { clock: options.clock }),
    ...(options.store && { store: options.store }),
    sleep: options.sleep ?? (async () => {}),
    ...(options.socialProviders && { socialProviders: options.socialProviders }),
  })
  options.configure?.(server.app)
  await server.app.ready()
  return {
    ...server,
    dataDir,
    async close() {
      await server.app.close()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The `name=value` pair of a `Set-Cookie` header, as a browser would send it back. */
export function cookiePair(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie
  if (!header) throw new Error('expected a Set-Cookie header')
  return header.split(';')[0]!
}

/** Headers of a same-origin browser request to the injected server. */
export const SAME_ORIGIN = { origin: 'http://localhost:80', host: 'localhost:80' } as const
