/**
 * Two stores as one: users (with their federated identities, sign-in factors, one-time tokens and consents),
 * OAuth clients, signing keys and secrets in a durable store (typically PostgreSQL), and session state (cookie sessions,
 * refresh families, revocations, epochs, rate limits, single-use claims, the change feed) in a fast central one
 * (typically Redis) that every instance shares. Records in the session store refer to users by id only, so the
 * two need no cross-store constraint; a deleted user's sessions end at their next check. `deleteUser` therefore
 * deletes on the users' side only: one store, so one atomic change; the engine ends the user's devices before it
 * deletes the user.
 */
import type { Store } from './types.js'

export function createSplitStore(stores: { users: Store; sessions: Store }): Store {
  const { users, sessions } = stores
  const router = sessions.secretRoute ? sessions : users.secretRoute ? users : null
  return {
    kind: `${users.kind}+${sessions.kind}`,

    createUser: (user) => users.createUser(user),
    findUserByEmail: (email) => users.findUserByEmail(email),
    findUserById: (id) => users.findUserById(id),
    updatePasswordHash: (userId, hash) => users.updatePasswordHash(userId, hash),
    setUserDisabled: (userId, at) => users.setUserDisabled(userId, at),
    setEmailVerified: (userId, email, at) => users.setEmailVerified(userId, email, at),
    changeUserEmail: (userId, email, at) => users.changeUserEmail(userId, email, at),
    deleteUser: (userId) => users.deleteUser(userId),
    // Durable: a link in a mail outlives a restart of the session store.
    putOneTimeToken: (token) => users.putOneTimeToken(token),
    takeOneTimeToken: (purpose, hash, now) => users.takeOneTimeToken(purpose, hash, now),
    findOneTimeToken: (purpose, hash, now) => users.findOneTimeToken(purpose, hash, now),
    deleteExpiredOneTimeTokens: (now) => users.deleteExpiredOneTimeTokens(now),
    // A user and its identities live in one store, so each check stays atomic with its write there.
    createUserWithIdentity: (user, identity) => users.createUserWithIdentity(user, identity),
    linkIdentity: (identity) => users.linkIdentity(identity),
    findIdentity: (provider, subject) => users.findIdentity(provider, subject),
    listUserIdentities: (userId) => users.listUserIdentities(userId),
    unlinkIdentity: (userId, provider) => users.unlinkIdentity(userId, provider),
    removePassword: (userId) => users.removePassword(userId),
    // Factors live with their user too: the last-way-in checks read the password, identities and passkeys.
    addFactor: (factor) => users.addFactor(factor),
    replaceFactors: (userId, kind, factors) => users.replaceFactors(userId, kind, factors),
    listUserFactors: (userId) => users.listUserFactors(userId),
    findUserFactor: (userId, lookupKey) => users.findUserFactor(userId, lookupKey),
    advanceFactor: (userId, factorId, expected, counter, now) =>
      users.advanceFactor(userId, factorId, expected, counter, now),
    takeFactor: (userId, kind, lookupKey) => users.takeFactor(userId, kind, lookupKey),
    renameFactor: (userId, factorId, name) => users.renameFactor(userId, factorId, name),
    removeFactor: (userId, factorId) => users.removeFactor(userId, factorId),
    listSigningKeys: () => users.listSigningKeys(),
    createSigningKey: (key) => users.createSigningKey(key),
    createFirstSigningKey: (key) => users.createFirstSigningKey(key),
    retireSigningKeysExcept: (kid, at) => users.retireSigningKeysExcept(kid, at),
    deleteSigningKey: (kid) => users.deleteSigningKey(kid),
    getOrCreateSecret: (name, value) => users.getOrCreateSecret(name, value),
    // Durable, beside the users: a registration outlives the session store, and a consent goes with its user (or
    // its client) in one atomic change there.
    createClient: (client) => users.createClient(client),
    findClient: (clientId) => users.findClient(clientId),
    listClients: () => users.listClients(),
    deleteClient: (clientId) => users.deleteClient(clientId),
    putConsent: (consent) => users.putConsent(consent),
    findConsent: (userId, clientId) => users.findConsent(userId, clientId),
    listUserConsents: (userId) => users.listUserConsents(userId),
    deleteConsent: (userId, clientId) => users.deleteConsent(userId, clientId),

    createSession: (session, limit) => sessions.createSession(session, limit),
    findSessionByTokenHash: (hash) => sessions.findSessionByTokenHash(hash),
    // Two stores, so two reads: the session from one, then its user from the other.
    async findSessionWithUser(hash) {
      const session = await sessions.findSessionByTokenHash(hash)
      return session && { session, user: await users.findUserById(session.userId) }
    },
    touchSession: (hash, lastSeenAt, expiresAt) => sessions.touchSession(hash, lastSeenAt, expiresAt),
    deleteSessionByTokenHash: (hash) => sessions.deleteSessionByTokenHash(hash),
    listUserSessions: (userId) => sessions.listUserSessions(userId),
    deleteUserSession: (userId, sessionId) => sessions.deleteUserSession(userId, sessionId),
    deleteUserSessions: (userId, except) => sessions.deleteUserSessions(userId, except),
    deleteExpiredSessions: (now) => sessions.deleteExpiredSessions(now),
    createRefreshFamily: (family, hash, limit) => sessions.createRefreshFamily(family, hash, limit),
    findRefreshToken: (hash) => sessions.findRefreshToken(hash),
    findRefreshFamily: (id) => sessions.findRefreshFamily(id),
    rotateRefreshFamily: (id, generation, hash, now, expiresAt, seal) =>
      sessions.rotateRefreshFamily(id, generation, hash, now, expiresAt, seal),
    revokeRefreshFamily: (id, now) => sessions.revokeRefreshFamily(id, now),
    listUserRefreshFamilies: (userId) => sessions.listUserRefreshFamilies(userId),
    revokeUserRefreshFamilies: (userId, now, except) =>
      sessions.revokeUserRefreshFamilies(userId, now, except),
    // Epochs, sessions and families all live in the session store, so this stays one atomic change there.
    endUserDevices: (input) => sessions.endUserDevices(input),
    deleteExpiredRefreshFamilies: (now) => sessions.deleteExpiredRefreshFamilies(now),
    addAccessRevocation: (revocation) => sessions.addAccessRevocation(revocation),
    listAccessRevocations: (now) => sessions.listAccessRevocations(now),
    deleteExpiredAccessRevocations: (now) => sessions.deleteExpiredAccessRevocations(now),
    setUserEpoch: (epoch) => sessions.setUserEpoch(epoch),
    listUserEpochs: (now) => sessions.listUserEpochs(now),
    hitRateLimit: (key, window, now) => sessions.hitRateLimit(key, window, now),
    countRateLimit: (key, window, now) => sessions.countRateLimit(key, window, now),
    resetRateLimit: (key, window, now) => sessions.resetRateLimit(key, window, now),
    claimOnce: (key, expiresAt, now) => sessions.claimOnce(key, expiresAt, now),
    deleteExpiredClaims: (now) => sessions.deleteExpiredClaims(now),
    // A record's shard is found by its route in the part that holds it; two Redis Cluster parts route alike.
    ...(router?.secretRoute && { secretRoute: (userId: string) => router.secretRoute!(userId) }),
    changes: sessions.changes,
    // A cached session is read from both parts, so a cache follows both parts' notices.
    ...(users.sessionFeeds &&
      sessions.sessionFeeds && {
        sessionFeeds: [...new Set([...sessions.sessionFeeds, ...users.sessionFeeds])],
      }),

    async ping() {
      await Promise.all([users.ping(), sessions.ping()])
    },
    async close() {
      await Promise.all([users.close(), sessions.close()])
    },
  }
}
