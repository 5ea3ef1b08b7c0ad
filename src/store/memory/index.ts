/**
 * The in-memory store: fast and dependency-free, for tests and single-process experiments. Everything is lost
 * when the process exits and nothing is shared between processes: the notes' first option, with its known
 * downside. The server warns (SESAME_W001) when it is chosen under NODE_ENV=production.
 *
 * Records are copied in and out, so a caller mutating a returned object cannot change what is stored.
 */
import {
  type AccessRevocationRecord,
  CLIENT_TAKEN,
  type ConsentRecord,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  FACTOR_TAKEN,
  type FactorRecord,
  type FederatedIdentityRecord,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  type OAuthClientRecord,
  type OneTimeTokenPurpose,
  type OneTimeTokenRecord,
  PROVIDER_LINKED,
  type RefreshFamilyRecord,
  type SessionRecord,
  type SigningKeyRecord,
  type Store,
  type UserEpochRecord,
  type UserRecord,
} from '../types.js'
import { emailKey } from '../../core/email.js'
import { sharedMethodList } from '../../core/sign-in-methods.js'
import { planDeviceLimit } from '../device-limit.js'
import { byCodeUnits, copyClient, copyConsent } from '../clients.js'
import { byCreation, checkReplacement, countPasskeys } from '../factors.js'
import {
  byLinkTime,
  checkIdentity,
  isLastSignInMethod,
  isPasswordTheLastSignInMethod,
} from '../identities.js'
import { createLocalChangeFeed } from '../local-change-feed.js'
import { isUsable } from '../one-time-tokens.js'
import { rateLimitSlot } from '../rate-window.js'
import { StringPool } from './string-pool.js'
import { type StoredSession, toSessionRecord, toStoredSession } from './stored-session.js'

