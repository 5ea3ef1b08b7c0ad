import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket, connect } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import {
  createRedisStore,
  migrateRedis,
  RedisLayoutTooNewError,
  type RedisStoreOptions,
} from '../../src/store/redis/index.js'
import { agentRef, toFieldList } from '../../src/store/redis/records.js'
import type { ChangeEvent, SessionRecord, Store } from '../../src/store/types.js'
import {
  CONTRACT_TIMEOUT_MS,
  describeStoreContract,
  makeFamily,
  makeSession,
  makeSigningKey,
  makeTokenHash,
  makeUser,
} from './store-contract.js'
import { expectMigratedKeys, legacyUsers } from './email-key-migration.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const UNAVAILABLE = {
  code: 'store_unavailable',
  message: 'The Redis store could not complete the operation.',
}

// One plain connection for inspecting and cleaning up what the stores wrote.
const admin = new Redis(REDIS_URL)
afterAll(async () => {
  await admin.quit()
})

/** A prefix no other test (or earlier run) uses; hex only, so it is also a literal SCAN pattern. */
function freshPrefix(): string {
  return `sesame-test:${randomBytes(8).toString('hex')}:`
}

/** Every key under `prefix`. SCAN is fine here: a test database, never a store code path. */
async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    found.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return found
}

async function deleteKeysUnder(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix)
  if (keys.length > 0) await admin.del(...keys)
}

describeStoreContract('redis', async () => {
  const prefix = freshPrefix()
  return {
    store: createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: CONTRACT_TIMEOUT_MS }),
    cleanup: () => deleteKeysUnder(prefix),
  }
})

