/**
 * Read-your-writes for the session cache of the process that writes. A store announces every change to a
 * session or a user as a numbered notice over its feed (scripts, triggers), which every instance, this one
 * included, hears a moment later. Between the write's return and that moment this process's own cache could
 * still serve what the write ended, so the store object tells this process's subscribers at once, whoever
 * called it (the engine, the embedding app, the `sesame` command), with an unnumbered notice.
 */
import type { Store } from './types.js'

/** The methods whose writes end sessions or change a user, and the user each one names. */
type AnnouncingWrite =
  | 'updatePasswordHash'
  | 'removePassword'
  | 'setUserDisabled'
  | 'setEmailVerified'
  | 'changeUserEmail'
  | 'deleteUser'
  | 'deleteUserSession'
  | 'deleteUserSessions'
  | 'endUserDevices'
  | 'createSession'

/**
 * `store`, its writes that may end sessions of a user or change the user followed (done or failed: a write
 * that timed out may still have run) by `feed.announceLocally(userId)`. `deleteSessionByTokenHash` names no
 * user: the cookie engine, its one caller, drops that session from its cache itself.
 */
export function announcingWrites<S extends Store>(
  feed: { announceLocally(userId: string): void },
  store: S,
): S {
  const after = <T>(userId: string | null, write: Promise<T>): Promise<T> =>
    userId === null ? write : write.finally(() => feed.announceLocally(userId))
  const original = { ...store }
  const wrapped: Pick<Store, AnnouncingWrite> = {
    updatePasswordHash: (userId, hash) => after(userId, original.updatePasswordHash(userId, hash)),
    removePassword: (userId) => after(userId, original.removePassword(userId)),
    setUserDisabled: (userId, at) => after(userId, original.setUserDisabled(userId, at)),
    setEmailVerified: (userId, email, at) => after(userId, original.setEmailVerified(userId, email, at)),
    changeUserEmail: (userId, email, at) => after(userId, original.changeUserEmail(userId, email, at)),
    deleteUser: (userId) => after(userId, original.deleteUser(userId)),
    deleteUserSession: (userId, id) => after(userId, original.deleteUserSession(userId, id)),
    deleteUserSessions: (userId, except) => after(userId, original.deleteUserSessions(userId, except)),
    endUserDevices: (input) => after(input.userId, original.endUserDevices(input)),
    // With a device limit, creating a session may end the user's oldest devices.
    createSession: (session, limit) =>
      after(limit ? session.userId : null, original.createSession(session, limit)),
  }
  return Object.assign(store, wrapped)
}
