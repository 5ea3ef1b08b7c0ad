/**
 * The cookie-session cache on the real shared stores (Redis, PostgreSQL, and users in PostgreSQL with sessions
 * in Redis): two engines on one store play two instances. Instance B serves a session from its cache; every
 * change made on instance A (or by a third writer, as the CLI or an operator would) that ends the session or
 * changes its user must reach B's cache, and A's own cache at once. Faults are real ones: notices dropped on
 * their way into B (the feed is wrapped to lose them), and B's connections cut by a TCP relay.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Auth, type AuthOptions, createAuth } from '../../src/auth.js'
import { AuthError } from '../../src/core/errors.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import type { SessionCacheLimits } from '../../src/engine/session-cache.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSplitStore } from '../../src/store/split-store.js'
import type { SessionChangeFeed, Store } from '../../src/store/types.js'
import type { ManualClock } from '../helpers/clock.js'
import { storeClock } from '../helpers/every-store.js'
import { Relay } from '../helpers/relay.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'
import { sessionOf } from '../helpers/signed-in.js'

const FAST_HASHER = createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } })
const PASSWORD = 'a passphrase for the cache test'
const NEW_PASSWORD = 'another passphrase for the cache'
/** How long a notice may take to arrive here: a bound against hangs, not a measurement (that is the bench's). */
const DELIVERY = { timeout: 5_000, interval: 5 }
/** Checks of the store's count far apart: only the notices' numbers can reveal a missed one. */
const NO_CHECKS: Partial<SessionCacheLimits> = { checkIntervalMs: 60_000 }

type Kind = 'redis' | 'postgres' | 'split'
const KINDS: readonly Kind[] = ['redis', 'postgres', 'split']

interface Place {
  prefix: string
  schema: string
}

async function openStore(kind: Kind, place: Place, urls = { redis: REDIS_URL, postgres: DATABASE_URL }) {
  const redis = () => createRedisStore({ url: urls.redis, keyPrefix: place.prefix })
  const postgres = () => createPostgresStore({ url: urls.postgres, schema: place.schema })
  if (kind === 'redis') return redis()
  if (kind === 'postgres') return postgres()
  return createSplitStore({ users: await postgres(), sessions: redis() })
}

/** `store` with its session feeds losing the notices `drop` picks on their way in. */
function losingNotices(store: Store, drop: (userId: string) => boolean): Store {
  const wrap = (feed: SessionChangeFeed): SessionChangeFeed => ({
    ...feed,
    subscribe: (onEvent, onResync, onInterrupt) =>
      feed.subscribe(
        (event) => {
          if (event.type === 'sessions-changed' && drop(event.userId)) return
          onEvent(event)
        },
        onResync,
        onInterrupt,
      ),
  })
  return { ...store, sessionFeeds: store.sessionFeeds!.map(wrap) }
}

