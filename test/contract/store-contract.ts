/**
 * The one conformance suite every Store adapter must pass (memory is the reference). Each adapter's test file
 * calls {@link describeStoreContract} with a factory that opens a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { generatePublicId, generateSecretToken } from '../../src/core/random.js'
import { hashSecret } from '../../src/core/hash.js'
import { describeFactorContract } from './factor-contract.js'
import {
  type AccessRevocationRecord,
  type ChangeEvent,
  CLIENT_TAKEN,
  type ConsentRecord,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  type FederatedIdentityRecord,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  type OAuthClientRecord,
  type OneTimeTokenRecord,
  PROVIDER_LINKED,
  type RefreshFamilyRecord,
  type SessionChangeFeed,
  type SessionRecord,
  type SigningKeyRecord,
  type Store,
  type UserEpochRecord,
  type UserRecord,
} from '../../src/store/types.js'

export interface OpenedStore {
  store: Store
  /** Removes what the store left behind (files, schemas). Called after `store.close()`. */
  cleanup?: () => Promise<void> | void
  /** The store refuses a session of an unknown user (a SQL foreign key); others accept it. */
  userForeignKey?: boolean
  /**
   * Sessions and refresh families live in another store than users (the split store), so `deleteUser` leaves
   * them: the engine ends a user's devices before it deletes the user.
   */
  devicesApart?: boolean
  /**
   * The store announces every change to a session or a user as a numbered `sessions-changed` notice on its
   * feeds (`sessionFeeds`): Redis, PostgreSQL and a split of the two; memory and SQLite do not.
   */
  sessionNotices?: boolean
}

/**
 * The per-operation timeout the network stores get in the contract suite. Their 1.5 s default is for serving
 * traffic; on a shared two-core CI machine running browsers beside this suite, a healthy server has been seen
 * to take longer once. The timeout itself is tested on its own, against servers that never answer.
 */
export const CONTRACT_TIMEOUT_MS = 10_000

// Far in the future: Redis expires keys by its own clock, so "expired" fixtures must not yet be expired there.
const NOW = 4_000_000_000

export function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: generatePublicId(),
    email: `${generatePublicId().toLowerCase()}@example.com`,
    passwordHash:
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    roles: [],
    createdAt: NOW,
    disabledAt: null,
    emailVerifiedAt: null,
    ...overrides,
  }
}

/** A user as a sign-up through a provider creates it: no password, the email vouched for. */
export function makeSocialUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return makeUser({ passwordHash: null, emailVerifiedAt: NOW, ...overrides })
}

export function makeIdentity(
  userId: string,
  overrides: Partial<FederatedIdentityRecord> = {},
): FederatedIdentityRecord {
  return {
    provider: 'google',
    subject: generatePublicId(),
    userId,
    email: null,
    createdAt: NOW,
    ...overrides,
  }
}

/**
 * The route (`Store.secretRoute`) of the store under test, which the helpers below put on the secrets and family
 * ids they make for a user, as the engine does; null for stores that take none. Set for each contract test.
 */
let routeFor: ((userId: string) => string) | null = null

function routeOf(userId: string): string | null {
  return routeFor?.(userId) ?? null
}

export function makeSession(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: generatePublicId(),
    tokenHash: hashSecret(generateSecretToken(routeOf(userId))),
    userId,
    createdAt: NOW,
    lastSeenAt: NOW,
    expiresAt: NOW + 1800,
    absoluteExpiresAt: NOW + 43_200,
    userAgent: 'Mozilla/5.0 (contract test)',
    ip: '203.0.113.7',
    amr: ['pwd'],
    ...overrides,
  }
}

export function makeSigningKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const createdAt = overrides.createdAt ?? NOW
  return {
    kid: generatePublicId(),
    alg: 'ES256',
    privateJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: generatePublicId(), d: generatePublicId() }),
    createdAt,
    activatesAt: createdAt,
    retiredAt: null,
    ...overrides,
  }
}

export function makeFamily(
  userId: string,
  overrides: Partial<RefreshFamilyRecord> = {},
): RefreshFamilyRecord {
  return {
    id: generatePublicId(routeOf(userId)),
    userId,
    createdAt: NOW,
    lastUsedAt: NOW,
    expiresAt: NOW + 86_400,
    absoluteExpiresAt: NOW + 30 * 86_400,
    generation: 0,
    rotatedAt: null,
    successorSeal: null,
    revokedAt: null,
    userAgent: 'Mozilla/5.0 (contract test)',
    ip: '203.0.113.7',
    clientId: null,
    scope: null,
    amr: ['pwd'],
    ...overrides,
  }
}

/** A confidential third-party client with every list filled; ids are random unless given. */
export function makeClient(overrides: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  return {
    id: `app-${generatePublicId()}`,
    name: 'Exämple App',
    type: 'confidential',
    // Compared character for character: the order, a query and a non-ASCII path must all come back as given.
    redirectUris: [
      'https://app.example.com/callback',
      'http://127.0.0.1:8080/cb?a=1&b=%C3%BC',
      'com.example:/ü',
    ],
    postLogoutRedirectUris: ['https://app.example.com/signed-out'],
    origins: ['https://app.example.com'],
    firstParty: false,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    secretHash: hashSecret(generateSecretToken()),
    createdAt: NOW,
    ...overrides,
  }
}

export function makeConsent(
  userId: string,
  clientId: string,
  overrides: Partial<ConsentRecord> = {},
): ConsentRecord {
  return { userId, clientId, scopes: ['openid', 'profile'], grantedAt: NOW, ...overrides }
}

export function makeOneTimeToken(
  userId: string,
  overrides: Partial<OneTimeTokenRecord> = {},
): OneTimeTokenRecord {
  return {
    tokenHash: hashSecret(generateSecretToken(routeOf(userId))),
    userId,
    purpose: 'verify-email',
    createdAt: NOW,
    expiresAt: NOW + 3600,
    email: `${generatePublicId().toLowerCase()}@example.com`,
    ...overrides,
  }
}

/** A fresh refresh-token hash, as the engine would store it for `userId` (unrouted without one). */
export function makeTokenHash(userId?: string): string {
  return hashSecret(generateSecretToken(userId === undefined ? null : routeOf(userId)))
}

/** Access revocations come back in no particular order; this gives them one for comparisons. */
function sortRevocations(list: readonly AccessRevocationRecord[]): AccessRevocationRecord[] {
  return [...list].sort((a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value))
}

/** User epochs come back in no particular order; this gives them one for comparisons. */
function sortEpochs(list: readonly UserEpochRecord[]): UserEpochRecord[] {
  return [...list].sort((a, b) => a.userId.localeCompare(b.userId))
}

