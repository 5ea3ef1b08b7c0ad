/**
 * The SQLite store: the embedded default. One file under the data directory, so `npm start` needs no other
 * service and sessions survive a restart; but only processes on this one machine can share it.
 *
 * Operational choices:
 * - WAL journal: readers never block the writer, and a crashed process (even SIGKILL) loses no committed
 *   write. `synchronous=NORMAL` is the documented safe pairing with WAL; only a power cut can drop the last
 *   transactions.
 * - `busy_timeout`: a second process writing the same file waits up to 5 s instead of failing at once.
 * - The file is created 0600 inside a 0700 directory: it holds password hashes.
 * - better-sqlite3 is synchronous; each call is one short indexed statement, so wrapping it in a promise to
 *   fit the async contract costs microseconds and never blocks on the network.
 * - A user without a password holds '' in `password_hash` (see {@link NO_PASSWORD}); records never show it.
 * - A session's or family's sign-in methods (`amr`) are one text column, joined by spaces (`methodListText` in
 *   core/sign-in-methods.ts).
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { AuthError } from '../../core/errors.js'
import {
  type AccessRevocationRecord,
  CLIENT_TAKEN,
  type ClientType,
  type ConsentRecord,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  FACTOR_TAKEN,
  type FactorKind,
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
import { methodListText, parseMethodListText } from '../../core/sign-in-methods.js'
import { warnKeylessUsers } from '../email-keys.js'
import { planDeviceLimit } from '../device-limit.js'
import { copyClient } from '../clients.js'
import { checkReplacement } from '../factors.js'
import { checkIdentity, isLastSignInMethod, isPasswordTheLastSignInMethod } from '../identities.js'
import { createLocalChangeFeed } from '../local-change-feed.js'
import { rateLimitSlot } from '../rate-window.js'
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js'

export interface SqliteStoreOptions {
  /** Path of the database file; created with its directory if missing (unless `readonly`). */
  path: string
  /**
   * Open an existing file for reading only, changing nothing in it: no migration runs, the journal mode is
   * left as it is, and no directory or database file is created (SQLite itself may add the empty `-wal` and
   * `-shm` files a read of a WAL database needs when no other connection has them open). Throws when the file
   * does not exist or its schema is not this Sesame's; every write fails with `store_unavailable`. For
   * inspection (`sesame token decode`).
   */
  readonly?: boolean
}

/**
 * What `password_hash` holds for a user without a password. The column is NOT NULL from the first schema, and
 * SQLite drops that only by rebuilding the table (see migration 8); no argon2 PHC string is empty, so '' is
 * unambiguous. Mapped at this adapter's boundary both ways: a record's null is stored as this, and this is
 * read back as null.
 */
const NO_PASSWORD = ''