describe.each(KINDS)('the session cache on %s', (kind) => {
  const place: Place = { prefix: '', schema: '' }
  const opened: Store[] = []
  const engines: Auth[] = []
  const relays: Relay[] = []
  let clock: ManualClock

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close()
    for (const relay of relays.splice(0)) await relay.cut().catch(() => {})
    for (const store of opened.splice(0)) await store.close()
    if (place.schema) await dropSchemas([place.schema])
    if (place.prefix) await deletePrefixes([place.prefix])
  })

  async function fresh(): Promise<void> {
    place.prefix = freshPrefix('cache')
    place.schema = freshSchema('cache')
    clock = storeClock()
  }

  async function instance(
    options: Partial<AuthOptions> & {
      wrap?: (store: Store) => Store
      urls?: Parameters<typeof openStore>[2]
    } = {},
  ): Promise<Auth> {
    const { wrap = (store) => store, urls, ...rest } = options
    const store = await openStore(kind, place, urls)
    opened.push(store)
    const engine = await createAuth({
      store: wrap(store),
      passwordHasher: FAST_HASHER,
      clock,
      sessionCache: { checkIntervalMs: 100 },
      ...rest,
    })
    engines.push(engine)
    return engine
  }

  /** A new user on `auth` and a cookie header for a session of theirs. */
  async function signedIn(auth: Auth) {
    const email = `user-${Math.random().toString(36).slice(2)}@example.com`
    await auth.createUser({ email, password: PASSWORD })
    return { email, cookie: await signIn(auth, email) }
  }
  async function signIn(auth: Auth, email: string, password = PASSWORD): Promise<string> {
    const { cookie } = sessionOf(await auth.signIn({ email, password }))
    return `${cookie.name}=${cookie.value}`
  }

  /** True when `auth` accepts the session, false when it refuses it as ended or expired; throws otherwise. */
  async function accepts(auth: Auth, cookie: string): Promise<boolean> {
    try {
      return (await auth.authenticateSession(cookie)) !== null
    } catch (error) {
      if (error instanceof AuthError && error.code === 'invalid_session') return false
      throw error
    }
  }

  /** B has the session in its cache: a second request is a hit. */
  async function cachedOn(auth: Auth, cookie: string): Promise<void> {
    expect(await accepts(auth, cookie)).toBe(true)
    const before = auth.sessionCache!.stats().hits
    expect(await accepts(auth, cookie)).toBe(true)
    expect(auth.sessionCache!.stats().hits).toBe(before + 1)
  }

  it('serves a session from the cache with no store read, and holds no password hash', async () => {
    await fresh()
    const b = await instance()
    const { cookie } = await signedIn(b)
    const reads = vi.spyOn(opened[0]!, 'findSessionWithUser')
    expect(await accepts(b, cookie)).toBe(true)
    await cachedOn(b, cookie)
    // One read, by the first request above, which filled the cache; none for the two after it.
    expect(reads).toHaveBeenCalledTimes(1)
    const stats = b.sessionCache!.stats()
    expect(stats.entries).toBe(1)
    const result = await b.authenticateSession(cookie)
    expect(result?.user).not.toHaveProperty('passwordHash')
    expect(result?.cookie).toBeNull()
  })

  it('holds at most maxEntries sessions, the least recently used going first', async () => {
    await fresh()
    const b = await instance({ sessionCache: { maxEntries: 2 } })
    const [first, second, third] = [await signedIn(b), await signedIn(b), await signedIn(b)]
    await cachedOn(b, first.cookie)
    await cachedOn(b, second.cookie)
    await cachedOn(b, first.cookie) // first is now the most recently used
    await cachedOn(b, third.cookie)
    const stats = b.sessionCache!.stats()
    expect(stats.entries).toBe(2)
    expect(stats.displaced).toBe(1)
    const hits = stats.hits
    expect(await accepts(b, first.cookie)).toBe(true)
    expect(await accepts(b, second.cookie)).toBe(true) // displaced: read from the store
    expect(b.sessionCache!.stats().hits).toBe(hits + 1)
  })

  /** Each way a session ends or its user changes, done on A (or by another writer) while B has it cached. */
  const ENDINGS: Array<{
    name: string
    /** Ends or changes what `victim` is signed in with; `keeper` is another session of the same user. */
    act: (
      a: Auth,
      victim: { email: string; cookie: string },
      keeper: string,
      writer: Store,
    ) => Promise<unknown>
    /** What B must say about the victim's session afterwards. */
    expect: 'refused' | 'changed email'
  }> = [
    { name: 'sign-out', act: (a, victim) => a.signOut(victim.cookie), expect: 'refused' },
    {
      name: 'ending that one device from another',
      act: async (a, victim, keeper) => {
        const owner = (await a.authenticateSession(keeper))!.principal
        const target = (await a.authenticateSession(victim.cookie))!.principal.sessionId
        expect(await a.devices.end(owner, target)).toBe(true)
      },
      expect: 'refused',
    },
    {
      name: 'ending every other device',
      act: async (a, _victim, keeper) =>
        a.devices.endOthers((await a.authenticateSession(keeper))!.principal),
      expect: 'refused',
    },
    {
      name: 'logging out everywhere',
      act: async (a, _victim, keeper) => a.devices.endAll((await a.authenticateSession(keeper))!.principal),
      expect: 'refused',
    },
    {
      name: 'a password change on another device',
      act: async (a, _victim, keeper) =>
        a.changePassword((await a.authenticateSession(keeper))!.principal, {
          currentPassword: PASSWORD,
          newPassword: NEW_PASSWORD,
        }),
      expect: 'refused',
    },
    { name: 'disabling the account', act: (a, victim) => a.disableUser(victim.email), expect: 'refused' },
    {
      name: "deleting the account (another process's write)",
      act: async (_a, victim, _keeper, writer) =>
        writer.deleteUser((await writer.findUserByEmail(victim.email))!.id),
      expect: 'refused',
    },
    {
      name: "an email change (another process's write)",
      act: async (_a, victim, _keeper, writer) => {
        const user = (await writer.findUserByEmail(victim.email))!
        expect(await writer.changeUserEmail(user.id, `moved-${victim.email}`, clock.nowSeconds())).toBe(true)
      },
      expect: 'changed email',
    },
  ]

  for (const ending of ENDINGS) {
    it(`${ending.name} on instance A reaches instance B's cache, and A's own at once`, async () => {
      await fresh()
      const a = await instance()
      const b = await instance()
      const writer = await openStore(kind, place)
      opened.push(writer)
      const victim = await signedIn(a)
      const keeper = await signIn(a, victim.email)
      await cachedOn(a, victim.cookie)
      await cachedOn(b, victim.cookie)

      await ending.act(a, victim, keeper, writer)

      if (ending.expect === 'refused') {
        if (!ending.name.includes('process')) expect(await accepts(a, victim.cookie)).toBe(false)
        await vi.waitFor(async () => expect(await accepts(b, victim.cookie)).toBe(false), DELIVERY)
      } else {
        await vi.waitFor(async () => {
          const seen = await b.authenticateSession(victim.cookie)
          expect(seen?.user.email).toBe(`moved-${victim.email}`)
        }, DELIVERY)
      }
      expect(b.sessionCache!.stats().evictions).toBeGreaterThanOrEqual(1)
    })
  }

  it("a device-limit eviction on A reaches B's cache", async () => {
    await fresh()
    const a = await instance({ sessionLimit: { max: 1, policy: 'evict-oldest' } })
    const b = await instance({ sessionLimit: { max: 1, policy: 'evict-oldest' } })
    const { email, cookie } = await signedIn(a)
    await cachedOn(b, cookie)
    const newer = await signIn(a, email)
    expect(await accepts(a, cookie)).toBe(false)
    await vi.waitFor(async () => expect(await accepts(b, cookie)).toBe(false), DELIVERY)
    expect(await accepts(b, newer)).toBe(true)
  })

  it('keeps idle expiry exact, and reads a renewal another instance wrote instead of ending the session', async () => {
    await fresh()
    const policy = { idleTimeoutSeconds: 600, renewAfterSeconds: 60 }
    const a = await instance({ session: policy })
    const b = await instance({ session: policy })
    const { cookie } = await signedIn(a)
    await cachedOn(b, cookie)
    // A renews the session; B's cached copy still has the old times.
    clock.advance(300)
    expect((await a.authenticateSession(cookie))?.cookie).not.toBeNull()
    // By B's copy the session is now idle-expired; by the store it was renewed 500 s ago.
    clock.advance(500)
    expect(await accepts(b, cookie)).toBe(true)
    // Past the renewed idle limit, B refuses, whether from its cache or the store.
    clock.advance(600)
    expect(await accepts(b, cookie)).toBe(false)
    expect(await accepts(a, cookie)).toBe(false)
  })

  it('does not cache a read that raced a sign-out: the notice came during the read', async () => {
    await fresh()
    const a = await instance()
    let hold: Promise<void> | null = null
    const b = await instance({
      wrap: (store) => ({
        ...store,
        async findSessionWithUser(tokenHash) {
          const found = await store.findSessionWithUser(tokenHash)
          await hold
          return found
        },
      }),
    })
    const { cookie } = await signedIn(a)
    let release!: () => void
    hold = new Promise((resolve) => (release = resolve))
    const racing = accepts(b, cookie) // reads the live session, then waits
    await new Promise((resolve) => setTimeout(resolve, 50))
    const notices = b.sessionCache!.stats().notices
    await a.signOut(cookie)
    // B hears the notice while its read is still held.
    await vi.waitFor(() => expect(b.sessionCache!.stats().notices).toBeGreaterThan(notices), DELIVERY)
    release()
    hold = null
    expect(await racing).toBe(true) // it read before the sign-out committed
    expect(b.sessionCache!.stats().entries).toBe(0)
    expect(await accepts(b, cookie)).toBe(false)
  })

  it("a dropped notice is caught by the next notice's number: the cache is flushed", async () => {
    await fresh()
    const a = await instance()
    let victimId = ''
    const b = await instance({
      sessionCache: NO_CHECKS,
      wrap: (store) => losingNotices(store, (userId) => userId === victimId),
    })
    const victim = await signedIn(a)
    const bystander = await signedIn(a)
    victimId = (await opened[0]!.findUserByEmail(victim.email))!.id
    await cachedOn(b, victim.cookie)
    await cachedOn(b, bystander.cookie)
    const flushes = b.sessionCache!.stats().flushes

    await a.signOut(victim.cookie)
    // The notice is lost on its way into B, and B has not checked the store's count since: a stale yes.
    // This is the window the numbers close; it shows the drop really happened.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await accepts(b, victim.cookie)).toBe(true)

    // Any later notice numbers past the lost one.
    await a.signOut(await signIn(a, bystander.email))
    await vi.waitFor(() => expect(b.sessionCache!.stats().flushes).toBe(flushes + 1), DELIVERY)
    expect(await accepts(b, victim.cookie)).toBe(false)
    expect(await accepts(b, bystander.cookie)).toBe(true)
  })

  it("a dropped notice with nothing after it is caught by the check of the store's count", async () => {
    await fresh()
    const a = await instance()
    let victimId = ''
    const b = await instance({
      sessionCache: { checkIntervalMs: 100 },
      wrap: (store) => losingNotices(store, (userId) => userId === victimId),
    })
    const victim = await signedIn(a)
    victimId = (await opened[0]!.findUserByEmail(victim.email))!.id
    await cachedOn(b, victim.cookie)
    const flushes = b.sessionCache!.stats().flushes

    await a.signOut(victim.cookie)
    // Within two check intervals B finds the count ahead of what it heard: it stops trusting the cache
    // (reads the store, which refuses), and once the notice has not come by the next check, it flushes.
    await vi.waitFor(async () => expect(await accepts(b, victim.cookie)).toBe(false), DELIVERY)
    await vi.waitFor(() => expect(b.sessionCache!.stats().flushes).toBeGreaterThan(flushes), DELIVERY)
    expect(b.sessionCache!.stats().entries).toBe(0)
  })

  it('a dropped feed connection: the cache stays unused until the feed resubscribes, though the count reads fine', async () => {
    await fresh()
    const a = await instance()
    // The feed's own signals, caught on their way in: the test raises a drop, then the resubscription.
    const signals: Array<{ resync: () => void; interrupt: () => void }> = []
    const b = await instance({
      wrap: (store) => ({
        ...store,
        sessionFeeds: store.sessionFeeds!.map((feed) => ({
          ...feed,
          subscribe: (onEvent, onResync, onInterrupt) => {
            signals.push({ resync: onResync, interrupt: () => onInterrupt?.() })
            return feed.subscribe(onEvent, onResync, onInterrupt)
          },
        })),
      }),
    })
    const victim = await signedIn(a)
    await cachedOn(b, victim.cookie)
    for (const signal of signals) signal.interrupt()
    // Several check intervals (100 ms here) of counts that read fine: still no cache.
    await new Promise((resolve) => setTimeout(resolve, 400))
    const { hits, bypasses } = b.sessionCache!.stats()
    expect(await accepts(b, victim.cookie)).toBe(true)
    expect(b.sessionCache!.stats()).toMatchObject({ hits, bypasses: bypasses + 1, entries: 0 })
    for (const signal of signals) signal.resync()
    await vi.waitFor(() => cachedOn(b, victim.cookie), DELIVERY)
  })

  it('a cut connection: no stale yes while cut (503, the store is unreachable), and a clean cache after', async () => {
    await fresh()
    const a = await instance()
    // The session store's connections are cut (for the split, Redis: where each request starts).
    const relay = new Relay(kind === 'postgres' ? DATABASE_URL : REDIS_URL)
    await relay.start()
    relays.push(relay)
    const urls = {
      redis: REDIS_URL,
      postgres: DATABASE_URL,
      [kind === 'postgres' ? 'postgres' : 'redis']: relay.url(),
    }
    const b = await instance({ urls })
    const victim = await signedIn(a)
    const bystander = await signedIn(a)
    await cachedOn(b, victim.cookie)
    await cachedOn(b, bystander.cookie)

    await relay.cut()
    await a.signOut(victim.cookie)
    // Once B notices (the Redis subscriber's close at once; a failed count check within two intervals), it
    // stops serving from the cache and reads the store, which it cannot reach.
    await vi.waitFor(
      () => expect(b.authenticateSession(victim.cookie)).rejects.toMatchObject({ code: 'store_unavailable' }),
      { timeout: 10_000, interval: 50 },
    )
    await expect(b.authenticateSession(bystander.cookie)).rejects.toMatchObject({ code: 'store_unavailable' })

    await relay.restore()
    await vi.waitFor(async () => expect(await accepts(b, victim.cookie)).toBe(false), {
      timeout: 15_000,
      interval: 100,
    })
    await vi.waitFor(() => cachedOn(b, bystander.cookie), { timeout: 15_000, interval: 100 })
  })
})

