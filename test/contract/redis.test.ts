import { createServer, type Server, type Socket, connect } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import {
  createRedisStore,
  migrateRedis,
  RedisLayoutTooNewError,
  type RedisStoreOptions,
} from '../../src/store/redis/index.js'
import { LUA_KEY_LAYOUT } from '../../src/store/redis/keys.js'
import { agentRef, LUA_SESSION_LAYOUT, packSession, toFieldList } from '../../src/store/redis/records.js'
import type { ChangeEvent, SessionRecord, Store } from '../../src/store/types.js'
import {
  CONTRACT_TIMEOUT_MS,
  describeStoreContract,
  makeClient,
  makeConsent,
  makeFamily,
  makeIdentity,
  makeOneTimeToken,
  makeSession,
  makeSigningKey,
  makeSocialUser,
  makeTokenHash,
  makeUser,
} from './store-contract.js'
import { expectKeylessAccountsMoveAndGo, expectMigratedKeys, legacyUsers } from './email-key-migration.js'
import { startPrivateRedis } from '../helpers/private-servers.js'
import { freshPrefix as freshTestPrefix } from '../helpers/shared-stores.js'

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

/** A prefix no other test (or earlier run) uses; stamped, so a killed run's keys are removed later. */
function freshPrefix(): string {
  return freshTestPrefix('test')
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
    sessionNotices: true,
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

  /**
   * When Redis will expire `key`, in milliseconds by Redis's own clock: TIME and PTTL in one MULTI, so nothing
   * runs between them and no test-side clock or run time enters the figure. A negative PTTL (-1 no TTL, -2 no
   * key) is returned as is.
   */
  async function expiryOf(key: string): Promise<number> {
    const [[, time], [, ttl]] = (await admin.multi().time().pttl(key).exec()) as [
      [Error | null, [string, string]],
      [Error | null, number],
    ]
    if (ttl < 0) return ttl
    return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) + ttl
  }
  /** Matches an expiry (from `expiryOf`) at `seconds`, EXPIREAT's whole-second precision. */
  const expiringAt = (seconds: number): unknown =>
    expect.toSatisfy((ms: number) => ms >= 0 && Math.abs(ms - seconds * 1000) < 1000)

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
        `${agentRef(userAgent)} ${first.amr.join(' ')}`, // the sign-in methods ride on the agent reference
        first.ip,
      ].join('|'),
    )
    // No methods cost nothing; with no User-Agent either, the methods still follow their space.
    const bare = makeSession(user.id, { userAgent: null, ip: null, amr: [] })
    const methodsOnly = makeSession(user.id, { userAgent: null, ip: '', amr: ['pop', 'mfa'] })
    for (const session of [bare, methodsOnly]) await store.createSession(session)
    expect(await admin.get(`${prefix}session:{${bare.tokenHash}}`)).toMatch(/\|\d+\|$/)
    expect(await admin.get(`${prefix}session:{${methodsOnly.tokenHash}}`)).toMatch(/\|\d+\| pop mfa\|$/)
    for (const session of [bare, methodsOnly]) await store.deleteSessionByTokenHash(session.tokenHash)
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

  /** Writes `session` as Sesame 0.1 did: a hash (User-Agent whole or in pieces), its two index entries. */
  async function writeHashSession(prefix: string, session: SessionRecord, agentFields: string[]) {
    const key = `${prefix}session:{${session.tokenHash}}`
    await admin.hset(key, 'id', session.id, 'tokenHash', session.tokenHash, 'userId', session.userId)
    await admin.hset(key, 'createdAt', session.createdAt, 'lastSeenAt', session.lastSeenAt)
    await admin.hset(key, 'expiresAt', session.expiresAt, 'absoluteExpiresAt', session.absoluteExpiresAt)
    if (session.ip !== null) await admin.hset(key, 'ip', session.ip)
    if (agentFields.length > 0) await admin.hset(key, ...agentFields)
    await admin.expireat(key, Math.min(session.expiresAt, session.absoluteExpiresAt))
    const userIndex = `${prefix}user:{${session.userId}}:sessions`
    await admin.zadd(userIndex, session.absoluteExpiresAt, session.tokenHash)
    await admin.expireat(userIndex, session.absoluteExpiresAt)
    await admin.zadd(`${prefix}sessions-by-expiry`, session.expiresAt, session.tokenHash)
  }

  type Seeded = [session: SessionRecord, agentFields: string[]]

  /** The three shapes 0.1 left: a User-Agent in 64-byte pieces, a whole one, none. 0.1 recorded no methods. */
  function hashSessions(userId: string): [Seeded, Seeded, Seeded] {
    const pieces = makeSession(userId, { userAgent: 'Mozilla/5.0 '.repeat(12), amr: [] })
    const text = pieces.userAgent!
    const whole = makeSession(userId, {
      createdAt: pieces.createdAt + 1,
      ip: '',
      expiresAt: pieces.expiresAt + 60,
      amr: [],
    })
    const bare = makeSession(userId, { createdAt: pieces.createdAt + 3, userAgent: null, ip: null, amr: [] })
    return [
      [pieces, ['userAgent.0', text.slice(0, 64), 'userAgent.1', text.slice(64)]],
      [whole, ['userAgent', whole.userAgent!]],
      [bare, []],
    ]
  }

  it('generates the Lua session accessors from the layout TypeScript packs by: both read each other', async () => {
    const prefix = freshPrefix()
    const cases = [
      makeSession('u1'),
      makeSession('u1', { userAgent: null, ip: null }),
      makeSession('u1', { userAgent: '', ip: '' }),
      makeSession('u1', { ip: '2001:db8::1|x|1800000000' }),
      makeSession('u1', { amr: [] }),
      makeSession('u1', { userAgent: null, ip: null, amr: ['pwd', 'otp', 'mfa'] }),
      makeSession('u1', { userAgent: null, ip: 'a b|c', amr: [] }),
    ]
    const lua = `local P = ARGV[1]\n${LUA_KEY_LAYOUT}\n${LUA_SESSION_LAYOUT}
local f = session_fields(ARGV[2])
return {pack_session(f), f.user_id, f.agent_ref, f.amr, f.ip or false, valid_session(f) and 1 or 0}`
    for (const session of cases) {
      const ref = session.userAgent === null ? '' : agentRef(session.userAgent)
      const packed = packSession(session, ref)
      expect(await admin.eval(lua, 0, prefix, packed)).toEqual([
        packed,
        session.userId,
        ref,
        session.amr.join(' '),
        session.ip,
        1,
      ])
    }
    const invalid = `local P = ARGV[1]\n${LUA_KEY_LAYOUT}\n${LUA_SESSION_LAYOUT}
return {session_fields('not a session') and 1 or 0, valid_session({id = 'a|b'}) and 1 or 0,
  valid_session(session_fields('a|u|1|2|x|4|')) and 1 or 0}`
    expect(await admin.eval(invalid, 0, prefix)).toEqual([0, 0, 0])
  })

  it('converts sessions 0.1 wrote as hashes to the packed layout (migrateRedis, layout 2), once', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const seeded = hashSessions(user.id)
    for (const [session, agentFields] of seeded) await writeHashSession(prefix, session, agentFields)
    const packed = makeSession(user.id, { createdAt: seeded[0][0].createdAt + 2 })
    await store.createSession(packed)
    // A hash missing fields cannot be converted, and a listed session Redis already expired is gone: both go.
    const broken = makeSession(user.id)
    await admin.hset(`${prefix}session:{${broken.tokenHash}}`, 'id', broken.id, 'userId', user.id)
    await admin.zadd(`${prefix}user:{${user.id}}:sessions`, broken.absoluteExpiresAt, broken.tokenHash)
    await admin.zadd(`${prefix}sessions-by-expiry`, 4_000_000_000, makeTokenHash())
    await admin.set(`${prefix}layout-version`, '1')

    const report = await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })
    expect(report).toEqual({
      from: 1,
      to: 2,
      notes: [],
      log: [
        'sessions in the 0.1 hash layout: 3 converted to the packed layout',
        'sessions in the 0.1 hash layout: 1 unreadable or expired, deleted',
      ],
    })
    expect(await admin.get(`${prefix}layout-version`)).toBe('2')
    const sessions = seeded.map(([session]) => session)
    for (const session of sessions) {
      const key = `${prefix}session:{${session.tokenHash}}`
      // Exactly the string this release writes for the same session: one layout, and no bigger.
      const ref = session.userAgent === null ? '' : agentRef(session.userAgent)
      expect(await admin.get(key)).toBe(packSession(session, ref))
      expect(await admin.pttl(key)).toBeGreaterThan(0)
      expect(await admin.zscore(`${prefix}user:{${user.id}}:sessions`, session.tokenHash)).toBe(
        String(session.expiresAt),
      )
      expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
    }
    expect(await admin.get(`${prefix}agent:{${agentRef(sessions[0]!.userAgent!)}}`)).toBe(
      sessions[0]!.userAgent,
    )
    expect(await admin.exists(`${prefix}session:{${broken.tokenHash}}`, `${prefix}sessions-by-expiry`)).toBe(
      0,
    )
    expect(await store.listUserSessions(user.id)).toEqual([sessions[0], sessions[1], packed, sessions[2]])
    expect(await admin.zscore(`${prefix}session-owners-by-expiry`, user.id)).toBe(
      String(sessions[0]!.expiresAt),
    )

    // Converted sessions live on as any other: renewed, purged.
    const [first] = sessions as [SessionRecord]
    expect(await store.touchSession(first.tokenHash, first.lastSeenAt + 5, first.expiresAt + 5)).toBe(true)
    expect(await store.deleteExpiredSessions(first.expiresAt + 5)).toBe(3)
    expect(await store.listUserSessions(user.id)).toEqual([sessions[1]])

    // Idempotent: a second run finds the prefix current; a rerun of the step finds nothing left to convert.
    expect(await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).toEqual({
      from: 2,
      to: 2,
      notes: [],
      log: [],
    })
    await admin.set(`${prefix}layout-version`, '1')
    expect((await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).log).toEqual([
      'sessions in the 0.1 hash layout: 0 converted to the packed layout',
    ])
  })

  it('reads a session and a refresh family stored before sign-in methods as `amr: []` after migrating, rewriting neither', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    // Written as the release before methods did, at layout version 2: a packed session whose seventh field is the
    // agent reference alone, a family hash without an `amr` field, and their index entries.
    const session = makeSession(user.id, { amr: [] })
    const ref = agentRef(session.userAgent!)
    const sessionKey = `${prefix}session:{${session.tokenHash}}`
    const previous = [
      session.id,
      user.id,
      session.createdAt,
      session.lastSeenAt,
      session.expiresAt,
      session.absoluteExpiresAt,
      ref,
      session.ip,
    ].join('|')
    await admin.set(sessionKey, previous, 'EXAT', session.expiresAt)
    await admin.set(`${prefix}agent:{${ref}}`, session.userAgent!, 'EXAT', session.absoluteExpiresAt)
    await admin.zadd(`${prefix}user:{${user.id}}:sessions`, session.expiresAt, session.tokenHash)
    await admin.zadd(`${prefix}session-owners-by-expiry`, session.expiresAt, user.id)
    const family = makeFamily(user.id, { amr: [] })
    const tokenHash = makeTokenHash()
    const familyKey = `${prefix}family:{${family.id}}`
    const familyFields = Object.entries(family).flatMap(([name, value]) =>
      name === 'amr' || value === null ? [] : [name, String(value)],
    )
    await admin.hset(familyKey, ...familyFields)
    await admin.expireat(familyKey, family.expiresAt)
    await admin.set(`${prefix}refresh:{${tokenHash}}`, `0:${family.id}`, 'EXAT', family.absoluteExpiresAt)
    await admin.sadd(`${prefix}family:{${family.id}}:tokens`, tokenHash)
    await admin.zadd(`${prefix}user:{${user.id}}:families`, family.absoluteExpiresAt, family.id)
    await admin.zadd(`${prefix}families-by-expiry`, family.expiresAt, family.id)
    await admin.set(`${prefix}layout-version`, '2')

    // Nothing to migrate: the records are read as they are.
    expect(await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).toEqual({
      from: 2,
      to: 2,
      notes: [],
      log: [],
    })
    expect(await admin.get(sessionKey)).toBe(previous)
    expect(await admin.hexists(familyKey, 'amr')).toBe(0)

    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
    expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
    expect(await store.listUserSessions(user.id)).toEqual([session])
    expect(await store.touchSession(session.tokenHash, session.lastSeenAt + 1, session.expiresAt + 1)).toBe(
      true,
    )
    const renewed = { ...session, lastSeenAt: session.lastSeenAt + 1, expiresAt: session.expiresAt + 1 }
    expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(renewed)
    // A renewal writes the session back as it was read: still no methods, still the previous form.
    expect(await admin.get(sessionKey)).toBe(packSession(renewed, ref))

    expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
    expect(await store.findRefreshFamily(family.id)).toEqual(family)
    expect(await store.listUserRefreshFamilies(user.id)).toEqual([family])
    const { createdAt } = family
    expect(
      await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), createdAt + 5, createdAt + 9000, 's'),
    ).toBe(true)
    expect((await store.findRefreshFamily(family.id))?.amr).toEqual([])
  })

  it('converts under live traffic and beside a second migrator: each session whole, none lost, none revived', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const users = [makeUser(), makeUser(), makeUser()]
    for (const user of users) await store.createUser(user)
    const seeded = users.flatMap((user) => Array.from({ length: 300 }, () => hashSessions(user.id)).flat())
    for (let i = 0; i < seeded.length; i += 200) {
      await Promise.all(
        seeded.slice(i, i + 200).map(([session, fields]) => writeHashSession(prefix, session, fields)),
      )
    }
    const doomed = seeded.filter((_, i) => i % 7 === 0).map(([session]) => session)
    const traffic = (async () => {
      for (const session of doomed) {
        // A logout, a sign-in and a cookie read by this release, while the conversion runs.
        await store.deleteSessionByTokenHash(session.tokenHash)
        await store.createSession(makeSession(session.userId))
        await store.findSessionWithUser(session.tokenHash)
      }
    })()
    const [one, two] = await Promise.all([
      migrateRedis({ url: REDIS_URL, keyPrefix: prefix }),
      migrateRedis({ url: REDIS_URL, keyPrefix: prefix }),
      traffic,
    ])
    expect([one.to, two.to]).toEqual([2, 2])
    const gone = new Set(doomed.map((session) => session.tokenHash))
    for (const [session] of seeded) {
      const key = `${prefix}session:{${session.tokenHash}}`
      if (gone.has(session.tokenHash)) {
        expect(await admin.exists(key)).toBe(0)
      } else {
        expect(await admin.type(key)).toBe('string')
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      }
    }
    for (const user of users) {
      expect(await store.listUserSessions(user.id)).toHaveLength(900)
    }
  })

  it('fails closed on a session still in the hash layout: no session to reads, deleted by deletes, one warning', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const [[hash, fields], [other, otherFields]] = hashSessions(user.id)
    await writeHashSession(prefix, hash, fields)
    await writeHashSession(prefix, other, otherFields)
    const packed = makeSession(user.id)
    await store.createSession(packed)
    const warnings: unknown[] = []
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...args: unknown[]) => {
      warnings.push(args)
    })
    try {
      expect(await store.findSessionByTokenHash(hash.tokenHash)).toBeNull()
      expect(await store.findSessionWithUser(hash.tokenHash)).toBeNull()
      expect(await store.touchSession(hash.tokenHash, hash.lastSeenAt + 5, hash.expiresAt + 5)).toBe(false)
      expect(await admin.hget(`${prefix}session:{${hash.tokenHash}}`, 'lastSeenAt')).toBe(
        String(hash.lastSeenAt),
      )
      expect(await store.listUserSessions(user.id)).toEqual([packed])
    } finally {
      spy.mockRestore()
    }
    expect(warnings).toEqual([
      [expect.stringContaining('sesame migrate'), { type: 'SesameWarning', code: 'SESAME_W005' }],
    ])
    expect(await store.deleteSessionByTokenHash(hash.tokenHash)).toBe(true)
    expect(await admin.exists(`${prefix}session:{${hash.tokenHash}}`)).toBe(0)
    expect(await store.deleteUserSessions(user.id, packed.id)).toBe(1)
    expect(await admin.exists(`${prefix}session:{${other.tokenHash}}`)).toBe(0)
    expect(await store.listUserSessions(user.id)).toEqual([packed])
  })

  it("ends a user's devices all or nothing when Redis freezes (SIGSTOP) mid-script, and a retry finds nothing left", async () => {
    const redis = await startPrivateRedis()
    cleanups.push(() => redis.close())
    const store = createRedisStore({ url: redis.url, keyPrefix: 'frozen:', timeoutMs: 300 })
    cleanups.push(() => store.close())
    const user = makeUser()
    await store.createUser(user)
    // Enough that the one script runs for a while, so the freeze lands inside it.
    const sessions = Array.from({ length: 4000 }, () => makeSession(user.id))
    for (let i = 0; i < sessions.length; i += 500) {
      await Promise.all(sessions.slice(i, i + 500).map((session) => store.createSession(session)))
    }
    const families = Array.from({ length: 300 }, () => makeFamily(user.id))
    await Promise.all(families.map((family) => store.createRefreshFamily(family, makeTokenHash())))
    const kept = sessions[0]!
    const epoch = { userId: user.id, epoch: 4_000_000_030, expiresAt: 4_000_000_900 }
    const input = {
      userId: user.id,
      epoch,
      exceptSessionId: kept.id,
      exceptFamilyId: null,
      now: 4_000_000_030,
    }

    const pending = store.endUserDevices(input).catch((error: unknown) => error)
    await new Promise((done) => setTimeout(done, 5))
    redis.pause()
    const outcome = await pending
    redis.resume()
    if (!(outcome instanceof Error)) {
      expect(outcome).toMatchObject({ sessionsEnded: sessions.length - 1 })
    } else expect(outcome).toMatchObject(UNAVAILABLE)

    await vi.waitFor(() => store.ping(), { timeout: 5000, interval: 50 })
    const epochs = await store.listUserEpochs(4_000_000_000)
    const left = await store.listUserSessions(user.id)
    const live = (await store.listUserRefreshFamilies(user.id)).filter((family) => family.revokedAt === null)
    const all = { epochs: [epoch], sessions: 1, live: 0 }
    const none = { epochs: [], sessions: sessions.length, live: families.length }
    expect([all, none]).toContainEqual({ epochs, sessions: left.length, live: live.length })
    await store.endUserDevices(input)
    expect(await store.listUserSessions(user.id)).toEqual([kept])
    expect(await store.endUserDevices(input)).toEqual({ sessionsEnded: 0, familiesRevoked: [] })
  }, 60_000)

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
    // A hash is the 0.1 layout: no session to a read (see the fail-closed case above).
    expect(await store.findSessionByTokenHash(hashless.tokenHash)).toBeNull()
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
    expect(report).toMatchObject({ from: 0, to: 2 })
    expect(await admin.get(`${prefix}layout-version`)).toBe('2')
    expect(await admin.get(`${prefix}user-email-key:{strasse@example.com}`)).toBe(users.strasse.id)
    expect(await admin.get(`${prefix}user-email-key:{early@example.com}`)).toBe(early.id)
    await expectMigratedKeys(store, users, report.notes)
    expect(await store.findUserByEmail('\uff45arly@example.com')).toEqual(early)
    await expectKeylessAccountsMoveAndGo(store, users)

    expect(await migrateRedis({ url: REDIS_URL, keyPrefix: prefix })).toEqual({
      from: 2,
      to: 2,
      notes: [],
      log: [],
    })
    await admin.set(`${prefix}layout-version`, '3')
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
    for (const name of await keysUnder(prefix)) ttls.set(name, await expiryOf(name))
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

    // The TTLs sit at the records' expiries, by Redis's clock (see `expiryOf`).
    const expiry = (name: string): number => ttls.get(`${prefix}${name}`) ?? -2
    expect(expiry(`session:{${session.tokenHash}}`)).toEqual(expiringAt(now + 1810))
    expect(expiry(`user:{${user.id}}:sessions`)).toEqual(expiringAt(now + 7200))
    // The owners index follows the index it points into through a PTTL read inside the script, rounded to a
    // whole second: a CI run saw it land one second early, which is harmless (it is only a purge aid).
    expect(Math.abs(expiry('session-owners-by-expiry') - (now + 7200) * 1000)).toBeLessThanOrEqual(1000)
    expect(expiry(`agent:{${agentRef(session.userAgent!)}}`)).toEqual(expiringAt(now + 7200))
    expect(expiry(`family:{${family.id}}`)).toEqual(expiringAt(now + 3620))
    expect(expiry(`refresh:{${token0}}`)).toEqual(expiringAt(now + 86_400))
    expect(expiry(`family:{${family.id}}:tokens`)).toEqual(expiringAt(now + 86_400))
    expect(expiry(`user:{${user.id}}:epoch`)).toEqual(expiringAt(now + 900))
    expect(expiry('revocations')).toEqual(expiringAt(now + 900))
  })

  it('keeps a rate-limit counter at rate:<slot>, always with a TTL at the end of its window', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    // An hour ahead: the window then ends one to two hours from now, never in the past by Redis's clock
    // however long the test takes (with the current hour's window, a run across the hour would see its
    // counter expire at once).
    const now = nowSeconds() + 3600
    const window = Math.floor(now / 3600)
    const key = `${prefix}rate:sign-in:x:3600:${window}`
    expect(await store.hitRateLimit('sign-in:x', 3600, now)).toBe(1)
    expect(await admin.get(key)).toBe('1')
    // The TTL sits at the window's end, by Redis's clock (see `expiryOf`; PTTL rather than EXPIRETIME, which
    // needs Redis 7).
    const endsAt = (window + 1) * 3600
    expect(await expiryOf(key)).toEqual(expiringAt(endsAt))
    // A counter somehow left without a TTL gets it back on the next hit.
    await admin.persist(key)
    expect(await expiryOf(key)).toBe(-1)
    expect(await store.hitRateLimit('sign-in:x', 3600, now)).toBe(2)
    expect(await expiryOf(key)).toEqual(expiringAt(endsAt))
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

  it('keeps a claim at claim:{key} until its expiresAt by Redis’s clock, listed in claims-by-expiry', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    // A minute ahead: never in the past by Redis's clock however long the test takes.
    const now = nowSeconds() + 60
    expect(await store.claimOnce('state-1', now + 600, now)).toBe(true)
    expect(await admin.get(`${prefix}claim:{state-1}`)).toBe(String(now + 600))
    expect(await expiryOf(`${prefix}claim:{state-1}`)).toEqual(expiringAt(now + 600))
    expect(await admin.zrange(`${prefix}claims-by-expiry`, 0, -1, 'WITHSCORES')).toEqual([
      'state-1',
      String(now + 600),
    ])
    expect(await expiryOf(`${prefix}claims-by-expiry`)).toEqual(expiringAt(now + 600))
    // A refused claim changes neither the value nor the TTL.
    expect(await store.claimOnce('state-1', now + 900, now)).toBe(false)
    expect(await expiryOf(`${prefix}claim:{state-1}`)).toEqual(expiringAt(now + 600))
    expect(await store.deleteExpiredClaims(now + 600)).toBe(1)
    expect(await keysUnder(prefix)).toEqual([])
  })

  it('lets Redis end a claim on its own at its expiresAt, by its clock, whatever `now` the caller passes', async () => {
    const store = open()
    const now = nowSeconds()
    expect(await store.claimOnce('state-1', now + 2, now)).toBe(true)
    expect(await store.claimOnce('state-1', now + 60, now)).toBe(false)
    // The caller's `now` still says the claim holds, but Redis has dropped the key: it can be claimed again.
    await vi.waitFor(async () => expect(await store.claimOnce('state-1', now + 60, now)).toBe(true), {
      timeout: 5000,
      interval: 100,
    })
    expect(await store.deleteExpiredClaims(now + 2)).toBe(0)
  })

  it('keeps a one-time token at ott:{hash}, in user:{id}:ott and otts-by-expiry, expiring at its expiresAt', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    // A minute ahead: never in the past by Redis's clock however long the test takes.
    const now = nowSeconds() + 60
    const first = makeOneTimeToken(user.id, { createdAt: now, expiresAt: now + 600 })
    await store.putOneTimeToken(first)
    expect(await admin.hgetall(`${prefix}ott:{${first.tokenHash}}`)).toEqual({
      tokenHash: first.tokenHash,
      userId: user.id,
      purpose: 'verify-email',
      createdAt: String(now),
      expiresAt: String(now + 600),
      email: first.email,
    })
    expect(await expiryOf(`${prefix}ott:{${first.tokenHash}}`)).toEqual(expiringAt(now + 600))
    expect(await admin.hgetall(`${prefix}user:{${user.id}}:ott`)).toEqual({ 'verify-email': first.tokenHash })
    expect(await expiryOf(`${prefix}user:{${user.id}}:ott`)).toEqual(expiringAt(now + 600))
    expect(await admin.zrange(`${prefix}otts-by-expiry`, 0, -1, 'WITHSCORES')).toEqual([
      first.tokenHash,
      String(now + 600),
    ])
    // A second token of the purpose replaces the first in every key. The user's index held only the first, so it
    // went with it and now expires with the second; a reset-password token lengthens it, and leaves it when taken.
    const second = makeOneTimeToken(user.id, { createdAt: now, expiresAt: now + 300 })
    await store.putOneTimeToken(second)
    expect(await admin.exists(`${prefix}ott:{${first.tokenHash}}`)).toBe(0)
    expect(await expiryOf(`${prefix}ott:{${second.tokenHash}}`)).toEqual(expiringAt(now + 300))
    const index = `${prefix}user:{${user.id}}:ott`
    expect(await admin.hgetall(index)).toEqual({ 'verify-email': second.tokenHash })
    expect(await expiryOf(index)).toEqual(expiringAt(now + 300))
    const reset = makeOneTimeToken(user.id, {
      purpose: 'reset-password',
      createdAt: now,
      expiresAt: now + 900,
    })
    await store.putOneTimeToken(reset)
    expect(await expiryOf(index)).toEqual(expiringAt(now + 900))
    expect(await store.takeOneTimeToken('reset-password', reset.tokenHash, now)).toEqual(reset)
    expect(await admin.hgetall(index)).toEqual({ 'verify-email': second.tokenHash })
    expect(await admin.zrange(`${prefix}otts-by-expiry`, 0, -1, 'WITHSCORES')).toEqual([
      second.tokenHash,
      String(now + 300),
    ])
    // Taken, it leaves nothing behind but the user's own keys.
    expect(await store.takeOneTimeToken('verify-email', second.tokenHash, now)).toEqual(second)
    expect((await keysUnder(prefix)).sort()).toEqual(
      [
        `${prefix}user:{${user.id}}`,
        `${prefix}user-email:{${user.email}}`,
        `${prefix}user-email-key:{${user.email}}`, // a plain ASCII address is its own key
      ].sort(),
    )
  })

  it('leaves nothing of a deleted user but its epoch, the revocations and the shared User-Agent texts', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds() + 60
    // Its email is not its key, so both entries are there to delete.
    const user = makeUser({ email: 'stra\u00dfe.gone@example.com' })
    await store.createUser(user)
    expect(await store.linkIdentity(makeIdentity(user.id))).toBe(true)
    await store.putOneTimeToken(makeOneTimeToken(user.id, { createdAt: now, expiresAt: now + 600 }))
    const times = { createdAt: now, expiresAt: now + 600, absoluteExpiresAt: now + 3600 }
    const session = makeSession(user.id, times)
    await store.createSession(session)
    const family = makeFamily(user.id, times)
    await store.createRefreshFamily(family, makeTokenHash())
    expect(await store.rotateRefreshFamily(family.id, 0, makeTokenHash(), now, now + 600, 'seal')).toBe(true)
    await store.setUserEpoch({ userId: user.id, epoch: now, expiresAt: now + 900 })
    await store.addAccessRevocation({ kind: 'sid', value: family.id, expiresAt: now + 900 })
    expect(await admin.exists(`${prefix}user-email-key:{strasse.gone@example.com}`)).toBe(1)

    expect(await store.deleteUser(user.id)).toBe(true)
    expect((await keysUnder(prefix)).sort()).toEqual(
      [
        `${prefix}user:{${user.id}}:epoch`,
        `${prefix}epochs`,
        `${prefix}revocations`,
        `${prefix}agent:{${agentRef(session.userAgent!)}}`,
        // The count of sessions-changed notices (the deletion was one), shared by every user.
        `${prefix}session-changes`,
      ].sort(),
    )
  })

  it('keeps identities at identity:{provider:subject} and user:{id}:identities with no TTL, a null password absent', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeSocialUser()
    const identity = makeIdentity(user.id, { provider: 'corp', subject: 'eu:42}', email: 'a@example.com' })
    expect(await store.createUserWithIdentity(user, identity)).toEqual(user)
    expect(await admin.hexists(`${prefix}user:{${user.id}}`, 'passwordHash')).toBe(0)
    expect(await admin.hgetall(`${prefix}identity:{corp:eu:42}}`)).toEqual({
      provider: 'corp',
      subject: 'eu:42}',
      userId: user.id,
      email: 'a@example.com',
      createdAt: String(identity.createdAt),
    })
    expect(await admin.hgetall(`${prefix}user:{${user.id}}:identities`)).toEqual({ corp: 'eu:42}' })
    for (const name of await keysUnder(prefix)) expect(await admin.pttl(name), name).toBe(-1)
    expect(await store.updatePasswordHash(user.id, 'hash')).toBe(true)
    expect(await store.unlinkIdentity(user.id, 'corp')).toBe(true)
    expect(
      await admin.exists(`${prefix}identity:{corp:eu:42}}`, `${prefix}user:{${user.id}}:identities`),
    ).toBe(0)
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

  it('keeps a family’s client and scope as hash fields, absent when null', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const now = nowSeconds()
    const user = makeUser()
    await store.createUser(user)
    const times = { createdAt: now, lastUsedAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 86_400 }
    const scoped = makeFamily(user.id, { ...times, clientId: 'app', scope: 'openid offline_access' })
    const plain = makeFamily(user.id, times)
    for (const family of [scoped, plain]) await store.createRefreshFamily(family, makeTokenHash())
    expect(await admin.hmget(`${prefix}family:{${scoped.id}}`, 'clientId', 'scope')).toEqual([
      'app',
      'openid offline_access',
    ])
    expect(await admin.hexists(`${prefix}family:{${plain.id}}`, 'clientId')).toBe(0)
    expect(await admin.hexists(`${prefix}family:{${plain.id}}`, 'scope')).toBe(0)
    expect(await store.findRefreshFamily(plain.id)).toEqual(plain)
  })

  it('keeps clients at client:{id} and in clients, consents in user:{id}:consents and client:{id}:consenters, with no TTL', async () => {
    const prefix = freshPrefix()
    const store = open({ keyPrefix: prefix })
    const user = makeUser()
    await store.createUser(user)
    const client = makeClient({ id: 'app', secretHash: null })
    await store.createClient(client)
    await store.createClient(makeClient({ id: 'other' }))
    expect(await admin.hgetall(`${prefix}client:{app}`)).toEqual({
      id: 'app',
      name: client.name,
      type: 'confidential',
      redirectUris: JSON.stringify(client.redirectUris),
      postLogoutRedirectUris: JSON.stringify(client.postLogoutRedirectUris),
      origins: JSON.stringify(client.origins),
      firstParty: 'false',
      scopes: JSON.stringify(client.scopes),
      createdAt: String(client.createdAt),
    })
    expect(await admin.zrange(`${prefix}clients`, 0, -1, 'WITHSCORES')).toEqual(['app', '0', 'other', '0'])
    const consent = makeConsent(user.id, 'app', { scopes: ['openid'] })
    await store.putConsent(consent)
    await store.putConsent(makeConsent(user.id, 'other'))
    expect(await admin.hget(`${prefix}user:{${user.id}}:consents`, 'app')).toBe(
      JSON.stringify({ scopes: ['openid'], grantedAt: consent.grantedAt }),
    )
    expect(await admin.smembers(`${prefix}client:{app}:consenters`)).toEqual([user.id])
    for (const name of await keysUnder(prefix)) expect(await admin.pttl(name), name).toBe(-1)

    // Withdrawn, a consent leaves no index entry; a deleted client takes its consents and its keys along.
    expect(await store.deleteConsent(user.id, 'other')).toBe(true)
    expect(await admin.exists(`${prefix}client:{other}:consenters`)).toBe(0)
    expect(await store.deleteClient('app')).toBe(true)
    expect(await admin.exists(`${prefix}client:{app}`, `${prefix}client:{app}:consenters`)).toBe(0)
    expect(await admin.exists(`${prefix}user:{${user.id}}:consents`)).toBe(0)
    expect(await admin.zrange(`${prefix}clients`, 0, -1)).toEqual(['other'])

    // A deleted user leaves no consent behind, nor an entry in the client's consenters.
    await store.putConsent(makeConsent(user.id, 'other'))
    expect(await store.deleteUser(user.id)).toBe(true)
    expect((await keysUnder(prefix)).sort()).toEqual(
      [`${prefix}client:{other}`, `${prefix}clients`, `${prefix}session-changes`].sort(),
    )
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