/** Opens (creating and migrating as needed, unless `readonly`) a SQLite {@link Store}. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  let db: Database.Database
  if (options.readonly) {
    db = new Database(options.path, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
    checkSchema(db, SQLITE_MIGRATIONS)
  } else {
    db = openDatabase(options.path)
    migrate(db, SQLITE_MIGRATIONS)
  }

  const statements = {
    // No conflict target: a taken email or a taken email key (both UNIQUE) is EMAIL_TAKEN.
    insertUser: db.prepare(
      `INSERT INTO users (id, email, email_key, password_hash, roles, created_at, disabled_at, email_verified_at)
       VALUES (@id, @email, @emailKey, @passwordHash, @roles, @createdAt, @disabledAt, @emailVerifiedAt)
       ON CONFLICT DO NOTHING`,
    ),
    // The exact email first: it differs from the key's holder only for accounts the key migration left keyless.
    userByEmail: db.prepare(
      'SELECT * FROM users WHERE email = @email OR email_key = @key ORDER BY email = @email DESC LIMIT 1',
    ),
    userById: db.prepare('SELECT * FROM users WHERE id = ?'),
    updatePasswordHash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
    setUserDisabled: db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?'),
    setEmailVerified: db.prepare('UPDATE users SET email_verified_at = ? WHERE id = ? AND email = ?'),
    // OR IGNORE: an email or email key another user holds (both UNIQUE) skips the row instead of failing.
    changeEmail: db.prepare(
      `UPDATE OR IGNORE users SET email = @email, email_key = @emailKey, email_verified_at = @verifiedAt
       WHERE id = @userId`,
    ),
    // Its identities, factors, sessions, families (with their tokens), one-time tokens and consents go with it:
    // every table that names a user does so by a foreign key ON DELETE CASCADE. Epochs name none, and stay.
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    // One statement: the user's token of that purpose, if any, is replaced whole.
    putOneTimeToken: db.prepare(
      `INSERT INTO one_time_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
       VALUES (@tokenHash, @userId, @purpose, @email, @createdAt, @expiresAt)
       ON CONFLICT (user_id, purpose) DO UPDATE
       SET token_hash = excluded.token_hash, email = excluded.email, created_at = excluded.created_at,
           expires_at = excluded.expires_at`,
    ),
    takeOneTimeToken: db.prepare(
      `DELETE FROM one_time_tokens WHERE token_hash = @tokenHash AND purpose = @purpose AND expires_at > @now
       RETURNING *`,
    ),
    findOneTimeToken: db.prepare(
      'SELECT * FROM one_time_tokens WHERE token_hash = @tokenHash AND purpose = @purpose AND expires_at > @now',
    ),
    deleteExpiredOneTimeTokens: db.prepare('DELETE FROM one_time_tokens WHERE expires_at <= ?'),
    identity: db.prepare('SELECT * FROM federated_identities WHERE provider = ? AND subject = ?'),
    identitiesByUser: db.prepare(
      'SELECT * FROM federated_identities WHERE user_id = ? ORDER BY created_at, provider',
    ),
    insertIdentity: db.prepare(
      `INSERT INTO federated_identities (provider, subject, user_id, email, created_at)
       VALUES (@provider, @subject, @userId, @email, @createdAt)`,
    ),
    deleteIdentity: db.prepare('DELETE FROM federated_identities WHERE user_id = ? AND provider = ?'),
    // What the last-way-to-sign-in checks count besides the password: identities, and passkeys (a TOTP secret or
    // a recovery code signs no one in alone).
    signInMethods: db.prepare(
      `SELECT (SELECT count(*) FROM federated_identities WHERE user_id = @userId) AS identities,
              (SELECT count(*) FROM factors WHERE user_id = @userId AND kind = 'passkey') AS passkeys`,
    ),
    removePassword: db.prepare('UPDATE users SET password_hash = @noPassword WHERE id = @userId'),
    insertFactor: db.prepare(
      `INSERT INTO factors (id, user_id, kind, lookup_key, name, data, counter, created_at, last_used_at)
       VALUES (@id, @userId, @kind, @lookupKey, @name, @data, @counter, @createdAt, @lastUsedAt)`,
    ),
    factorsByUser: db.prepare('SELECT * FROM factors WHERE user_id = ? ORDER BY created_at, id'),
    factorByLookupKey: db.prepare('SELECT * FROM factors WHERE user_id = ? AND lookup_key = ?'),
    factorById: db.prepare('SELECT * FROM factors WHERE user_id = ? AND id = ?'),
    deleteFactorsOfKind: db.prepare('DELETE FROM factors WHERE user_id = ? AND kind = ?'),
    // The WHERE is the compare: of concurrent uses read at one counter, only the first still matches.
    advanceFactor: db.prepare(
      `UPDATE factors SET counter = @counter, last_used_at = @now
       WHERE user_id = @userId AND id = @factorId AND counter = @expectedCounter`,
    ),
    takeFactor: db.prepare('DELETE FROM factors WHERE user_id = ? AND kind = ? AND lookup_key = ?'),
    renameFactor: db.prepare('UPDATE factors SET name = ? WHERE user_id = ? AND id = ?'),
    deleteFactor: db.prepare('DELETE FROM factors WHERE user_id = ? AND id = ?'),
    insertSession: db.prepare(
      `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, absolute_expires_at,
                             user_agent, ip, amr)
       VALUES (@tokenHash, @id, @userId, @createdAt, @lastSeenAt, @expiresAt, @absoluteExpiresAt, @userAgent, @ip,
               @amr)`,
    ),
    sessionByTokenHash: db.prepare('SELECT * FROM sessions WHERE token_hash = ?'),
    sessionWithUser: db.prepare(
      `SELECT s.*, u.id AS u_id, u.email AS u_email, u.password_hash AS u_password_hash, u.roles AS u_roles,
              u.created_at AS u_created_at, u.disabled_at AS u_disabled_at,
              u.email_verified_at AS u_email_verified_at
       FROM sessions s LEFT JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ?`,
    ),
    touchSession: db.prepare('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?'),
    deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
    sessionsByUser: db.prepare('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at, id'),
    deleteUserSession: db.prepare('DELETE FROM sessions WHERE user_id = ? AND id = ?'),
    deleteUserSessions: db.prepare('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?'),
    deleteExpired: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    signingKeys: db.prepare('SELECT * FROM signing_keys ORDER BY created_at DESC, kid DESC'),
    insertSigningKey: db.prepare(
      `INSERT INTO signing_keys (kid, alg, private_jwk, created_at, activates_at, retired_at)
       VALUES (@kid, @alg, @privateJwk, @createdAt, @activatesAt, @retiredAt)`,
    ),
    unretiredSigningKey: db.prepare(
      `SELECT * FROM signing_keys WHERE alg = ? AND retired_at IS NULL
       ORDER BY created_at DESC, kid DESC LIMIT 1`,
    ),
    retireSigningKeys: db.prepare(
      'UPDATE signing_keys SET retired_at = ? WHERE kid <> ? AND retired_at IS NULL',
    ),
    deleteSigningKey: db.prepare('DELETE FROM signing_keys WHERE kid = ?'),
    insertSecret: db.prepare(
      'INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    secret: db.prepare('SELECT value FROM secrets WHERE name = ?'),
    insertFamily: db.prepare(
      `INSERT INTO refresh_families (id, user_id, created_at, last_used_at, expires_at, absolute_expires_at,
                                     generation, rotated_at, revoked_at, user_agent, ip, successor_seal,
                                     client_id, scope, amr)
       VALUES (@id, @userId, @createdAt, @lastUsedAt, @expiresAt, @absoluteExpiresAt, @generation, @rotatedAt,
               @revokedAt, @userAgent, @ip, @successorSeal, @clientId, @scope, @amr)`,
    ),
    insertRefreshToken: db.prepare(
      'INSERT INTO refresh_tokens (token_hash, family_id, generation) VALUES (?, ?, ?)',
    ),
    refreshToken: db.prepare(
      `SELECT f.*, t.generation AS token_generation
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
       WHERE t.token_hash = ?`,
    ),
    family: db.prepare('SELECT * FROM refresh_families WHERE id = ?'),
    rotateFamily: db.prepare(
      `UPDATE refresh_families
       SET generation = generation + 1, rotated_at = @now, last_used_at = @now, expires_at = @expiresAt,
           successor_seal = @successorSeal
       WHERE id = @familyId AND generation = @expectedGeneration AND revoked_at IS NULL`,
    ),
    revokeFamily: db.prepare(
      'UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
    ),
    deleteExpiredFamilies: db.prepare('DELETE FROM refresh_families WHERE expires_at <= ?'),
    familiesByUser: db.prepare('SELECT * FROM refresh_families WHERE user_id = ? ORDER BY created_at, id'),
    revokeUserFamilies: db.prepare(
      `UPDATE refresh_families SET revoked_at = ?
       WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ? RETURNING id`,
    ),
    upsertRevocation: db.prepare(
      `INSERT INTO access_revocations (kind, value, expires_at) VALUES (@kind, @value, @expiresAt)
       ON CONFLICT (kind, value) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    revocations: db.prepare('SELECT * FROM access_revocations WHERE expires_at > ?'),
    deleteExpiredRevocations: db.prepare('DELETE FROM access_revocations WHERE expires_at <= ?'),
    deleteExpiredEpochs: db.prepare('DELETE FROM user_epochs WHERE expires_at <= ?'),
    upsertEpoch: db.prepare(
      `INSERT INTO user_epochs (user_id, epoch, expires_at) VALUES (@userId, @epoch, @expiresAt)
       ON CONFLICT (user_id) DO UPDATE SET epoch = max(epoch, excluded.epoch),
                                           expires_at = max(expires_at, excluded.expires_at)`,
    ),
    epochs: db.prepare('SELECT * FROM user_epochs WHERE expires_at > ?'),
    hitRate: db.prepare(
      `INSERT INTO rate_limits (slot, count, ends_at) VALUES (?, 1, ?)
       ON CONFLICT (slot) DO UPDATE SET count = count + 1 RETURNING count`,
    ),
    countRate: db.prepare('SELECT count FROM rate_limits WHERE slot = ?'),
    resetRate: db.prepare('DELETE FROM rate_limits WHERE slot = ?'),
    purgeRates: db.prepare('DELETE FROM rate_limits WHERE ends_at <= ?'),
    // One statement: a new key is inserted, a held one taken over only if its claim has ended by `now`.
    claim: db.prepare(
      `INSERT INTO claims (key, expires_at) VALUES (@key, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= @now`,
    ),
    deleteExpiredClaims: db.prepare('DELETE FROM claims WHERE expires_at <= ?'),
    insertClient: db.prepare(
      `INSERT INTO oauth_clients (id, name, type, redirect_uris, post_logout_redirect_uris, origins, first_party,
                                  scopes, secret_hash, created_at)
       VALUES (@id, @name, @type, @redirectUris, @postLogoutRedirectUris, @origins, @firstParty, @scopes,
               @secretHash, @createdAt)
       ON CONFLICT (id) DO NOTHING`,
    ),
    client: db.prepare('SELECT * FROM oauth_clients WHERE id = ?'),
    clients: db.prepare('SELECT * FROM oauth_clients ORDER BY id'),
    // Its consents go with it (ON DELETE CASCADE).
    deleteClient: db.prepare('DELETE FROM oauth_clients WHERE id = ?'),
    // One statement, so the checks and the write are one step under the write lock: a consent of a user or to a
    // client that is gone is skipped (the foreign keys would fail it), as no store keeps one; it would otherwise
    // pass to a client registered again under that id.
    putConsent: db.prepare(
      `INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at)
       SELECT @userId, @clientId, @scopes, @grantedAt
       WHERE EXISTS (SELECT 1 FROM users WHERE id = @userId)
         AND EXISTS (SELECT 1 FROM oauth_clients WHERE id = @clientId)
       ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
    ),
    consent: db.prepare('SELECT * FROM oauth_consents WHERE user_id = ? AND client_id = ?'),
    consentsByUser: db.prepare('SELECT * FROM oauth_consents WHERE user_id = ? ORDER BY client_id'),
    deleteConsent: db.prepare('DELETE FROM oauth_consents WHERE user_id = ? AND client_id = ?'),
    ping: db.prepare('SELECT 1'),
  }

  /**
   * Applies the device limit for one more device of `userId`, inside the caller's transaction: run IMMEDIATE,
   * it holds the write lock from the count to the insert, so no other process can count in between.
   */
  function makeRoom(userId: string, limit: DeviceLimit | undefined): DeviceCreation {
    if (!limit) return { evictedFamilies: [] }
    const sessions = statements.sessionsByUser.all(userId).map((row) => toSession(row)!)
    const families = (statements.familiesByUser.all(userId) as FamilyRow[]).map(toFamily)
    const plan = planDeviceLimit(limit, sessions, families)
    if (plan === DEVICE_LIMIT_REACHED) return plan
    for (const id of plan.sessionIds) statements.deleteUserSession.run(userId, id)
    for (const id of plan.familyIds) statements.revokeFamily.run(limit.now, id)
    return { evictedFamilies: plan.familyIds }
  }
  const createSession = db.transaction((session: SessionRecord, limit: DeviceLimit | undefined) => {
    const room = makeRoom(session.userId, limit)
    if (room !== DEVICE_LIMIT_REACHED) statements.insertSession.run(toSessionParams(session))
    return room
  })
  const createFamily = db.transaction(
    (family: RefreshFamilyRecord, tokenHash: string, limit: DeviceLimit | undefined) => {
      const room = makeRoom(family.userId, limit)
      if (room === DEVICE_LIMIT_REACHED) return room
      statements.insertFamily.run(toFamilyParams(family))
      statements.insertRefreshToken.run(tokenHash, family.id, family.generation)
      return room
    },
  )
  const deleteExpiredRevocationsAndEpochs = db.transaction(
    (now: number) =>
      statements.deleteExpiredRevocations.run(now).changes + statements.deleteExpiredEpochs.run(now).changes,
  )
  // One transaction (run IMMEDIATE: the write lock first), so it commits all three changes or none.
  const endUserDevices = db.transaction(
    (input: {
      userId: string
      epoch: UserEpochRecord | null
      exceptSessionId: string | null
      exceptFamilyId: string | null
      now: number
    }) => {
      if (input.epoch) statements.upsertEpoch.run(input.epoch)
      const sessionsEnded = statements.deleteUserSessions.run(input.userId, input.exceptSessionId).changes
      const familiesRevoked = (
        statements.revokeUserFamilies.all(input.now, input.userId, input.exceptFamilyId) as Array<{
          id: string
        }>
      ).map((row) => row.id)
      return { sessionsEnded, familiesRevoked }
    },
  )
  // Run IMMEDIATE: the write lock is taken before the check, so another process bootstrapping the same file
  // waits (busy_timeout), then finds this key instead of adding its own.
  const createFirstSigningKey = db.transaction((key: SigningKeyRecord): SigningKeyRecord => {
    const existing = statements.unretiredSigningKey.get(key.alg)
    if (existing) return toSigningKey(existing)
    statements.insertSigningKey.run(key)
    return { ...key }
  })
  // The UPDATE's WHERE is the compare; the token row is written only by the one caller whose compare won.
  const rotateFamily = db.transaction(
    (
      familyId: string,
      expectedGeneration: number,
      newTokenHash: string,
      now: number,
      expiresAt: number,
      successorSeal: string,
    ) => {
      const changed =
        statements.rotateFamily.run({ familyId, expectedGeneration, now, expiresAt, successorSeal })
          .changes === 1
      if (changed) statements.insertRefreshToken.run(newTokenHash, familyId, expectedGeneration + 1)
      return changed
    },
  )

  // Run IMMEDIATE, as the identity transactions below: the update skips a taken email, and the user's row is
  // read under the same write lock to tell that apart from a user that is not there.
  const changeUserEmail = db.transaction(
    (userId: string, email: string, verifiedAt: number): boolean | typeof EMAIL_TAKEN => {
      if (!statements.userById.get(userId)) return false
      const params = { userId, email, emailKey: emailKey(email), verifiedAt }
      return statements.changeEmail.run(params).changes === 1 ? true : EMAIL_TAKEN
    },
  )

  // The identity transactions run IMMEDIATE: the write lock is taken before the checks, so another process
  // writing the same file waits (busy_timeout) and then sees this one's change.
  const createUserWithIdentity = db.transaction(
    (
      user: UserRecord,
      identity: FederatedIdentityRecord,
    ): UserRecord | typeof EMAIL_TAKEN | typeof IDENTITY_TAKEN => {
      if (statements.identity.get(identity.provider, identity.subject)) return IDENTITY_TAKEN
      if (statements.insertUser.run(toUserParams(user)).changes === 0) return EMAIL_TAKEN
      statements.insertIdentity.run(identity)
      return copyUser(user)
    },
  )
  const linkIdentity = db.transaction(
    (identity: FederatedIdentityRecord): boolean | typeof IDENTITY_TAKEN | typeof PROVIDER_LINKED => {
      if (!statements.userById.get(identity.userId)) return false
      if (statements.identity.get(identity.provider, identity.subject)) return IDENTITY_TAKEN
      const linked = statements.identitiesByUser.all(identity.userId) as IdentityRow[]
      if (linked.some((row) => row.provider === identity.provider)) return PROVIDER_LINKED
      statements.insertIdentity.run(identity)
      return true
    },
  )
  const unlinkIdentity = db.transaction(
    (userId: string, provider: string): boolean | typeof LAST_SIGN_IN_METHOD => {
      const linked = statements.identitiesByUser.all(userId) as IdentityRow[]
      if (!linked.some((row) => row.provider === provider)) return false
      const owner = toUser(statements.userById.get(userId))
      const { passkeys } = signInMethods(userId)
      if (isLastSignInMethod(owner?.passwordHash, linked.length, passkeys)) return LAST_SIGN_IN_METHOD
      statements.deleteIdentity.run(userId, provider)
      return true
    },
  )
  // Run IMMEDIATE, as the identity transactions: under the write lock from the count to the write, a concurrent
  // unlink or passkey removal (in any process) waits, then counts the password gone.
  const removePassword = db.transaction((userId: string): boolean | typeof LAST_SIGN_IN_METHOD => {
    if (!statements.userById.get(userId)) return false
    const { identities, passkeys } = signInMethods(userId)
    if (isPasswordTheLastSignInMethod(identities, passkeys)) return LAST_SIGN_IN_METHOD
    statements.removePassword.run({ userId, noPassword: NO_PASSWORD })
    return true
  })

  // The factor transactions run IMMEDIATE too: each reads the user (and, for a removal, what else signs them in)
  // under the write lock it then writes with.
  const addFactor = db.transaction((factor: FactorRecord): boolean | typeof FACTOR_TAKEN => {
    if (!statements.userById.get(factor.userId)) return false
    if (statements.factorByLookupKey.get(factor.userId, factor.lookupKey)) return FACTOR_TAKEN
    statements.insertFactor.run(factor)
    return true
  })
  const replaceFactors = db.transaction(
    (userId: string, kind: FactorKind, factors: readonly FactorRecord[]): boolean => {
      if (!statements.userById.get(userId)) return false
      statements.deleteFactorsOfKind.run(userId, kind)
      // A lookup key one of the user's factors of another kind holds fails the insert, and the whole replacement
      // with it: never expected, and a set stored with a factor missing would be worse.
      for (const factor of factors) statements.insertFactor.run(factor)
      return true
    },
  )
  const removeFactor = db.transaction(
    (userId: string, factorId: string): boolean | typeof LAST_SIGN_IN_METHOD => {
      const factor = statements.factorById.get(userId, factorId) as FactorRow | undefined
      if (!factor) return false
      if (factor.kind === 'passkey') {
        const owner = toUser(statements.userById.get(userId))
        const { identities, passkeys } = signInMethods(userId)
        if (isLastSignInMethod(owner?.passwordHash, identities, passkeys)) return LAST_SIGN_IN_METHOD
      }
      statements.deleteFactor.run(userId, factorId)
      return true
    },
  )

  /** How many identities and passkeys `userId` has: what, besides a password, signs the user in. */
  function signInMethods(userId: string): { identities: number; passkeys: number } {
    return statements.signInMethods.get({ userId }) as { identities: number; passkeys: number }
  }

  return {
    kind: 'sqlite',

    createUser: (user) =>
      run(() => (statements.insertUser.run(toUserParams(user)).changes === 1 ? user : EMAIL_TAKEN)),
    findUserByEmail: (email) =>
      run(() => toUser(statements.userByEmail.get({ email, key: emailKey(email) }))),
    findUserById: (id) => run(() => toUser(statements.userById.get(id))),
    updatePasswordHash: (userId, passwordHash) =>
      run(() => statements.updatePasswordHash.run(passwordHash, userId).changes === 1),
    setUserDisabled: (userId, disabledAt) =>
      run(() => statements.setUserDisabled.run(disabledAt, userId).changes === 1),
    setEmailVerified: (userId, email, verifiedAt) =>
      run(() => statements.setEmailVerified.run(verifiedAt, userId, email).changes === 1),
    changeUserEmail: (userId, email, verifiedAt) =>
      run(() => changeUserEmail.immediate(userId, email, verifiedAt)),
    deleteUser: (userId) => run(() => statements.deleteUser.run(userId).changes === 1),

    putOneTimeToken: (token) =>
      run(() => {
        statements.putOneTimeToken.run(token)
      }),
    takeOneTimeToken: (purpose, tokenHash, now) =>
      run(() => toOneTimeToken(statements.takeOneTimeToken.get({ tokenHash, purpose, now }))),
    findOneTimeToken: (purpose, tokenHash, now) =>
      run(() => toOneTimeToken(statements.findOneTimeToken.get({ tokenHash, purpose, now }))),
    deleteExpiredOneTimeTokens: (now) => run(() => statements.deleteExpiredOneTimeTokens.run(now).changes),

    // Checked before `run`, so a caller's mistake stays a TypeError rather than store_unavailable.
    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      return run(() => createUserWithIdentity.immediate(user, identity))
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      return run(() => linkIdentity.immediate(identity))
    },
    findIdentity: (provider, subject) =>
      run(() => {
        const row = statements.identity.get(provider, subject) as IdentityRow | undefined
        return row ? toIdentity(row) : null
      }),
    listUserIdentities: (userId) =>
      run(() => (statements.identitiesByUser.all(userId) as IdentityRow[]).map(toIdentity)),
    unlinkIdentity: (userId, provider) => run(() => unlinkIdentity.immediate(userId, provider)),
    removePassword: (userId) => run(() => removePassword.immediate(userId)),

    addFactor: (factor) => run(() => addFactor.immediate(factor)),
    // Checked before `run`, so a caller's mistake stays a TypeError rather than store_unavailable.
    async replaceFactors(userId, kind, factors) {
      checkReplacement(userId, kind, factors)
      return run(() => replaceFactors.immediate(userId, kind, factors))
    },
    listUserFactors: (userId) =>
      run(() => (statements.factorsByUser.all(userId) as FactorRow[]).map(toFactor)),
    findUserFactor: (userId, lookupKey) =>
      run(() => {
        const row = statements.factorByLookupKey.get(userId, lookupKey) as FactorRow | undefined
        return row ? toFactor(row) : null
      }),
    advanceFactor: (userId, factorId, expectedCounter, counter, now) =>
      run(
        () => statements.advanceFactor.run({ userId, factorId, expectedCounter, counter, now }).changes === 1,
      ),
    takeFactor: (userId, kind, lookupKey) =>
      run(() => statements.takeFactor.run(userId, kind, lookupKey).changes === 1),
    renameFactor: (userId, factorId, name) =>
      run(() => statements.renameFactor.run(name, userId, factorId).changes === 1),
    removeFactor: (userId, factorId) => run(() => removeFactor.immediate(userId, factorId)),

    createSession: (session, limit) => run(() => createSession.immediate(session, limit)),
    findSessionByTokenHash: (tokenHash) => run(() => toSession(statements.sessionByTokenHash.get(tokenHash))),
    findSessionWithUser: (tokenHash) =>
      run(() => {
        const row = statements.sessionWithUser.get(tokenHash) as (SessionRow & PrefixedUserRow) | undefined
        if (!row) return null
        return { session: toSession(row)!, user: row.u_id === null ? null : toUser(unprefixUser(row)) }
      }),
    touchSession: (tokenHash, lastSeenAt, expiresAt) =>
      run(() => statements.touchSession.run(lastSeenAt, expiresAt, tokenHash).changes === 1),
    deleteSessionByTokenHash: (tokenHash) => run(() => statements.deleteSession.run(tokenHash).changes === 1),
    listUserSessions: (userId) =>
      run(() => statements.sessionsByUser.all(userId).map((row) => toSession(row)!)),
    deleteUserSession: (userId, sessionId) =>
      run(() => statements.deleteUserSession.run(userId, sessionId).changes === 1),
    deleteUserSessions: (userId, exceptSessionId) =>
      run(() => statements.deleteUserSessions.run(userId, exceptSessionId).changes),
    deleteExpiredSessions: (now) => run(() => statements.deleteExpired.run(now).changes),

    listSigningKeys: () => run(() => statements.signingKeys.all().map(toSigningKey)),
    createSigningKey: (key) =>
      run(() => {
        statements.insertSigningKey.run(key)
      }),
    createFirstSigningKey: (key) => run(() => createFirstSigningKey.immediate(key)),
    retireSigningKeysExcept: (kid, retiredAt) =>
      run(() => {
        statements.retireSigningKeys.run(retiredAt, kid)
      }),
    deleteSigningKey: (kid) => run(() => statements.deleteSigningKey.run(kid).changes === 1),

    getOrCreateSecret: (name, value) =>
      run(() => {
        statements.insertSecret.run(name, value, Math.floor(Date.now() / 1000))
        return (statements.secret.get(name) as { value: string }).value
      }),

    createRefreshFamily: (family, tokenHash, limit) =>
      run(() => createFamily.immediate(family, tokenHash, limit)),
    findRefreshToken: (tokenHash) =>
      run(() => {
        const row = statements.refreshToken.get(tokenHash) as
          (FamilyRow & { token_generation: number }) | undefined
        return row ? { family: toFamily(row), generation: row.token_generation } : null
      }),
    findRefreshFamily: (familyId) =>
      run(() => {
        const row = statements.family.get(familyId) as FamilyRow | undefined
        return row ? toFamily(row) : null
      }),
    rotateRefreshFamily: (familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal) =>
      run(() =>
        rotateFamily.immediate(familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal),
      ),
    revokeRefreshFamily: (familyId, now) =>
      run(() => statements.revokeFamily.run(now, familyId).changes === 1),
    endUserDevices: (input) => run(() => endUserDevices.immediate(input)),
    deleteExpiredRefreshFamilies: (now) => run(() => statements.deleteExpiredFamilies.run(now).changes),
    listUserRefreshFamilies: (userId) =>
      run(() => (statements.familiesByUser.all(userId) as FamilyRow[]).map(toFamily)),
    revokeUserRefreshFamilies: (userId, now, exceptFamilyId) =>
      run(() =>
        (statements.revokeUserFamilies.all(now, userId, exceptFamilyId) as Array<{ id: string }>).map(
          (row) => row.id,
        ),
      ),

    addAccessRevocation: (revocation) =>
      run(() => {
        statements.upsertRevocation.run(revocation)
      }),
    listAccessRevocations: (now) =>
      run(() =>
        (
          statements.revocations.all(now) as Array<{ kind: 'jti' | 'sid'; value: string; expires_at: number }>
        ).map((row): AccessRevocationRecord => ({
          kind: row.kind,
          value: row.value,
          expiresAt: row.expires_at,
        })),
      ),
    deleteExpiredAccessRevocations: (now) => run(() => deleteExpiredRevocationsAndEpochs(now)),
    setUserEpoch: (epoch) =>
      run(() => {
        statements.upsertEpoch.run(epoch)
      }),
    listUserEpochs: (now) =>
      run(() =>
        (statements.epochs.all(now) as Array<{ user_id: string; epoch: number; expires_at: number }>).map(
          (row): UserEpochRecord => ({ userId: row.user_id, epoch: row.epoch, expiresAt: row.expires_at }),
        ),
      ),

    hitRateLimit: (key, windowSeconds, now) =>
      run(() => {
        const slot = rateLimitSlot(key, windowSeconds, now)
        statements.purgeRates.run(now) // counters of ended windows; indexed, usually nothing to do
        return (statements.hitRate.get(slot.id, slot.endsAt) as { count: number }).count
      }),
    countRateLimit: (key, windowSeconds, now) =>
      run(
        () =>
          (
            statements.countRate.get(rateLimitSlot(key, windowSeconds, now).id) as
              { count: number } | undefined
          )?.count ?? 0,
      ),
    resetRateLimit: (key, windowSeconds, now) =>
      run(() => {
        statements.resetRate.run(rateLimitSlot(key, windowSeconds, now).id)
      }),

    createClient: (client) =>
      run(() =>
        statements.insertClient.run(toClientParams(client)).changes === 1 ? copyClient(client) : CLIENT_TAKEN,
      ),
    findClient: (clientId) => run(() => toClient(statements.client.get(clientId))),
    listClients: () => run(() => statements.clients.all().map((row) => toClient(row)!)),
    deleteClient: (clientId) => run(() => statements.deleteClient.run(clientId).changes === 1),

    putConsent: (consent) =>
      run(() => {
        statements.putConsent.run({ ...consent, scopes: JSON.stringify(consent.scopes) })
      }),
    findConsent: (userId, clientId) => run(() => toConsent(statements.consent.get(userId, clientId))),
    listUserConsents: (userId) =>
      run(() => statements.consentsByUser.all(userId).map((row) => toConsent(row)!)),
    deleteConsent: (userId, clientId) =>
      run(() => statements.deleteConsent.run(userId, clientId).changes === 1),

    claimOnce: (key, expiresAt, now) =>
      run(() => statements.claim.run({ key, expiresAt, now }).changes === 1),
    deleteExpiredClaims: (now) => run(() => statements.deleteExpiredClaims.run(now).changes),

    changes: createLocalChangeFeed(),

    ping: () =>
      run(() => {
        statements.ping.get()
      }),
    async close() {
      if (db.open) db.close()
    },
  }
}