describe('where there is no session cache', () => {
  it('is off when asked, and absent on stores without numbered notices', async () => {
    const { createMemoryStore } = await import('../../src/store/memory/index.js')
    const memory = await createAuth({ store: createMemoryStore(), passwordHasher: FAST_HASHER })
    expect(memory.sessionCache).toBeNull()
    await memory.close()
    const prefix = freshPrefix('cache')
    const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix })
    const off = await createAuth({ store, passwordHasher: FAST_HASHER, sessionCache: false })
    expect(off.sessionCache).toBeNull()
    const on = await createAuth({ store, passwordHasher: FAST_HASHER })
    expect(on.sessionCache?.stats().entries).toBe(0)
    await off.close()
    await on.close()
    await store.close()
    await deletePrefixes([prefix])
  })

  it('refuses bad limits with the option named', async () => {
    const { createMemoryStore } = await import('../../src/store/memory/index.js')
    await expect(
      createAuth({ store: createMemoryStore(), sessionCache: { maxEntries: 0 } }),
    ).rejects.toMatchObject({ code: 'invalid_option', option: 'sessionCache.maxEntries' })
    await expect(
      createAuth({
        store: createMemoryStore(),
        sessionCache: { checkIntervalMs: 'soon' as unknown as number },
      }),
    ).rejects.toMatchObject({ code: 'invalid_option', option: 'sessionCache.checkIntervalMs' })
    await expect(
      createAuth({ store: createMemoryStore(), sessionCache: { size: 10 } as never }),
    ).rejects.toMatchObject({ code: 'invalid_option' })
  })
})
