/**
 * The one conformance suite every Store adapter must pass (memory is the reference). Each adapter's test file
 * calls {@link describeStoreContract} with a factory that opens a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generatePublicId, generateSecretToken } from '../../src/core/random.js'
import { hashSecret } from '../../src/core/hash.js'
import { EMAIL_TAKEN, type SessionRecord, type Store, type UserRecord } from '../../src/store/types.js'

export interface OpenedStore {
  store: Store
  /** Removes what the store left behind (files, schemas). Called after `store.close()`. */
  cleanup?: () => Promise<void> | void
}

const NOW = 1_800_000_000

export function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: generatePublicId(),
    email: `${generatePublicId().toLowerCase()}@example.com`,
    passwordHash:
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    roles: [],
    createdAt: NOW,
    disabledAt: null,
    ...overrides,
  }
}

export function makeSession(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: generatePublicId(),
    tokenHash: hashSecret(generateSecretToken()),
    userId,
    createdAt: NOW,
    lastSeenAt: NOW,
    expiresAt: NOW + 1800,
    absoluteExpiresAt: NOW + 43_200,
    userAgent: 'Mozilla/5.0 (contract test)',
    ip: '203.0.113.7',
    ...overrides,
  }
}

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await open()
      store = opened.store
    })
    afterEach(async () => {
      await store.close()
      await opened.cleanup?.()
    })

    describe('users', () => {
      it('creates a user and finds it by email and by id, with every field intact', async () => {
        const user = makeUser({ roles: ['admin', 'ops'], disabledAt: NOW + 5 })
        expect(await store.createUser(user)).toEqual(user)
        expect(await store.findUserByEmail(user.email)).toEqual(user)
        expect(await store.findUserById(user.id)).toEqual(user)
      })

      it('returns null for an unknown email or id', async () => {
        expect(await store.findUserByEmail('nobody@example.com')).toBeNull()
        expect(await store.findUserById(generatePublicId())).toBeNull()
      })

      it('refuses a second user with the same email and keeps the first untouched', async () => {
        const first = makeUser({ email: 'same@example.com' })
        await store.createUser(first)
        const second = makeUser({ email: 'same@example.com', passwordHash: 'other' })
        expect(await store.createUser(second)).toBe(EMAIL_TAKEN)
        expect(await store.findUserByEmail('same@example.com')).toEqual(first)
        expect(await store.findUserById(second.id)).toBeNull()
      })

      it('lets exactly one of many concurrent sign-ups with one email win', async () => {
        const attempts = Array.from({ length: 10 }, () => makeUser({ email: 'race@example.com' }))
        const results = await Promise.all(attempts.map((user) => store.createUser(user)))
        expect(results.filter((result) => result !== EMAIL_TAKEN)).toHaveLength(1)
      })

      it('treats emails as exact keys (normalisation is the engine’s job)', async () => {
        await store.createUser(makeUser({ email: 'case@example.com' }))
        expect(await store.findUserByEmail('CASE@example.com')).toBeNull()
      })

      it('updates a password hash, and reports a missing user', async () => {
        const user = await store.createUser(makeUser())
        if (user === EMAIL_TAKEN) throw new Error('unexpected')
        expect(await store.updatePasswordHash(user.id, 'new-hash')).toBe(true)
        expect((await store.findUserById(user.id))?.passwordHash).toBe('new-hash')
        expect(await store.updatePasswordHash(generatePublicId(), 'x')).toBe(false)
      })

      it('returns copies: mutating a returned user does not change the stored one', async () => {
        const user = makeUser({ roles: ['a'] })
        await store.createUser(user)
        const found = (await store.findUserById(user.id))!
        found.email = 'changed@example.com'
        ;(found.roles as string[]).push('b')
        expect(await store.findUserById(user.id)).toEqual(user)
      })
    })

    describe('sessions', () => {
      let user: UserRecord
      beforeEach(async () => {
        user = makeUser()
        await store.createUser(user)
      })

      it('creates a session and finds it by token hash with every field intact', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      })

      it('keeps null user agent and ip as null', async () => {
        const session = makeSession(user.id, { userAgent: null, ip: null })
        await store.createSession(session)
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      })

      it('returns null for an unknown token hash', async () => {
        expect(await store.findSessionByTokenHash(hashSecret(generateSecretToken()))).toBeNull()
      })

      it('touches a live session and only that one', async () => {
        const a = makeSession(user.id)
        const b = makeSession(user.id)
        await store.createSession(a)
        await store.createSession(b)
        expect(await store.touchSession(a.tokenHash, NOW + 100, NOW + 1900)).toBe(true)
        expect(await store.findSessionByTokenHash(a.tokenHash)).toEqual({
          ...a,
          lastSeenAt: NOW + 100,
          expiresAt: NOW + 1900,
        })
        expect(await store.findSessionByTokenHash(b.tokenHash)).toEqual(b)
      })

      it('does not resurrect a deleted session when touched', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        expect(await store.deleteSessionByTokenHash(session.tokenHash)).toBe(true)
        expect(await store.touchSession(session.tokenHash, NOW + 1, NOW + 1801)).toBe(false)
        expect(await store.findSessionByTokenHash(session.tokenHash)).toBeNull()
      })

      it('deletes a session once; a second delete reports false', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        expect(await store.deleteSessionByTokenHash(session.tokenHash)).toBe(true)
        expect(await store.deleteSessionByTokenHash(session.tokenHash)).toBe(false)
        expect(await store.listUserSessions(user.id)).toEqual([])
      })

      it("lists only that user's sessions, oldest first", async () => {
        const other = makeUser()
        await store.createUser(other)
        const newer = makeSession(user.id, { createdAt: NOW + 10 })
        const older = makeSession(user.id, { createdAt: NOW })
        await store.createSession(newer)
        await store.createSession(older)
        await store.createSession(makeSession(other.id))
        expect(await store.listUserSessions(user.id)).toEqual([older, newer])
        expect(await store.listUserSessions(generatePublicId())).toEqual([])
      })

      it('purges sessions whose expiry is at or before now, and only those', async () => {
        const expired = makeSession(user.id, { expiresAt: NOW - 1 })
        const atEdge = makeSession(user.id, { expiresAt: NOW })
        const live = makeSession(user.id, { expiresAt: NOW + 1 })
        for (const session of [expired, atEdge, live]) await store.createSession(session)
        expect(await store.deleteExpiredSessions(NOW)).toBe(2)
        expect(await store.listUserSessions(user.id)).toEqual([live])
        expect(await store.deleteExpiredSessions(NOW)).toBe(0)
      })

      it('returns copies: mutating a returned session does not change the stored one', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        const found = (await store.findSessionByTokenHash(session.tokenHash))!
        found.expiresAt = 0
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      })
    })

    it('answers ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
