/**
 * The in-memory store: fast and dependency-free, for tests and single-process experiments. Everything is lost
 * when the process exits and nothing is shared between processes: the notes' first option, with its known
 * downside. The server warns (SESAME_W001) when it is chosen under NODE_ENV=production.
 *
 * Records are copied in and out, so a caller mutating a returned object cannot change what is stored.
 */
import { EMAIL_TAKEN, type SessionRecord, type Store, type UserRecord } from '../types.js'

/** Creates an empty in-memory {@link Store}. */
export function createMemoryStore(): Store {
  const usersById = new Map<string, UserRecord>()
  const userIdsByEmail = new Map<string, string>()
  const sessionsByTokenHash = new Map<string, SessionRecord>()
  // Per-user index, so user-scoped operations cost O(that user's sessions), never a scan of all sessions.
  const tokenHashesByUser = new Map<string, Set<string>>()

  function removeSession(tokenHash: string): boolean {
    const session = sessionsByTokenHash.get(tokenHash)
    if (!session) return false
    sessionsByTokenHash.delete(tokenHash)
    const owned = tokenHashesByUser.get(session.userId)
    owned?.delete(tokenHash)
    if (owned?.size === 0) tokenHashesByUser.delete(session.userId)
    return true
  }

  return {
    kind: 'memory',

    async createUser(user) {
      if (userIdsByEmail.has(user.email)) return EMAIL_TAKEN
      usersById.set(user.id, copyUser(user))
      userIdsByEmail.set(user.email, user.id)
      return copyUser(user)
    },
    async findUserByEmail(email) {
      const id = userIdsByEmail.get(email)
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

    async createSession(session) {
      sessionsByTokenHash.set(session.tokenHash, { ...session })
      let owned = tokenHashesByUser.get(session.userId)
      if (!owned) tokenHashesByUser.set(session.userId, (owned = new Set()))
      owned.add(session.tokenHash)
    },
    async findSessionByTokenHash(tokenHash) {
      const session = sessionsByTokenHash.get(tokenHash)
      return session ? { ...session } : null
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
        sessions.push({ ...sessionsByTokenHash.get(tokenHash)! })
      }
      return sessions.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    },
    async deleteExpiredSessions(now) {
      let deleted = 0
      for (const [tokenHash, session] of sessionsByTokenHash) {
        if (session.expiresAt <= now && removeSession(tokenHash)) deleted++
      }
      return deleted
    },

    async ping() {},
    async close() {
      usersById.clear()
      userIdsByEmail.clear()
      sessionsByTokenHash.clear()
      tokenHashesByUser.clear()
    },
  }
}

function copyUser(user: UserRecord): UserRecord {
  return { ...user, roles: [...user.roles] }
}