/** Creates an empty in-memory {@link Store}. */
export function createMemoryStore(): Store {
  const usersById = new Map<string, UserRecord>()
  // By email key (`emailKey`), the uniqueness check and the lookup: every user here has one (no migration).
  const userIdsByEmailKey = new Map<string, string>()
  const sessionsByTokenHash = new Map<string, StoredSession>()
  // Per-user index, so user-scoped operations cost O(that user's sessions), never a scan of all sessions.
  const tokenHashesByUser = new Map<string, Set<string>>()
  const signingKeys = new Map<string, SigningKeyRecord>()
  const secrets = new Map<string, string>()
  const families = new Map<string, RefreshFamilyRecord>()
  const refreshTokens = new Map<string, { familyId: string; generation: number }>()
  const refreshTokenHashesByFamily = new Map<string, string[]>()
  const accessRevocations = new Map<string, AccessRevocationRecord>()
  const userEpochs = new Map<string, UserEpochRecord>()
  // Rate-limit counters by `${key}:${window}`, with the second their window ends.
  const rateCounters = new Map<string, { count: number; endsAt: number }>()
  // Federated identities by provider, then subject; and each user's, provider -> subject (at most one each).
  const identities = new Map<string, Map<string, FederatedIdentityRecord>>()
  const subjectsByUser = new Map<string, Map<string, string>>()
  // Single-use claims: key -> the second the claim ends.
  const claims = new Map<string, number>()
  // One-time tokens by hash; and each user's, purpose -> token hash (at most one each: a new one replaces it).
  const oneTimeTokens = new Map<string, OneTimeTokenRecord>()
  const tokenHashesByPurpose = new Map<string, Map<OneTimeTokenPurpose, string>>()
  // OAuth clients by id; consents by user, then client id; and each client's consenting users, so deleting a
  // client finds its consents without a scan.
  const clients = new Map<string, OAuthClientRecord>()
  const consentsByUser = new Map<string, Map<string, ConsentRecord>>()
  const consentingUsersByClient = new Map<string, Set<string>>()

  // Each user's sign-in factors, by lookup key (unique per user).
  const factorsByUser = new Map<string, Map<string, FactorRecord>>()

  const familyIdsByUser = new Map<string, Set<string>>()
  // Sessions share one copy of each User-Agent string (see string-pool.ts).
  const userAgents = new StringPool()

  function removeSession(tokenHash: string): boolean {
    const session = sessionsByTokenHash.get(tokenHash)
    if (!session) return false
    sessionsByTokenHash.delete(tokenHash)
    userAgents.release(session.userAgent)
    const owned = tokenHashesByUser.get(session.userId)
    owned?.delete(tokenHash)
    if (owned?.size === 0) tokenHashesByUser.delete(session.userId)
    return true
  }

  function removeUserSessions(userId: string, exceptSessionId: string | null): number {
    let deleted = 0
    for (const tokenHash of [...(tokenHashesByUser.get(userId) ?? [])]) {
      if (sessionsByTokenHash.get(tokenHash)?.id !== exceptSessionId && removeSession(tokenHash)) deleted++
    }
    return deleted
  }

  function revokeUserFamilies(userId: string, now: number, exceptFamilyId: string | null): string[] {
    const revoked: string[] = []
    for (const id of familyIdsByUser.get(userId) ?? []) {
      const family = families.get(id)!
      if (id === exceptFamilyId || family.revokedAt !== null) continue
      family.revokedAt = now
      revoked.push(id)
    }
    return revoked
  }

  /**
   * Applies the device limit for one more device of `userId`: synchronous, and so, with the create that follows
   * it in the same call (no await between), one atomic step.
   */
  function makeRoom(userId: string, limit: DeviceLimit | undefined): DeviceCreation {
    if (!limit) return { evictedFamilies: [] }
    const sessions = [...(tokenHashesByUser.get(userId) ?? [])].map((hash) => sessionsByTokenHash.get(hash)!)
    const owned = [...(familyIdsByUser.get(userId) ?? [])].map((id) => families.get(id)!)
    const plan = planDeviceLimit(limit, sessions, owned)
    if (plan === DEVICE_LIMIT_REACHED) return plan
    for (const tokenHash of [...(tokenHashesByUser.get(userId) ?? [])]) {
      if (plan.sessionIds.includes(sessionsByTokenHash.get(tokenHash)!.id)) removeSession(tokenHash)
    }
    for (const id of plan.familyIds) families.get(id)!.revokedAt = limit.now
    return { evictedFamilies: plan.familyIds }
  }

  function addUser(user: UserRecord): void {
    usersById.set(user.id, copyUser(user))
    userIdsByEmailKey.set(emailKey(user.email), user.id)
  }

  function storedIdentity(provider: string, subject: string): FederatedIdentityRecord | undefined {
    return identities.get(provider)?.get(subject)
  }

  function addIdentity(identity: FederatedIdentityRecord): void {
    let bySubject = identities.get(identity.provider)
    if (!bySubject)
      identities.set(identity.provider, (bySubject = new Map<string, FederatedIdentityRecord>()))
    bySubject.set(identity.subject, { ...identity })
    let linked = subjectsByUser.get(identity.userId)
    if (!linked) subjectsByUser.set(identity.userId, (linked = new Map<string, string>()))
    linked.set(identity.provider, identity.subject)
  }

  function removeIdentity(userId: string, provider: string, subject: string): void {
    const bySubject = identities.get(provider)!
    bySubject.delete(subject)
    if (bySubject.size === 0) identities.delete(provider)
    const linked = subjectsByUser.get(userId)!
    linked.delete(provider)
    if (linked.size === 0) subjectsByUser.delete(userId)
  }

  /** The user's factor with this id, and the map holding it; undefined when none. */
  function factorById(userId: string, factorId: string): FactorRecord | undefined {
    for (const factor of factorsByUser.get(userId)?.values() ?? []) if (factor.id === factorId) return factor
    return undefined
  }

  function removeFactorOf(factor: FactorRecord): void {
    const owned = factorsByUser.get(factor.userId)!
    owned.delete(factor.lookupKey)
    if (owned.size === 0) factorsByUser.delete(factor.userId)
  }

  /** Deletes a family with every token issued in it and its index entry. */
  function removeFamily(id: string): void {
    const family = families.get(id)
    if (!family) return
    families.delete(id)
    const owned = familyIdsByUser.get(family.userId)
    owned?.delete(id)
    if (owned?.size === 0) familyIdsByUser.delete(family.userId)
    for (const tokenHash of refreshTokenHashesByFamily.get(id) ?? []) refreshTokens.delete(tokenHash)
    refreshTokenHashesByFamily.delete(id)
  }

  /** Deletes a one-time token and its index entry; false if there was none. */
  function removeOneTimeToken(tokenHash: string): boolean {
    const token = oneTimeTokens.get(tokenHash)
    if (!token) return false
    oneTimeTokens.delete(tokenHash)
    const owned = tokenHashesByPurpose.get(token.userId)
    if (owned?.get(token.purpose) === tokenHash) owned.delete(token.purpose)
    if (owned?.size === 0) tokenHashesByPurpose.delete(token.userId)
    return true
  }

  /** Deletes a consent and its index entries; false if there was none. */
  function removeConsent(userId: string, clientId: string): boolean {
    const given = consentsByUser.get(userId)
    if (!given?.delete(clientId)) return false
    if (given.size === 0) consentsByUser.delete(userId)
    const users = consentingUsersByClient.get(clientId)!
    users.delete(userId)
    if (users.size === 0) consentingUsersByClient.delete(clientId)
    return true
  }

  /**
   * Deletes a user and everything this store keeps of it but its epoch and revocations, which must go on refusing
   * the user's access tokens until they expire.
   */
  function removeUser(user: UserRecord): void {
    usersById.delete(user.id)
    userIdsByEmailKey.delete(emailKey(user.email))
    for (const [provider, subject] of [...(subjectsByUser.get(user.id) ?? [])]) {
      removeIdentity(user.id, provider, subject)
    }
    for (const tokenHash of [...(tokenHashesByPurpose.get(user.id)?.values() ?? [])]) {
      removeOneTimeToken(tokenHash)
    }
    for (const clientId of [...(consentsByUser.get(user.id)?.keys() ?? [])]) removeConsent(user.id, clientId)
    factorsByUser.delete(user.id)
    removeUserSessions(user.id, null)
    for (const id of [...(familyIdsByUser.get(user.id) ?? [])]) removeFamily(id)
  }

  function storeEpoch(epoch: UserEpochRecord): void {
    const existing = userEpochs.get(epoch.userId)
    userEpochs.set(epoch.userId, {
      userId: epoch.userId,
      epoch: Math.max(epoch.epoch, existing?.epoch ?? -Infinity),
      expiresAt: Math.max(epoch.expiresAt, existing?.expiresAt ?? -Infinity),
    })
  }

  return {
    kind: 'memory',

    async createUser(user) {
      if (userIdsByEmailKey.has(emailKey(user.email))) return EMAIL_TAKEN
      addUser(user)
      return copyUser(user)
    },
    async findUserByEmail(email) {
      const id = userIdsByEmailKey.get(emailKey(email))
      return id === undefined ? null : copyUser(usersById.get(id)!)
    },
    async findUserById(id) {
      const user = usersById.get(id)
      return user ? copyUser(user) : null
    },
    async updatePasswordHash(userId, passwordHash) {
      const user = usersById.get(userId)
      if (!user) return false
      user.passwordHash = passwordHash
      return true
    },
    async setUserDisabled(userId, disabledAt) {
      const user = usersById.get(userId)
      if (!user) return false
      user.disabledAt = disabledAt
      return true
    },

    // As for identities below, each check and its write are one synchronous step: no other call runs between.
    async setEmailVerified(userId, email, verifiedAt) {
      const user = usersById.get(userId)
      if (!user || user.email !== email) return false
      user.emailVerifiedAt = verifiedAt
      return true
    },
    async changeUserEmail(userId, email, verifiedAt) {
      const user = usersById.get(userId)
      if (!user) return false
      const key = emailKey(email)
      const holder = userIdsByEmailKey.get(key)
      if (holder !== undefined && holder !== userId) return EMAIL_TAKEN
      // A user changing to a look-alike of its own email keeps its key: removed, then set again.
      userIdsByEmailKey.delete(emailKey(user.email))
      userIdsByEmailKey.set(key, userId)
      user.email = email
      user.emailVerifiedAt = verifiedAt
      return true
    },
    async deleteUser(userId) {
      const user = usersById.get(userId)
      if (!user) return false
      removeUser(user)
      return true
    },

    async putOneTimeToken(token) {
      const previous = tokenHashesByPurpose.get(token.userId)?.get(token.purpose)
      if (previous !== undefined) removeOneTimeToken(previous)
      removeOneTimeToken(token.tokenHash) // never expected; keeps the index right if it happens
      oneTimeTokens.set(token.tokenHash, { ...token })
      let owned = tokenHashesByPurpose.get(token.userId)
      if (!owned) tokenHashesByPurpose.set(token.userId, (owned = new Map<OneTimeTokenPurpose, string>()))
      owned.set(token.purpose, token.tokenHash)
    },
    async takeOneTimeToken(purpose, tokenHash, now) {
      const token = oneTimeTokens.get(tokenHash)
      if (!token || !isUsable(token, purpose, now)) return null
      removeOneTimeToken(tokenHash)
      return { ...token }
    },
    async findOneTimeToken(purpose, tokenHash, now) {
      const token = oneTimeTokens.get(tokenHash)
      return token && isUsable(token, purpose, now) ? { ...token } : null
    },
    async deleteExpiredOneTimeTokens(now) {
      let deleted = 0
      for (const [tokenHash, token] of oneTimeTokens) {
        if (token.expiresAt <= now && removeOneTimeToken(tokenHash)) deleted++
      }
      return deleted
    },

    // Each check and its write are one synchronous step (no await between), so no other call runs in between.
    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      if (storedIdentity(identity.provider, identity.subject)) return IDENTITY_TAKEN
      if (userIdsByEmailKey.has(emailKey(user.email))) return EMAIL_TAKEN
      addUser(user)
      addIdentity(identity)
      return copyUser(user)
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      if (!usersById.has(identity.userId)) return false
      if (storedIdentity(identity.provider, identity.subject)) return IDENTITY_TAKEN
      if (subjectsByUser.get(identity.userId)?.has(identity.provider)) return PROVIDER_LINKED
      addIdentity(identity)
      return true
    },
    async findIdentity(provider, subject) {
      const identity = storedIdentity(provider, subject)
      return identity ? { ...identity } : null
    },
    async listUserIdentities(userId) {
      const linked = [...(subjectsByUser.get(userId) ?? [])]
      return linked.map(([provider, subject]) => ({ ...storedIdentity(provider, subject)! })).sort(byLinkTime)
    },
    async unlinkIdentity(userId, provider) {
      const linked = subjectsByUser.get(userId)
      const subject = linked?.get(provider)
      if (subject === undefined) return false
      const passkeys = countPasskeys(factorsByUser.get(userId)?.values() ?? [])
      if (isLastSignInMethod(usersById.get(userId)?.passwordHash, linked!.size, passkeys)) {
        return LAST_SIGN_IN_METHOD
      }
      removeIdentity(userId, provider, subject)
      return true
    },
    async removePassword(userId) {
      const user = usersById.get(userId)
      if (!user) return false
      const identityCount = subjectsByUser.get(userId)?.size ?? 0
      const passkeys = countPasskeys(factorsByUser.get(userId)?.values() ?? [])
      if (isPasswordTheLastSignInMethod(identityCount, passkeys)) return LAST_SIGN_IN_METHOD
      user.passwordHash = null
      return true
    },

    // Factors: as above, each check and its write are one synchronous step.
    async addFactor(factor) {
      if (!usersById.has(factor.userId)) return false
      let owned = factorsByUser.get(factor.userId)
      if (owned?.has(factor.lookupKey)) return FACTOR_TAKEN
      if (!owned) factorsByUser.set(factor.userId, (owned = new Map<string, FactorRecord>()))
      owned.set(factor.lookupKey, { ...factor })
      return true
    },
    async replaceFactors(userId, kind, factors) {
      checkReplacement(userId, kind, factors)
      if (!usersById.has(userId)) return false
      for (const factor of [...(factorsByUser.get(userId)?.values() ?? [])]) {
        if (factor.kind === kind) removeFactorOf(factor)
      }
      if (factors.length === 0) return true
      let owned = factorsByUser.get(userId)
      if (!owned) factorsByUser.set(userId, (owned = new Map<string, FactorRecord>()))
      for (const factor of factors) owned.set(factor.lookupKey, { ...factor })
      return true
    },
    async listUserFactors(userId) {
      return [...(factorsByUser.get(userId)?.values() ?? [])]
        .map((factor) => ({ ...factor }))
        .sort(byCreation)
    },
    async findUserFactor(userId, lookupKey) {
      const factor = factorsByUser.get(userId)?.get(lookupKey)
      return factor ? { ...factor } : null
    },
    async advanceFactor(userId, factorId, expectedCounter, counter, now) {
      const factor = factorById(userId, factorId)
      if (!factor || factor.counter !== expectedCounter) return false
      factor.counter = counter
      factor.lastUsedAt = now
      return true
    },
    async takeFactor(userId, kind, lookupKey) {
      const factor = factorsByUser.get(userId)?.get(lookupKey)
      if (!factor || factor.kind !== kind) return false
      removeFactorOf(factor)
      return true
    },
    async renameFactor(userId, factorId, name) {
      const factor = factorById(userId, factorId)
      if (!factor) return false
      factor.name = name
      return true
    },
    async removeFactor(userId, factorId) {
      const factor = factorById(userId, factorId)
      if (!factor) return false
      if (factor.kind === 'passkey') {
        const identityCount = subjectsByUser.get(userId)?.size ?? 0
        const passkeys = countPasskeys(factorsByUser.get(userId)!.values())
        if (isLastSignInMethod(usersById.get(userId)?.passwordHash, identityCount, passkeys)) {
          return LAST_SIGN_IN_METHOD
        }
      }
      removeFactorOf(factor)
      return true
    },

    async createSession(session, limit) {
      const room = makeRoom(session.userId, limit)
      if (room === DEVICE_LIMIT_REACHED) return room
      removeSession(session.tokenHash) // never expected; keeps the pool's counts right if it happens
      sessionsByTokenHash.set(
        session.tokenHash,
        toStoredSession(session, userAgents.acquire(session.userAgent)),
      )
      let owned = tokenHashesByUser.get(session.userId)
      if (!owned) tokenHashesByUser.set(session.userId, (owned = new Set()))
      owned.add(session.tokenHash)
      return room
    },
    async findSessionByTokenHash(tokenHash) {
      const session = sessionsByTokenHash.get(tokenHash)
      return session ? toSessionRecord(tokenHash, session) : null
    },
    async findSessionWithUser(tokenHash) {
      const session = sessionsByTokenHash.get(tokenHash)
      if (!session) return null
      const user = usersById.get(session.userId)
      return { session: toSessionRecord(tokenHash, session), user: user ? copyUser(user) : null }
    },
    async touchSession(tokenHash, lastSeenAt, expiresAt) {
      const session = sessionsByTokenHash.get(tokenHash)
      if (!session) return false
      session.lastSeenAt = lastSeenAt
      session.expiresAt = expiresAt
      return true
    },
    async deleteSessionByTokenHash(tokenHash) {
      return removeSession(tokenHash)
    },
    async listUserSessions(userId) {
      const sessions: SessionRecord[] = []
      for (const tokenHash of tokenHashesByUser.get(userId) ?? []) {
        sessions.push(toSessionRecord(tokenHash, sessionsByTokenHash.get(tokenHash)!))
      }
      return sessions.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    },
    async deleteUserSession(userId, sessionId) {
      for (const tokenHash of tokenHashesByUser.get(userId) ?? []) {
        if (sessionsByTokenHash.get(tokenHash)?.id === sessionId) return removeSession(tokenHash)
      }
      return false
    },
    async deleteUserSessions(userId, exceptSessionId) {
      return removeUserSessions(userId, exceptSessionId)
    },
    async deleteExpiredSessions(now) {
      let deleted = 0
      for (const [tokenHash, session] of sessionsByTokenHash) {
        if (session.expiresAt <= now && removeSession(tokenHash)) deleted++
      }
      return deleted
    },

    async listSigningKeys() {
      return [...signingKeys.values()]
        .map((key) => ({ ...key }))
        .sort((a, b) => b.createdAt - a.createdAt || b.kid.localeCompare(a.kid))
    },
    async createSigningKey(key) {
      signingKeys.set(key.kid, { ...key })
    },
    async createFirstSigningKey(key) {
      // Check and insert in one synchronous step: no other call can run between them.
      const existing = [...signingKeys.values()]
        .filter((stored) => stored.alg === key.alg && stored.retiredAt === null)
        .sort((a, b) => b.createdAt - a.createdAt || b.kid.localeCompare(a.kid))[0]
      if (existing) return { ...existing }
      signingKeys.set(key.kid, { ...key })
      return { ...key }
    },
    async retireSigningKeysExcept(kid, retiredAt) {
      for (const key of signingKeys.values()) {
        if (key.kid !== kid && key.retiredAt === null) key.retiredAt = retiredAt
      }
    },
    async deleteSigningKey(kid) {
      return signingKeys.delete(kid)
    },

    async getOrCreateSecret(name, value) {
      if (!secrets.has(name)) secrets.set(name, value)
      return secrets.get(name)!
    },

    async createRefreshFamily(family, tokenHash, limit) {
      const room = makeRoom(family.userId, limit)
      if (room === DEVICE_LIMIT_REACHED) return room
      families.set(family.id, { ...family, amr: sharedMethodList(family.amr) })
      refreshTokens.set(tokenHash, { familyId: family.id, generation: family.generation })
      refreshTokenHashesByFamily.set(family.id, [tokenHash])
      let owned = familyIdsByUser.get(family.userId)
      if (!owned) familyIdsByUser.set(family.userId, (owned = new Set()))
      owned.add(family.id)
      return room
    },
    async findRefreshToken(tokenHash) {
      const token = refreshTokens.get(tokenHash)
      const family = token && families.get(token.familyId)
      return family ? { family: { ...family }, generation: token.generation } : null
    },
    async findRefreshFamily(familyId) {
      const family = families.get(familyId)
      return family ? { ...family } : null
    },
    async rotateRefreshFamily(familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal) {
      const family = families.get(familyId)
      if (!family || family.generation !== expectedGeneration || family.revokedAt !== null) return false
      family.generation = expectedGeneration + 1
      family.rotatedAt = now
      family.successorSeal = successorSeal
      family.lastUsedAt = now
      family.expiresAt = expiresAt
      refreshTokens.set(newTokenHash, { familyId, generation: family.generation })
      refreshTokenHashesByFamily.get(familyId)!.push(newTokenHash)
      return true
    },
    async revokeRefreshFamily(familyId, now) {
      const family = families.get(familyId)
      if (!family || family.revokedAt !== null) return false
      family.revokedAt = now
      return true
    },
    async listUserRefreshFamilies(userId) {
      const owned = [...(familyIdsByUser.get(userId) ?? [])].map((id) => ({ ...families.get(id)! }))
      return owned.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    },
    async revokeUserRefreshFamilies(userId, now, exceptFamilyId) {
      return revokeUserFamilies(userId, now, exceptFamilyId)
    },
    async endUserDevices({ userId, epoch, exceptSessionId, exceptFamilyId, now }) {
      // One synchronous step with no await inside: no other call can see it half done.
      if (epoch) storeEpoch(epoch)
      return {
        sessionsEnded: removeUserSessions(userId, exceptSessionId),
        familiesRevoked: revokeUserFamilies(userId, now, exceptFamilyId),
      }
    },
    async deleteExpiredRefreshFamilies(now) {
      let deleted = 0
      for (const [id, family] of families) {
        if (family.expiresAt > now) continue
        removeFamily(id)
        deleted++
      }
      return deleted
    },

    async addAccessRevocation(revocation) {
      const key = `${revocation.kind}:${revocation.value}`
      const existing = accessRevocations.get(key)
      if (!existing || existing.expiresAt < revocation.expiresAt)
        accessRevocations.set(key, { ...revocation })
    },
    async listAccessRevocations(now) {
      return [...accessRevocations.values()]
        .filter((entry) => entry.expiresAt > now)
        .map((entry) => ({ ...entry }))
    },
    async deleteExpiredAccessRevocations(now) {
      let deleted = 0
      for (const [key, entry] of accessRevocations) {
        if (entry.expiresAt <= now && accessRevocations.delete(key)) deleted++
      }
      for (const [userId, entry] of userEpochs) {
        if (entry.expiresAt <= now && userEpochs.delete(userId)) deleted++
      }
      return deleted
    },
    async setUserEpoch(epoch) {
      storeEpoch(epoch)
    },
    async listUserEpochs(now) {
      return [...userEpochs.values()].filter((entry) => entry.expiresAt > now).map((entry) => ({ ...entry }))
    },

    async hitRateLimit(key, windowSeconds, now) {
      const slot = rateLimitSlot(key, windowSeconds, now)
      for (const [id, counter] of rateCounters) if (counter.endsAt <= now) rateCounters.delete(id)
      const counter = rateCounters.get(slot.id) ?? { count: 0, endsAt: slot.endsAt }
      counter.count++
      rateCounters.set(slot.id, counter)
      return counter.count
    },
    async countRateLimit(key, windowSeconds, now) {
      return rateCounters.get(rateLimitSlot(key, windowSeconds, now).id)?.count ?? 0
    },
    async resetRateLimit(key, windowSeconds, now) {
      rateCounters.delete(rateLimitSlot(key, windowSeconds, now).id)
    },

    async createClient(client) {
      if (clients.has(client.id)) return CLIENT_TAKEN
      clients.set(client.id, copyClient(client))
      return copyClient(client)
    },
    async findClient(clientId) {
      const client = clients.get(clientId)
      return client ? copyClient(client) : null
    },
    async listClients() {
      return [...clients.values()].map(copyClient).sort((a, b) => byCodeUnits(a.id, b.id))
    },
    async deleteClient(clientId) {
      if (!clients.delete(clientId)) return false
      for (const userId of [...(consentingUsersByClient.get(clientId) ?? [])]) removeConsent(userId, clientId)
      return true
    },

    // A consent of a user or to a client that is gone is not stored, here as in every store: it would otherwise
    // outlive the delete that ended it, and pass to a client registered again under that id.
    async putConsent(consent) {
      if (!usersById.has(consent.userId) || !clients.has(consent.clientId)) return
      let given = consentsByUser.get(consent.userId)
      if (!given) consentsByUser.set(consent.userId, (given = new Map<string, ConsentRecord>()))
      given.set(consent.clientId, copyConsent(consent))
      let users = consentingUsersByClient.get(consent.clientId)
      if (!users) consentingUsersByClient.set(consent.clientId, (users = new Set()))
      users.add(consent.userId)
    },
    async findConsent(userId, clientId) {
      const consent = consentsByUser.get(userId)?.get(clientId)
      return consent ? copyConsent(consent) : null
    },
    async listUserConsents(userId) {
      const given = [...(consentsByUser.get(userId)?.values() ?? [])].map(copyConsent)
      return given.sort((a, b) => byCodeUnits(a.clientId, b.clientId))
    },
    async deleteConsent(userId, clientId) {
      return removeConsent(userId, clientId)
    },

    async claimOnce(key, expiresAt, now) {
      const endsAt = claims.get(key)
      if (endsAt !== undefined && endsAt > now) return false
      claims.set(key, expiresAt)
      return true
    },
    async deleteExpiredClaims(now) {
      let deleted = 0
      for (const [key, endsAt] of claims) {
        if (endsAt <= now && claims.delete(key)) deleted++
      }
      return deleted
    },

    changes: createLocalChangeFeed(),

    async ping() {},
    async close() {
      usersById.clear()
      userIdsByEmailKey.clear()
      sessionsByTokenHash.clear()
      tokenHashesByUser.clear()
      userAgents.clear()
      signingKeys.clear()
      secrets.clear()
      families.clear()
      refreshTokens.clear()
      refreshTokenHashesByFamily.clear()
      accessRevocations.clear()
      userEpochs.clear()
      rateCounters.clear()
      familyIdsByUser.clear()
      identities.clear()
      factorsByUser.clear()
      subjectsByUser.clear()
      claims.clear()
      oneTimeTokens.clear()
      tokenHashesByPurpose.clear()
      clients.clear()
      consentsByUser.clear()
      consentingUsersByClient.clear()
    },
  }
}

function copyUser(user: UserRecord): UserRecord {
  return { ...user, roles: [...user.roles] }
}