/** Runs one statement, turning driver failures (busy, disk, closed) into `store_unavailable`. */
async function run<T>(operation: () => T): Promise<T> {
  try {
    return operation()
  } catch (error) {
    throw new AuthError('store_unavailable', 'The SQLite store could not complete the operation.', {
      cause: error,
    })
  }
}

function openDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  // Create the file ourselves so it is never world-readable, even for an instant.
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  return db
}

/** The schema version of the file: the latest migration it records, 0 for a file with none. */
function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
    .get()
  if (!table) return 0
  return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
}

/** For a read-only open: refuses a file whose schema is not exactly the one this Sesame's statements expect. */
function checkSchema(db: Database.Database, migrations: readonly Migration[]): void {
  let current: number
  try {
    current = schemaVersion(db)
  } catch (error) {
    db.close()
    throw error
  }
  const latest = migrations.at(-1)?.version ?? 0
  if (current === latest) return
  db.close()
  throw new Error(
    current > latest
      ? `The SQLite database is at schema version ${current}, newer than this Sesame knows (${latest}); upgrade Sesame.`
      : `The SQLite database is at schema version ${current}, older than this Sesame's (${latest}); run sesame migrate.`,
  )
}

/** Applies every migration newer than the file's version; refuses a file written by a newer Sesame. */
function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
           ) STRICT`)
  const current =
    (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
  const latest = migrations.at(-1)?.version ?? 0
  if (current > latest) {
    db.close()
    throw new Error(
      `The SQLite database is at schema version ${current}, newer than this Sesame knows (${latest}); upgrade Sesame.`,
    )
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const migration of migrations) {
    if (migration.version <= current) continue
    const notes = db
      .transaction(() => {
        db.exec(migration.sql)
        const notes = migration.run?.(db) ?? []
        record.run(migration.version, migration.name, Math.floor(Date.now() / 1000))
        return notes
      })
      .immediate()
    warnKeylessUsers(notes)
  }
}

interface UserRow {
  id: string
  email: string
  /** {@link NO_PASSWORD} for a user without one. */
  password_hash: string
  roles: string
  created_at: number
  disabled_at: number | null
  email_verified_at: number | null
}

interface SessionRow {
  token_hash: string
  id: string
  user_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  absolute_expires_at: number
  user_agent: string | null
  ip: string | null
  /** The sign-in methods, as `methodListText` (core/sign-in-methods.ts) stores them. */
  amr: string
}

/** A user's columns beside a session's, as the session-with-user join names them. */
type PrefixedUserRow = { [K in keyof UserRow as `u_${K}`]: UserRow[K] | null }

function unprefixUser(row: PrefixedUserRow): UserRow {
  return {
    id: row.u_id!,
    email: row.u_email!,
    password_hash: row.u_password_hash!,
    roles: row.u_roles!,
    created_at: row.u_created_at!,
    disabled_at: row.u_disabled_at,
    email_verified_at: row.u_email_verified_at,
  }
}

/** A user as the insert statement names its parameters. */
function toUserParams(user: UserRecord) {
  return {
    ...user,
    emailKey: emailKey(user.email),
    passwordHash: user.passwordHash ?? NO_PASSWORD,
    roles: JSON.stringify(user.roles),
  }
}

function toUser(row: unknown): UserRecord | null {
  if (row === undefined) return null
  const r = row as UserRow
  return {
    id: r.id,
    email: r.email,
    passwordHash: r.password_hash === NO_PASSWORD ? null : r.password_hash,
    roles: JSON.parse(r.roles) as string[],
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    emailVerifiedAt: r.email_verified_at,
  }
}

function copyUser(user: UserRecord): UserRecord {
  return { ...user, roles: [...user.roles] }
}

interface IdentityRow {
  provider: string
  subject: string
  user_id: string
  email: string | null
  created_at: number
}

function toIdentity(r: IdentityRow): FederatedIdentityRecord {
  return {
    provider: r.provider,
    subject: r.subject,
    userId: r.user_id,
    email: r.email,
    createdAt: r.created_at,
  }
}

interface OneTimeTokenRow {
  token_hash: string
  user_id: string
  purpose: OneTimeTokenPurpose
  email: string
  created_at: number
  expires_at: number
}

function toOneTimeToken(row: unknown): OneTimeTokenRecord | null {
  if (row === undefined) return null
  const r = row as OneTimeTokenRow
  return {
    tokenHash: r.token_hash,
    userId: r.user_id,
    purpose: r.purpose,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    email: r.email,
  }
}

/** A session as the insert statement names its parameters: the sign-in methods as one text. */
function toSessionParams(session: SessionRecord) {
  return { ...session, amr: methodListText(session.amr) }
}

function toSession(row: unknown): SessionRecord | null {
  if (row === undefined) return null
  const r = row as SessionRow
  return {
    id: r.id,
    tokenHash: r.token_hash,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    absoluteExpiresAt: r.absolute_expires_at,
    userAgent: r.user_agent,
    ip: r.ip,
    amr: parseMethodListText(r.amr),
  }
}

interface FamilyRow {
  id: string
  user_id: string
  created_at: number
  last_used_at: number
  expires_at: number
  absolute_expires_at: number
  generation: number
  rotated_at: number | null
  revoked_at: number | null
  user_agent: string | null
  ip: string | null
  successor_seal: string | null
  client_id: string | null
  scope: string | null
  /** The sign-in methods, as `methodListText` (core/sign-in-methods.ts) stores them. */
  amr: string
}

/** A family as the insert statement names its parameters: the sign-in methods as one text. */
function toFamilyParams(family: RefreshFamilyRecord) {
  return { ...family, amr: methodListText(family.amr) }
}

function toFamily(r: FamilyRow): RefreshFamilyRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    absoluteExpiresAt: r.absolute_expires_at,
    generation: r.generation,
    rotatedAt: r.rotated_at,
    revokedAt: r.revoked_at,
    userAgent: r.user_agent,
    ip: r.ip,
    successorSeal: r.successor_seal,
    clientId: r.client_id,
    scope: r.scope,
    amr: parseMethodListText(r.amr),
  }
}

interface FactorRow {
  id: string
  user_id: string
  kind: FactorKind
  lookup_key: string
  name: string
  data: string
  counter: number
  created_at: number
  last_used_at: number | null
}

function toFactor(r: FactorRow): FactorRecord {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    lookupKey: r.lookup_key,
    name: r.name,
    data: r.data,
    counter: r.counter,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  }
}

interface ClientRow {
  id: string
  name: string
  type: ClientType
  redirect_uris: string
  post_logout_redirect_uris: string
  origins: string
  first_party: 0 | 1
  scopes: string
  secret_hash: string | null
  created_at: number
}

/** A client as the insert statement names its parameters: lists as JSON, the flag as 0 or 1. */
function toClientParams(client: OAuthClientRecord) {
  return {
    ...client,
    redirectUris: JSON.stringify(client.redirectUris),
    postLogoutRedirectUris: JSON.stringify(client.postLogoutRedirectUris),
    origins: JSON.stringify(client.origins),
    firstParty: client.firstParty ? 1 : 0,
    scopes: JSON.stringify(client.scopes),
  }
}

function toClient(row: unknown): OAuthClientRecord | null {
  if (row === undefined) return null
  const r = row as ClientRow
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    origins: JSON.parse(r.origins) as string[],
    firstParty: r.first_party === 1,
    scopes: JSON.parse(r.scopes) as string[],
    secretHash: r.secret_hash,
    createdAt: r.created_at,
  }
}

interface ConsentRow {
  user_id: string
  client_id: string
  scopes: string
  granted_at: number
}

function toConsent(row: unknown): ConsentRecord | null {
  if (row === undefined) return null
  const r = row as ConsentRow
  return {
    userId: r.user_id,
    clientId: r.client_id,
    scopes: JSON.parse(r.scopes) as string[],
    grantedAt: r.granted_at,
  }
}

function toSigningKey(row: unknown): SigningKeyRecord {
  const r = row as {
    kid: string
    alg: string
    private_jwk: string
    created_at: number
    activates_at: number
    retired_at: number | null
  }
  return {
    kid: r.kid,
    alg: r.alg,
    privateJwk: r.private_jwk,
    createdAt: r.created_at,
    activatesAt: r.activates_at,
    retiredAt: r.retired_at,
  }
}