/** Feed delivery order is not part of the contract; this gives events one for comparisons. */
function sortEvents(list: readonly ChangeEvent[]): ChangeEvent[] {
  return [...list].sort(
    (a, b) => a.type.localeCompare(b.type) || JSON.stringify(a).localeCompare(JSON.stringify(b)),
  )
}

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await open()
      store = opened.store
      routeFor = store.secretRoute ? (userId) => store.secretRoute!(userId) : null
    })
    afterEach(async () => {
      routeFor = null
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

      it('finds a user by any spelling with its email key (NFKC + case fold), and returns it as stored', async () => {
        const user = makeUser({ email: 'stra\u00dfe.finance@example.com' })
        await store.createUser(user)
        for (const spelling of [
          'strasse.finance@example.com',
          'STRASSE.FINANCE@EXAMPLE.COM',
          '\uff53tra\u00dfe.\ufb01nance@example.com', // fullwidth s, the ﬁ ligature
          'stra\u00dfe.fi\u200bnance@example.com', // an invisible character
        ]) {
          expect(await store.findUserByEmail(spelling)).toEqual(user)
        }
      })

      it.each([
        ['fullwidth letters', 'victim@example.com', '\uff56ictim@example.com'],
        ['a ligature', 'office@example.com', 'o\ufb03ce@example.com'],
        ['ß against ss', 'strasse@example.com', 'stra\u00dfe@example.com'],
        ['another case', 'mixed@example.com', 'MIXED@example.com'],
        ['a Kelvin sign', 'kim@example.com', '\u212aim@example.com'],
      ])(
        'refuses a look-alike (%s) of an existing email and keeps the first untouched',
        async (_label, a, b) => {
          const first = makeUser({ email: a })
          expect(await store.createUser(first)).toEqual(first)
          const second = makeUser({ email: b, passwordHash: 'other' })
          expect(await store.createUser(second)).toBe(EMAIL_TAKEN)
          expect(await store.findUserById(second.id)).toBeNull()
          expect(await store.findUserByEmail(a)).toEqual(first)
          expect(await store.findUserByEmail(b)).toEqual(first)
        },
      )

      it('keeps emails whose keys differ apart: dotless ı, a Cyrillic letter', async () => {
        const plain = makeUser({ email: 'kir@example.com' })
        const dotless = makeUser({ email: 'k\u0131r@example.com' })
        const cyrillic = makeUser({ email: 'k\u0456r@example.com' })
        for (const user of [plain, dotless, cyrillic]) expect(await store.createUser(user)).toEqual(user)
        expect(await store.findUserByEmail('k\u0131r@example.com')).toEqual(dotless)
        expect(await store.findUserByEmail('k\u0456r@example.com')).toEqual(cyrillic)
        expect(await store.findUserByEmail('KIR@example.com')).toEqual(plain)
      })

      it('lets exactly one of many concurrent sign-ups with look-alike emails win', async () => {
        const spellings = [
          'look@example.com',
          '\uff4cook@example.com',
          'LOOK@example.com',
          'lo\uff4fk@example.com',
        ]
        const attempts = Array.from({ length: 12 }, (_, i) =>
          makeUser({ email: spellings[i % spellings.length] }),
        )
        const results = await Promise.all(attempts.map((user) => store.createUser(user)))
        const winners = results.filter((result) => result !== EMAIL_TAKEN)
        expect(winners).toHaveLength(1)
        expect(await store.findUserByEmail('look@example.com')).toEqual(winners[0])
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

      it('keeps a null password and a set emailVerifiedAt through every read, the session join included', async () => {
        const social = makeSocialUser({ emailVerifiedAt: NOW - 10, roles: ['ops'] })
        const unverified = makeSocialUser({ emailVerifiedAt: null })
        const verifiedWithPassword = makeUser({ emailVerifiedAt: NOW + 5 })
        for (const user of [social, unverified, verifiedWithPassword]) {
          expect(await store.createUser(user)).toEqual(user)
          expect(await store.findUserById(user.id)).toEqual(user)
          expect(await store.findUserByEmail(user.email)).toEqual(user)
          const session = makeSession(user.id)
          await store.createSession(session)
          expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
        }
        expect((await store.findUserById(social.id))?.passwordHash).toBeNull()
        expect((await store.findUserById(unverified.id))?.emailVerifiedAt).toBeNull()
      })

      it('gives a user without a password its first password hash, leaving the rest as it was', async () => {
        const social = makeSocialUser()
        await store.createUser(social)
        expect(await store.updatePasswordHash(social.id, 'first-hash')).toBe(true)
        expect(await store.findUserById(social.id)).toEqual({ ...social, passwordHash: 'first-hash' })
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

      /** Stores `session`, which must then read back exactly: by hash, listed, renewed, and with its user. */
      async function expectKeptExactly(session: SessionRecord): Promise<void> {
        await store.createSession(session)
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
        expect(await store.listUserSessions(user.id)).toEqual([session])
        expect(
          await store.touchSession(session.tokenHash, session.lastSeenAt + 1, session.expiresAt + 1),
        ).toBe(true)
        expect(await store.findSessionWithUser(session.tokenHash)).toEqual({
          session: { ...session, lastSeenAt: session.lastSeenAt + 1, expiresAt: session.expiresAt + 1 },
          user,
        })
      }

      it.each([
        ['none recorded', []],
        ['a passkey', ['hwk', 'mfa']],
        ['a password and a TOTP code', ['pwd', 'otp', 'mfa']],
        ['a provider', ['fed']],
      ])(
        'keeps the sign-in methods (%s) in order, through a read, a list and a renewal',
        async (_name, amr) => {
          await expectKeptExactly(makeSession(user.id, { amr }))
        },
      )

      it.each([
        ['an empty IP and User-Agent', '', ''],
        ['an IPv6 loopback', '::1', 'curl/8.5.0'],
        ['an IPv4-mapped IPv6 address', '::ffff:10.0.0.1', 'Mozilla/5.0 Ünïcode 😀'],
        ['a dotted quad with a leading zero', '010.0.0.1', 'x'],
        ['the highest IPv4 address', '255.255.255.255', 'x'],
        ['the lowest IPv4 address', '0.0.0.0', 'x'],
      ])('keeps %s exactly as given, through a read, a list and a renewal', async (_name, ip, userAgent) => {
        await expectKeptExactly(makeSession(user.id, { ip, userAgent }))
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

      it('reads a session together with its user, each equal to its own lookup', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user })
        expect(await store.findSessionWithUser(hashSecret(generateSecretToken()))).toBeNull()
      })

      it("reads the user's current state with the session: disabled, roles intact", async () => {
        const admin = makeUser({ roles: ['admin', 'ops'] })
        await store.createUser(admin)
        const session = makeSession(admin.id, { userAgent: null, ip: null })
        await store.createSession(session)
        expect(await store.setUserDisabled(admin.id, NOW + 5)).toBe(true)
        expect(await store.findSessionWithUser(session.tokenHash)).toEqual({
          session,
          user: { ...admin, disabledAt: NOW + 5 },
        })
        expect(await store.deleteSessionByTokenHash(session.tokenHash)).toBe(true)
        expect(await store.findSessionWithUser(session.tokenHash)).toBeNull()
      })

      it('reads a session whose user is gone with user null, where no foreign key forbids it', async () => {
        const orphan = makeSession(generatePublicId())
        if (opened.userForeignKey) {
          await expect(store.createSession(orphan)).rejects.toThrow()
          expect(await store.findSessionWithUser(orphan.tokenHash)).toBeNull()
          return
        }
        await store.createSession(orphan)
        expect(await store.findSessionWithUser(orphan.tokenHash)).toEqual({ session: orphan, user: null })
      })

      it('returns copies from the session-with-user read too', async () => {
        const admin = makeUser({ roles: ['admin'] })
        await store.createUser(admin)
        const session = makeSession(admin.id)
        await store.createSession(session)
        const found = (await store.findSessionWithUser(session.tokenHash))!
        found.session.expiresAt = 0
        ;(found.user!.roles as string[]).push('root')
        expect(await store.findSessionWithUser(session.tokenHash)).toEqual({ session, user: admin })
      })

      it('returns copies: mutating a returned session does not change the stored one', async () => {
        const session = makeSession(user.id)
        await store.createSession(session)
        const found = (await store.findSessionByTokenHash(session.tokenHash))!
        found.expiresAt = 0
        expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
      })
    })

    describe('signing keys', () => {
      it('lists nothing before any key is created', async () => {
        expect(await store.listSigningKeys()).toEqual([])
      })

      it('stores keys with every field intact, retiredAt null or set', async () => {
        const live = makeSigningKey({ alg: 'EdDSA', createdAt: NOW + 10 })
        const retired = makeSigningKey({ alg: 'HS256', createdAt: NOW, retiredAt: NOW + 10 })
        await store.createSigningKey(live)
        await store.createSigningKey(retired)
        expect(await store.listSigningKeys()).toEqual([live, retired])
      })

      it('lists keys newest first, whatever the insertion order', async () => {
        const oldest = makeSigningKey({ createdAt: NOW - 200 })
        const middle = makeSigningKey({ createdAt: NOW - 100 })
        const newest = makeSigningKey({ createdAt: NOW })
        for (const key of [middle, newest, oldest]) await store.createSigningKey(key)
        expect(await store.listSigningKeys()).toEqual([newest, middle, oldest])
      })

      it('retires only the unretired other keys, leaving an already-retired key’s retiredAt unchanged', async () => {
        const current = makeSigningKey({ createdAt: NOW })
        const previous = makeSigningKey({ createdAt: NOW - 100 })
        const alreadyRetired = makeSigningKey({ createdAt: NOW - 200, retiredAt: NOW - 100 })
        for (const key of [current, previous, alreadyRetired]) await store.createSigningKey(key)
        await store.retireSigningKeysExcept(current.kid, NOW + 5)
        expect(await store.listSigningKeys()).toEqual([
          current,
          { ...previous, retiredAt: NOW + 5 },
          alreadyRetired,
        ])
        // A second retirement at a later time changes nothing: every other key is retired already.
        await store.retireSigningKeysExcept(current.kid, NOW + 50)
        expect(await store.listSigningKeys()).toEqual([
          current,
          { ...previous, retiredAt: NOW + 5 },
          alreadyRetired,
        ])
      })

      it('never touches the kept key, even when it is itself retired', async () => {
        const kept = makeSigningKey({ createdAt: NOW, retiredAt: NOW - 1 })
        const other = makeSigningKey({ createdAt: NOW - 100 })
        await store.createSigningKey(kept)
        await store.createSigningKey(other)
        await store.retireSigningKeysExcept(kept.kid, NOW + 5)
        expect(await store.listSigningKeys()).toEqual([kept, { ...other, retiredAt: NOW + 5 }])
      })

      it('retires every unretired key when the kept kid is unknown', async () => {
        const a = makeSigningKey({ createdAt: NOW })
        const b = makeSigningKey({ createdAt: NOW - 100 })
        await store.createSigningKey(a)
        await store.createSigningKey(b)
        await store.retireSigningKeysExcept('no-such-kid', NOW + 5)
        expect(await store.listSigningKeys()).toEqual([
          { ...a, retiredAt: NOW + 5 },
          { ...b, retiredAt: NOW + 5 },
        ])
      })

      it('deletes a key once; a second delete and an unknown kid report false', async () => {
        const doomed = makeSigningKey({ createdAt: NOW - 100, retiredAt: NOW - 50 })
        const kept = makeSigningKey({ createdAt: NOW })
        await store.createSigningKey(doomed)
        await store.createSigningKey(kept)
        expect(await store.deleteSigningKey(doomed.kid)).toBe(true)
        expect(await store.deleteSigningKey(doomed.kid)).toBe(false)
        expect(await store.deleteSigningKey('no-such-kid')).toBe(false)
        expect(await store.listSigningKeys()).toEqual([kept])
      })

      it('keeps an activation time ahead of creation, and a retirement ahead of now', async () => {
        const pending = makeSigningKey({ createdAt: NOW, activatesAt: NOW + 360 })
        const outgoing = makeSigningKey({ createdAt: NOW - 100, retiredAt: NOW + 360 })
        await store.createSigningKey(pending)
        await store.createSigningKey(outgoing)
        expect(await store.listSigningKeys()).toEqual([pending, outgoing])
      })

      describe('createFirstSigningKey', () => {
        it('stores the key on an empty store and returns it', async () => {
          const key = makeSigningKey()
          expect(await store.createFirstSigningKey(key)).toEqual(key)
          expect(await store.listSigningKeys()).toEqual([key])
        })

        it('stores nothing when an unretired key of the algorithm exists, and returns that one', async () => {
          const existing = makeSigningKey({ createdAt: NOW - 100, activatesAt: NOW + 50 })
          await store.createSigningKey(existing)
          expect(await store.createFirstSigningKey(makeSigningKey())).toEqual(existing)
          expect(await store.listSigningKeys()).toEqual([existing])
        })

        it('returns the newest of several unretired keys', async () => {
          const older = makeSigningKey({ createdAt: NOW - 100 })
          const newer = makeSigningKey({ createdAt: NOW - 50 })
          await store.createSigningKey(older)
          await store.createSigningKey(newer)
          expect(await store.createFirstSigningKey(makeSigningKey())).toEqual(newer)
        })

        it('counts neither retired keys (even retiring ahead) nor keys of another algorithm', async () => {
          const retired = makeSigningKey({ createdAt: NOW - 200, retiredAt: NOW + 100 })
          const other = makeSigningKey({ alg: 'EdDSA', createdAt: NOW - 100 })
          await store.createSigningKey(retired)
          await store.createSigningKey(other)
          const key = makeSigningKey()
          expect(await store.createFirstSigningKey(key)).toEqual(key)
          expect(await store.listSigningKeys()).toEqual([key, other, retired])
        })

        it('stores exactly one key when called concurrently, and every caller gets that one', async () => {
          const candidates = Array.from({ length: 8 }, () => makeSigningKey())
          const winners = await Promise.all(candidates.map((key) => store.createFirstSigningKey(key)))
          const stored = await store.listSigningKeys()
          expect(stored).toHaveLength(1)
          expect(candidates).toContainEqual(stored[0])
          for (const winner of winners) expect(winner).toEqual(stored[0])
        })
      })

      it('returns copies: mutating a created or returned key does not change the stored one', async () => {
        const key = makeSigningKey()
        const original = { ...key }
        await store.createSigningKey(key)
        key.retiredAt = NOW + 1
        const [found] = await store.listSigningKeys()
        found!.privateJwk = '{}'
        expect(await store.listSigningKeys()).toEqual([original])
      })
    })

    describe('secrets', () => {
      it('creates a secret on first call and returns the stored value to later callers', async () => {
        expect(await store.getOrCreateSecret('cookie-key', 'first')).toBe('first')
        expect(await store.getOrCreateSecret('cookie-key', 'second')).toBe('first')
        expect(await store.getOrCreateSecret('cookie-key', 'first')).toBe('first')
      })

      it('keeps secrets with different names apart', async () => {
        expect(await store.getOrCreateSecret('a', 'value-a')).toBe('value-a')
        expect(await store.getOrCreateSecret('b', 'value-b')).toBe('value-b')
        expect(await store.getOrCreateSecret('a', 'other')).toBe('value-a')
        expect(await store.getOrCreateSecret('b', 'other')).toBe('value-b')
      })

      it('gives every one of many concurrent first callers the one stored value', async () => {
        const values = Array.from({ length: 10 }, (_, i) => `value-${i}-${generatePublicId()}`)
        const results = await Promise.all(values.map((value) => store.getOrCreateSecret('raced', value)))
        expect(new Set(results).size).toBe(1)
        expect(values).toContain(results[0])
        expect(await store.getOrCreateSecret('raced', 'late')).toBe(results[0])
      })
    })

    describe('refresh families', () => {
      let user: UserRecord
      beforeEach(async () => {
        user = makeUser()
        await store.createUser(user)
      })

      async function createFamily(
        overrides: Partial<RefreshFamilyRecord> = {},
      ): Promise<{ family: RefreshFamilyRecord; tokenHash: string }> {
        const family = makeFamily(user.id, overrides)
        const tokenHash = makeTokenHash(family.userId)
        await store.createRefreshFamily(family, tokenHash)
        return { family, tokenHash }
      }

      it('stores a family with its generation-0 token, every field intact', async () => {
        const { family, tokenHash } = await createFamily()
        expect(await store.findRefreshFamily(family.id)).toEqual(family)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
      })

      it.each([
        ['none recorded', []],
        ['a password and a passkey', ['pwd', 'swk', 'mfa']],
      ])('keeps the sign-in methods (%s) through a read, a rotation and a list', async (_name, amr) => {
        const { family, tokenHash } = await createFamily({ amr })
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
        const next = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 0, next, NOW + 5, NOW + 9000, 'seal')).toBe(true)
        expect((await store.findRefreshFamily(family.id))?.amr).toEqual(amr)
        expect((await store.listUserRefreshFamilies(user.id)).map((f) => f.amr)).toEqual([amr])
      })

      it('keeps null user agent, ip, rotatedAt and revokedAt as null', async () => {
        const { family, tokenHash } = await createFamily({ userAgent: null, ip: null })
        expect(family.rotatedAt).toBeNull()
        expect(family.revokedAt).toBeNull()
        expect(await store.findRefreshFamily(family.id)).toEqual(family)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
      })

      it('keeps set rotatedAt and revokedAt values', async () => {
        const { family, tokenHash } = await createFamily({ rotatedAt: NOW - 5, revokedAt: NOW - 1 })
        expect(await store.findRefreshFamily(family.id)).toEqual(family)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
      })

      it('keeps the client and scope a family was issued with through every read, rotation and revocation', async () => {
        const { family, tokenHash } = await createFamily({ clientId: 'app', scope: 'openid offline_access' })
        expect(await store.findRefreshFamily(family.id)).toEqual(family)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([family])

        const next = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 0, next, NOW + 60, NOW + 3600, 'seal')).toBe(true)
        expect(await store.revokeRefreshFamily(family.id, NOW + 90)).toBe(true)
        const after: RefreshFamilyRecord = {
          ...family,
          generation: 1,
          rotatedAt: NOW + 60,
          lastUsedAt: NOW + 60,
          expiresAt: NOW + 3600,
          successorSeal: 'seal',
          revokedAt: NOW + 90,
        }
        expect(after).toMatchObject({ clientId: 'app', scope: 'openid offline_access' })
        expect(await store.findRefreshFamily(family.id)).toEqual(after)
        expect(await store.findRefreshToken(next)).toEqual({ family: after, generation: 1 })
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([after])
      })

      it('reads a family issued to no client, with no scope, back with a null clientId and scope', async () => {
        const { family, tokenHash } = await createFamily({ clientId: null, scope: null })
        const scoped = await createFamily({ createdAt: NOW + 1, clientId: 'other', scope: 'openid' })
        expect(await store.findRefreshFamily(family.id)).toMatchObject({ clientId: null, scope: null })
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family, generation: 0 })
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([family, scoped.family])
      })

      it('returns null for an unknown token hash or family id', async () => {
        await createFamily()
        expect(await store.findRefreshToken(makeTokenHash())).toBeNull()
        expect(await store.findRefreshFamily(generatePublicId())).toBeNull()
      })

      it('rotates from the expected generation, keeping every older token findable with its generation', async () => {
        const { family, tokenHash: token0 } = await createFamily()
        const other = await createFamily()
        const token1 = makeTokenHash(family.userId)
        expect(
          await store.rotateRefreshFamily(family.id, 0, token1, NOW + 60, NOW + 60 + 86_400, 'seal-0'),
        ).toBe(true)
        const afterFirst: RefreshFamilyRecord = {
          ...family,
          generation: 1,
          rotatedAt: NOW + 60,
          lastUsedAt: NOW + 60,
          expiresAt: NOW + 60 + 86_400,
          successorSeal: 'seal-0',
        }
        expect(await store.findRefreshFamily(family.id)).toEqual(afterFirst)
        expect(await store.findRefreshToken(token1)).toEqual({ family: afterFirst, generation: 1 })
        // Reuse detection depends on the rotated-out token still being recognised, with its own generation.
        expect(await store.findRefreshToken(token0)).toEqual({ family: afterFirst, generation: 0 })

        const token2 = makeTokenHash(family.userId)
        expect(
          await store.rotateRefreshFamily(family.id, 1, token2, NOW + 120, NOW + 120 + 86_400, 'seal-1'),
        ).toBe(true)
        const afterSecond: RefreshFamilyRecord = {
          ...family,
          generation: 2,
          rotatedAt: NOW + 120,
          lastUsedAt: NOW + 120,
          expiresAt: NOW + 120 + 86_400,
          successorSeal: 'seal-1',
        }
        expect(await store.findRefreshFamily(family.id)).toEqual(afterSecond)
        expect(await store.findRefreshToken(token2)).toEqual({ family: afterSecond, generation: 2 })
        expect(await store.findRefreshToken(token1)).toEqual({ family: afterSecond, generation: 1 })
        expect(await store.findRefreshToken(token0)).toEqual({ family: afterSecond, generation: 0 })

        // The other family is untouched.
        expect(await store.findRefreshFamily(other.family.id)).toEqual(other.family)
        expect(await store.findRefreshToken(other.tokenHash)).toEqual({ family: other.family, generation: 0 })
      })

      it('refuses a rotation from a stale (or future) generation and changes nothing', async () => {
        const { family, tokenHash: token0 } = await createFamily()
        const token1 = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 0, token1, NOW + 60, NOW + 1000, 'seal-2')).toBe(
          true,
        )
        const rotated = await store.findRefreshFamily(family.id)

        const stale = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 0, stale, NOW + 90, NOW + 2000, 'seal-3')).toBe(
          false,
        )
        const future = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 5, future, NOW + 90, NOW + 2000, 'seal-4')).toBe(
          false,
        )

        expect(await store.findRefreshFamily(family.id)).toEqual(rotated)
        expect(await store.findRefreshToken(stale)).toBeNull()
        expect(await store.findRefreshToken(future)).toBeNull()
        expect(await store.findRefreshToken(token1)).toEqual({ family: rotated, generation: 1 })
        expect(await store.findRefreshToken(token0)).toEqual({ family: rotated, generation: 0 })
      })

      it('refuses to rotate a revoked family and changes nothing', async () => {
        const { family, tokenHash } = await createFamily()
        expect(await store.revokeRefreshFamily(family.id, NOW + 10)).toBe(true)
        const revoked: RefreshFamilyRecord = { ...family, revokedAt: NOW + 10 }
        const next = makeTokenHash(family.userId)
        expect(await store.rotateRefreshFamily(family.id, 0, next, NOW + 60, NOW + 1000, 'seal-5')).toBe(
          false,
        )
        expect(await store.findRefreshFamily(family.id)).toEqual(revoked)
        expect(await store.findRefreshToken(next)).toBeNull()
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family: revoked, generation: 0 })
      })

      it('refuses to rotate an unknown family and stores no token', async () => {
        const next = makeTokenHash()
        const unknownId = generatePublicId()
        expect(await store.rotateRefreshFamily(unknownId, 0, next, NOW + 60, NOW + 1000, 'seal-6')).toBe(
          false,
        )
        expect(await store.findRefreshToken(next)).toBeNull()
        expect(await store.findRefreshFamily(unknownId)).toBeNull()
      })

      it('lets exactly one of many concurrent rotations from one generation win', async () => {
        const { family } = await createFamily()
        const hashes = Array.from({ length: 20 }, () => makeTokenHash(family.userId))
        const results = await Promise.all(
          hashes.map((hash, i) =>
            store.rotateRefreshFamily(family.id, 0, hash, NOW + 60 + i, NOW + 1000 + i, 'seal-7'),
          ),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        const winner = results.indexOf(true)
        const found = await Promise.all(hashes.map((hash) => store.findRefreshToken(hash)))
        expect(found.filter((entry) => entry !== null)).toHaveLength(1)
        const expected: RefreshFamilyRecord = {
          ...family,
          generation: 1,
          rotatedAt: NOW + 60 + winner,
          lastUsedAt: NOW + 60 + winner,
          expiresAt: NOW + 1000 + winner,
          successorSeal: 'seal-7',
        }
        expect(found[winner]).toEqual({ family: expected, generation: 1 })
        expect(await store.findRefreshFamily(family.id)).toEqual(expected)
      })

      it('revokes a family once; a second revoke and an unknown family report false', async () => {
        const { family, tokenHash } = await createFamily()
        const other = await createFamily()
        expect(await store.revokeRefreshFamily(family.id, NOW + 10)).toBe(true)
        expect(await store.revokeRefreshFamily(family.id, NOW + 20)).toBe(false)
        expect(await store.revokeRefreshFamily(generatePublicId(), NOW + 20)).toBe(false)
        const revoked: RefreshFamilyRecord = { ...family, revokedAt: NOW + 10 }
        expect(await store.findRefreshFamily(family.id)).toEqual(revoked)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family: revoked, generation: 0 })
        expect(await store.findRefreshFamily(other.family.id)).toEqual(other.family)
      })

      it('purges families whose expiry is at or before now, with all their tokens, and only those', async () => {
        const expired = await createFamily({ expiresAt: NOW - 1 })
        const atEdge = await createFamily({ expiresAt: NOW })
        const live = await createFamily({ expiresAt: NOW + 1 })
        const revokedLive = await createFamily({ expiresAt: NOW + 1000, revokedAt: NOW - 10 })
        // A rotation moves the expiry: this family was created expired but was rotated forward...
        const revived = await createFamily({ expiresAt: NOW - 100 })
        const revivedToken = makeTokenHash(revived.family.userId)
        expect(
          await store.rotateRefreshFamily(revived.family.id, 0, revivedToken, NOW - 50, NOW + 500, 'seal-8'),
        ).toBe(true)
        // ...and this one was rotated to an expiry in the past, so both its tokens must go.
        const expiredToken1 = makeTokenHash(expired.family.userId)
        expect(
          await store.rotateRefreshFamily(expired.family.id, 0, expiredToken1, NOW - 60, NOW - 1, 'seal-9'),
        ).toBe(true)

        expect(await store.deleteExpiredRefreshFamilies(NOW)).toBe(2)

        expect(await store.findRefreshFamily(expired.family.id)).toBeNull()
        expect(await store.findRefreshFamily(atEdge.family.id)).toBeNull()
        expect(await store.findRefreshToken(expired.tokenHash)).toBeNull()
        expect(await store.findRefreshToken(expiredToken1)).toBeNull()
        expect(await store.findRefreshToken(atEdge.tokenHash)).toBeNull()

        expect(await store.findRefreshFamily(live.family.id)).toEqual(live.family)
        expect(await store.findRefreshToken(live.tokenHash)).toEqual({ family: live.family, generation: 0 })
        expect(await store.findRefreshFamily(revokedLive.family.id)).toEqual(revokedLive.family)
        const revivedFamily = await store.findRefreshFamily(revived.family.id)
        expect(revivedFamily).toMatchObject({ generation: 1, expiresAt: NOW + 500 })
        expect(await store.findRefreshToken(revived.tokenHash)).toEqual({
          family: revivedFamily,
          generation: 0,
        })
        expect(await store.findRefreshToken(revivedToken)).toEqual({ family: revivedFamily, generation: 1 })

        expect(await store.deleteExpiredRefreshFamilies(NOW)).toBe(0)
      })

      it('leaves no token of a purged family behind, even if its id is ever stored again', async () => {
        const purged = await createFamily({ expiresAt: NOW - 1 })
        const purgedToken1 = makeTokenHash(purged.family.userId)
        expect(
          await store.rotateRefreshFamily(purged.family.id, 0, purgedToken1, NOW - 60, NOW - 1, 'seal-10'),
        ).toBe(true)
        expect(await store.deleteExpiredRefreshFamilies(NOW)).toBe(1)
        // Ids are random, so this never happens in practice; it is the one way to observe a leftover token.
        const again = makeFamily(user.id, { id: purged.family.id })
        const againToken = makeTokenHash(again.userId)
        await store.createRefreshFamily(again, againToken)
        expect(await store.findRefreshToken(purged.tokenHash)).toBeNull()
        expect(await store.findRefreshToken(purgedToken1)).toBeNull()
        expect(await store.findRefreshToken(againToken)).toEqual({ family: again, generation: 0 })
      })

      it('returns copies: mutating a created or returned family does not change the stored one', async () => {
        const family = makeFamily(user.id)
        const original = { ...family }
        const tokenHash = makeTokenHash(family.userId)
        await store.createRefreshFamily(family, tokenHash)
        family.generation = 7
        const found = (await store.findRefreshFamily(family.id))!
        found.revokedAt = NOW
        const byToken = (await store.findRefreshToken(tokenHash))!
        byToken.family.expiresAt = 0
        expect(await store.findRefreshFamily(family.id)).toEqual(original)
        expect(await store.findRefreshToken(tokenHash)).toEqual({ family: original, generation: 0 })
      })
    })

    describe('access revocations', () => {
      it('lists nothing before any revocation is added', async () => {
        expect(await store.listAccessRevocations(NOW)).toEqual([])
      })

      it('lists only revocations that expire after now, every field intact', async () => {
        const expired: AccessRevocationRecord = { kind: 'jti', value: generatePublicId(), expiresAt: NOW - 1 }
        const atEdge: AccessRevocationRecord = { kind: 'sid', value: generatePublicId(), expiresAt: NOW }
        const live: AccessRevocationRecord = { kind: 'jti', value: generatePublicId(), expiresAt: NOW + 1 }
        const liveSid: AccessRevocationRecord = {
          kind: 'sid',
          value: generatePublicId(),
          expiresAt: NOW + 900,
        }
        for (const revocation of [expired, atEdge, live, liveSid]) await store.addAccessRevocation(revocation)
        expect(sortRevocations(await store.listAccessRevocations(NOW))).toEqual(
          sortRevocations([live, liveSid]),
        )
        expect(sortRevocations(await store.listAccessRevocations(NOW - 10))).toEqual(
          sortRevocations([expired, atEdge, live, liveSid]),
        )
        expect(await store.listAccessRevocations(NOW + 900)).toEqual([])
      })

      it('is idempotent: adding the same revocation twice keeps one entry', async () => {
        const revocation: AccessRevocationRecord = {
          kind: 'jti',
          value: generatePublicId(),
          expiresAt: NOW + 60,
        }
        await store.addAccessRevocation(revocation)
        await store.addAccessRevocation({ ...revocation })
        expect(await store.listAccessRevocations(NOW)).toEqual([revocation])
      })

      it('lets a later expiry extend an entry, and never lets an earlier one shorten it', async () => {
        const value = generatePublicId()
        await store.addAccessRevocation({ kind: 'sid', value, expiresAt: NOW + 10 })
        await store.addAccessRevocation({ kind: 'sid', value, expiresAt: NOW + 100 })
        expect(await store.listAccessRevocations(NOW + 50)).toEqual([
          { kind: 'sid', value, expiresAt: NOW + 100 },
        ])
        await store.addAccessRevocation({ kind: 'sid', value, expiresAt: NOW + 50 })
        await store.addAccessRevocation({ kind: 'sid', value, expiresAt: NOW - 5 })
        expect(await store.listAccessRevocations(NOW)).toEqual([{ kind: 'sid', value, expiresAt: NOW + 100 }])
        expect(await store.deleteExpiredAccessRevocations(NOW + 60)).toBe(0)
        expect(await store.listAccessRevocations(NOW + 60)).toEqual([
          { kind: 'sid', value, expiresAt: NOW + 100 },
        ])
      })

      it("keeps 'jti' and 'sid' entries with the same value apart", async () => {
        const value = generatePublicId()
        const jti: AccessRevocationRecord = { kind: 'jti', value, expiresAt: NOW + 10 }
        const sid: AccessRevocationRecord = { kind: 'sid', value, expiresAt: NOW + 100 }
        await store.addAccessRevocation(jti)
        await store.addAccessRevocation(sid)
        expect(sortRevocations(await store.listAccessRevocations(NOW))).toEqual([jti, sid])
        // Extending one kind does not extend the other.
        await store.addAccessRevocation({ ...jti, expiresAt: NOW + 20 })
        expect(await store.listAccessRevocations(NOW + 50)).toEqual([sid])
        expect(await store.deleteExpiredAccessRevocations(NOW + 50)).toBe(1)
        expect(sortRevocations(await store.listAccessRevocations(NOW))).toEqual([sid])
      })

      it('deletes revocations whose expiry is at or before now, and only those; returns how many', async () => {
        const expired: AccessRevocationRecord = { kind: 'jti', value: generatePublicId(), expiresAt: NOW - 1 }
        const atEdge: AccessRevocationRecord = { kind: 'sid', value: generatePublicId(), expiresAt: NOW }
        const live: AccessRevocationRecord = { kind: 'jti', value: generatePublicId(), expiresAt: NOW + 1 }
        for (const revocation of [expired, atEdge, live]) await store.addAccessRevocation(revocation)
        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(2)
        expect(await store.listAccessRevocations(0)).toEqual([live])
        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(0)
      })

      it('returns copies: mutating an added or listed revocation does not change the stored one', async () => {
        const revocation: AccessRevocationRecord = {
          kind: 'jti',
          value: generatePublicId(),
          expiresAt: NOW + 60,
        }
        const original = { ...revocation }
        await store.addAccessRevocation(revocation)
        revocation.expiresAt = NOW - 100
        const [found] = await store.listAccessRevocations(NOW)
        found!.expiresAt = NOW - 100
        expect(await store.listAccessRevocations(NOW)).toEqual([original])
      })
    })

    describe('user-scoped session deletion', () => {
      let user: UserRecord
      let other: UserRecord
      beforeEach(async () => {
        user = makeUser()
        other = makeUser()
        await store.createUser(user)
        await store.createUser(other)
      })

      async function createSessions(userId: string, count: number): Promise<SessionRecord[]> {
        const sessions: SessionRecord[] = []
        for (let i = 0; i < count; i++) {
          const session = makeSession(userId, { createdAt: NOW + i })
          await store.createSession(session)
          sessions.push(session)
        }
        return sessions
      }

      it('deletes the session with that public id; it is then neither findable nor listed, and a second delete reports false', async () => {
        const [doomed, kept] = await createSessions(user.id, 2)
        const [theirs] = await createSessions(other.id, 1)
        expect(await store.deleteUserSession(user.id, doomed!.id)).toBe(true)
        expect(await store.findSessionByTokenHash(doomed!.tokenHash)).toBeNull()
        expect(await store.listUserSessions(user.id)).toEqual([kept])
        expect(await store.touchSession(doomed!.tokenHash, NOW + 5, NOW + 1805)).toBe(false)
        expect(await store.deleteUserSession(user.id, doomed!.id)).toBe(false)
        expect(await store.findSessionByTokenHash(kept!.tokenHash)).toEqual(kept)
        expect(await store.findSessionByTokenHash(theirs!.tokenHash)).toEqual(theirs)
      })

      it("refuses another user's session id and leaves that session untouched", async () => {
        const [mine] = await createSessions(user.id, 1)
        const [theirs] = await createSessions(other.id, 1)
        expect(await store.deleteUserSession(user.id, theirs!.id)).toBe(false)
        expect(await store.findSessionByTokenHash(theirs!.tokenHash)).toEqual(theirs)
        expect(await store.listUserSessions(other.id)).toEqual([theirs])
        expect(await store.listUserSessions(user.id)).toEqual([mine])
        // Its owner still can.
        expect(await store.deleteUserSession(other.id, theirs!.id)).toBe(true)
        expect(await store.listUserSessions(other.id)).toEqual([])
      })

      it('reports false for an unknown session id, an unknown user, or a token hash given as the id', async () => {
        const [mine] = await createSessions(user.id, 1)
        expect(await store.deleteUserSession(user.id, generatePublicId())).toBe(false)
        expect(await store.deleteUserSession(generatePublicId(), mine!.id)).toBe(false)
        expect(await store.deleteUserSession(user.id, mine!.tokenHash)).toBe(false)
        expect(await store.findSessionByTokenHash(mine!.tokenHash)).toEqual(mine)
        expect(await store.listUserSessions(user.id)).toEqual([mine])
      })

      it("deletes every session of the user when there is no exception, returns how many, and spares other users'", async () => {
        const mine = await createSessions(user.id, 3)
        const theirs = await createSessions(other.id, 2)
        expect(await store.deleteUserSessions(user.id, null)).toBe(3)
        for (const session of mine) expect(await store.findSessionByTokenHash(session.tokenHash)).toBeNull()
        expect(await store.listUserSessions(user.id)).toEqual([])
        expect(await store.listUserSessions(other.id)).toEqual(theirs)
        for (const session of theirs) {
          expect(await store.findSessionByTokenHash(session.tokenHash)).toEqual(session)
        }
        expect(await store.deleteUserSessions(user.id, null)).toBe(0)
      })

      it('keeps the excepted session and deletes the rest', async () => {
        const [a, kept, b] = await createSessions(user.id, 3)
        const theirs = await createSessions(other.id, 1)
        expect(await store.deleteUserSessions(user.id, kept!.id)).toBe(2)
        expect(await store.findSessionByTokenHash(a!.tokenHash)).toBeNull()
        expect(await store.findSessionByTokenHash(b!.tokenHash)).toBeNull()
        expect(await store.findSessionByTokenHash(kept!.tokenHash)).toEqual(kept)
        expect(await store.listUserSessions(user.id)).toEqual([kept])
        expect(await store.listUserSessions(other.id)).toEqual(theirs)
        expect(await store.deleteUserSessions(user.id, kept!.id)).toBe(0)
        expect(await store.listUserSessions(user.id)).toEqual([kept])
      })

      it("deletes them all when the excepted id is unknown or another user's session", async () => {
        const [theirs] = await createSessions(other.id, 1)
        await createSessions(user.id, 2)
        expect(await store.deleteUserSessions(user.id, theirs!.id)).toBe(2)
        expect(await store.listUserSessions(user.id)).toEqual([])
        expect(await store.findSessionByTokenHash(theirs!.tokenHash)).toEqual(theirs)

        await createSessions(user.id, 2)
        expect(await store.deleteUserSessions(user.id, generatePublicId())).toBe(2)
        expect(await store.listUserSessions(user.id)).toEqual([])
        expect(await store.listUserSessions(other.id)).toEqual([theirs])
      })

      it('returns 0 for a user without sessions and for an unknown user', async () => {
        const theirs = await createSessions(other.id, 2)
        expect(await store.deleteUserSessions(user.id, null)).toBe(0)
        expect(await store.deleteUserSessions(generatePublicId(), null)).toBe(0)
        expect(await store.listUserSessions(other.id)).toEqual(theirs)
      })
    })

    describe('user-scoped refresh families', () => {
      let user: UserRecord
      let other: UserRecord
      beforeEach(async () => {
        user = makeUser()
        other = makeUser()
        await store.createUser(user)
        await store.createUser(other)
      })

      async function createFamily(
        userId: string,
        overrides: Partial<RefreshFamilyRecord> = {},
      ): Promise<{ family: RefreshFamilyRecord; tokenHash: string }> {
        const family = makeFamily(userId, overrides)
        const tokenHash = makeTokenHash(userId)
        await store.createRefreshFamily(family, tokenHash)
        return { family, tokenHash }
      }

      it("lists only that user's families, oldest first, revoked, rotated and expired ones included", async () => {
        const newer = await createFamily(user.id, { createdAt: NOW + 20 })
        const older = await createFamily(user.id, { createdAt: NOW })
        const theirs = await createFamily(other.id, { createdAt: NOW + 5 })
        const revoked = await createFamily(user.id, { createdAt: NOW + 10, revokedAt: NOW + 15 })
        const expired = await createFamily(user.id, { createdAt: NOW - 50, expiresAt: NOW - 1 })
        expect(
          await store.rotateRefreshFamily(
            newer.family.id,
            0,
            makeTokenHash(newer.family.userId),
            NOW + 30,
            NOW + 3000,
            'seal-11',
          ),
        ).toBe(true)
        const rotated: RefreshFamilyRecord = {
          ...newer.family,
          generation: 1,
          rotatedAt: NOW + 30,
          lastUsedAt: NOW + 30,
          expiresAt: NOW + 3000,
          successorSeal: 'seal-11',
        }
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([
          expired.family,
          older.family,
          revoked.family,
          rotated,
        ])
        expect(await store.listUserRefreshFamilies(other.id)).toEqual([theirs.family])
      })

      it('lists nothing for a user without families or an unknown user', async () => {
        await createFamily(other.id)
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([])
        expect(await store.listUserRefreshFamilies(generatePublicId())).toEqual([])
      })

      it('stops listing families once they are purged', async () => {
        const expired = await createFamily(user.id, { createdAt: NOW - 50, expiresAt: NOW })
        const live = await createFamily(user.id, { createdAt: NOW })
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([expired.family, live.family])
        expect(await store.deleteExpiredRefreshFamilies(NOW)).toBe(1)
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([live.family])
      })

      it('returns copies: mutating a listed family does not change the stored one', async () => {
        const { family } = await createFamily(user.id)
        const [listed] = await store.listUserRefreshFamilies(user.id)
        listed!.revokedAt = NOW
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([family])
        expect(await store.findRefreshFamily(family.id)).toEqual(family)
      })

      it('revokes every unrevoked family of the user at now and returns exactly their ids', async () => {
        const a = await createFamily(user.id, { createdAt: NOW })
        const b = await createFamily(user.id, { createdAt: NOW + 1 })
        const expired = await createFamily(user.id, { createdAt: NOW + 2, expiresAt: NOW - 1 })
        const already = await createFamily(user.id, { createdAt: NOW + 3, revokedAt: NOW - 5 })
        const theirs = await createFamily(other.id)

        const ids = await store.revokeUserRefreshFamilies(user.id, NOW + 30, null)
        expect([...ids].sort()).toEqual([a.family.id, b.family.id, expired.family.id].sort())

        const revokedA: RefreshFamilyRecord = { ...a.family, revokedAt: NOW + 30 }
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([
          revokedA,
          { ...b.family, revokedAt: NOW + 30 },
          { ...expired.family, revokedAt: NOW + 30 },
          already.family,
        ])
        expect(await store.findRefreshToken(a.tokenHash)).toEqual({ family: revokedA, generation: 0 })
        // Other users are untouched.
        expect(await store.findRefreshFamily(theirs.family.id)).toEqual(theirs.family)
        expect(await store.listUserRefreshFamilies(other.id)).toEqual([theirs.family])

        // Nothing is left to revoke: a second call returns nothing and changes no revokedAt.
        expect(await store.revokeUserRefreshFamilies(user.id, NOW + 60, null)).toEqual([])
        expect(await store.findRefreshFamily(a.family.id)).toEqual(revokedA)

        // A revoked family no longer rotates.
        const next = makeTokenHash(a.family.userId)
        expect(await store.rotateRefreshFamily(a.family.id, 0, next, NOW + 90, NOW + 2000, 'seal-12')).toBe(
          false,
        )
        expect(await store.findRefreshToken(next)).toBeNull()
        expect(await store.findRefreshFamily(a.family.id)).toEqual(revokedA)
        // The other user's family still does.
        expect(
          await store.rotateRefreshFamily(
            theirs.family.id,
            0,
            makeTokenHash(theirs.family.userId),
            NOW + 90,
            NOW + 2000,
            'seal-13',
          ),
        ).toBe(true)
      })

      it('spares the excepted family, which keeps rotating', async () => {
        const a = await createFamily(user.id, { createdAt: NOW })
        const kept = await createFamily(user.id, { createdAt: NOW + 1 })
        const b = await createFamily(user.id, { createdAt: NOW + 2 })

        const ids = await store.revokeUserRefreshFamilies(user.id, NOW + 30, kept.family.id)
        expect([...ids].sort()).toEqual([a.family.id, b.family.id].sort())
        expect(await store.findRefreshFamily(kept.family.id)).toEqual(kept.family)
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([
          { ...a.family, revokedAt: NOW + 30 },
          kept.family,
          { ...b.family, revokedAt: NOW + 30 },
        ])
        expect(await store.revokeUserRefreshFamilies(user.id, NOW + 40, kept.family.id)).toEqual([])

        const next = makeTokenHash(kept.family.userId)
        expect(
          await store.rotateRefreshFamily(kept.family.id, 0, next, NOW + 50, NOW + 2000, 'seal-14'),
        ).toBe(true)
        expect(await store.findRefreshToken(next)).toMatchObject({ generation: 1 })
        expect(
          await store.rotateRefreshFamily(
            a.family.id,
            0,
            makeTokenHash(a.family.userId),
            NOW + 50,
            NOW + 2000,
            'seal-15',
          ),
        ).toBe(false)

        // Without the exception, the last one goes too.
        expect(await store.revokeUserRefreshFamilies(user.id, NOW + 60, null)).toEqual([kept.family.id])
        expect(await store.findRefreshFamily(kept.family.id)).toMatchObject({
          generation: 1,
          revokedAt: NOW + 60,
        })
      })

      it("revokes them all when the excepted id is unknown or another user's family", async () => {
        const theirs = await createFamily(other.id)
        const a = await createFamily(user.id, { createdAt: NOW })
        const b = await createFamily(user.id, { createdAt: NOW + 1 })
        const ids = await store.revokeUserRefreshFamilies(user.id, NOW + 30, theirs.family.id)
        expect([...ids].sort()).toEqual([a.family.id, b.family.id].sort())
        expect(await store.findRefreshFamily(theirs.family.id)).toEqual(theirs.family)

        const c = await createFamily(user.id, { createdAt: NOW + 2 })
        expect(await store.revokeUserRefreshFamilies(user.id, NOW + 40, generatePublicId())).toEqual([
          c.family.id,
        ])
        expect(await store.findRefreshFamily(c.family.id)).toEqual({ ...c.family, revokedAt: NOW + 40 })
      })

      it('returns [] for a user without families and for an unknown user, changing nothing', async () => {
        const theirs = await createFamily(other.id)
        expect(await store.revokeUserRefreshFamilies(user.id, NOW, null)).toEqual([])
        expect(await store.revokeUserRefreshFamilies(generatePublicId(), NOW, null)).toEqual([])
        expect(await store.findRefreshFamily(theirs.family.id)).toEqual(theirs.family)
      })
    })

    describe("ending a user's devices at once (endUserDevices)", () => {
      let user: UserRecord
      let other: UserRecord
      beforeEach(async () => {
        user = makeUser()
        other = makeUser()
        await store.createUser(user)
        await store.createUser(other)
      })

      async function createSession(userId: string, createdAt = NOW): Promise<SessionRecord> {
        const session = makeSession(userId, { createdAt })
        await store.createSession(session)
        return session
      }
      async function createFamily(
        userId: string,
        overrides: Partial<RefreshFamilyRecord> = {},
      ): Promise<RefreshFamilyRecord> {
        const family = makeFamily(userId, overrides)
        await store.createRefreshFamily(family, makeTokenHash(family.userId))
        return family
      }
      function end(
        overrides: Partial<Parameters<Store['endUserDevices']>[0]> = {},
      ): ReturnType<Store['endUserDevices']> {
        return store.endUserDevices({
          userId: user.id,
          epoch: null,
          exceptSessionId: null,
          exceptFamilyId: null,
          now: NOW + 30,
          ...overrides,
        })
      }

      it('stores the epoch, deletes every session, revokes every unrevoked family at now, and returns them', async () => {
        const sessions = [await createSession(user.id), await createSession(user.id, NOW + 1)]
        const a = await createFamily(user.id, { createdAt: NOW })
        const b = await createFamily(user.id, { createdAt: NOW + 1 })
        const expired = await createFamily(user.id, { createdAt: NOW + 2, expiresAt: NOW - 1 })
        const already = await createFamily(user.id, { createdAt: NOW + 3, revokedAt: NOW - 5 })
        const theirSession = await createSession(other.id)
        const theirFamily = await createFamily(other.id)
        const theirEpoch = { userId: other.id, epoch: NOW - 10, expiresAt: NOW + 500 }
        await store.setUserEpoch(theirEpoch)
        const epoch = { userId: user.id, epoch: NOW + 30, expiresAt: NOW + 930 }

        const ended = await end({ epoch })
        expect(ended.sessionsEnded).toBe(2)
        expect([...ended.familiesRevoked].sort()).toEqual([a.id, b.id, expired.id].sort())

        expect(sortEpochs(await store.listUserEpochs(NOW))).toEqual(sortEpochs([epoch, theirEpoch]))
        for (const session of sessions)
          expect(await store.findSessionByTokenHash(session.tokenHash)).toBeNull()
        expect(await store.listUserSessions(user.id)).toEqual([])
        expect(await store.listUserRefreshFamilies(user.id)).toEqual([
          { ...a, revokedAt: NOW + 30 },
          { ...b, revokedAt: NOW + 30 },
          { ...expired, revokedAt: NOW + 30 },
          already,
        ])
        expect(
          await store.rotateRefreshFamily(a.id, 0, makeTokenHash(a.userId), NOW + 40, NOW + 2000, 'seal-21'),
        ).toBe(false)
        // Nothing of another user is touched.
        expect(await store.listUserSessions(other.id)).toEqual([theirSession])
        expect(await store.findSessionByTokenHash(theirSession.tokenHash)).toEqual(theirSession)
        expect(await store.listUserRefreshFamilies(other.id)).toEqual([theirFamily])
      })

      it('spares the excepted session and family, which keep working', async () => {
        const [gone, kept] = [await createSession(user.id), await createSession(user.id, NOW + 1)]
        const doomed = await createFamily(user.id, { createdAt: NOW })
        const keptFamily = await createFamily(user.id, { createdAt: NOW + 1 })

        const ended = await end({ exceptSessionId: kept.id, exceptFamilyId: keptFamily.id })
        expect(ended).toEqual({ sessionsEnded: 1, familiesRevoked: [doomed.id] })
        expect(await store.findSessionByTokenHash(gone.tokenHash)).toBeNull()
        expect(await store.listUserSessions(user.id)).toEqual([kept])
        expect(await store.touchSession(kept.tokenHash, NOW + 40, NOW + 1840)).toBe(true)
        expect(await store.findRefreshFamily(doomed.id)).toEqual({ ...doomed, revokedAt: NOW + 30 })
        expect(await store.findRefreshFamily(keptFamily.id)).toEqual(keptFamily)
        expect(
          await store.rotateRefreshFamily(
            keptFamily.id,
            0,
            makeTokenHash(keptFamily.userId),
            NOW + 40,
            NOW + 2000,
            'seal-22',
          ),
        ).toBe(true)
        // No epoch was given, so none is stored.
        expect(await store.listUserEpochs(NOW)).toEqual([])
      })

      it("spares nothing for an exception that is unknown or another user's", async () => {
        const theirSession = await createSession(other.id)
        const theirFamily = await createFamily(other.id)
        const mine = await createSession(user.id)
        const family = await createFamily(user.id)
        expect(await end({ exceptSessionId: theirSession.id, exceptFamilyId: theirFamily.id })).toEqual({
          sessionsEnded: 1,
          familiesRevoked: [family.id],
        })
        expect(await store.findSessionByTokenHash(mine.tokenHash)).toBeNull()
        expect(await store.findSessionByTokenHash(theirSession.tokenHash)).toEqual(theirSession)
        expect(await store.findRefreshFamily(theirFamily.id)).toEqual(theirFamily)

        await createSession(user.id)
        const next = await createFamily(user.id)
        expect(
          await end({
            exceptSessionId: generatePublicId(),
            exceptFamilyId: generatePublicId(),
            now: NOW + 40,
          }),
        ).toEqual({ sessionsEnded: 1, familiesRevoked: [next.id] })
      })

      it('keeps a later stored epoch and a later expiry, each on its own, as setUserEpoch does', async () => {
        await store.setUserEpoch({ userId: user.id, epoch: NOW + 100, expiresAt: NOW + 500 })
        await end({ epoch: { userId: user.id, epoch: NOW + 30, expiresAt: NOW + 930 } })
        expect(await store.listUserEpochs(NOW)).toEqual([
          { userId: user.id, epoch: NOW + 100, expiresAt: NOW + 930 },
        ])
      })

      it('is idempotent: a repeat ends nothing more, returns nothing, and changes no revokedAt', async () => {
        await createSession(user.id)
        const family = await createFamily(user.id)
        const epoch = { userId: user.id, epoch: NOW + 30, expiresAt: NOW + 930 }
        expect(await end({ epoch })).toEqual({ sessionsEnded: 1, familiesRevoked: [family.id] })
        expect(await end({ epoch, now: NOW + 60 })).toEqual({ sessionsEnded: 0, familiesRevoked: [] })
        expect(await store.findRefreshFamily(family.id)).toEqual({ ...family, revokedAt: NOW + 30 })
        expect(await store.listUserEpochs(NOW)).toEqual([epoch])
        // A user without devices, or an unknown one, has nothing to end.
        expect(await end({ userId: generatePublicId() })).toEqual({ sessionsEnded: 0, familiesRevoked: [] })
      })
    })

    describe('the device limit in createSession and createRefreshFamily', () => {
      let user: UserRecord
      beforeEach(async () => {
        user = makeUser()
        await store.createUser(user)
      })

      const deny: DeviceLimit = { max: 2, now: NOW + 30, policy: 'deny' }
      const evict: DeviceLimit = { ...deny, policy: 'evict-oldest' }
      /** A new session (even i) or family (odd i) of the user, under `limit`. */
      function create(i: number, limit?: DeviceLimit): Promise<DeviceCreation> {
        return i % 2 === 0
          ? store.createSession(makeSession(user.id), limit)
          : store.createRefreshFamily(makeFamily(user.id), makeTokenHash(user.id), limit)
      }
      async function live(now: number): Promise<number> {
        const sessions = (await store.listUserSessions(user.id)).filter((s) => s.expiresAt > now)
        const families = (await store.listUserRefreshFamilies(user.id)).filter(
          (f) => f.revokedAt === null && f.expiresAt > now,
        )
        return sessions.length + families.length
      }

      it('creates without counting when there is no limit', async () => {
        for (let i = 0; i < 4; i++) expect(await create(i)).toEqual({ evictedFamilies: [] })
        expect(await live(NOW)).toBe(4)
      })

      it('counts only live devices of this user: expired sessions, revoked or expired families do not count', async () => {
        await store.createSession(makeSession(user.id, { expiresAt: NOW + 30 }))
        await store.createRefreshFamily(makeFamily(user.id, { revokedAt: NOW }), makeTokenHash(user.id))
        await store.createRefreshFamily(makeFamily(user.id, { expiresAt: NOW + 30 }), makeTokenHash(user.id))
        const other = makeUser()
        await store.createUser(other)
        await store.createSession(makeSession(other.id))
        await store.createRefreshFamily(makeFamily(other.id), makeTokenHash(other.id))
        expect(await create(0, deny)).toEqual({ evictedFamilies: [] })
        expect(await create(1, deny)).toEqual({ evictedFamilies: [] })
        expect(await create(2, deny)).toBe(DEVICE_LIMIT_REACHED)
        expect(await create(3, deny)).toBe(DEVICE_LIMIT_REACHED)
        expect(await live(NOW + 30)).toBe(2)
      })

      it('holds deny against parallel creates: exactly max get in, the rest create nothing', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create(i, deny)))
        expect(results.filter((result) => result === DEVICE_LIMIT_REACHED)).toHaveLength(6)
        expect(await live(NOW + 30)).toBe(2)
        const stored =
          (await store.listUserSessions(user.id)).length +
          (await store.listUserRefreshFamilies(user.id)).length
        expect(stored).toBe(2)
      })

      it('evicts the oldest (sessions deleted, families revoked at now and returned) to stay at max', async () => {
        const oldSession = makeSession(user.id, { createdAt: NOW - 20 })
        const oldFamily = makeFamily(user.id, { createdAt: NOW - 10 })
        await store.createSession(oldSession)
        await store.createRefreshFamily(oldFamily, makeTokenHash(oldFamily.userId))
        expect(await create(0, evict)).toEqual({ evictedFamilies: [] })
        expect(await store.findSessionByTokenHash(oldSession.tokenHash)).toBeNull()
        expect(await create(1, evict)).toEqual({ evictedFamilies: [oldFamily.id] })
        expect(await store.findRefreshFamily(oldFamily.id)).toEqual({ ...oldFamily, revokedAt: NOW + 30 })
        expect(await live(NOW + 30)).toBe(2)
      })

      it('holds evict-oldest against parallel creates: exactly max live, each eviction reported once', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create(i, evict)))
        expect(results).not.toContain(DEVICE_LIMIT_REACHED)
        expect(await live(NOW + 30)).toBe(2)
        const evicted = results.flatMap((result) =>
          result === DEVICE_LIMIT_REACHED ? [] : result.evictedFamilies,
        )
        const revoked = (await store.listUserRefreshFamilies(user.id)).filter((f) => f.revokedAt !== null)
        expect(evicted.sort()).toEqual(revoked.map((f) => f.id).sort())
      })
    })

    describe('user epochs', () => {
      // Epochs name existing users, as they do in the engine (SQL adapters may enforce it).
      let users: UserRecord[]
      beforeEach(async () => {
        users = [makeUser(), makeUser(), makeUser()]
        for (const user of users) await store.createUser(user)
      })
      function userId(i: number): string {
        return users[i]!.id
      }

      it('lists nothing before any epoch is set', async () => {
        expect(await store.listUserEpochs(NOW)).toEqual([])
      })

      it("round-trips several users' epochs, every field intact", async () => {
        const a: UserEpochRecord = { userId: userId(0), epoch: NOW, expiresAt: NOW + 900 }
        const b: UserEpochRecord = { userId: userId(1), epoch: NOW + 5, expiresAt: NOW + 1800 }
        await store.setUserEpoch(a)
        await store.setUserEpoch(b)
        expect(sortEpochs(await store.listUserEpochs(NOW))).toEqual(sortEpochs([a, b]))
      })

      it('keeps the later epoch and the later expiry, each on its own', async () => {
        const id = userId(0)
        await store.setUserEpoch({ userId: id, epoch: NOW, expiresAt: NOW + 900 })
        // An earlier epoch with a later expiry: the epoch stays, the expiry moves.
        await store.setUserEpoch({ userId: id, epoch: NOW - 100, expiresAt: NOW + 1800 })
        expect(await store.listUserEpochs(NOW)).toEqual([{ userId: id, epoch: NOW, expiresAt: NOW + 1800 }])
        // A later epoch with an earlier expiry: the epoch moves, the expiry stays.
        await store.setUserEpoch({ userId: id, epoch: NOW + 50, expiresAt: NOW + 100 })
        expect(await store.listUserEpochs(NOW)).toEqual([
          { userId: id, epoch: NOW + 50, expiresAt: NOW + 1800 },
        ])
        // Earlier on both counts, or the same again: nothing changes, and there is still one entry.
        await store.setUserEpoch({ userId: id, epoch: NOW - 500, expiresAt: NOW - 500 })
        await store.setUserEpoch({ userId: id, epoch: NOW + 50, expiresAt: NOW + 1800 })
        expect(await store.listUserEpochs(NOW)).toEqual([
          { userId: id, epoch: NOW + 50, expiresAt: NOW + 1800 },
        ])
        expect(await store.listUserEpochs(NOW + 1000)).toEqual([
          { userId: id, epoch: NOW + 50, expiresAt: NOW + 1800 },
        ])
      })

      it("keeps users' epochs apart", async () => {
        await store.setUserEpoch({ userId: userId(0), epoch: NOW, expiresAt: NOW + 900 })
        await store.setUserEpoch({ userId: userId(1), epoch: NOW + 500, expiresAt: NOW + 9000 })
        expect(sortEpochs(await store.listUserEpochs(NOW))).toEqual(
          sortEpochs([
            { userId: userId(0), epoch: NOW, expiresAt: NOW + 900 },
            { userId: userId(1), epoch: NOW + 500, expiresAt: NOW + 9000 },
          ]),
        )
      })

      it('lists only epochs that expire after now', async () => {
        const expired: UserEpochRecord = { userId: userId(0), epoch: NOW - 900, expiresAt: NOW - 1 }
        const atEdge: UserEpochRecord = { userId: userId(1), epoch: NOW - 900, expiresAt: NOW }
        const live: UserEpochRecord = { userId: userId(2), epoch: NOW - 899, expiresAt: NOW + 1 }
        for (const epoch of [expired, atEdge, live]) await store.setUserEpoch(epoch)
        expect(await store.listUserEpochs(NOW)).toEqual([live])
        expect(sortEpochs(await store.listUserEpochs(NOW - 10))).toEqual(sortEpochs([expired, atEdge, live]))
        expect(await store.listUserEpochs(NOW + 1)).toEqual([])
      })

      it('purges expired epochs along with expired access revocations, counting both', async () => {
        const expired: UserEpochRecord = { userId: userId(0), epoch: NOW - 900, expiresAt: NOW - 1 }
        const atEdge: UserEpochRecord = { userId: userId(1), epoch: NOW - 900, expiresAt: NOW }
        const live: UserEpochRecord = { userId: userId(2), epoch: NOW - 899, expiresAt: NOW + 1 }
        for (const epoch of [expired, atEdge, live]) await store.setUserEpoch(epoch)
        const expiredRevocation: AccessRevocationRecord = {
          kind: 'jti',
          value: generatePublicId(),
          expiresAt: NOW - 1,
        }
        const liveRevocation: AccessRevocationRecord = {
          kind: 'sid',
          value: generatePublicId(),
          expiresAt: NOW + 1,
        }
        await store.addAccessRevocation(expiredRevocation)
        await store.addAccessRevocation(liveRevocation)

        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(3)
        expect(await store.listUserEpochs(0)).toEqual([live])
        expect(await store.listAccessRevocations(0)).toEqual([liveRevocation])
        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(0)
      })

      it('counts expired epochs when there are no revocations', async () => {
        await store.setUserEpoch({ userId: userId(0), epoch: NOW - 900, expiresAt: NOW - 1 })
        await store.setUserEpoch({ userId: userId(1), epoch: NOW - 900, expiresAt: NOW + 100 })
        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(1)
        expect(await store.listUserEpochs(0)).toEqual([
          { userId: userId(1), epoch: NOW - 900, expiresAt: NOW + 100 },
        ])
      })

      it('starts afresh once an epoch is purged', async () => {
        const id = userId(0)
        await store.setUserEpoch({ userId: id, epoch: NOW + 100, expiresAt: NOW })
        expect(await store.deleteExpiredAccessRevocations(NOW)).toBe(1)
        await store.setUserEpoch({ userId: id, epoch: NOW - 100, expiresAt: NOW + 50 })
        expect(await store.listUserEpochs(0)).toEqual([{ userId: id, epoch: NOW - 100, expiresAt: NOW + 50 }])
      })

      it('keeps epochs and access revocations apart', async () => {
        const id = userId(0)
        await store.setUserEpoch({ userId: id, epoch: NOW, expiresAt: NOW + 900 })
        expect(await store.listAccessRevocations(0)).toEqual([])
        const revocation: AccessRevocationRecord = { kind: 'sid', value: id, expiresAt: NOW + 1800 }
        await store.addAccessRevocation(revocation)
        expect(await store.listUserEpochs(0)).toEqual([{ userId: id, epoch: NOW, expiresAt: NOW + 900 }])
        expect(await store.listAccessRevocations(0)).toEqual([revocation])
      })

      it('returns copies: mutating a set or listed epoch does not change the stored one', async () => {
        const epoch: UserEpochRecord = { userId: userId(0), epoch: NOW, expiresAt: NOW + 900 }
        const original = { ...epoch }
        await store.setUserEpoch(epoch)
        epoch.epoch = NOW + 5000
        epoch.expiresAt = NOW + 9000
        const [listed] = await store.listUserEpochs(NOW)
        listed!.epoch = NOW + 7000
        expect(await store.listUserEpochs(NOW)).toEqual([original])
      })
    })

    describe('rate limits', () => {
      // Windows are aligned to multiples of their length: `start` opens the window holding NOW.
      const W = 60
      const start = Math.floor(NOW / W) * W

      it('counts from 1, one per hit, within a window', async () => {
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(2)
        expect(await store.hitRateLimit('sign-in:a', W, start)).toBe(3)
        expect(await store.hitRateLimit('sign-in:a', W, start + W - 1)).toBe(4)
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(4)
      })

      it('keeps separate keys and separate window lengths apart', async () => {
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(2)
        expect(await store.hitRateLimit('sign-in:b', W, NOW)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', 3600, NOW)).toBe(1)
        // A key that is a prefix of another, and one that looks like another's slot, are still their own.
        expect(await store.hitRateLimit('sign-in', W, NOW)).toBe(1)
        expect(await store.hitRateLimit(`sign-in:a:${W}`, 1, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(2)
        expect(await store.countRateLimit('sign-in:b', W, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in:a', 3600, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in', W, NOW)).toBe(1)
        expect(await store.countRateLimit(`sign-in:a:${W}`, 1, NOW)).toBe(1)
      })

      it('starts the next window again at 1', async () => {
        expect(await store.hitRateLimit('sign-in:a', W, start)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', W, start + W - 1)).toBe(2)
        expect(await store.countRateLimit('sign-in:a', W, start + W - 1)).toBe(2)
        // The window's end belongs to the next window.
        expect(await store.countRateLimit('sign-in:a', W, start + W)).toBe(0)
        expect(await store.hitRateLimit('sign-in:a', W, start + W)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', W, start + 2 * W - 1)).toBe(2)
        expect(await store.countRateLimit('sign-in:a', W, start + 2 * W - 1)).toBe(2)
        expect(await store.hitRateLimit('sign-in:a', W, start + 5 * W)).toBe(1)
      })

      it('reads the count without incrementing it, 0 when there is none', async () => {
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(0)
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(0)
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(1)
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(2)
        expect(await store.countRateLimit('sign-in:unknown', W, NOW)).toBe(0)
      })

      it("resets only that key's counter in the current window", async () => {
        // The next window is hit first: a hit may purge windows that ended before its `now`, never later ones.
        expect(await store.hitRateLimit('sign-in:a', W, start + W)).toBe(1)
        for (let i = 0; i < 3; i++) await store.hitRateLimit('sign-in:a', W, NOW)
        for (let i = 0; i < 2; i++) await store.hitRateLimit('sign-in:b', W, NOW)
        await store.hitRateLimit('sign-in:a', 3600, NOW)

        await expect(store.resetRateLimit('sign-in:a', W, NOW)).resolves.toBeUndefined()
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(0)
        expect(await store.countRateLimit('sign-in:b', W, NOW)).toBe(2)
        expect(await store.countRateLimit('sign-in:a', 3600, NOW)).toBe(1)
        expect(await store.countRateLimit('sign-in:a', W, start + W)).toBe(1)
        // Counting starts afresh; resetting what is not there is not an error.
        expect(await store.hitRateLimit('sign-in:a', W, NOW)).toBe(1)
        await expect(store.resetRateLimit('sign-in:unknown', W, NOW)).resolves.toBeUndefined()
        expect(await store.countRateLimit('sign-in:unknown', W, NOW)).toBe(0)
      })

      it('gives 20 concurrent hits the counts 1 to 20, each exactly once', async () => {
        const counts = await Promise.all(
          Array.from({ length: 20 }, () => store.hitRateLimit('sign-in:a', W, NOW)),
        )
        expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
        expect(await store.countRateLimit('sign-in:a', W, NOW)).toBe(20)
      })
    })

    describe('federated identities', () => {
      /** Creates `user` with `identity`, failing the test unless it was created. */
      async function signUp(
        user: UserRecord,
        identity = makeIdentity(user.id),
      ): Promise<FederatedIdentityRecord> {
        expect(await store.createUserWithIdentity(user, identity)).toEqual(user)
        return identity
      }
      async function createWithPassword(): Promise<UserRecord> {
        const user = makeUser()
        await store.createUser(user)
        return user
      }
      /** What the store holds of `user` and its identities, to compare before and after a refused call. */
      async function stateOf(user: UserRecord) {
        return {
          byId: await store.findUserById(user.id),
          byEmail: await store.findUserByEmail(user.email),
          identities: await store.listUserIdentities(user.id),
        }
      }

      describe('createUserWithIdentity', () => {
        it('creates the user and its identity together, every field intact', async () => {
          const user = makeSocialUser()
          // A subject is opaque text: separators, braces, case and any length up to the provider's limit.
          const identity = makeIdentity(user.id, {
            subject: `Ab:c}{d|e ü ${'x'.repeat(230)}`,
            email: 'Someone@Example.com',
          })
          await signUp(user, identity)
          expect(await stateOf(user)).toEqual({ byId: user, byEmail: user, identities: [identity] })
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
        })

        it.each([
          ['the same email', 'taken@example.com', 'taken@example.com'],
          ['a look-alike of it (its email key)', 'victim@example.com', '\uff56ictim@example.com'],
        ])('refuses %s with EMAIL_TAKEN and stores nothing', async (_label, existing, attempted) => {
          const owner = makeUser({ email: existing })
          await store.createUser(owner)
          const user = makeSocialUser({ email: attempted })
          const identity = makeIdentity(user.id)
          expect(await store.createUserWithIdentity(user, identity)).toBe(EMAIL_TAKEN)
          expect(await store.findUserById(user.id)).toBeNull()
          expect(await store.findIdentity(identity.provider, identity.subject)).toBeNull()
          expect(await store.listUserIdentities(user.id)).toEqual([])
          expect(await store.findUserByEmail(attempted)).toEqual(owner)
          // The identity was not kept aside either: another user may take it.
          const other = makeSocialUser()
          await signUp(other, { ...identity, userId: other.id })
        })

        it('refuses an identity linked already with IDENTITY_TAKEN and stores nothing, not even the email', async () => {
          const first = makeSocialUser()
          const identity = await signUp(first)
          const second = makeSocialUser()
          const attempt = { ...identity, userId: second.id, email: 'other@example.com', createdAt: NOW + 9 }
          expect(await store.createUserWithIdentity(second, attempt)).toBe(IDENTITY_TAKEN)
          expect(await stateOf(second)).toEqual({ byId: null, byEmail: null, identities: [] })
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
          expect(await stateOf(first)).toEqual({ byId: first, byEmail: first, identities: [identity] })
          // Its email is still free.
          expect(await store.createUser(second)).toEqual(second)
        })

        it('lets exactly one of concurrent sign-ups with one identity win; the others get IDENTITY_TAKEN', async () => {
          const subject = generatePublicId()
          const users = Array.from({ length: 8 }, () => makeSocialUser())
          const results = await Promise.all(
            users.map((user) => store.createUserWithIdentity(user, makeIdentity(user.id, { subject }))),
          )
          const winners = users.filter((_, i) => results[i] !== IDENTITY_TAKEN)
          expect(winners).toHaveLength(1)
          expect(results.filter((result) => result === IDENTITY_TAKEN)).toHaveLength(users.length - 1)
          expect((await store.findIdentity('google', subject))?.userId).toBe(winners[0]!.id)
          for (const user of users) {
            const won = user === winners[0]
            expect(await store.findUserById(user.id)).toEqual(won ? user : null)
            expect(await store.findUserByEmail(user.email)).toEqual(won ? user : null)
          }
        })

        it('lets exactly one of concurrent sign-ups with look-alike emails win; the others get EMAIL_TAKEN', async () => {
          const spellings = ['race@example.com', 'RACE@example.com', '\uff52ace@example.com']
          const users = Array.from({ length: 9 }, (_, i) => makeSocialUser({ email: spellings[i % 3] }))
          const identities = users.map((user) => makeIdentity(user.id))
          const results = await Promise.all(
            users.map((user, i) => store.createUserWithIdentity(user, identities[i]!)),
          )
          expect(results.filter((result) => result === EMAIL_TAKEN)).toHaveLength(users.length - 1)
          const winner = users.findIndex((_, i) => results[i] !== EMAIL_TAKEN)
          expect(await store.findUserByEmail('race@example.com')).toEqual(users[winner])
          for (const [i, identity] of identities.entries()) {
            expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(
              i === winner ? identity : null,
            )
          }
        })
      })

      describe('linkIdentity', () => {
        it('links identities at several providers to an existing user, who may have a password', async () => {
          const user = await createWithPassword()
          const google = makeIdentity(user.id, { email: user.email })
          const github = makeIdentity(user.id, { provider: 'github', subject: '583231', createdAt: NOW + 1 })
          expect(await store.linkIdentity(google)).toBe(true)
          expect(await store.linkIdentity(github)).toBe(true)
          expect(await store.findIdentity('google', google.subject)).toEqual(google)
          expect(await store.findIdentity('github', '583231')).toEqual(github)
          expect(await store.listUserIdentities(user.id)).toEqual([google, github])
          expect(await store.findUserById(user.id)).toEqual(user)
        })

        it('keeps an identity findable, and another user out, when one user links it twice at once', async () => {
          for (let round = 0; round < 10; round++) {
            const user = await createWithPassword()
            const identity = makeIdentity(user.id)
            const results = await Promise.all([store.linkIdentity(identity), store.linkIdentity(identity)])
            expect(results.filter((result) => result === true)).toHaveLength(1)
            expect(results).toContain(IDENTITY_TAKEN)
            expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
            const other = await createWithPassword()
            expect(await store.linkIdentity({ ...identity, userId: other.id })).toBe(IDENTITY_TAKEN)
          }
        })

        it('refuses an identity linked to another user, or to this one, with IDENTITY_TAKEN, changing nothing', async () => {
          const owner = makeSocialUser()
          const identity = await signUp(owner)
          const other = await createWithPassword()
          const again = { ...identity, email: 'new@example.com', createdAt: NOW + 50 }
          expect(await store.linkIdentity({ ...again, userId: other.id })).toBe(IDENTITY_TAKEN)
          // The same identity to its own user is "linked already", ahead of "a provider linked already".
          expect(await store.linkIdentity(again)).toBe(IDENTITY_TAKEN)
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
          expect(await store.listUserIdentities(owner.id)).toEqual([identity])
          expect(await store.listUserIdentities(other.id)).toEqual([])
        })

        it('refuses a second identity at one provider with PROVIDER_LINKED, changing nothing', async () => {
          const user = makeSocialUser()
          const first = await signUp(user)
          const second = makeIdentity(user.id, { createdAt: NOW + 1 })
          expect(await store.linkIdentity(second)).toBe(PROVIDER_LINKED)
          expect(await store.findIdentity(second.provider, second.subject)).toBeNull()
          expect(await store.listUserIdentities(user.id)).toEqual([first])
          // Nothing of it was kept: another user may link it.
          const other = await createWithPassword()
          expect(await store.linkIdentity({ ...second, userId: other.id })).toBe(true)
        })

        it('returns false for an unknown user and stores nothing', async () => {
          const identity = makeIdentity(generatePublicId())
          expect(await store.linkIdentity(identity)).toBe(false)
          expect(await store.findIdentity(identity.provider, identity.subject)).toBeNull()
          expect(await store.listUserIdentities(identity.userId)).toEqual([])
        })

        it('links one identity to exactly one of many users linking it at once', async () => {
          const users = await Promise.all(Array.from({ length: 6 }, () => createWithPassword()))
          const subject = generatePublicId()
          const results = await Promise.all(
            users.map((user) => store.linkIdentity(makeIdentity(user.id, { subject }))),
          )
          expect(results.filter((result) => result === true)).toHaveLength(1)
          expect(results.filter((result) => result === IDENTITY_TAKEN)).toHaveLength(users.length - 1)
          const winner = users[results.indexOf(true)]!
          expect((await store.findIdentity('google', subject))?.userId).toBe(winner.id)
          for (const user of users) {
            expect(await store.listUserIdentities(user.id)).toHaveLength(user === winner ? 1 : 0)
          }
        })

        it('gives a user one identity per provider when several are linked at once', async () => {
          const user = await createWithPassword()
          const attempts = Array.from({ length: 6 }, () => makeIdentity(user.id))
          const results = await Promise.all(attempts.map((identity) => store.linkIdentity(identity)))
          expect(results.filter((result) => result === true)).toHaveLength(1)
          expect(results.filter((result) => result === PROVIDER_LINKED)).toHaveLength(attempts.length - 1)
          expect(await store.listUserIdentities(user.id)).toEqual([attempts[results.indexOf(true)]])
        })

        it('refuses a provider id outside [a-z][a-z0-9_-]* with a TypeError, storing nothing', async () => {
          const user = await createWithPassword()
          for (const provider of ['Google', 'corp:eu', '', '9lives']) {
            await expect(store.linkIdentity(makeIdentity(user.id, { provider }))).rejects.toThrow(TypeError)
          }
          const social = makeSocialUser()
          await expect(
            store.createUserWithIdentity(social, makeIdentity(social.id, { provider: 'corp:eu' })),
          ).rejects.toThrow(TypeError)
          expect(await store.findUserById(social.id)).toBeNull()
          expect(await store.listUserIdentities(user.id)).toEqual([])
        })

        it('refuses an identity that names another user than the one created with it', async () => {
          const user = makeSocialUser()
          await expect(store.createUserWithIdentity(user, makeIdentity(generatePublicId()))).rejects.toThrow(
            TypeError,
          )
          expect(await store.findUserById(user.id)).toBeNull()
        })
      })

      describe('findIdentity and listUserIdentities', () => {
        it('returns null for an unknown identity, and keeps subjects that differ only in case apart', async () => {
          const upper = makeSocialUser()
          const lower = makeSocialUser()
          const identity = await signUp(upper, makeIdentity(upper.id, { subject: 'AbC-123' }))
          expect(await store.findIdentity('google', 'abc-123')).toBeNull()
          expect(await store.findIdentity('github', 'AbC-123')).toBeNull()
          const lowered = await signUp(lower, makeIdentity(lower.id, { subject: 'abc-123' }))
          expect(await store.findIdentity('google', 'AbC-123')).toEqual(identity)
          expect(await store.findIdentity('google', 'abc-123')).toEqual(lowered)
        })

        it('finds nothing under a provider id no identity can have, whatever the subject', async () => {
          const user = makeSocialUser()
          const identity = await signUp(user, makeIdentity(user.id, { provider: 'corp', subject: 'eu:42' }))
          expect(await store.findIdentity('corp:eu', '42')).toBeNull()
          expect(await store.findIdentity('corp', 'eu:42')).toEqual(identity)
        })

        it("lists a user's identities oldest first, then by provider, and only that user's", async () => {
          const user = await createWithPassword()
          const other = makeSocialUser()
          const theirs = await signUp(
            other,
            makeIdentity(other.id, { provider: 'github', createdAt: NOW - 100 }),
          )
          const github = makeIdentity(user.id, { provider: 'github', createdAt: NOW + 10 })
          const google = makeIdentity(user.id, { provider: 'google', createdAt: NOW })
          const corp = makeIdentity(user.id, { provider: 'corp', createdAt: NOW + 10 })
          for (const identity of [github, google, corp]) expect(await store.linkIdentity(identity)).toBe(true)
          expect(await store.listUserIdentities(user.id)).toEqual([google, corp, github])
          expect(await store.listUserIdentities(other.id)).toEqual([theirs])
          expect(await store.listUserIdentities(generatePublicId())).toEqual([])
        })

        it('returns copies: mutating a returned identity does not change the stored one', async () => {
          const user = makeSocialUser()
          const identity = await signUp(user)
          const found = (await store.findIdentity(identity.provider, identity.subject))!
          found.userId = 'changed'
          const [listed] = await store.listUserIdentities(user.id)
          listed!.email = 'changed@example.com'
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
          expect(await store.listUserIdentities(user.id)).toEqual([identity])
        })
      })

      describe('unlinkIdentity', () => {
        it('unlinks an identity of a user with a password; a second unlink reports false', async () => {
          const user = await createWithPassword()
          const identity = makeIdentity(user.id)
          expect(await store.linkIdentity(identity)).toBe(true)
          expect(await store.unlinkIdentity(user.id, 'google')).toBe(true)
          expect(await store.findIdentity(identity.provider, identity.subject)).toBeNull()
          expect(await store.listUserIdentities(user.id)).toEqual([])
          expect(await store.unlinkIdentity(user.id, 'google')).toBe(false)
          // Freed: another user may link it now.
          const other = await createWithPassword()
          expect(await store.linkIdentity({ ...identity, userId: other.id })).toBe(true)
        })

        it("refuses to unlink a password-less user's only identity (LAST_SIGN_IN_METHOD), changing nothing", async () => {
          const user = makeSocialUser()
          const identity = await signUp(user)
          expect(await store.unlinkIdentity(user.id, 'google')).toBe(LAST_SIGN_IN_METHOD)
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
          expect(await stateOf(user)).toEqual({ byId: user, byEmail: user, identities: [identity] })
          // Once the user has a password, the identity may go.
          expect(await store.updatePasswordHash(user.id, 'new-hash')).toBe(true)
          expect(await store.unlinkIdentity(user.id, 'google')).toBe(true)
          expect(await store.listUserIdentities(user.id)).toEqual([])
        })

        it('unlinks one of two identities of a password-less user, then refuses the other', async () => {
          const user = makeSocialUser()
          const google = await signUp(user)
          const github = makeIdentity(user.id, { provider: 'github', createdAt: NOW + 1 })
          expect(await store.linkIdentity(github)).toBe(true)
          expect(await store.unlinkIdentity(user.id, 'google')).toBe(true)
          expect(await store.findIdentity('google', google.subject)).toBeNull()
          expect(await store.unlinkIdentity(user.id, 'github')).toBe(LAST_SIGN_IN_METHOD)
          expect(await store.listUserIdentities(user.id)).toEqual([github])
        })

        it("returns false for a provider the user has not linked, or an unknown user, and spares others' identities", async () => {
          const owner = makeSocialUser()
          const identity = await signUp(owner)
          const other = await createWithPassword()
          expect(await store.unlinkIdentity(other.id, 'google')).toBe(false)
          expect(await store.unlinkIdentity(owner.id, 'github')).toBe(false)
          expect(await store.unlinkIdentity(generatePublicId(), 'google')).toBe(false)
          expect(await store.findIdentity(identity.provider, identity.subject)).toEqual(identity)
          expect(await store.listUserIdentities(owner.id)).toEqual([identity])
        })

        it("lets exactly one of two concurrent unlinks of a password-less user's two identities succeed", async () => {
          for (let round = 0; round < 5; round++) {
            const user = makeSocialUser()
            await signUp(user)
            expect(await store.linkIdentity(makeIdentity(user.id, { provider: 'github' }))).toBe(true)
            const results = await Promise.all([
              store.unlinkIdentity(user.id, 'google'),
              store.unlinkIdentity(user.id, 'github'),
            ])
            expect(results).toContain(true)
            expect(results).toContain(LAST_SIGN_IN_METHOD)
            const [kept] = await store.listUserIdentities(user.id)
            expect(kept?.provider).toBe(results[0] === true ? 'github' : 'google')
          }
        })
      })
    })

    describeFactorContract(
      () => store,
      makeUser,
      (userId) => ({ ...makeIdentity(userId), email: null }),
    )

    describe('single-use claims', () => {
      // Far ahead of the real clock, like NOW: Redis ends a claim by its own clock (at `expiresAt`), so these
      // claims stay stored there for as long as the test runs, and only the `now` passed in decides.
      const key = (): string => hashSecret(generateSecretToken())

      it('claims a key once: a repeat before it ends gets false and changes nothing', async () => {
        const state = key()
        expect(await store.claimOnce(state, NOW + 60, NOW)).toBe(true)
        expect(await store.claimOnce(state, NOW + 600, NOW)).toBe(false)
        expect(await store.claimOnce(state, NOW + 600, NOW + 59)).toBe(false)
        // Still ending at its first expiry, not the refused one's: at NOW + 60 it has ended.
        expect(await store.claimOnce(state, NOW + 120, NOW + 60)).toBe(true)
      })

      it('takes over a claim that has ended (at its expiresAt), once, until the new claim ends', async () => {
        const state = key()
        expect(await store.claimOnce(state, NOW + 60, NOW)).toBe(true)
        expect(await store.claimOnce(state, NOW + 200, NOW + 100)).toBe(true)
        expect(await store.claimOnce(state, NOW + 300, NOW + 100)).toBe(false)
        expect(await store.claimOnce(state, NOW + 300, NOW + 199)).toBe(false)
        expect(await store.claimOnce(state, NOW + 300, NOW + 200)).toBe(true)
      })

      it('keeps keys apart', async () => {
        const [a, b] = [key(), key()]
        expect(await store.claimOnce(a, NOW + 60, NOW)).toBe(true)
        expect(await store.claimOnce(b, NOW + 60, NOW)).toBe(true)
        expect(await store.claimOnce(`${a}x`, NOW + 60, NOW)).toBe(true)
        expect(await store.claimOnce(a, NOW + 60, NOW)).toBe(false)
        expect(await store.claimOnce(b, NOW + 60, NOW)).toBe(false)
      })

      it('gives exactly one of many concurrent claims of a key true, also when taking over an ended one', async () => {
        const state = key()
        const first = await Promise.all(
          Array.from({ length: 20 }, () => store.claimOnce(state, NOW + 60, NOW)),
        )
        expect(first.filter(Boolean)).toHaveLength(1)
        const takeover = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.claimOnce(state, NOW + 200 + i, NOW + 60)),
        )
        expect(takeover.filter(Boolean)).toHaveLength(1)
        // The winner's expiry is the one stored: the claim ends exactly then.
        const winner = NOW + 200 + takeover.indexOf(true)
        expect(await store.claimOnce(state, NOW + 900, winner - 1)).toBe(false)
        expect(await store.claimOnce(state, NOW + 900, winner)).toBe(true)
      })

      it('deletes claims that ended at or before now, and only those; returns how many', async () => {
        const [ended, atEdge, live] = [key(), key(), key()]
        expect(await store.claimOnce(ended, NOW - 1, NOW - 100)).toBe(true)
        expect(await store.claimOnce(atEdge, NOW, NOW - 100)).toBe(true)
        expect(await store.claimOnce(live, NOW + 1, NOW - 100)).toBe(true)
        expect(await store.deleteExpiredClaims(NOW)).toBe(2)
        expect(await store.deleteExpiredClaims(NOW)).toBe(0)
        // The live claim was kept: it still refuses a repeat.
        expect(await store.claimOnce(live, NOW + 60, NOW)).toBe(false)
        expect(await store.deleteExpiredClaims(NOW + 1)).toBe(1)
        expect(await store.claimOnce(live, NOW + 60, NOW)).toBe(true)
      })
    })

    describe('email verification and email changes', () => {
      async function create(...users: UserRecord[]): Promise<void> {
        for (const user of users) expect(await store.createUser(user)).toEqual(user)
      }
      /** What the store holds of `user` by id and by its email, to compare before and after a call. */
      async function lookups(user: UserRecord) {
        return { byId: await store.findUserById(user.id), byEmail: await store.findUserByEmail(user.email) }
      }

      describe('setEmailVerified', () => {
        it("marks the user's email verified, and only for the email the user has", async () => {
          const user = makeUser({ email: 'stra\u00dfe.verify@example.com' })
          const other = makeUser()
          await create(user, other)
          // Another address, and a look-alike of its own (its key, not its email), prove nothing about it.
          for (const email of ['someone.else@example.com', 'strasse.verify@example.com', other.email]) {
            expect(await store.setEmailVerified(user.id, email, NOW + 5), email).toBe(false)
          }
          expect(await lookups(user)).toEqual({ byId: user, byEmail: user })
          expect(await store.setEmailVerified(user.id, user.email, NOW + 5)).toBe(true)
          const verified = { ...user, emailVerifiedAt: NOW + 5 }
          expect(await lookups(verified)).toEqual({ byId: verified, byEmail: verified })
          expect(await lookups(other)).toEqual({ byId: other, byEmail: other })
        })

        it('returns false for an unknown user and creates nothing', async () => {
          const ghost = makeUser()
          expect(await store.setEmailVerified(ghost.id, ghost.email, NOW)).toBe(false)
          expect(await lookups(ghost)).toEqual({ byId: null, byEmail: null })
        })
      })

      describe('changeUserEmail', () => {
        it('moves the user to the new email and its key, verified; the old email and its key find nothing', async () => {
          const user = makeUser({ email: 'stra\u00dfe.old@example.com', roles: ['ops'] })
          await create(user)
          const session = makeSession(user.id)
          await store.createSession(session)
          expect(await store.changeUserEmail(user.id, 'new.name@example.com', NOW + 7)).toBe(true)
          const moved = { ...user, email: 'new.name@example.com', emailVerifiedAt: NOW + 7 }
          expect(await store.findUserById(user.id)).toEqual(moved)
          for (const spelling of [
            'new.name@example.com',
            'NEW.NAME@example.com',
            '\uff4eew.name@example.com',
          ]) {
            expect(await store.findUserByEmail(spelling), spelling).toEqual(moved)
          }
          expect((await store.findSessionWithUser(session.tokenHash))?.user).toEqual(moved)
          for (const spelling of ['stra\u00dfe.old@example.com', 'strasse.old@example.com']) {
            expect(await store.findUserByEmail(spelling), spelling).toBeNull()
          }
          // A verification mailed to the old address proves nothing any more.
          expect(await store.setEmailVerified(user.id, user.email, NOW + 8)).toBe(false)
          // The old key is free for a sign-up; the new one is taken.
          const next = makeUser({ email: 'strasse.old@example.com' })
          expect(await store.createUser(next)).toEqual(next)
          expect(await store.findUserByEmail('stra\u00dfe.old@example.com')).toEqual(next)
          expect(await store.createUser(makeUser({ email: '\uff4eew.name@example.com' }))).toBe(EMAIL_TAKEN)
          expect(await store.findUserById(user.id)).toEqual(moved)
        })

        it('lets a user move to a look-alike of its own email (its own key), or to the same email again', async () => {
          const user = makeUser({ email: 'stra\u00dfe.own@example.com' })
          await create(user)
          expect(await store.changeUserEmail(user.id, 'strasse.own@example.com', NOW + 1)).toBe(true)
          const moved = { ...user, email: 'strasse.own@example.com', emailVerifiedAt: NOW + 1 }
          // Every spelling with its key still leads to it, the old one included, and no one else may take one.
          for (const spelling of [
            'strasse.own@example.com',
            'stra\u00dfe.own@example.com',
            '\uff53trasse.own@example.com',
          ]) {
            expect(await store.findUserByEmail(spelling), spelling).toEqual(moved)
            expect(await store.createUser(makeUser({ email: spelling })), spelling).toBe(EMAIL_TAKEN)
          }
          expect(await store.changeUserEmail(user.id, moved.email, NOW + 2)).toBe(true)
          expect(await store.findUserById(user.id)).toEqual({ ...moved, emailVerifiedAt: NOW + 2 })
        })

        it.each([
          ["another user's email", 'taken@example.com', 'taken@example.com'],
          [
            "a look-alike of another user's email (fullwidth letters)",
            'victim@example.com',
            '\uff56ictim@example.com',
          ],
          [
            "a look-alike of another user's email (ß against ss)",
            'strasse@example.com',
            'stra\u00dfe@example.com',
          ],
        ])('refuses %s with EMAIL_TAKEN, changing nothing', async (_label, existing, attempted) => {
          const owner = makeUser({ email: existing })
          const user = makeUser({ email: 'stra\u00dfe.mover@example.com' })
          await create(owner, user)
          expect(await store.changeUserEmail(user.id, attempted, NOW + 1)).toBe(EMAIL_TAKEN)
          expect(await lookups(user)).toEqual({ byId: user, byEmail: user })
          expect(await lookups(owner)).toEqual({ byId: owner, byEmail: owner })
          expect(await store.findUserByEmail(attempted)).toEqual(owner)
          // The user keeps its own key too: a look-alike of its email still leads to it, and is still taken.
          expect(await store.findUserByEmail('strasse.mover@example.com')).toEqual(user)
          expect(await store.createUser(makeUser({ email: 'strasse.mover@example.com' }))).toBe(EMAIL_TAKEN)
        })

        it('lets exactly one of concurrent changes and sign-ups to one email key win', async () => {
          const spellings = [
            'contested@example.com',
            '\uff43ontested@example.com',
            'contest\uff45d@example.com',
          ]
          const users = Array.from({ length: 6 }, () => makeUser())
          await create(...users)
          const signUps = spellings.map((email) => makeUser({ email }))
          const results = await Promise.all([
            ...users.map((user, i) => store.changeUserEmail(user.id, spellings[i % 3]!, NOW + 1)),
            ...signUps.map((user) => store.createUser(user)),
          ])
          expect(results.filter((result) => result !== EMAIL_TAKEN)).toHaveLength(1)
          const changed = users.findIndex((_, i) => results[i] === true)
          const signedUp = signUps.findIndex((_, i) => results[users.length + i] !== EMAIL_TAKEN)
          const winner =
            changed === -1
              ? signUps[signedUp]!
              : { ...users[changed]!, email: spellings[changed % 3]!, emailVerifiedAt: NOW + 1 }
          expect(await store.findUserByEmail('contested@example.com')).toEqual(winner)
          for (const [i, user] of users.entries()) {
            if (i !== changed) expect(await lookups(user)).toEqual({ byId: user, byEmail: user })
          }
          for (const [i, user] of signUps.entries()) {
            if (i !== signedUp) expect(await store.findUserById(user.id)).toBeNull()
          }
        })

        it('lets exactly one of two users changing to one email at once win, round after round', async () => {
          for (let round = 0; round < 5; round++) {
            const pair = [makeUser(), makeUser()]
            await create(...pair)
            const email = `round-${round}@example.com`
            const results = await Promise.all(pair.map((user) => store.changeUserEmail(user.id, email, NOW)))
            expect(results).toContain(true)
            expect(results).toContain(EMAIL_TAKEN)
            const winner = pair[results.indexOf(true)]!
            const loser = pair[results.indexOf(EMAIL_TAKEN)]!
            expect(await store.findUserByEmail(email)).toEqual({ ...winner, email, emailVerifiedAt: NOW })
            expect(await lookups(loser)).toEqual({ byId: loser, byEmail: loser })
          }
        })

        it('leaves a user changed to two emails at once at one of them, with nothing left of the others', async () => {
          for (let round = 0; round < 3; round++) {
            const user = makeUser({ email: `stra\u00dfe.${round}@example.com` })
            await create(user)
            const emails = [`first.${round}@example.com`, `second.${round}@example.com`]
            const results = await Promise.all(
              emails.map((email) => store.changeUserEmail(user.id, email, NOW)),
            )
            expect(results).toEqual([true, true])
            const stored = (await store.findUserById(user.id))!
            expect(emails).toContain(stored.email)
            expect(await store.findUserByEmail(stored.email)).toEqual(stored)
            const other = emails.find((email) => email !== stored.email)!
            const oldKey = `strasse.${round}@example.com`
            for (const email of [other, user.email, oldKey]) {
              expect(await store.findUserByEmail(email), email).toBeNull()
            }
            // Free, keys included: no entry of the other email or the old one was left behind.
            for (const email of [other, oldKey]) {
              const next = makeUser({ email })
              expect(await store.createUser(next), email).toEqual(next)
            }
          }
        })

        it('never lets two users hold one email when a user changes back to it while another signs up with it', async () => {
          for (let round = 0; round < 5; round++) {
            const user = makeUser({ email: `back.${round}@example.com` })
            await create(user)
            const away = [`away-a.${round}@example.com`, `away-b.${round}@example.com`]
            await Promise.all(away.map((email) => store.changeUserEmail(user.id, email, NOW)))
            const kept = (await store.findUserById(user.id))!.email
            // The email the user left last, and the first one: each contested by a sign-up and the user's return.
            for (const email of [away.find((e) => e !== kept)!, user.email]) {
              const rival = makeUser({ email })
              const [returned, signedUp] = await Promise.all([
                store.changeUserEmail(user.id, email, NOW),
                store.createUser(rival),
              ])
              const holders = [
                ...(returned === true ? [user.id] : []),
                ...(signedUp === EMAIL_TAKEN ? [] : [rival.id]),
              ]
              expect(holders, email).toHaveLength(1)
              expect((await store.findUserByEmail(email))?.id, email).toBe(holders[0])
              if (returned === true) await store.changeUserEmail(user.id, kept, NOW)
              if (signedUp !== EMAIL_TAKEN) await store.deleteUser(rival.id)
            }
          }
        })

        it('returns false for an unknown user, whether or not the email is taken, and stores nothing', async () => {
          const owner = makeUser()
          await create(owner)
          const ghost = generatePublicId()
          expect(await store.changeUserEmail(ghost, 'free@example.com', NOW)).toBe(false)
          expect(await store.changeUserEmail(ghost, owner.email, NOW)).toBe(false)
          expect(await store.findUserById(ghost)).toBeNull()
          expect(await store.findUserByEmail('free@example.com')).toBeNull()
          expect(await lookups(owner)).toEqual({ byId: owner, byEmail: owner })
          const free = makeUser({ email: 'free@example.com' })
          expect(await store.createUser(free)).toEqual(free)
        })
      })
    })

    describe('deleting a user (deleteUser)', () => {
      /** Creates `user` with some of everything a store keeps of a user; returns those records. */
      async function populate(user: UserRecord) {
        expect(await store.createUser(user)).toEqual(user)
        const identities = [makeIdentity(user.id), makeIdentity(user.id, { provider: 'github' })]
        for (const identity of identities) expect(await store.linkIdentity(identity)).toBe(true)
        const tokens = [
          makeOneTimeToken(user.id, { purpose: 'verify-email', email: user.email }),
          makeOneTimeToken(user.id, { purpose: 'reset-password', email: user.email }),
        ]
        for (const token of tokens) await store.putOneTimeToken(token)
        const client = makeClient()
        expect(await store.createClient(client)).toEqual(client)
        const consent = makeConsent(user.id, client.id)
        await store.putConsent(consent)
        const sessions = [makeSession(user.id), makeSession(user.id, { createdAt: NOW + 1, userAgent: null })]
        for (const session of sessions) await store.createSession(session)
        const family = makeFamily(user.id)
        const revoked = makeFamily(user.id, { createdAt: NOW + 1, revokedAt: NOW + 2 })
        const refreshTokens = [makeTokenHash(user.id), makeTokenHash(user.id), makeTokenHash(user.id)]
        await store.createRefreshFamily(family, refreshTokens[0]!)
        await store.createRefreshFamily(revoked, refreshTokens[1]!)
        expect(
          await store.rotateRefreshFamily(family.id, 0, refreshTokens[2]!, NOW + 5, NOW + 3600, 'seal'),
        ).toBe(true)
        const epoch = { userId: user.id, epoch: NOW, expiresAt: NOW + 900 }
        await store.setUserEpoch(epoch)
        const revocation: AccessRevocationRecord = { kind: 'sid', value: family.id, expiresAt: NOW + 900 }
        await store.addAccessRevocation(revocation)
        return {
          user,
          identities,
          tokens,
          client,
          consent,
          sessions,
          families: [family, revoked],
          refreshTokens,
          epoch,
          revocation,
        }
      }
      type Populated = Awaited<ReturnType<typeof populate>>

      /** Every lookup of the users' side that could return something of the user. */
      async function accountOf({ user, identities, tokens, consent }: Populated) {
        return {
          byId: await store.findUserById(user.id),
          byEmail: await store.findUserByEmail(user.email),
          // Another spelling with the same key (upper case folds back, ß to ss): the key entry is gone too.
          byKey: await store.findUserByEmail(user.email.toUpperCase()),
          identities: await store.listUserIdentities(user.id),
          eachIdentity: await Promise.all(identities.map((i) => store.findIdentity(i.provider, i.subject))),
          eachToken: await Promise.all(
            tokens.map((t) => store.findOneTimeToken(t.purpose, t.tokenHash, NOW)),
          ),
          consents: await store.listUserConsents(user.id),
          consent: await store.findConsent(user.id, consent.clientId),
        }
      }
      /** Every lookup of the user's devices. */
      async function devicesOf({ user, sessions, families, refreshTokens }: Populated) {
        const tokenFamilies = await Promise.all(refreshTokens.map((hash) => store.findRefreshToken(hash)))
        return {
          sessions: await store.listUserSessions(user.id),
          eachSession: await Promise.all(sessions.map((s) => store.findSessionByTokenHash(s.tokenHash))),
          families: await store.listUserRefreshFamilies(user.id),
          eachFamily: await Promise.all(families.map((f) => store.findRefreshFamily(f.id))),
          eachRefreshToken: tokenFamilies.map((found) => found?.family.id ?? null),
        }
      }

      it('deletes the user with its identities, one-time tokens, consents, sessions and families, and nothing of others', async () => {
        const mine = await populate(makeUser({ email: 'stra\u00dfe.gone@example.com' }))
        const theirs = await populate(makeUser())
        const devicesBefore = await devicesOf(mine)
        const theirsBefore = { account: await accountOf(theirs), devices: await devicesOf(theirs) }
        expect(await store.deleteUser(mine.user.id)).toBe(true)

        expect(await accountOf(mine)).toEqual({
          byId: null,
          byEmail: null,
          byKey: null,
          identities: [],
          eachIdentity: [null, null],
          eachToken: [null, null],
          consents: [],
          consent: null,
        })
        // The client it consented to is not the user's: it stays, with no consent.
        expect(await store.findClient(mine.client.id)).toEqual(mine.client)
        for (const token of mine.tokens) {
          expect(await store.takeOneTimeToken(token.purpose, token.tokenHash, NOW)).toBeNull()
        }
        const withUser = await Promise.all(mine.sessions.map((s) => store.findSessionWithUser(s.tokenHash)))
        if (opened.devicesApart) {
          // Left to the engine, which ends them first; a session left over finds its user gone.
          expect(await devicesOf(mine)).toEqual(devicesBefore)
          expect(withUser).toEqual(mine.sessions.map((session) => ({ session, user: null })))
        } else {
          expect(await devicesOf(mine)).toEqual({
            sessions: [],
            eachSession: [null, null],
            families: [],
            eachFamily: [null, null],
            eachRefreshToken: [null, null, null],
          })
          expect(withUser).toEqual([null, null])
        }
        // Its epoch and its access-token revocations stay: until they expire, they refuse tokens issued before.
        expect(await store.listUserEpochs(NOW)).toContainEqual(mine.epoch)
        expect(await store.listAccessRevocations(NOW)).toContainEqual(mine.revocation)
        expect({ account: await accountOf(theirs), devices: await devicesOf(theirs) }).toEqual(theirsBefore)
      })

      it('frees what the user held: its email, its key and its identities may be taken anew', async () => {
        const mine = await populate(makeUser({ email: 'stra\u00dfe.reuse@example.com' }))
        expect(await store.deleteUser(mine.user.id)).toBe(true)
        const next = makeUser({ email: 'strasse.reuse@example.com' })
        expect(await store.createUser(next)).toEqual(next)
        expect(await store.findUserByEmail(mine.user.email)).toEqual(next)
        for (const identity of mine.identities) {
          expect(await store.linkIdentity({ ...identity, userId: next.id })).toBe(true)
        }
        // The deleted user's tokens did not pass to anyone: the new user has only what it gets itself.
        for (const token of mine.tokens) {
          expect(await store.findOneTimeToken(token.purpose, token.tokenHash, NOW)).toBeNull()
        }
        expect(await store.deleteExpiredOneTimeTokens(NOW + 7200)).toBe(0)
      })

      it('leaves nothing of a user whose email changes while it is deleted', async () => {
        for (let round = 0; round < 3; round++) {
          const user = makeUser({ email: `stra\u00dfe.${round}@example.com` })
          await store.createUser(user)
          const moved = `moved.${round}@example.com`
          const [changed, deleted] = await Promise.all([
            store.changeUserEmail(user.id, moved, NOW),
            store.deleteUser(user.id),
          ])
          expect(deleted).toBe(true)
          // Changed before the delete, or found gone.
          expect([true, false]).toContain(changed)
          expect(await store.findUserById(user.id)).toBeNull()
          const oldKey = `strasse.${round}@example.com`
          for (const email of [user.email, oldKey, moved]) {
            expect(await store.findUserByEmail(email), email).toBeNull()
          }
          // Free, keys included: no entry of either email was left behind.
          for (const email of [oldKey, moved]) {
            const next = makeUser({ email })
            expect(await store.createUser(next), email).toEqual(next)
          }
        }
      })

      it('returns false for an unknown user, and for one deleted already, changing nothing', async () => {
        const theirs = await populate(makeUser())
        const before = { account: await accountOf(theirs), devices: await devicesOf(theirs) }
        expect(await store.deleteUser(generatePublicId())).toBe(false)
        const user = makeUser()
        await store.createUser(user)
        expect(await store.deleteUser(user.id)).toBe(true)
        expect(await store.deleteUser(user.id)).toBe(false)
        expect(await store.findUserById(user.id)).toBeNull()
        expect({ account: await accountOf(theirs), devices: await devicesOf(theirs) }).toEqual(before)
      })
    })

    describe('one-time tokens', () => {
      let user: UserRecord
      let other: UserRecord
      beforeEach(async () => {
        user = makeUser()
        other = makeUser()
        await store.createUser(user)
        await store.createUser(other)
      })

      it('stores a token and finds it by purpose and hash, every field intact, until it is taken once', async () => {
        const token = makeOneTimeToken(user.id, {
          purpose: 'change-email',
          email: 'n\u00e9w.address@example.com',
        })
        await store.putOneTimeToken(token)
        expect(await store.findOneTimeToken('change-email', token.tokenHash, NOW)).toEqual(token)
        expect(await store.findOneTimeToken('change-email', token.tokenHash, NOW)).toEqual(token)
        expect(await store.takeOneTimeToken('change-email', token.tokenHash, NOW)).toEqual(token)
        expect(await store.takeOneTimeToken('change-email', token.tokenHash, NOW)).toBeNull()
        expect(await store.findOneTimeToken('change-email', token.tokenHash, NOW)).toBeNull()
        // Deleted, not merely hidden: nothing is left for the purge either.
        expect(await store.deleteExpiredOneTimeTokens(token.expiresAt)).toBe(0)
      })

      it('returns null for an unknown hash', async () => {
        expect(await store.findOneTimeToken('verify-email', makeTokenHash(), NOW)).toBeNull()
        expect(await store.takeOneTimeToken('verify-email', makeTokenHash(), NOW)).toBeNull()
      })

      it('neither finds nor takes a token under another purpose, and leaves it as it was', async () => {
        const token = makeOneTimeToken(user.id, { purpose: 'verify-email' })
        await store.putOneTimeToken(token)
        for (const purpose of ['reset-password', 'change-email'] as const) {
          expect(await store.findOneTimeToken(purpose, token.tokenHash, NOW), purpose).toBeNull()
          expect(await store.takeOneTimeToken(purpose, token.tokenHash, NOW), purpose).toBeNull()
        }
        expect(await store.takeOneTimeToken('verify-email', token.tokenHash, NOW)).toEqual(token)
      })

      it('treats a token as expired from its expiresAt: null to find and take, and left for the purge', async () => {
        const token = makeOneTimeToken(user.id, { expiresAt: NOW + 60 })
        const live = makeOneTimeToken(other.id, { expiresAt: NOW + 61 })
        for (const t of [token, live]) await store.putOneTimeToken(t)
        expect(await store.findOneTimeToken('verify-email', token.tokenHash, NOW + 59)).toEqual(token)
        expect(await store.findOneTimeToken('verify-email', token.tokenHash, NOW + 60)).toBeNull()
        expect(await store.takeOneTimeToken('verify-email', token.tokenHash, NOW + 60)).toBeNull()
        expect(await store.takeOneTimeToken('verify-email', token.tokenHash, NOW + 600)).toBeNull()
        // The refused takes deleted nothing: the token is still there at an earlier `now`, and for the purge.
        expect(await store.findOneTimeToken('verify-email', token.tokenHash, NOW + 59)).toEqual(token)
        expect(await store.deleteExpiredOneTimeTokens(NOW + 59)).toBe(0)
        expect(await store.deleteExpiredOneTimeTokens(NOW + 60)).toBe(1)
        expect(await store.deleteExpiredOneTimeTokens(NOW + 60)).toBe(0)
        expect(await store.findOneTimeToken('verify-email', token.tokenHash, NOW)).toBeNull()
        expect(await store.findOneTimeToken('verify-email', live.tokenHash, NOW + 60)).toEqual(live)
        expect(await store.deleteExpiredOneTimeTokens(NOW + 61)).toBe(1)
        expect(await store.findOneTimeToken('verify-email', live.tokenHash, NOW)).toBeNull()
      })

      it("keeps only a user's newest token of a purpose; its other purposes and others' tokens stay", async () => {
        const first = makeOneTimeToken(user.id, { purpose: 'verify-email' })
        const reset = makeOneTimeToken(user.id, { purpose: 'reset-password' })
        const theirs = makeOneTimeToken(other.id, { purpose: 'verify-email' })
        const newest = makeOneTimeToken(user.id, { purpose: 'verify-email', createdAt: NOW + 1 })
        for (const token of [first, reset, theirs, newest]) await store.putOneTimeToken(token)
        expect(await store.findOneTimeToken('verify-email', first.tokenHash, NOW)).toBeNull()
        expect(await store.takeOneTimeToken('verify-email', first.tokenHash, NOW)).toBeNull()
        expect(await store.findOneTimeToken('verify-email', newest.tokenHash, NOW)).toEqual(newest)
        expect(await store.findOneTimeToken('reset-password', reset.tokenHash, NOW)).toEqual(reset)
        expect(await store.findOneTimeToken('verify-email', theirs.tokenHash, NOW)).toEqual(theirs)
        // The replaced token was deleted, not merely hidden: the purge finds exactly the other three.
        expect(await store.deleteExpiredOneTimeTokens(NOW + 7200)).toBe(3)
      })

      it('lets a user get a new token of a purpose once the last was taken', async () => {
        const first = makeOneTimeToken(user.id, { purpose: 'reset-password' })
        await store.putOneTimeToken(first)
        expect(await store.takeOneTimeToken('reset-password', first.tokenHash, NOW)).toEqual(first)
        const second = makeOneTimeToken(user.id, { purpose: 'reset-password', createdAt: NOW + 1 })
        await store.putOneTimeToken(second)
        expect(await store.takeOneTimeToken('reset-password', first.tokenHash, NOW)).toBeNull()
        expect(await store.takeOneTimeToken('reset-password', second.tokenHash, NOW)).toEqual(second)
      })

      it('gives exactly one of many concurrent takes of a token the token, round after round', async () => {
        // Several rounds: a pooled store opens its connections during the first, and races on all of them after.
        for (let round = 0; round < 5; round++) {
          const token = makeOneTimeToken(user.id, { purpose: 'reset-password', createdAt: NOW + round })
          await store.putOneTimeToken(token)
          const results = await Promise.all(
            Array.from({ length: 10 }, () => store.takeOneTimeToken('reset-password', token.tokenHash, NOW)),
          )
          expect(results.filter((result) => result !== null)).toEqual([token])
          expect(await store.findOneTimeToken('reset-password', token.tokenHash, NOW)).toBeNull()
        }
      })

      it("leaves exactly one working token of a purpose when a user's puts run at once", async () => {
        const tokens = Array.from({ length: 6 }, (_, i) => makeOneTimeToken(user.id, { createdAt: NOW + i }))
        await Promise.all(tokens.map((token) => store.putOneTimeToken(token)))
        const found = await Promise.all(
          tokens.map((token) => store.findOneTimeToken(token.purpose, token.tokenHash, NOW)),
        )
        expect(found.filter((token) => token !== null)).toHaveLength(1)
        expect(await store.deleteExpiredOneTimeTokens(NOW + 7200)).toBe(1)
      })

      it('returns copies: mutating a put or returned token does not change the stored one', async () => {
        const token = makeOneTimeToken(user.id)
        const put = { ...token }
        await store.putOneTimeToken(put)
        put.email = 'changed@example.com'
        const found = (await store.findOneTimeToken(token.purpose, token.tokenHash, NOW))!
        found.userId = 'changed'
        expect(await store.takeOneTimeToken(token.purpose, token.tokenHash, NOW)).toEqual(token)
      })
    })

    describe('OAuth clients', () => {
      it('registers a client and finds it by id, every field intact', async () => {
        const client = makeClient()
        expect(await store.createClient(client)).toEqual(client)
        expect(await store.findClient(client.id)).toEqual(client)
        expect(await store.listClients()).toEqual([client])
      })

      it('keeps a public first-party client with no secret and empty lists as it is', async () => {
        const client = makeClient({
          type: 'public',
          firstParty: true,
          secretHash: null,
          postLogoutRedirectUris: [],
          origins: [],
          scopes: [],
        })
        expect(await store.createClient(client)).toEqual(client)
        expect(await store.findClient(client.id)).toEqual(client)
      })

      it('returns null for an unknown client, and lists nothing before any is registered', async () => {
        expect(await store.listClients()).toEqual([])
        await store.createClient(makeClient())
        expect(await store.findClient('unknown')).toBeNull()
      })

      it('lists every client ordered by id, code unit by code unit (not by locale)', async () => {
        const ids = ['b-app', 'a_app', 'Z~app', '0.app', 'A.app', 'a']
        for (const id of ids) await store.createClient(makeClient({ id, createdAt: NOW - ids.indexOf(id) }))
        expect((await store.listClients()).map((client) => client.id)).toEqual([
          '0.app',
          'A.app',
          'Z~app',
          'a',
          'a_app',
          'b-app',
        ])
      })

      it('refuses a second client with a taken id and changes nothing, its consents included', async () => {
        const user = makeUser()
        await store.createUser(user)
        const first = makeClient({ id: 'app' })
        await store.createClient(first)
        const consent = makeConsent(user.id, 'app')
        await store.putConsent(consent)
        const second = makeClient({ id: 'app', name: 'Impostor', redirectUris: ['https://evil.example/cb'] })
        expect(await store.createClient(second)).toBe(CLIENT_TAKEN)
        expect(await store.findClient('app')).toEqual(first)
        expect(await store.listClients()).toEqual([first])
        expect(await store.findConsent(user.id, 'app')).toEqual(consent)
      })

      it('lets exactly one of many concurrent registrations of one id win', async () => {
        const attempts = Array.from({ length: 10 }, (_, i) => makeClient({ id: 'raced', name: `App ${i}` }))
        const results = await Promise.all(attempts.map((client) => store.createClient(client)))
        const winners = results.filter((result) => result !== CLIENT_TAKEN)
        expect(winners).toHaveLength(1)
        expect(await store.findClient('raced')).toEqual(winners[0])
        expect(await store.listClients()).toEqual(winners)
      })

      it('deletes a client with every consent given to it, and nothing of other clients', async () => {
        const [alice, bob] = [makeUser(), makeUser()]
        for (const user of [alice, bob]) await store.createUser(user)
        const [doomed, kept] = [makeClient({ id: 'doomed' }), makeClient({ id: 'kept' })]
        for (const client of [doomed, kept]) await store.createClient(client)
        for (const user of [alice, bob]) {
          for (const client of [doomed, kept]) await store.putConsent(makeConsent(user.id, client.id))
        }

        expect(await store.deleteClient('doomed')).toBe(true)
        expect(await store.findClient('doomed')).toBeNull()
        expect(await store.listClients()).toEqual([kept])
        for (const user of [alice, bob]) {
          expect(await store.findConsent(user.id, 'doomed')).toBeNull()
          expect(await store.listUserConsents(user.id)).toEqual([makeConsent(user.id, 'kept')])
        }
        expect(await store.deleteClient('doomed')).toBe(false)
        expect(await store.deleteClient('unknown')).toBe(false)
        expect(await store.listClients()).toEqual([kept])
      })

      it('gives a client registered again under a deleted id none of the consents given to the old one', async () => {
        const user = makeUser()
        await store.createUser(user)
        await store.createClient(makeClient({ id: 'reused' }))
        await store.putConsent(makeConsent(user.id, 'reused'))
        expect(await store.deleteClient('reused')).toBe(true)
        const again = makeClient({ id: 'reused', name: 'Someone else' })
        expect(await store.createClient(again)).toEqual(again)
        expect(await store.findConsent(user.id, 'reused')).toBeNull()
        expect(await store.listUserConsents(user.id)).toEqual([])
      })

      it('returns copies: mutating a created or returned client does not change the stored one', async () => {
        const client = makeClient()
        const original = structuredClone(client)
        const created = (await store.createClient(client)) as OAuthClientRecord
        ;(client.redirectUris as string[]).push('https://evil.example/cb')
        ;(created.scopes as string[]).push('admin')
        const found = (await store.findClient(client.id))!
        ;(found.origins as string[]).push('https://evil.example')
        const [listed] = await store.listClients()
        ;(listed!.postLogoutRedirectUris as string[]).length = 0
        expect(await store.findClient(client.id)).toEqual(original)
      })
    })

    describe('consents', () => {
      let user: UserRecord
      let other: UserRecord
      beforeEach(async () => {
        user = makeUser()
        other = makeUser()
        for (const owner of [user, other]) await store.createUser(owner)
        for (const id of ['app', 'b-app', 'A.app', 'a_app']) await store.createClient(makeClient({ id }))
      })

      it('records a consent and finds it; null for a pair with none', async () => {
        const consent = makeConsent(user.id, 'app', { scopes: ['openid', 'email', 'offline_access'] })
        await store.putConsent(consent)
        expect(await store.findConsent(user.id, 'app')).toEqual(consent)
        expect(await store.findConsent(user.id, 'b-app')).toBeNull()
        expect(await store.findConsent(other.id, 'app')).toBeNull()
        expect(await store.findConsent(generatePublicId(), 'app')).toBeNull()
      })

      it('replaces the scopes and grant time of an earlier consent to the same client', async () => {
        await store.putConsent(makeConsent(user.id, 'app', { scopes: ['openid', 'profile', 'email'] }))
        const narrower = makeConsent(user.id, 'app', { scopes: ['openid'], grantedAt: NOW + 60 })
        await store.putConsent(narrower)
        expect(await store.findConsent(user.id, 'app')).toEqual(narrower)
        expect(await store.listUserConsents(user.id)).toEqual([narrower])
        const none = makeConsent(user.id, 'app', { scopes: [], grantedAt: NOW + 120 })
        await store.putConsent(none)
        expect(await store.findConsent(user.id, 'app')).toEqual(none)
      })

      it("lists a user's consents ordered by client id (code units), and only that user's", async () => {
        for (const clientId of ['b-app', 'app', 'a_app', 'A.app']) {
          await store.putConsent(makeConsent(user.id, clientId, { grantedAt: NOW + clientId.length }))
        }
        await store.putConsent(makeConsent(other.id, 'app'))
        expect((await store.listUserConsents(user.id)).map((consent) => consent.clientId)).toEqual([
          'A.app',
          'a_app',
          'app',
          'b-app',
        ])
        expect(await store.listUserConsents(other.id)).toEqual([makeConsent(other.id, 'app')])
        expect(await store.listUserConsents(generatePublicId())).toEqual([])
      })

      it('withdraws a consent, and only that one; false when there is none', async () => {
        for (const clientId of ['app', 'b-app']) await store.putConsent(makeConsent(user.id, clientId))
        await store.putConsent(makeConsent(other.id, 'app'))
        expect(await store.deleteConsent(user.id, 'app')).toBe(true)
        expect(await store.findConsent(user.id, 'app')).toBeNull()
        expect(await store.deleteConsent(user.id, 'app')).toBe(false)
        expect(await store.deleteConsent(user.id, 'unknown')).toBe(false)
        expect(await store.deleteConsent(generatePublicId(), 'b-app')).toBe(false)
        expect(await store.listUserConsents(user.id)).toEqual([makeConsent(user.id, 'b-app')])
        expect(await store.listUserConsents(other.id)).toEqual([makeConsent(other.id, 'app')])
        // Withdrawn, it can be given again.
        await store.putConsent(makeConsent(user.id, 'app'))
        expect(await store.findConsent(user.id, 'app')).toEqual(makeConsent(user.id, 'app'))
      })

      it("deletes a user's consents with the user and leaves other users' consents to the same clients", async () => {
        for (const owner of [user, other]) {
          for (const clientId of ['app', 'b-app']) await store.putConsent(makeConsent(owner.id, clientId))
        }
        expect(await store.deleteUser(user.id)).toBe(true)
        expect(await store.listUserConsents(user.id)).toEqual([])
        expect(await store.findConsent(user.id, 'app')).toBeNull()
        expect(await store.deleteConsent(user.id, 'b-app')).toBe(false)
        expect(await store.listUserConsents(other.id)).toEqual([
          makeConsent(other.id, 'app'),
          makeConsent(other.id, 'b-app'),
        ])
        // The clients stay, and deleting one now finds only the other user's consent to remove.
        expect(await store.deleteClient('app')).toBe(true)
        expect(await store.listUserConsents(other.id)).toEqual([makeConsent(other.id, 'b-app')])
      })

      it('stores no consent of an unknown user or to an unknown client', async () => {
        const ghost = generatePublicId()
        await store.putConsent(makeConsent(ghost, 'app'))
        await store.putConsent(makeConsent(user.id, 'unregistered'))
        expect(await store.findConsent(ghost, 'app')).toBeNull()
        expect(await store.listUserConsents(ghost)).toEqual([])
        expect(await store.findConsent(user.id, 'unregistered')).toBeNull()
        // Registered later, the client does not find one waiting.
        await store.createClient(makeClient({ id: 'unregistered' }))
        expect(await store.listUserConsents(user.id)).toEqual([])
      })

      it('returns copies: mutating a given or returned consent does not change the stored one', async () => {
        const consent = makeConsent(user.id, 'app')
        await store.putConsent(consent)
        ;(consent.scopes as string[]).push('admin')
        const found = (await store.findConsent(user.id, 'app'))!
        ;(found.scopes as string[]).push('admin')
        const [listed] = await store.listUserConsents(user.id)
        ;(listed!.scopes as string[]).push('admin')
        expect(await store.findConsent(user.id, 'app')).toEqual(makeConsent(user.id, 'app'))
      })
    })

    describe('change feed', () => {
      // Network feeds (Redis, PostgreSQL) deliver asynchronously: wait for delivery, never sleep.
      const DELIVERY = { timeout: 5_000, interval: 10 }

      interface Subscriber {
        events: ChangeEvent[]
        resyncs: number
        unsubscribe: () => Promise<void>
      }
      let subscribed: Subscriber[]
      beforeEach(() => {
        subscribed = []
      })
      afterEach(async () => {
        for (const subscriber of subscribed.splice(0)) await subscriber.unsubscribe()
      })

      async function subscribe(): Promise<Subscriber> {
        const subscriber: Subscriber = { events: [], resyncs: 0, unsubscribe: async () => {} }
        const unsubscribe = await store.changes.subscribe(
          (event) => subscriber.events.push(event),
          () => subscriber.resyncs++,
        )
        subscriber.unsubscribe = async () => {
          const index = subscribed.indexOf(subscriber)
          if (index !== -1) subscribed.splice(index, 1)
          await unsubscribe()
        }
        subscribed.push(subscriber)
        return subscriber
      }

      function accessRevoked(): Extract<ChangeEvent, { type: 'access-revoked' }> {
        return {
          type: 'access-revoked',
          revocation: { kind: 'sid', value: generatePublicId(), expiresAt: NOW + 900 },
        }
      }
      function userEpoch(): Extract<ChangeEvent, { type: 'user-epoch' }> {
        return { type: 'user-epoch', epoch: { userId: generatePublicId(), epoch: NOW, expiresAt: NOW + 900 } }
      }
      const keysChanged: ChangeEvent = { type: 'keys-changed' }

      it('publishes without subscribers', async () => {
        await expect(store.changes.publish(accessRevoked())).resolves.toBeUndefined()
      })

      it('calls onResync at least once after subscribing', async () => {
        const subscriber = await subscribe()
        await vi.waitFor(() => expect(subscriber.resyncs).toBeGreaterThanOrEqual(1), DELIVERY)
        expect(subscriber.events).toEqual([])
      })

      it('delivers an event published on the same store to every subscriber, each as its own deep-equal copy', async () => {
        const first = await subscribe()
        const second = await subscribe()
        const event = accessRevoked()
        const sent = structuredClone(event)
        await store.changes.publish(event)
        // What was published is fixed at publish time.
        event.revocation.expiresAt = 0
        await vi.waitFor(() => {
          expect(first.events).toHaveLength(1)
          expect(second.events).toHaveLength(1)
        }, DELIVERY)
        expect(first.events[0]).toEqual(sent)
        expect(first.events[0]).not.toBe(event)
        expect(first.events[0]).not.toBe(second.events[0])
        const received = first.events[0] as typeof event
        received.revocation.value = 'changed'
        received.revocation.expiresAt = 1
        expect(second.events).toEqual([sent])
      })

      it('round-trips every ChangeEvent variant with every field intact', async () => {
        const subscriber = await subscribe()
        const events: ChangeEvent[] = [accessRevoked(), userEpoch(), keysChanged]
        for (const event of events) await store.changes.publish(event)
        await vi.waitFor(() => expect(subscriber.events).toHaveLength(events.length), DELIVERY)
        expect(sortEvents(subscriber.events)).toEqual(sortEvents(events))
        // Both revocation kinds survive the trip.
        const jti: ChangeEvent = {
          type: 'access-revoked',
          revocation: { kind: 'jti', value: generatePublicId(), expiresAt: NOW + 1 },
        }
        await store.changes.publish(jti)
        await vi.waitFor(() => expect(subscriber.events).toContainEqual(jti), DELIVERY)
        expect(subscriber.events).toHaveLength(events.length + 1)
      })

      it('stops delivering to a subscriber once it unsubscribes, and keeps delivering to the others', async () => {
        const leaving = await subscribe()
        const staying = await subscribe()
        await store.changes.publish(keysChanged)
        await vi.waitFor(() => {
          expect(leaving.events).toEqual([keysChanged])
          expect(staying.events).toEqual([keysChanged])
        }, DELIVERY)

        await leaving.unsubscribe()
        const later: ChangeEvent[] = [accessRevoked(), userEpoch()]
        for (const event of later) await store.changes.publish(event)
        // Once the remaining subscriber has both, the one that left would have had them too.
        await vi.waitFor(() => expect(staying.events).toHaveLength(3), DELIVERY)
        expect(sortEvents(staying.events)).toEqual(sortEvents([keysChanged, ...later]))
        expect(leaving.events).toEqual([keysChanged])
      })
    })

    describe('sessions-changed notices (what session caches follow)', () => {
      type Notice = Extract<ChangeEvent, { type: 'sessions-changed' }>
      const DELIVERY = { timeout: 5_000, interval: 10 }

      const numberedFeeds = (): readonly SessionChangeFeed[] => store.sessionFeeds ?? []

      /**
       * Runs `action` with every feed subscribed; the notices it caused, once each feed has delivered every
       * number its store counted. Checks on the way that each feed's numbers run on from its count before the
       * action, one by one, with none skipped or repeated, up to its count after.
       */
      async function noticesDuring(action: () => Promise<unknown>): Promise<Notice[]> {
        const feeds = numberedFeeds()
        const heard = feeds.map(() => [] as Notice[])
        const stops = await Promise.all(
          feeds.map((feed, i) =>
            feed.subscribe(
              (event) => {
                if (event.type === 'sessions-changed') heard[i]!.push(event)
              },
              () => {},
            ),
          ),
        )
        try {
          const before = await Promise.all(feeds.map((feed) => feed.lastSessionChange()))
          await action()
          const after = await Promise.all(feeds.map((feed) => feed.lastSessionChange()))
          const notices: Notice[] = []
          for (const [i, notices_] of heard.entries()) {
            await vi.waitFor(
              () => expect(notices_.filter((n) => n.seq > before[i]!).length).toBe(after[i]! - before[i]!),
              DELIVERY,
            )
            const numbers = notices_.filter((n) => n.seq > before[i]!).map((n) => n.seq)
            expect(numbers).toEqual(
              Array.from({ length: after[i]! - before[i]! }, (_, k) => before[i]! + 1 + k),
            )
            notices.push(...notices_.filter((n) => n.seq > before[i]!))
          }
          return notices
        } finally {
          for (const stop of stops) await stop()
        }
      }

      const usersIn = (notices: Notice[]) => [...new Set(notices.map((n) => n.userId))].sort()

      async function userWithSessions(
        count: number,
      ): Promise<{ user: UserRecord; sessions: SessionRecord[] }> {
        const user = makeUser()
        await store.createUser(user)
        const sessions: SessionRecord[] = []
        for (let i = 0; i < count; i++) {
          const session = makeSession(user.id, { createdAt: NOW + i })
          await store.createSession(session)
          sessions.push(session)
        }
        return { user, sessions }
      }

      it('are offered exactly by the stores that write them', () => {
        expect(Boolean(store.sessionFeeds)).toBe(opened.sessionNotices === true)
        if (store.sessionFeeds) expect(store.sessionFeeds.length).toBeGreaterThan(0)
      })

      it("announce the end of a session, by token hash, by id, all but one, all with the user's tokens", async (context) => {
        // Memory and SQLite write no notices: nothing to check there (the first case checks they offer none).
        if (!opened.sessionNotices) return context.skip()
        const { user, sessions } = await userWithSessions(4)
        const other = await userWithSessions(1)
        expect(
          usersIn(await noticesDuring(() => store.deleteSessionByTokenHash(sessions[0]!.tokenHash))),
        ).toEqual([user.id])
        expect(usersIn(await noticesDuring(() => store.deleteUserSession(user.id, sessions[1]!.id)))).toEqual(
          [user.id],
        )
        expect(
          usersIn(await noticesDuring(() => store.deleteUserSessions(user.id, sessions[3]!.id))),
        ).toEqual([user.id])
        const ended = await noticesDuring(() =>
          store.endUserDevices({
            userId: other.user.id,
            epoch: { userId: other.user.id, epoch: NOW, expiresAt: NOW + 900 },
            exceptSessionId: null,
            exceptFamilyId: null,
            now: NOW,
          }),
        )
        expect(usersIn(ended)).toEqual([other.user.id])
      })

      it('announce a session the device limit evicts, and nothing for a session created with room', async (context) => {
        if (!opened.sessionNotices) return context.skip()
        const { user } = await userWithSessions(1)
        const limit: DeviceLimit = { max: 2, now: NOW, policy: 'evict-oldest' }
        expect(
          await noticesDuring(() => store.createSession(makeSession(user.id, { createdAt: NOW + 5 }), limit)),
        ).toEqual([])
        const evicting = await noticesDuring(() =>
          store.createSession(makeSession(user.id, { createdAt: NOW + 6 }), limit),
        )
        expect(usersIn(evicting)).toEqual([user.id])
        expect(await store.listUserSessions(user.id)).toHaveLength(2)
      })

      it('announce every change to a user: password, disabled and enabled, email verified, email changed, password removed, deleted', async (context) => {
        if (!opened.sessionNotices) return context.skip()
        const { user } = await userWithSessions(1)
        const changes: Array<() => Promise<unknown>> = [
          () => store.updatePasswordHash(user.id, '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA'),
          () => store.setUserDisabled(user.id, NOW),
          () => store.setUserDisabled(user.id, null),
          () => store.setEmailVerified(user.id, user.email, NOW),
          () => store.changeUserEmail(user.id, `moved-${user.email}`, NOW),
          () => store.linkIdentity(makeIdentity(user.id)).then(() => store.removePassword(user.id)),
        ]
        for (const change of changes) expect(usersIn(await noticesDuring(change))).toEqual([user.id])
        const deleted = await noticesDuring(() => store.deleteUser(user.id))
        expect(usersIn(deleted)).toEqual([user.id])
      })

      it('tell the writing process at once, unnumbered, whichever part of the store wrote', async (context) => {
        if (!opened.sessionNotices) return context.skip()
        const { user } = await userWithSessions(2)
        const heard: Notice[] = []
        const stops = await Promise.all(
          numberedFeeds().map((feed) =>
            feed.subscribe(
              (event) => void (event.type === 'sessions-changed' && event.seq === 0 && heard.push(event)),
              () => {},
            ),
          ),
        )
        try {
          const writes: Array<() => Promise<unknown>> = [
            () => store.setUserDisabled(user.id, NOW),
            () => store.deleteUserSessions(user.id, null),
            () => store.deleteUser(user.id),
          ]
          for (const [i, write] of writes.entries()) {
            await write()
            // No waiting: the notice came before the write's promise settled for its caller.
            expect(heard).toHaveLength(i + 1)
            expect(heard[i]).toEqual({ type: 'sessions-changed', userId: user.id, seq: 0 })
          }
        } finally {
          for (const stop of stops) await stop()
        }
      })

      it('announce sessions the purge deletes', async (context) => {
        if (!opened.sessionNotices) return context.skip()
        const { user } = await userWithSessions(0)
        await store.createSession(makeSession(user.id, { expiresAt: NOW + 10 }))
        const purged = await noticesDuring(() => store.deleteExpiredSessions(NOW + 20))
        expect(usersIn(purged)).toContain(user.id)
      })

      it('announce nothing for reads, renewals, or writes that change nothing', async (context) => {
        if (!opened.sessionNotices) return context.skip()
        const { user, sessions } = await userWithSessions(2)
        const taker = makeUser()
        await store.createUser(taker)
        const quiet = await noticesDuring(async () => {
          await store.findSessionWithUser(sessions[0]!.tokenHash)
          await store.listUserSessions(user.id)
          await store.touchSession(sessions[0]!.tokenHash, NOW + 60, NOW + 1860)
          await store.deleteSessionByTokenHash(makeTokenHash())
          await store.deleteUserSession(user.id, generatePublicId())
          await store.updatePasswordHash(generatePublicId(), 'x')
          await store.setUserDisabled(generatePublicId(), NOW)
          await store.setEmailVerified(user.id, `not-${user.email}`, NOW)
          expect(await store.changeUserEmail(user.id, taker.email, NOW)).toBe(EMAIL_TAKEN)
          expect(await store.deleteUser(generatePublicId())).toBe(false)
        })
        expect(quiet).toEqual([])
      })
    })

    it('answers ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
