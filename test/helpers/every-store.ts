/**
 * Runs server-level tests over every store Sesame ships: memory, SQLite, PostgreSQL, Redis, and the
 * production split (users in PostgreSQL, session state in Redis). Each test gets a fresh store (a new SQLite file, a new
 * PostgreSQL schema, a new Redis key prefix, both for the split), opened from the environment exactly as
 * `npm start` opens it, and removed after the test. Servers started twice in one test share that store, as
 * several instances behind a load balancer do.
 *
 *     describe.each(EVERY_STORE)('sessions on $name', (target) => {
 *       const stores = useEveryStore(target) // before any beforeEach that starts a server
 *       it('...', async () => {
 *         const server = await stores.start({ clock: storeClock(), env: { ... } })
 *       })
 *     })
 *
 * Time. Tests move a manual clock (the engine's), while Redis expires keys by its own clock (EXPIREAT, at the
 * times the engine's clock computed). `storeClock()` starts a day or more ahead of real time, so Redis never
 * expires a key in the middle of a test: what a test then checks after advancing the clock is the engine's
 * decision, on every store alike. That Redis really drops what has expired is checked apart, with short real
 * TTLs and a real wait of at most two seconds, on the stores where `expiresKeysItself` (see cookie-session).
 */
import { rmSync } from 'node:fs'
import { afterEach, beforeEach } from 'vitest'
import type { Store } from '../../src/store/types.js'
import { createManualClock, type ManualClock } from './clock.js'
import { makeTempDir, startTestServer, type TestServer, type TestServerOptions } from './server.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from './shared-stores.js'

export type StoreName = 'memory' | 'sqlite' | 'postgres' | 'redis' | 'split'

export interface StoreTarget {
  name: StoreName
  /** Session state lives in Redis, which deletes keys at their TTL by its own clock. */
  expiresKeysItself: boolean
}

export const EVERY_STORE: readonly StoreTarget[] = [
  { name: 'memory', expiresKeysItself: false },
  { name: 'sqlite', expiresKeysItself: false },
  { name: 'postgres', expiresKeysItself: false },
  { name: 'redis', expiresKeysItself: true },
  { name: 'split', expiresKeysItself: true },
]

/**
 * A manual clock starting at a whole day at least a day ahead of real time: rate-limit windows (15 minutes,
 * one hour) start at its start, and every TTL Redis sets from it lies in the future by Redis's own clock.
 * (`createManualClock()`'s fixed default, 1_800_000_000, is 2027-01-15: from then on Redis would expire at
 * once every key a test sets from it.)
 */
export function storeClock(): ManualClock {
  const day = 86_400
  return createManualClock(Math.ceil((Math.floor(Date.now() / 1000) + day) / day) * day)
}

/** One fresh store and the servers started on it. */
export interface StoreRun {
  readonly target: StoreTarget
  /** Starts a server on this run's store (a second call: another instance sharing it). */
  start(options?: Omit<TestServerOptions, 'store' | 'dataDir'>): Promise<TestServer>
  /** Closes every server started, then removes the store's data. Safe to call more than once. */
  cleanup(): Promise<void>
}

/** A view of a store whose `close` does nothing: for a second server sharing one in-process memory store. */
function unclosable(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'close') return async () => {}
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

export function openStoreRun(target: StoreTarget): StoreRun {
  const dataDir = makeTempDir('sesame-every-')
  const schema = freshSchema('every')
  const prefix = freshPrefix('every')
  const env: Record<string, string> = {
    memory: { SESAME_STORE: 'memory' },
    sqlite: { SESAME_STORE: 'sqlite' },
    postgres: { SESAME_STORE: 'postgres', DATABASE_URL, SESAME_POSTGRES_SCHEMA: schema },
    redis: { SESAME_STORE: 'redis', REDIS_URL, SESAME_REDIS_PREFIX: prefix },
    split: {
      SESAME_STORE: 'postgres',
      SESAME_SESSION_STORE: 'redis',
      DATABASE_URL,
      SESAME_POSTGRES_SCHEMA: schema,
      REDIS_URL,
      SESAME_REDIS_PREFIX: prefix,
    },
  }[target.name]
  const servers: TestServer[] = []
  let memory: Store | undefined
  let cleaned = false

  return {
    target,
    async start(options = {}) {
      if (cleaned) throw new Error('this store run was already cleaned up')
      const server = await startTestServer({
        ...options,
        env: { ...options.env, ...env },
        dataDir,
        // Memory lives in the process: a second instance shares the first one's store object.
        ...(memory && { store: unclosable(memory) }),
      })
      if (target.name === 'memory') memory ??= server.store
      let closed: Promise<void> | undefined
      const once: TestServer = { ...server, close: () => (closed ??= server.close()) }
      servers.push(once)
      return once
    },
    async cleanup() {
      if (cleaned) return
      cleaned = true
      // The first memory server closes the shared store, so it goes last.
      const results = await Promise.allSettled(servers.reverse().map((server) => server.close()))
      if (target.name === 'postgres' || target.name === 'split') await dropSchemas([schema])
      if (target.name === 'redis' || target.name === 'split') await deletePrefixes([prefix])
      rmSync(dataDir, { recursive: true, force: true })
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
      if (failed) throw failed.reason
    },
  }
}

/**
 * A fresh store run for every test of the calling describe, cleaned up after it (its servers closed first).
 * `start` and `run` refer to the current test's run.
 */
export function useEveryStore(target: StoreTarget): {
  start: StoreRun['start']
  readonly run: StoreRun
} {
  let current: StoreRun | undefined
  beforeEach(() => {
    current = openStoreRun(target)
  })
  afterEach(async () => {
    await current?.cleanup()
    current = undefined
  })
  const run = (): StoreRun => {
    if (!current) throw new Error('useEveryStore: no store run outside a test')
    return current
  }
  return {
    start: (options) => run().start(options),
    get run() {
      return run()
    },
  }
}