describe('redis store specifics', () => {
  const opened: Array<{ store: Store; prefix: string }> = []
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const { store, prefix } of opened.splice(0)) {
      await store.close()
      await deleteKeysUnder(prefix)
    }
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  function open(options: Partial<RedisStoreOptions> = {}): Store {
    const prefix = options.keyPrefix ?? freshPrefix()
    const store = createRedisStore({ url: REDIS_URL, ...options, keyPrefix: prefix })
    opened.push({ store, prefix })
    return store
  }

  function nowSeconds(): number {
    return Math.floor(Date.now() / 1000)
  }

  it('stores a session as one packed string, and each User-Agent once for every session that has it', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const userAgent = `Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Ünïcode 😀 ${'AppleWebKit/605.1.15 '.repeat(7)}`
    const first = makeSession(user.id, { userAgent })
    const second = makeSession(user.id, { userAgent, createdAt: first.createdAt + 1 })
    const none = makeSession(user.id, { userAgent: null, ip: null, createdAt: first.createdAt + 2 })
    const empty = makeSession(user.id, { userAgent: '', ip: '', createdAt: first.createdAt + 3 })
    for (const session of [first, second, none, empty]) await store.createSession(session)

    const key = `${prefix}session:{${first.tokenHash}}`
    expect(await admin.type(key)).toBe('string')
    expect(await admin.get(key)).toBe(
      [
        first.id,
        user.id,
        first.createdAt,
        first.lastSeenAt,
        first.expiresAt,
        first.absoluteExpiresAt,
        agentRef(userAgent),
        first.ip,
      ].join('|'),
    )
    const agents = (await keysUnder(prefix)).filter((name) => name.startsWith(`${prefix}agent:`)).sort()
    expect(agents).toEqual(
      [`${prefix}agent:{${agentRef(userAgent)}}`, `${prefix}agent:{${agentRef('')}}`].sort(),
    )
    expect(await admin.get(`${prefix}agent:{${agentRef(userAgent)}}`)).toBe(userAgent)

    for (const session of [first, second, none, empty]) {
      expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
    }
    expect(await store.listUserSessions(user.id)).toEqual([first, second, none, empty])
    // The text outlives a session that shared it.
    await store.deleteSessionByTokenHash(first.tokenHash)
    expect(await store.findSessionByTokenHash(second.tokenHash)).toEqual(second)
  })

  it('reads, renews, lists, deletes and purges sessions that earlier releases wrote as hashes', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const userIndex = `${prefix}user:{${user.id}}:sessions`
    // As the earlier layouts wrote them: the User-Agent in 64-byte pieces (and a tokenHash field), or whole.
    const pieces = makeSession(user.id, { userAgent: 'Mozilla/5.0 '.repeat(12) })
    const whole = makeSession(user.id, {
      createdAt: pieces.createdAt + 1,
      ip: null,
      expiresAt: pieces.expiresAt + 60,
    })
    const writeHash = async (session: SessionRecord, agentFields: string[]) => {
      const key = `${prefix}session:{${session.tokenHash}}`
      await admin.hset(key, 'id', session.id, 'tokenHash', session.tokenHash, 'userId', session.userId)
      await admin.hset(key, 'createdAt', session.createdAt, 'lastSeenAt', session.lastSeenAt)
      await admin.hset(key, 'expiresAt', session.expiresAt, 'absoluteExpiresAt', session.absoluteExpiresAt)
      if (session.ip !== null) await admin.hset(key, 'ip', session.ip)
      if (agentFields.length > 0) await admin.hset(key, ...agentFields)
      await admin.expireat(key, session.expiresAt)
      await admin.zadd(userIndex, session.absoluteExpiresAt, session.tokenHash)
      await admin.expireat(userIndex, session.absoluteExpiresAt)
      await admin.zadd(`${prefix}sessions-by-expiry`, session.expiresAt, session.tokenHash)
    }
    const bare = makeSession(user.id, { createdAt: pieces.createdAt + 3, userAgent: null, ip: null })
    const text = pieces.userAgent!
    await writeHash(pieces, ['userAgent.0', text.slice(0, 64), 'userAgent.1', text.slice(64)])
    await writeHash(whole, ['userAgent', whole.userAgent!])
    await writeHash(bare, [])
    const packed = makeSession(user.id, { createdAt: pieces.createdAt + 2, expiresAt: whole.expiresAt + 60 })
    await store.createSession(packed)

    expect(await store.findSessionByTokenHash(pieces.tokenHash)).toEqual(pieces)
    expect(await store.findSessionWithUser(whole.tokenHash)).toEqual({ session: whole, user })
    expect(await store.listUserSessions(user.id)).toEqual([pieces, whole, packed, bare])
    expect(await store.deleteSessionByTokenHash(bare.tokenHash)).toBe(true)
    expect(await store.findSessionByTokenHash(bare.tokenHash)).toBeNull()

    // Renewed in place: still a hash, with the new times.
    expect(await store.touchSession(pieces.tokenHash, pieces.lastSeenAt + 5, pieces.expiresAt + 5)).toBe(true)
    const renewed = { ...pieces, lastSeenAt: pieces.lastSeenAt + 5, expiresAt: pieces.expiresAt + 5 }
    expect(await store.findSessionByTokenHash(pieces.tokenHash)).toEqual(renewed)
    expect(await admin.type(`${prefix}session:{${pieces.tokenHash}}`)).toBe('hash')

    expect(await store.deleteUserSession(user.id, renewed.id)).toBe(true)
    expect(await store.findSessionByTokenHash(pieces.tokenHash)).toBeNull()
    // The purge finds the other through the earlier layout's expiry index, and leaves the packed one.
    expect(await store.deleteExpiredSessions(whole.expiresAt)).toBe(1)
    expect(await store.listUserSessions(user.id)).toEqual([packed])
    expect(await admin.exists(`${prefix}sessions-by-expiry`)).toBe(0)
    // Every index these steps touched has a TTL.
    for (const index of [userIndex, `${prefix}session-owners-by-expiry`]) {
      expect(await admin.pttl(index), index).toBeGreaterThan(0)
    }
  })

  it('keeps one owners-index entry per user at their earliest session expiry, gone with their last session', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const owners = `${prefix}session-owners-by-expiry`
    const [ann, bob] = [makeUser(), makeUser()]
    for (const user of [ann, bob]) await store.createUser(user)
    const annSoon = makeSession(ann.id, { expiresAt: 4_000_000_100 })
    const annLater = makeSession(ann.id, { expiresAt: 4_000_000_500 })
    const bobOnly = makeSession(bob.id, { expiresAt: 4_000_000_300 })
    for (const session of [annLater, annSoon, bobOnly]) await store.createSession(session)
    const score = async (userId: string) => admin.zscore(owners, userId)
    expect([await score(ann.id), await score(bob.id)]).toEqual(['4000000100', '4000000300'])

    // Renewal moves the user's entry to their new earliest expiry; so does a logout.
    expect(await store.touchSession(annSoon.tokenHash, annSoon.lastSeenAt, 4_000_000_900)).toBe(true)
    expect(await score(ann.id)).toBe('4000000500')
    expect(await store.deleteSessionByTokenHash(annLater.tokenHash)).toBe(true)
    expect(await score(ann.id)).toBe('4000000900')

    expect(await store.deleteExpiredSessions(4_000_000_300)).toBe(1)
    expect([await score(ann.id), await score(bob.id)]).toEqual(['4000000900', null])
    expect(await store.deleteExpiredSessions(4_000_000_900)).toBe(1)
    expect(await admin.exists(owners)).toBe(0)
  })

  it('replaces a session written again under its token hash whole, in one index entry', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const [first, second] = [makeUser(), makeUser()]
    for (const user of [first, second]) await store.createUser(user)
    const original = makeSession(first.id, { userAgent: 'L'.repeat(300) })
    await store.createSession(original)
    const again = { ...makeSession(second.id, { userAgent: '' }), tokenHash: original.tokenHash }
    await store.createSession(again)
    expect(await store.findSessionByTokenHash(original.tokenHash)).toEqual(again)
    expect(await admin.type(`${prefix}session:{${original.tokenHash}}`)).toBe('string')
    expect(await store.listUserSessions(first.id)).toEqual([])
    expect(await store.listUserSessions(second.id)).toEqual([again])
    expect(await admin.zscore(`${prefix}session-owners-by-expiry`, first.id)).toBeNull()
  })

  it('keeps an IP holding the separator intact through a renewal', async () => {
    const store = open()
    const user = makeUser()
    await store.createUser(user)
    const session = makeSession(user.id, { ip: '2001:db8::1|x|1800000000' })
    await store.createSession(session)
    expect(await store.touchSession(session.tokenHash, session.lastSeenAt + 1, session.expiresAt + 1)).toBe(
      true,
    )
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual({
      ...session,
      lastSeenAt: session.lastSeenAt + 1,
      expiresAt: session.expiresAt + 1,
    })
  })

  it('reads a session whose shared User-Agent text is gone (evicted) with no User-Agent, never another', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const session = makeSession(user.id)
    await store.createSession(session)
    await admin.del(`${prefix}agent:{${agentRef(session.userAgent!)}}`)
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual({ ...session, userAgent: null })
    expect(await store.listUserSessions(user.id)).toEqual([{ ...session, userAgent: null }])
  })

  it('refuses to store a time that could not be read back', async () => {
    const store = open()
    const user = makeUser()
    await store.createUser(user)
    await expect(store.createSession(makeSession(user.id, { expiresAt: 4_000_000_000.5 }))).rejects.toThrow()
    const session = makeSession(user.id)
    await store.createSession(session)
    await expect(store.touchSession(session.tokenHash, -1, session.expiresAt)).rejects.toThrow()
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
  })

  it('purges more due sessions of one user than a batch holds, a batch per call', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const count = 1200 // over two batches of 500
    for (let i = 0; i < count; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => store.createSession(makeSession(user.id))))
    }
    const live = makeSession(user.id, { expiresAt: 4_000_009_000 })
    await store.createSession(live)
    expect(await store.deleteExpiredSessions(4_000_001_800)).toBe(count)
    expect(await store.listUserSessions(user.id)).toEqual([live])
    expect(await admin.zcard(`${prefix}user:{${user.id}}:sessions`)).toBe(1)
    expect(await admin.zscore(`${prefix}session-owners-by-expiry`, user.id)).toBe('4000009000')
  })

  it('deletes and purges past a stored value it cannot read, and refuses to read it', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const [broken, hashless, kept] = [makeSession(user.id), makeSession(user.id), makeSession(user.id)]
    for (const session of [broken, hashless, kept]) await store.createSession(session)
    await admin.set(`${prefix}session:{${broken.tokenHash}}`, 'not a session')
    await admin.del(`${prefix}session:{${hashless.tokenHash}}`)
    await admin.hset(`${prefix}session:{${hashless.tokenHash}}`, 'id', hashless.id) // a hash missing fields
    await expect(store.findSessionByTokenHash(broken.tokenHash)).rejects.toThrow()
    await expect(store.findSessionByTokenHash(hashless.tokenHash)).rejects.toThrow()
    expect(await store.deleteUserSessions(user.id, kept.id)).toBe(2)
    expect(await store.listUserSessions(user.id)).toEqual([kept])
    const due = makeSession(user.id, { expiresAt: 4_000_000_000 })
    await store.createSession(due)
    await admin.set(`${prefix}session:{${due.tokenHash}}`, 'not a session')
    expect(await store.deleteExpiredSessions(4_000_000_001)).toBe(1)
    expect(await store.listUserSessions(user.id)).toEqual([kept])
    expect(await admin.exists(`${prefix}session:{${due.tokenHash}}`)).toBe(0)
  })

  it('gives users written before email keys their key entry (migrateRedis): the oldest look-alike keeps it', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    // Written the way 0.2 wrote them: the user hash and the exact email entry, no key entry, no layout version.
    const users = legacyUsers()
    for (const user of Object.values(users)) {
      await admin.hset(`${prefix}user:{${user.id}}`, ...toFieldList(user))
      await admin.set(`${prefix}user-email:{${user.email}}`, user.id)
    }
    // A user a new instance created before the migration ran has its key entry already, and keeps it.
    const early = makeUser({ email: 'early@example.com', createdAt: 9000 })
    await store.createUser(early)

    const report = await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })
    expect(report).toMatchObject({ from: 0, to: 1 })
    expect(await admin.get(`${prefix}layout-version`)).toBe('1')
    expect(await admin.get(`${prefix}user-email-key:{strasse@example.com}`)).toBe(users.strasse.id)
    expect(await admin.get(`${prefix}user-email-key:{early@example.com}`)).toBe(early.id)
    await expectMigratedKeys(store, users, report.notes)
    expect(await store.findUserByEmail('\uff45arly@example.com')).toEqual(early)

    expect(await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).toEqual({ from: 1, to: 1, notes: [] })
    await admin.set(`${prefix}layout-version`, '2')
    await expect(migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).rejects.toThrow(RedisLayoutTooNewError)
  })

  it('leaves a key a sign-up took before the migration with that user, and reports the older account', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const legacy = makeUser({ email: '\uff4cate@example.com', createdAt: 100 })
    await admin.hset(`${prefix}user:{${legacy.id}}`, ...toFieldList(legacy))
    await admin.set(`${prefix}user-email:{${legacy.email}}`, legacy.id)
    // Before the migration nothing stops this look-alike: the window `sesame migrate` closes.
    const taker = makeUser({ email: 'late@example.com', createdAt: 200 })
    expect(await store.createUser(taker)).toEqual(taker)

    const report = await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })
    expect(report.notes).toEqual([expect.stringContaining(`${legacy.id} (key held by ${taker.id})`)])
    expect(await store.findUserByEmail(legacy.email)).toEqual(legacy)
    expect(await store.findUserByEmail('l\uff41te@example.com')).toEqual(taker)
  })

  it('gives every key of session state a TTL at its expiry; only users, emails, keys and secrets have none', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds()
    const user = makeUser()
    await store.createUser(user)
    const session = makeSession(user.id, {
      createdAt: now,
      expiresAt: now + 1800,
      absoluteExpiresAt: now + 7200,
    })
    await store.createSession(session)
    await store.createSession(
      makeSession(user.id, { createdAt: now, expiresAt: now + 600, absoluteExpiresAt: now + 3600 }),
    )
    expect(await store.touchSession(session.tokenHash, now + 10, now + 1810)).toBe(true)
    const family = makeFamily(user.id, {
      createdAt: now,
      expiresAt: now + 3600,
      absoluteExpiresAt: now + 86_400,
    })
    const token0 = makeTokenHash()
    await store.createRefreshFamily(family, token0)
    expect(
      await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), now + 20, now + 3620, 'seal-1'),
    ).toBe(true)
    const revoked = makeFamily(user.id, {
      createdAt: now,
      expiresAt: now + 900,
      absoluteExpiresAt: now + 900,
    })
    await store.createRefreshFamily(revoked, makeTokenHash())
    expect(await store.revokeUserRefreshFamilies(user.id, now + 30, family.id)).toEqual([revoked.id])
    await store.addAccessRevocation({ kind: 'jti', value: 'some-jti', expiresAt: now + 300 })
    await store.addAccessRevocation({ kind: 'sid', value: revoked.id, expiresAt: now + 900 })
    await store.setUserEpoch({ userId: user.id, epoch: now, expiresAt: now + 900 })
    const key = makeSigningKey({ createdAt: now })
    await store.createSigningKey(makeSigningKey({ createdAt: now - 100 }))
    await store.createSigningKey(key)
    await store.retireSigningKeysExcept(key.kid, now)
    await store.getOrCreateSecret('cookie-key', 'value')

    const ttls = new Map<string, number>()
    for (const name of await keysUnder(prefix)) ttls.set(name, await admin.pttl(name))
    const permanent = [...ttls].filter(([, ttl]) => ttl === -1).map(([name]) => name)
    expect(permanent.sort()).toEqual(
      [
        `${prefix}user:{${user.id}}`,
        `${prefix}user-email:{${user.email}}`,
        `${prefix}user-email-key:{${user.email}}`, // a plain ASCII address is its own key
        `${prefix}{keys}`,
        `${prefix}{keys}:retired`,
        `${prefix}secret:{cookie-key}`,
      ].sort(),
    )
    for (const [name, ttl] of ttls) {
      if (!permanent.includes(name)) expect(ttl, name).toBeGreaterThan(0)
    }

    // The TTLs sit at the records' expiries (a few seconds of slack for the test's own run time).
    const expiresIn = (name: string): number => (ttls.get(`${prefix}${name}`) ?? -2) / 1000 + nowSeconds()
    const near = (at: number): unknown => expect.toSatisfy((value: number) => Math.abs(value - at) <= 3)
    expect(expiresIn(`session:{${session.tokenHash}}`)).toEqual(near(now + 1810))
    expect(expiresIn(`user:{${user.id}}:sessions`)).toEqual(near(now + 7200))
    expect(expiresIn('session-owners-by-expiry')).toEqual(near(now + 7200))
    expect(expiresIn(`agent:{${agentRef(session.userAgent!)}}`)).toEqual(near(now + 7200))
    expect(expiresIn(`family:{${family.id}}`)).toEqual(near(now + 3620))
    expect(expiresIn(`refresh:{${token0}}`)).toEqual(near(now + 86_400))
    expect(expiresIn(`family:{${family.id}}:tokens`)).toEqual(near(now + 86_400))
    expect(expiresIn(`user:{${user.id}}:epoch`)).toEqual(near(now + 900))
    expect(expiresIn('revocations')).toEqual(near(now + 900))
  })

  it('keeps a rate-limit counter at rate:<slot>, always with a TTL at the end of its window', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds()
    const window = Math.floor(now / 3600)
    const key = `${prefix}rate:sign-in:x:3600:${window}`
    expect(await store.hitRateLimit('sign-in:x', 3600, now)).toBe(1)
    expect(await admin.get(key)).toBe('1')
    // The TTL sits at the window's end (PTTL rather than EXPIRETIME, which needs Redis 7; a few seconds of
    // slack for the test's own run time).
    const expiresAt = async (): Promise<number> => (await admin.pttl(key)) / 1000 + nowSeconds()
    const endsAt = (window + 1) * 3600
    expect(Math.abs((await expiresAt()) - endsAt)).toBeLessThanOrEqual(3)
    // A counter somehow left without a TTL gets it back on the next hit.
    await admin.persist(key)
    expect(await store.hitRateLimit('sign-in:x', 3600, now)).toBe(2)
    expect(Math.abs((await expiresAt()) - endsAt)).toBeLessThanOrEqual(3)
    expect(await keysUnder(prefix)).toEqual([key])
    await store.resetRateLimit('sign-in:x', 3600, now)
    expect(await admin.exists(key)).toBe(0)
  })

  it('lets Redis expire a rate-limit counter on its own when its window ends', async () => {
    const store = open()
    const now = nowSeconds()
    expect(await store.hitRateLimit('sign-in:x', 1, now)).toBe(1)
    await vi.waitFor(async () => expect(await store.countRateLimit('sign-in:x', 1, now)).toBe(0), {
      timeout: 5000,
      interval: 100,
    })
  })

  it('keeps a null successor seal as an absent hash field, and sets it only on a winning rotation', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds()
    const user = makeUser()
    await store.createUser(user)
    const family = makeFamily(user.id, {
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + 3600,
      absoluteExpiresAt: now + 86_400,
      successorSeal: null,
    })
    await store.createRefreshFamily(family, makeTokenHash())
    const key = `${prefix}family:{${family.id}}`
    expect(await admin.hexists(key, 'successorSeal')).toBe(0)
    expect((await store.findRefreshFamily(family.id))?.successorSeal).toBeNull()

    const seal = `v1.${'x'.repeat(200)}`
    expect(await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), now + 10, now + 3610, seal)).toBe(
      true,
    )
    expect(await admin.hget(key, 'successorSeal')).toBe(seal)
    // A losing compare writes nothing, the seal included.
    expect(
      await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), now + 20, now + 3620, 'loser'),
    ).toBe(false)
    expect(await store.findRefreshFamily(family.id)).toMatchObject({
      generation: 1,
      rotatedAt: now + 10,
      expiresAt: now + 3610,
      successorSeal: seal,
    })
  })

  it('lets Redis expire a session on its own; the purge then has nothing left to count', async () => {
    const store = open()
    const now = nowSeconds()
    const user = makeUser()
    await store.createUser(user)
    const session = makeSession(user.id, { createdAt: now, expiresAt: now + 1, absoluteExpiresAt: now + 60 })
    await store.createSession(session)
    await vi.waitFor(async () => expect(await store.findSessionByTokenHash(session.tokenHash)).toBeNull(), {
      timeout: 5000,
      interval: 100,
    })
    expect(await store.listUserSessions(user.id)).toEqual([])
    expect(await store.deleteExpiredSessions(now + 10)).toBe(0)
  })

  it('tidies a user whose sessions Redis expired out of the owners index on a later sign-in, with no purge', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds()
    const [gone, next] = [makeUser(), makeUser()]
    for (const user of [gone, next]) await store.createUser(user)
    const session = makeSession(gone.id, { createdAt: now, expiresAt: now + 1, absoluteExpiresAt: now + 60 })
    await store.createSession(session)
    await vi.waitFor(async () => expect(await store.findSessionByTokenHash(session.tokenHash)).toBeNull(), {
      timeout: 5000,
      interval: 100,
    })
    // Past its score by Redis's clock (scores are whole seconds).
    await vi.waitFor(
      async () => {
        const [seconds] = await admin.time()
        expect(Number(seconds)).toBeGreaterThan(now + 1)
      },
      { timeout: 5000, interval: 100 },
    )
    expect(await admin.zscore(`${prefix}session-owners-by-expiry`, gone.id)).not.toBeNull()
    await store.createSession(
      makeSession(next.id, { createdAt: now, expiresAt: now + 600, absoluteExpiresAt: now + 600 }),
    )
    expect(await admin.zscore(`${prefix}session-owners-by-expiry`, gone.id)).toBeNull()
    expect(await admin.zcard(`${prefix}user:{${gone.id}}:sessions`)).toBe(0)
  })

  it('delivers a published event to a subscriber on another instance with the same prefix, and only there', async () => {
    const prefix = freshPrefix()
    const publisher = open({ keyPrefix: prefix })
    const sameData = open({ keyPrefix: prefix })
    const otherData = open()
    const received: ChangeEvent[] = []
    const strays: ChangeEvent[] = []
    let resyncs = 0
    const unsubscribe = await sameData.changes.subscribe(
      (event) => received.push(event),
      () => resyncs++,
    )
    const unsubscribeOther = await otherData.changes.subscribe(
      (event) => strays.push(event),
      () => {},
    )
    expect(resyncs).toBe(1)

    const event: ChangeEvent = { type: 'user-epoch', epoch: { userId: 'u1', epoch: 5, expiresAt: 6 } }
    await publisher.changes.publish(event)
    await vi.waitFor(() => expect(received).toEqual([event]), { timeout: 5000, interval: 10 })
    // Same channel name on another prefix? No: the channel carries the prefix.
    await publisher.changes.publish({ type: 'keys-changed' })
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 5000, interval: 10 })
    expect(strays).toEqual([])
    await unsubscribe()
    await unsubscribeOther()
  })

  it('fails with store_unavailable when nothing listens at the address', async () => {
    // With the default timeout, as the server runs it...
    const store = open({ url: 'redis://127.0.0.1:1' })
    await expect(store.ping()).rejects.toMatchObject(UNAVAILABLE)
    await expect(store.findUserById('someone')).rejects.toMatchObject(UNAVAILABLE)
    // ...and with a short one, to keep the test brief.
    const brief = open({ url: 'redis://127.0.0.1:1', timeoutMs: 200 })
    const failure = await brief.createSession(makeSession('someone')).catch((error: unknown) => error)
    expect(failure).toMatchObject(UNAVAILABLE)
    // The cause says why.
    expect((failure as Error).cause).toBeInstanceOf(Error)
    await expect(brief.changes.publish({ type: 'keys-changed' })).rejects.toMatchObject(UNAVAILABLE)
    await expect(
      brief.changes.subscribe(
        () => {},
        () => {},
      ),
    ).rejects.toMatchObject(UNAVAILABLE)
  })

  it('fails with store_unavailable, instead of hanging, when the server accepts but never answers', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    const port = await listen(silent, 0)
    cleanups.push(() => closeServer(silent, sockets))
    const store = open({ url: `redis://127.0.0.1:${port}` })
    await expect(store.ping()).rejects.toMatchObject(UNAVAILABLE)
    await expect(store.findSessionByTokenHash(makeTokenHash())).rejects.toMatchObject(UNAVAILABLE)
  })

  it('comes back by itself after an outage, and tells the feed subscriber to resync', async () => {
    const proxy = await startProxy(new URL(REDIS_URL))
    cleanups.push(() => proxy.close())
    const prefix = freshPrefix()
    const store = open({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: prefix })
    const direct = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)

    const received: ChangeEvent[] = []
    let resyncs = 0
    const unsubscribe = await store.changes.subscribe(
      (event) => received.push(event),
      () => resyncs++,
    )
    expect(resyncs).toBe(1)

    await proxy.stop()
    await expect(store.findUserById(user.id)).rejects.toMatchObject(UNAVAILABLE)
    await proxy.start()

    await vi.waitFor(async () => expect(await store.findUserById(user.id)).toEqual(user), {
      timeout: 10_000,
      interval: 100,
    })
    await vi.waitFor(() => expect(resyncs).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 50 })
    await direct.changes.publish({ type: 'keys-changed' })
    await vi.waitFor(() => expect(received).toEqual([{ type: 'keys-changed' }]), {
      timeout: 5000,
      interval: 10,
    })
    await unsubscribe()
  })
})

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve((server.address() as { port: number }).port)
    })
  })
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy()
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })
}

/** A TCP proxy to Redis that the test can take down (refusing and cutting connections) and bring back. */
async function startProxy(target: URL): Promise<{
  port: number
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
    }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  const port = await listen(server, 0)
  return {
    port,
    stop: () => closeServer(server, sockets),
    start: async () => {
      await listen(server, port)
    },
    close: () => closeServer(server, sockets),
  }
}
