/**
 * Signing keys across instances, on every store: several engines starting together on an empty store agree on
 * one key (the store keeps exactly one first key), and a staged rotation made on one instance is published by
 * the others before it signs anywhere, through the change feed or (SQLite, no feed between processes) the
 * periodic re-read, after which each switches at the activation time by its own clock, with no event.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { decodeProtectedHeader } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { PERIODIC_RESYNC_SECONDS } from '../../src/engine/token-sync.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSplitStore } from '../../src/store/split-store.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/types.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'
import { makeTempDir } from '../helpers/server.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'

const TOKENS = { issuer: 'https://auth.example', audience: 'https://api.example' }
const FAST_HASHER = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }
const EMAIL = 'keys@example.com'
const PASSWORD = 'pass-word-1234'
const ACTIVATION_DELAY = 360
const INSTANCES = 5
const TIMEOUT_MS = 10_000

/** How each store is shared: `open` gives one more handle (one more "instance") on the same data. */
interface SharedStore {
  /** Whether a change reaches other handles through a feed; else only through the periodic re-read. */
  feed: boolean
  open(): Promise<Store>
  cleanup(): Promise<void>
}

const SHARED_STORES: Array<[name: string, make: () => SharedStore]> = [
  [
    'memory',
    () => {
      const store = createMemoryStore()
      // One process's store: every "instance" shares the object (closing it twice is harmless).
      return { feed: true, open: async () => store, cleanup: async () => {} }
    },
  ],
  [
    'sqlite',
    () => {
      const dir = makeTempDir()
      const path = join(dir, 'sesame.db')
      return {
        feed: false,
        open: async () => createSqliteStore({ path }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  ],
  [
    'postgres',
    () => {
      const schema = freshSchema('keys')
      return {
        feed: true,
        open: () => createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: TIMEOUT_MS }),
        cleanup: () => dropSchemas([schema]),
      }
    },
  ],
  [
    'redis',
    () => {
      const prefix = freshPrefix('keys')
      return {
        feed: true,
        open: async () => createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: TIMEOUT_MS }),
        cleanup: () => deletePrefixes([prefix]),
      }
    },
  ],
  [
    'postgres+redis',
    () => {
      const schema = freshSchema('keys')
      const prefix = freshPrefix('keys')
      return {
        feed: true,
        open: async () =>
          createSplitStore({
            users: await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: TIMEOUT_MS }),
            sessions: createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: TIMEOUT_MS }),
          }),
        cleanup: async () => {
          await dropSchemas([schema])
          await deletePrefixes([prefix])
        },
      }
    },
  ],
]

function engine(store: Store, clock: ManualClock): Promise<Auth> {
  return createAuth({
    store,
    clock,
    tokens: { ...TOKENS, keyActivationDelaySeconds: ACTIVATION_DELAY },
    passwordHasher: createArgon2Hasher(FAST_HASHER),
  })
}

async function signingKid(auth: Auth): Promise<string> {
  const { accessToken } = await auth.tokens.grantPassword({ username: EMAIL, password: PASSWORD })
  return decodeProtectedHeader(accessToken).kid!
}

const kidsOf = (auth: Auth): string[] =>
  auth.tokens
    .jwks()
    .keys.map((key) => (key as { kid: string }).kid)
    .sort()

describe.each(SHARED_STORES)('signing keys on %s', (_, make) => {
  let shared: SharedStore
  const engines: Auth[] = []
  const stores: Store[] = []

  async function openStore(): Promise<Store> {
    const store = await shared.open()
    stores.push(store)
    return store
  }

  afterEach(async () => {
    vi.useRealTimers()
    for (const auth of engines.splice(0)) await auth.close()
    for (const store of stores.splice(0)) await store.close()
    await shared.cleanup()
  })

  it('keeps one key when instances start together on an empty store, and every instance signs with it', async () => {
    shared = make()
    const clock = createManualClock()
    // Every handle first (PostgreSQL migrates on open), then every engine at once.
    const handles: Store[] = []
    for (let i = 0; i < INSTANCES; i++) handles.push(await openStore())
    engines.push(...(await Promise.all(handles.map((store) => engine(store, clock)))))

    const stored = await handles[0]!.listSigningKeys()
    expect(stored).toHaveLength(1)
    await engines[0]!.signUp({ email: EMAIL, password: PASSWORD })
    for (const auth of engines) {
      expect(await signingKid(auth)).toBe(stored[0]!.kid)
      expect(kidsOf(auth)).toEqual([stored[0]!.kid])
    }
  })

  it('publishes a staged rotation on every instance before the new key signs; each switches at activation', async () => {
    shared = make()
    const clock = createManualClock()
    // The periodic re-read is the only way SQLite handles learn of each other's changes: its timer is driven here.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const rotating = await engine(await openStore(), clock)
    const running = await engine(await openStore(), clock)
    engines.push(rotating, running)
    await rotating.signUp({ email: EMAIL, password: PASSWORD })
    const [oldKid] = kidsOf(running)

    const newKid = await rotating.tokens.rotateSigningKey()
    if (!shared.feed) {
      expect(kidsOf(running)).toEqual([oldKid]) // nothing reached it yet
      vi.advanceTimersByTime(PERIODIC_RESYNC_SECONDS * 1000)
    }
    await vi.waitFor(() => expect(kidsOf(running)).toEqual([oldKid!, newKid].sort()), { timeout: TIMEOUT_MS })
    // Published everywhere, signing nowhere yet: a verifier holding any JWKS fetched so far accepts every token.
    expect(await signingKid(running)).toBe(oldKid)
    expect(await signingKid(rotating)).toBe(oldKid)

    clock.advance(ACTIVATION_DELAY)
    expect(await signingKid(running)).toBe(newKid)
    expect(await signingKid(rotating)).toBe(newKid)
  })
})

describe('two rotations at once', () => {
  it('leave one key to take over at the activation, even when each retires the other’s new key', async () => {
    const shared = createMemoryStore()
    // Both rotations store their new key before either retires the others: the interleaving in which each
    // retires the other's key.
    let stored = 0
    let bothStored!: () => void
    const barrier = new Promise<void>((resolve) => (bothStored = resolve))
    const racing: Store = {
      ...shared,
      async createSigningKey(key) {
        await shared.createSigningKey(key)
        if (++stored === 2) bothStored()
      },
      async retireSigningKeysExcept(kid, retiredAt) {
        await barrier
        await shared.retireSigningKeysExcept(kid, retiredAt)
      },
    }
    const clock = createManualClock()
    const first = await engine(racing, clock)
    const second = await engine(racing, clock)
    try {
      await first.signUp({ email: EMAIL, password: PASSWORD })
      const oldKid = await signingKid(first)
      const [a, b] = await Promise.all([first.tokens.rotateSigningKey(), second.tokens.rotateSigningKey()])
      const keys = await shared.listSigningKeys()
      expect(keys.find((key) => key.kid === a)?.retiredAt).not.toBeNull()
      expect(keys.find((key) => key.kid === b)?.retiredAt).not.toBeNull()
      const unretired = keys.filter((key) => key.retiredAt === null)
      expect(unretired).toHaveLength(1)
      expect(unretired[0]!.activatesAt).toBe(clock.nowSeconds() + ACTIVATION_DELAY)

      expect(await signingKid(first)).toBe(oldKid)
      clock.advance(ACTIVATION_DELAY)
      await Promise.all([first.tokens.reload(), second.tokens.reload()])
      expect(await signingKid(first)).toBe(unretired[0]!.kid)
      expect(await signingKid(second)).toBe(unretired[0]!.kid)
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })
})
