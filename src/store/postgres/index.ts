/**
 * The PostgreSQL store: the durable source of truth that many instances share. Every table lives in one
 * schema (default `sesame`), migrated at startup; revocations travel between instances over LISTEN/NOTIFY.
 *
 * Operational choices:
 * - Every method is one SQL statement, hence one atomic change, with no interactive transaction holding a
 *   pooled connection across round trips. Writes that touch two tables (a family and its token) use a
 *   data-modifying CTE; compare-and-set is an UPDATE whose WHERE is the compare, so concurrent callers
 *   serialise on the row lock and exactly one wins. The exceptions are `createFirstSigningKey`, run once per
 *   store's life, a create under a device limit (`createUnderLimit`), the changes that check other rows than
 *   the one they write (`linkIdentity`, and the removals of a way to sign in: `unlinkIdentity`,
 *   `removePassword`, `removeFactor`), and those that write several dependent rows (`createUserWithIdentity`,
 *   `replaceFactors`): each needs a lock and a fresh snapshot after it, or a rollback (see there).
 * - Each operation is bounded by `timeoutMs` (see `connection.ts`): a dead server yields `store_unavailable`
 *   within that bound, never a hang, and every driver error becomes `store_unavailable` with its cause.
 * - postgres.js prepares each statement once per connection and reuses it; behind PgBouncer in transaction
 *   mode that needs PgBouncer 1.21 or later (prepared statement support), and LISTEN needs session mode.
 */
import { emailKey } from '../../core/email.js'
import { warnKeylessUsers } from '../email-keys.js'
import { rateLimitSlot } from '../rate-window.js'
import { planDeviceLimit } from '../device-limit.js'
import {
  CLIENT_TAKEN,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  FACTOR_TAKEN,
  type FederatedIdentityRecord,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  PROVIDER_LINKED,
  type Store,
  type UserRecord,
} from '../types.js'
import { copyClient } from '../clients.js'
import { checkReplacement } from '../factors.js'
import { checkIdentity, isLastSignInMethod, isPasswordTheLastSignInMethod } from '../identities.js'
import { methodListText } from '../../core/sign-in-methods.js'
import { announcingWrites } from '../local-announcements.js'
import { createPostgresChangeFeed } from './change-feed.js'
import { assertSchemaName, bounded, openPool, type Sql, unavailable } from './connection.js'
import { migratePostgres } from './migrations.js'
import {
  type ClientRow,
  type ConsentRow,
  type EpochRow,
  type FactorRow,
  type FamilyRow,
  type IdentityRow,
  type OneTimeTokenRow,
  type RevocationRow,
  type PrefixedUserRow,
  type SessionRow,
  type SigningKeyRow,
  type UserRow,
  toClient,
  toConsent,
  toEpoch,
  toFactor,
  toFamily,
  toIdentity,
  toOneTimeToken,
  toRevocation,
  toSession,
  toSigningKey,
  toUser,
  unprefixUser,
} from './rows.js'

export { migratePostgres, POSTGRES_MIGRATIONS, SchemaTooNewError } from './migrations.js'
export type { MigrationReport, PostgresMigration } from './migrations.js'

export interface PostgresStoreOptions {
  /** Connection URL: `postgres://user:password@host:port/database` (TLS via `?sslmode=require`). */
  url: string
  /** Schema holding every table, created if missing. Lowercase letters, digits, underscores. Default `sesame`. */
  schema?: string
  /** Apply pending migrations before returning. Default true; false leaves it to `sesame migrate`. */
  migrate?: boolean
  /** Upper bound on one operation, in milliseconds, waiting for a connection included. Default 1500. */
  timeoutMs?: number
  /** Upper bound on one connection attempt (TCP, TLS, authentication), in milliseconds. Default 1000. */
  connectTimeoutMs?: number
  /** Pool size. Default 10. */
  maxConnections?: number
  /** `application_name`, shown in `pg_stat_activity`. Default `sesame`. */
  applicationName?: string
}

/** A rate-limit hit deletes at most this many counters of ended windows, so no hit does unbounded work. */
const RATE_PURGE_BATCH = 100
/**
 * Seconds a counter outlives its window before a hit purges it. Instances share the table but not a clock:
 * without this, an instance a second ahead would purge the window its peers are still counting in, and
 * their next hit would start again at 1.
 */
const RATE_PURGE_GRACE = 60

const DEFAULTS = {
  schema: 'sesame',
  migrate: true,
  // Milliseconds: long enough for a loaded server's slowest indexed statement, short enough that a request
  // fails fast (503) rather than piling up behind a dead database.
  timeoutMs: 1500,
  // Milliseconds: a reachable server completes TCP, TLS and authentication well within this.
  connectTimeoutMs: 1000,
  maxConnections: 10,
  applicationName: 'sesame',
} as const

/**
 * Opens a PostgreSQL {@link Store}, migrating its schema first unless `migrate: false`. Rejects with
 * `store_unavailable` when the server cannot be reached, with `SchemaTooNewError` when the schema was
 * migrated by a newer Sesame, and throws a `TypeError` for invalid options.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  if (typeof options.url !== 'string' || options.url === '') {
    throw new TypeError('The PostgreSQL "url" must be a non-empty connection string.')
  }
  const config = Object.freeze({
    url: options.url,
    schema: options.schema ?? DEFAULTS.schema,
    migrate: options.migrate ?? DEFAULTS.migrate,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
    applicationName: options.applicationName ?? DEFAULTS.applicationName,
  })
  assertSchemaName(config.schema)
  for (const key of ['timeoutMs', 'connectTimeoutMs', 'maxConnections'] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] <= 0) {
      throw new TypeError(`The PostgreSQL "${key}" must be a positive integer.`)
    }
  }
  const sql = openPool(config)
  if (config.migrate) {
    try {
      warnKeylessUsers((await migratePostgres(sql, config.schema)).notes)
    } catch (error) {
      await sql.end({ timeout: 0 })
      throw error
    }
  }
  return buildStore(sql, config.schema, config.timeoutMs)
}

/** The SQLSTATE of `error` as {@link bounded} rejects it (PostgreSQL's error is its cause); undefined if none. */
function sqlState(error: unknown): unknown {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined
  return cause?.code
}

/**
 * Whether `error` is PostgreSQL's unique_violation: a UNIQUE index refused the write, after waiting for any
 * concurrent writer of the same value to commit.
 */
function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505'
}

/**
 * Whether `error` is PostgreSQL's foreign_key_violation: a row the write names is gone, or was deleted by a
 * concurrent transaction the write waited for.
 */
function isForeignKeyViolation(error: unknown): boolean {
  return sqlState(error) === '23503'
}

/** Thrown inside a {@link buildStore} transaction to roll it back; the transaction then answers `result`. */
class Rollback<T> extends Error {
  readonly result: T
  constructor(result: T) {
    super('The transaction was rolled back on purpose.')
    this.result = result
  }
}

function buildStore(sql: Sql, schema: string, timeoutMs: number): Store {
  const run = <T>(query: PromiseLike<T>): Promise<T> => bounded(query, timeoutMs)
  const changes = createPostgresChangeFeed(sql, schema, timeoutMs)
  const NO_EVICTIONS: DeviceCreation = { evictedFamilies: [] }

  /** Runs `body` as one transaction under the operation bound; a {@link Rollback} it throws is its answer. */
  function transaction<T>(body: (tx: Sql) => Promise<T>): Promise<T> {
    const work = sql.begin((tx) => body(tx as unknown as Sql)) as Promise<T>
    return run(
      work.catch((error: unknown) => {
        if (error instanceof Rollback) return error.result as T
        throw error
      }),
    )
  }

  /** No conflict target: a taken email or a taken email key (both UNIQUE) inserts nothing. */
  function insertUser(q: Sql, user: UserRecord) {
    return q`
      INSERT INTO users (id, email, email_key, password_hash, roles, created_at, disabled_at, email_verified_at)
      VALUES (${user.id}, ${user.email}, ${emailKey(user.email)}, ${user.passwordHash},
              ${q.json([...user.roles])}, ${user.createdAt}, ${user.disabledAt}, ${user.emailVerifiedAt})
      ON CONFLICT DO NOTHING
      RETURNING id`
  }

  /** No conflict target: an identity linked already, or a second one at the user's provider, inserts nothing. */
  function insertIdentity(q: Sql, i: FederatedIdentityRecord) {
    return q`
      INSERT INTO federated_identities (provider, subject, user_id, email, created_at)
      VALUES (${i.provider}, ${i.subject}, ${i.userId}, ${i.email}, ${i.createdAt})
      ON CONFLICT DO NOTHING
      RETURNING 1`
  }

  /**
   * Locks the user's row for the rest of the transaction and reads its password hash; undefined when there is
   * no such user. Every change to a user's identities, every removal of a way to sign in and every replacement
   * of factors takes this lock first, so they serialise per user across instances, and each statement after it
   * sees every commit made before it was granted. NO KEY UPDATE leaves inserts of sessions, families and
   * factors (which only reference the row) free to run.
   */
  async function lockUser(tx: Sql, userId: string): Promise<{ password_hash: string | null } | undefined> {
    const [owner] = await tx<Array<{ password_hash: string | null }>>`
      SELECT password_hash FROM users WHERE id = ${userId} FOR NO KEY UPDATE`
    return owner
  }

  /**
   * The user's other ways to sign in than a password: the providers of its identities, and how many passkeys it
   * has. Read after {@link lockUser}, in a statement of its own: a statement's snapshot is taken when it starts,
   * so only one that starts once the lock is granted sees the removal that held it.
   */
  async function waysIn(tx: Sql, userId: string): Promise<{ providers: string[]; passkeys: number }> {
    const [row] = await tx<Array<{ providers: string[]; passkeys: number }>>`
      SELECT coalesce((SELECT json_agg(provider) FROM federated_identities WHERE user_id = ${userId}),
                      '[]'::json) AS providers,
             (SELECT count(*) FROM factors WHERE user_id = ${userId} AND kind = 'passkey')::int4 AS passkeys`
    return row!
  }

  /**
   * Runs `insert` (a session's or a family's) under `limit`, if any. With a limit it is the second
   * multi-statement transaction here (see `createFirstSigningKey` for why one statement cannot count and
   * insert): a per-user advisory lock serialises the user's limited creates across instances, and each
   * statement after it sees every commit made before it was granted. Creates without a limit never take it.
   */
  function createUnderLimit(
    userId: string,
    limit: DeviceLimit | undefined,
    insert: (tx: Sql) => PromiseLike<unknown>,
  ): Promise<DeviceCreation> {
    if (!limit) return run(insert(sql)).then(() => NO_EVICTIONS)
    return run(
      sql.begin(async (tx): Promise<DeviceCreation> => {
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`sesame.devices:${schema}:${userId}`}, 0))`
        const sessions = await tx<SessionRow[]>`SELECT * FROM sessions WHERE user_id = ${userId}`
        const families = await tx<FamilyRow[]>`SELECT * FROM refresh_families WHERE user_id = ${userId}`
        const plan = planDeviceLimit(limit, sessions.map(toSession), families.map(toFamily))
        if (plan === DEVICE_LIMIT_REACHED) return plan
        if (plan.familyIds.length > 0) {
          await tx`
            UPDATE refresh_families SET revoked_at = ${limit.now}
            WHERE user_id = ${userId} AND id IN ${tx(plan.familyIds)}`
        }
        await insert(tx as unknown as Sql)
        // Last: its trigger locks the notice count until the commit (migration 12). Every other writer takes
        // that lock last too (one statement each), so no two can wait on each other in a cycle.
        if (plan.sessionIds.length > 0)
          await tx`DELETE FROM sessions WHERE user_id = ${userId} AND id IN ${tx(plan.sessionIds)}`
        return { evictedFamilies: plan.familyIds }
      }),
    )
  }

  return announcingWrites(changes, {
    kind: 'postgres',

    async createUser(user) {
      const rows = await run(insertUser(sql, user))
      return rows.length === 1 ? { ...user, roles: [...user.roles] } : EMAIL_TAKEN
    },
    async findUserByEmail(email) {
      // The exact email first: it differs from the key's holder only for accounts the key migration left keyless.
      const [row] = await run(sql<UserRow[]>`
        SELECT * FROM users WHERE email = ${email} OR email_key = ${emailKey(email)}
        ORDER BY email = ${email} DESC LIMIT 1`)
      return row ? toUser(row) : null
    },
    async findUserById(id) {
      const [row] = await run(sql<UserRow[]>`SELECT * FROM users WHERE id = ${id}`)
      return row ? toUser(row) : null
    },
    async updatePasswordHash(userId, passwordHash) {
      const result = await run(sql`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`)
      return result.count === 1
    },
    async setUserDisabled(userId, disabledAt) {
      const result = await run(sql`UPDATE users SET disabled_at = ${disabledAt} WHERE id = ${userId}`)
      return result.count === 1
    },
    async setEmailVerified(userId, email, verifiedAt) {
      const result = await run(sql`
        UPDATE users SET email_verified_at = ${verifiedAt} WHERE id = ${userId} AND email = ${email}`)
      return result.count === 1
    },
    async changeUserEmail(userId, email, verifiedAt) {
      // One statement, and the UNIQUE indexes on email and email_key are the check: an update to a value another
      // user holds, or one a concurrent change or sign-up has just written, waits for that writer and then fails
      // whole. A user moving to a look-alike of its own email keeps its own key, which no index refuses.
      try {
        const result = await run(sql`
          UPDATE users SET email = ${email}, email_key = ${emailKey(email)}, email_verified_at = ${verifiedAt}
          WHERE id = ${userId}`)
        return result.count === 1
      } catch (error) {
        if (isUniqueViolation(error)) return EMAIL_TAKEN
        throw error
      }
    },
    async deleteUser(userId) {
      // One statement: its identities, factors, one-time tokens, consents, sessions and families (with their
      // tokens) go with it, every one of those tables naming the user by a foreign key ON DELETE CASCADE. Epochs
      // name none, and stay.
      const result = await run(sql`DELETE FROM users WHERE id = ${userId}`)
      return result.count === 1
    },

    async putOneTimeToken(t) {
      // One statement: the user's token of that purpose, if any, is replaced whole. Concurrent puts for one user
      // and purpose queue on its row, and the last to commit is the token that stays.
      await run(sql`
        INSERT INTO one_time_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
        VALUES (${t.tokenHash}, ${t.userId}, ${t.purpose}, ${t.email}, ${t.createdAt}, ${t.expiresAt})
        ON CONFLICT (user_id, purpose) DO UPDATE
        SET token_hash = EXCLUDED.token_hash, email = EXCLUDED.email, created_at = EXCLUDED.created_at,
            expires_at = EXCLUDED.expires_at`)
    },
    async takeOneTimeToken(purpose, tokenHash, now) {
      // Concurrent takes queue on the row; once the first commits, the others find it gone and delete nothing.
      const [row] = await run(sql<OneTimeTokenRow[]>`
        DELETE FROM one_time_tokens
        WHERE token_hash = ${tokenHash} AND purpose = ${purpose} AND expires_at > ${now}
        RETURNING *`)
      return row ? toOneTimeToken(row) : null
    },
    async findOneTimeToken(purpose, tokenHash, now) {
      const [row] = await run(sql<OneTimeTokenRow[]>`
        SELECT * FROM one_time_tokens
        WHERE token_hash = ${tokenHash} AND purpose = ${purpose} AND expires_at > ${now}`)
      return row ? toOneTimeToken(row) : null
    },
    async deleteExpiredOneTimeTokens(now) {
      const result = await run(sql`DELETE FROM one_time_tokens WHERE expires_at <= ${now}`)
      return result.count
    },

    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      // A transaction: the identity row can only follow its user's (the foreign key), and the user must go again
      // when the identity turns out taken. Each insert skips on a conflict after waiting for a concurrent
      // inserter of the same email or identity to commit, so of racing sign-ups exactly one stores anything.
      return transaction(async (tx) => {
        const [linked] = await tx`
          SELECT 1 FROM federated_identities
          WHERE provider = ${identity.provider} AND subject = ${identity.subject}`
        if (linked) return IDENTITY_TAKEN
        if ((await insertUser(tx, user)).length === 0) return EMAIL_TAKEN
        if ((await insertIdentity(tx, identity)).length === 0) throw new Rollback(IDENTITY_TAKEN)
        return { ...user, roles: [...user.roles] }
      })
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      return transaction(async (tx) => {
        if (!(await lockUser(tx, identity.userId))) return false
        const [taken] = await tx`
          SELECT 1 FROM federated_identities
          WHERE provider = ${identity.provider} AND subject = ${identity.subject}`
        if (taken) return IDENTITY_TAKEN
        const [linked] = await tx`
          SELECT 1 FROM federated_identities
          WHERE user_id = ${identity.userId} AND provider = ${identity.provider}`
        if (linked) return PROVIDER_LINKED
        // A link of this identity to another user holds another lock: the insert waits for it, then skips.
        return (await insertIdentity(tx, identity)).length === 1 ? true : IDENTITY_TAKEN
      })
    },
    async findIdentity(provider, subject) {
      const [row] = await run(sql<IdentityRow[]>`
        SELECT * FROM federated_identities WHERE provider = ${provider} AND subject = ${subject}`)
      return row ? toIdentity(row) : null
    },
    async listUserIdentities(userId) {
      const rows = await run(sql<IdentityRow[]>`
        SELECT * FROM federated_identities WHERE user_id = ${userId} ORDER BY created_at, provider`)
      return rows.map(toIdentity)
    },
    unlinkIdentity(userId, provider) {
      // Under the user's lock: as one statement, two unlinks of a user's two identities (or an unlink and the
      // removal of the last passkey) would each see the other's row in its snapshot, and both delete.
      return transaction(async (tx) => {
        const owner = await lockUser(tx, userId)
        if (!owner) return false
        const { providers, passkeys } = await waysIn(tx, userId)
        if (!providers.includes(provider)) return false
        if (isLastSignInMethod(owner.password_hash, providers.length, passkeys)) return LAST_SIGN_IN_METHOD
        await tx`DELETE FROM federated_identities WHERE user_id = ${userId} AND provider = ${provider}`
        return true
      })
    },
    removePassword(userId) {
      // Under the user's lock, as the unlinks and passkey removals it must not race. The UPDATE announces the change
      // (the users trigger, migration 12); a user without a password is left untouched (no notice).
      return transaction(async (tx) => {
        const owner = await lockUser(tx, userId)
        if (!owner) return false
        const { providers, passkeys } = await waysIn(tx, userId)
        if (isPasswordTheLastSignInMethod(providers.length, passkeys)) return LAST_SIGN_IN_METHOD
        if (owner.password_hash === null) return true
        await tx`UPDATE users SET password_hash = NULL WHERE id = ${userId}`
        return true
      })
    },

    async addFactor(f) {
      // One statement. Of concurrent adds with one lookup key, the later ones wait for the first to commit and
      // then skip; the foreign key is the check that the user exists (as for consents).
      try {
        const rows = await run(sql`
          INSERT INTO factors (id, user_id, kind, lookup_key, name, data, counter, created_at, last_used_at)
          VALUES (${f.id}, ${f.userId}, ${f.kind}, ${f.lookupKey}, ${f.name}, ${f.data}, ${f.counter},
                  ${f.createdAt}, ${f.lastUsedAt})
          ON CONFLICT (user_id, lookup_key) DO NOTHING
          RETURNING 1`)
        return rows.length === 1 ? true : FACTOR_TAKEN
      } catch (error) {
        if (isForeignKeyViolation(error)) return false
        throw error
      }
    },
    async replaceFactors(userId, kind, factors) {
      checkReplacement(userId, kind, factors)
      // A transaction under the user's lock: concurrent replacements queue on it, and the DELETE of each, a
      // statement started once the lock is granted, sees (and removes) the set the one before it inserted. So one
      // whole set is left, never a mix; a failure part-way rolls back to the set before.
      return transaction(async (tx) => {
        if (!(await lockUser(tx, userId))) return false
        await tx`DELETE FROM factors WHERE user_id = ${userId} AND kind = ${kind}`
        if (factors.length > 0) {
          await tx`
            INSERT INTO factors ${tx(
              factors.map((f) => ({
                id: f.id,
                user_id: f.userId,
                kind: f.kind,
                lookup_key: f.lookupKey,
                name: f.name,
                data: f.data,
                counter: f.counter,
                created_at: f.createdAt,
                last_used_at: f.lastUsedAt,
              })),
            )}`
        }
        return true
      })
    },
    async listUserFactors(userId) {
      // `id` is COLLATE "C" (migration 13): ties sort in code-unit order, as every store's.
      const rows = await run(sql<FactorRow[]>`
        SELECT * FROM factors WHERE user_id = ${userId} ORDER BY created_at, id`)
      return rows.map(toFactor)
    },
    async findUserFactor(userId, lookupKey) {
      const [row] = await run(sql<FactorRow[]>`
        SELECT * FROM factors WHERE user_id = ${userId} AND lookup_key = ${lookupKey}`)
      return row ? toFactor(row) : null
    },
    async advanceFactor(userId, factorId, expectedCounter, counter, now) {
      // Compare-and-set: the WHERE is the compare. Concurrent uses queue on the row lock, and PostgreSQL re-checks
      // the WHERE against the row the winner committed, so the others match nothing.
      const result = await run(sql`
        UPDATE factors SET counter = ${counter}, last_used_at = ${now}
        WHERE user_id = ${userId} AND id = ${factorId} AND counter = ${expectedCounter}`)
      return result.count === 1
    },
    async takeFactor(userId, kind, lookupKey) {
      // Concurrent takes queue on the row; once the first commits, the others find it gone and delete nothing.
      const result = await run(sql`
        DELETE FROM factors WHERE user_id = ${userId} AND lookup_key = ${lookupKey} AND kind = ${kind}`)
      return result.count === 1
    },
    async renameFactor(userId, factorId, name) {
      const result = await run(sql`
        UPDATE factors SET name = ${name} WHERE user_id = ${userId} AND id = ${factorId}`)
      return result.count === 1
    },
    removeFactor(userId, factorId) {
      // Under the user's lock, as `unlinkIdentity` and for its reason: two removals of a user's two passkeys, as
      // one statement each, would each see the other passkey in its snapshot, and both delete.
      return transaction(async (tx) => {
        const owner = await lockUser(tx, userId)
        if (!owner) return false
        const [factor] = await tx<Array<{ kind: string }>>`
          SELECT kind FROM factors WHERE user_id = ${userId} AND id = ${factorId}`
        if (!factor) return false
        if (factor.kind === 'passkey') {
          const { providers, passkeys } = await waysIn(tx, userId)
          if (isLastSignInMethod(owner.password_hash, providers.length, passkeys)) return LAST_SIGN_IN_METHOD
        }
        await tx`DELETE FROM factors WHERE user_id = ${userId} AND id = ${factorId}`
        return true
      })
    },

    createSession(s, limit) {
      return createUnderLimit(
        s.userId,
        limit,
        (q) => q`
        INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at,
                              absolute_expires_at, user_agent, ip, amr)
        VALUES (${s.tokenHash}, ${s.id}, ${s.userId}, ${s.createdAt}, ${s.lastSeenAt}, ${s.expiresAt},
                ${s.absoluteExpiresAt}, ${s.userAgent}, ${s.ip}, ${methodListText(s.amr)})`,
      )
    },
    async findSessionByTokenHash(tokenHash) {
      const [row] = await run(sql<SessionRow[]>`SELECT * FROM sessions WHERE token_hash = ${tokenHash}`)
      return row ? toSession(row) : null
    },
    async findSessionWithUser(tokenHash) {
      const [row] = await run(sql<Array<SessionRow & PrefixedUserRow>>`
        SELECT s.*, u.id AS u_id, u.email AS u_email, u.password_hash AS u_password_hash, u.roles AS u_roles,
               u.created_at AS u_created_at, u.disabled_at AS u_disabled_at,
               u.email_verified_at AS u_email_verified_at
        FROM sessions s LEFT JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = ${tokenHash}`)
      if (!row) return null
      return { session: toSession(row), user: row.u_id === null ? null : toUser(unprefixUser(row)) }
    },
    async touchSession(tokenHash, lastSeenAt, expiresAt) {
      // A plain UPDATE: it matches nothing once the session is deleted, so a renewal never resurrects it.
      const result = await run(sql`
        UPDATE sessions SET last_seen_at = ${lastSeenAt}, expires_at = ${expiresAt}
        WHERE token_hash = ${tokenHash}`)
      return result.count === 1
    },
    async deleteSessionByTokenHash(tokenHash) {
      const result = await run(sql`DELETE FROM sessions WHERE token_hash = ${tokenHash}`)
      return result.count === 1
    },
    async listUserSessions(userId) {
      const rows = await run(sql<SessionRow[]>`
        SELECT * FROM sessions WHERE user_id = ${userId} ORDER BY created_at, id`)
      return rows.map(toSession)
    },
    async deleteUserSession(userId, sessionId) {
      const result = await run(sql`DELETE FROM sessions WHERE user_id = ${userId} AND id = ${sessionId}`)
      return result.count === 1
    },
    async deleteUserSessions(userId, exceptSessionId) {
      const result = await run(sql`
        DELETE FROM sessions WHERE user_id = ${userId} AND id IS DISTINCT FROM ${exceptSessionId}::text`)
      return result.count
    },
    async deleteExpiredSessions(now) {
      const result = await run(sql`DELETE FROM sessions WHERE expires_at <= ${now}`)
      return result.count
    },

    async listSigningKeys() {
      const rows = await run(sql<SigningKeyRow[]>`
        SELECT * FROM signing_keys ORDER BY created_at DESC, kid DESC`)
      return rows.map(toSigningKey)
    },
    async createSigningKey(key) {
      await run(sql`
        INSERT INTO signing_keys (kid, alg, private_jwk, created_at, activates_at, retired_at)
        VALUES (${key.kid}, ${key.alg}, ${key.privateJwk}, ${key.createdAt}, ${key.activatesAt},
                ${key.retiredAt})`)
    },
    async createFirstSigningKey(key) {
      // The one multi-statement transaction here, on a path taken once per store's life. One statement cannot
      // do it: under READ COMMITTED its check reads the snapshot taken before it waited for any lock, so two
      // concurrent first starts would both find no key. Each statement after the lock sees every commit made
      // before it was granted. The lock is per schema and transaction-level: released by COMMIT or ROLLBACK,
      // and by the server if the connection dies.
      return run(
        sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`sesame.first-signing-key:${schema}`}, 0))`
          const [existing] = await tx<SigningKeyRow[]>`
            SELECT * FROM signing_keys WHERE alg = ${key.alg} AND retired_at IS NULL
            ORDER BY created_at DESC, kid DESC LIMIT 1`
          if (existing) return toSigningKey(existing)
          await tx`
            INSERT INTO signing_keys (kid, alg, private_jwk, created_at, activates_at, retired_at)
            VALUES (${key.kid}, ${key.alg}, ${key.privateJwk}, ${key.createdAt}, ${key.activatesAt},
                    ${key.retiredAt})`
          return { ...key }
        }),
      )
    },
    async retireSigningKeysExcept(kid, retiredAt) {
      await run(sql`
        UPDATE signing_keys SET retired_at = ${retiredAt} WHERE kid <> ${kid} AND retired_at IS NULL`)
    },
    async deleteSigningKey(kid) {
      const result = await run(sql`DELETE FROM signing_keys WHERE kid = ${kid}`)
      return result.count === 1
    },

    async getOrCreateSecret(name, value) {
      // Two statements on purpose. ON CONFLICT DO NOTHING waits for a concurrent inserter to commit, but a
      // SELECT in the same statement would read the snapshot taken before that commit and find nothing; a
      // separate SELECT takes a fresh snapshot. Secrets are never updated or deleted, so nothing can change
      // between the two. Both share one deadline, so the method as a whole keeps the time bound.
      const deadline = Date.now() + timeoutMs
      const [inserted] = await run(sql<Array<{ value: string }>>`
        INSERT INTO secrets (name, value, created_at) VALUES (${name}, ${value}, ${Math.floor(Date.now() / 1000)})
        ON CONFLICT (name) DO NOTHING
        RETURNING value`)
      if (inserted) return inserted.value
      const [stored] = await bounded(
        sql<Array<{ value: string }>>`SELECT value FROM secrets WHERE name = ${name}`,
        Math.max(1, deadline - Date.now()),
      )
      if (!stored)
        throw unavailable(new Error(`The secret "${name}" is missing after its insert was skipped.`))
      return stored.value
    },

    createRefreshFamily(f, tokenHash, limit) {
      return createUnderLimit(
        f.userId,
        limit,
        (q) => q`
        WITH family AS (
          INSERT INTO refresh_families (id, user_id, created_at, last_used_at, expires_at, absolute_expires_at,
                                        generation, rotated_at, revoked_at, successor_seal, user_agent, ip,
                                        client_id, scope, amr)
          VALUES (${f.id}, ${f.userId}, ${f.createdAt}, ${f.lastUsedAt}, ${f.expiresAt}, ${f.absoluteExpiresAt},
                  ${f.generation}, ${f.rotatedAt}, ${f.revokedAt}, ${f.successorSeal}, ${f.userAgent},
                  ${f.ip}, ${f.clientId}, ${f.scope}, ${methodListText(f.amr)})
          RETURNING id, generation
        )
        INSERT INTO refresh_tokens (token_hash, family_id, generation)
        SELECT ${tokenHash}::text, id, generation FROM family`,
      )
    },
    async findRefreshToken(tokenHash) {
      const [row] = await run(sql<Array<FamilyRow & { token_generation: number }>>`
        SELECT f.*, t.generation AS token_generation
        FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
        WHERE t.token_hash = ${tokenHash}`)
      return row ? { family: toFamily(row), generation: row.token_generation } : null
    },
    async findRefreshFamily(familyId) {
      const [row] = await run(sql<FamilyRow[]>`SELECT * FROM refresh_families WHERE id = ${familyId}`)
      return row ? toFamily(row) : null
    },
    async rotateRefreshFamily(familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal) {
      // One statement, so one transaction: the UPDATE's WHERE is the compare, and the token row is written
      // only from the row the UPDATE returned. Concurrent rotations queue on the family's row lock; once the
      // winner commits, PostgreSQL re-checks the WHERE against the new row, the generation no longer
      // matches, and the losers update (and insert) nothing.
      const rows = await run(sql`
        WITH rotated AS (
          UPDATE refresh_families
          SET generation = generation + 1, rotated_at = ${now}, last_used_at = ${now}, expires_at = ${expiresAt},
              successor_seal = ${successorSeal}
          WHERE id = ${familyId} AND generation = ${expectedGeneration} AND revoked_at IS NULL
          RETURNING id, generation
        )
        INSERT INTO refresh_tokens (token_hash, family_id, generation)
        SELECT ${newTokenHash}::text, id, generation FROM rotated
        RETURNING generation`)
      return rows.length === 1
    },
    async revokeRefreshFamily(familyId, now) {
      const result = await run(sql`
        UPDATE refresh_families SET revoked_at = ${now} WHERE id = ${familyId} AND revoked_at IS NULL`)
      return result.count === 1
    },
    async listUserRefreshFamilies(userId) {
      const rows = await run(sql<FamilyRow[]>`
        SELECT * FROM refresh_families WHERE user_id = ${userId} ORDER BY created_at, id`)
      return rows.map(toFamily)
    },
    async revokeUserRefreshFamilies(userId, now, exceptFamilyId) {
      const rows = await run(sql<Array<{ id: string }>>`
        UPDATE refresh_families SET revoked_at = ${now}
        WHERE user_id = ${userId} AND revoked_at IS NULL AND id IS DISTINCT FROM ${exceptFamilyId}::text
        RETURNING id`)
      return rows.map((row) => row.id)
    },
    async endUserDevices({ userId, epoch, exceptSessionId, exceptFamilyId, now }) {
      // One statement, so one transaction: the epoch, the sessions and the families commit together or not at
      // all, in one round trip that holds no pooled connection across others. A server that stalls mid-way
      // either finishes it once resumed (after the caller got store_unavailable) or rolls it back whole; it
      // can never leave the sessions gone and the families live. The tables differ, so the parts cannot see
      // or conflict with each other's rows in the one snapshot they share.
      const [row] = await run(sql<Array<{ sessions_ended: number; families_revoked: string[] }>>`
        WITH epoch AS (
          INSERT INTO user_epochs (user_id, epoch, expires_at)
          SELECT ${userId}::text, ${epoch?.epoch ?? 0}::int8, ${epoch?.expiresAt ?? 0}::int8
          WHERE ${epoch !== null}::boolean
          ON CONFLICT (user_id) DO UPDATE
          SET epoch = GREATEST(user_epochs.epoch, EXCLUDED.epoch),
              expires_at = GREATEST(user_epochs.expires_at, EXCLUDED.expires_at)
          RETURNING 1
        ),
        sessions AS (
          DELETE FROM sessions
          WHERE user_id = ${userId} AND id IS DISTINCT FROM ${exceptSessionId}::text
          RETURNING 1
        ),
        families AS (
          UPDATE refresh_families SET revoked_at = ${now}
          WHERE user_id = ${userId} AND revoked_at IS NULL AND id IS DISTINCT FROM ${exceptFamilyId}::text
          RETURNING id
        )
        SELECT (SELECT count(*) FROM sessions)::int4 AS sessions_ended,
               coalesce((SELECT json_agg(id) FROM families), '[]'::json) AS families_revoked,
               (SELECT count(*) FROM epoch)::int4 AS epochs_stored`)
      return { sessionsEnded: row!.sessions_ended, familiesRevoked: row!.families_revoked }
    },
    async deleteExpiredRefreshFamilies(now) {
      // Their tokens go with them: refresh_tokens.family_id is ON DELETE CASCADE.
      const result = await run(sql`DELETE FROM refresh_families WHERE expires_at <= ${now}`)
      return result.count
    },

    async addAccessRevocation(r) {
      await run(sql`
        INSERT INTO access_revocations (kind, value, expires_at) VALUES (${r.kind}, ${r.value}, ${r.expiresAt})
        ON CONFLICT (kind, value)
        DO UPDATE SET expires_at = GREATEST(access_revocations.expires_at, EXCLUDED.expires_at)`)
    },
    async listAccessRevocations(now) {
      const rows = await run(sql<RevocationRow[]>`
        SELECT kind, value, expires_at FROM access_revocations WHERE expires_at > ${now}`)
      return rows.map(toRevocation)
    },
    async deleteExpiredAccessRevocations(now) {
      // Both purges in one statement, so one transaction.
      const [row] = await run(sql<Array<{ deleted: number }>>`
        WITH revocations AS (DELETE FROM access_revocations WHERE expires_at <= ${now} RETURNING 1),
             epochs AS (DELETE FROM user_epochs WHERE expires_at <= ${now} RETURNING 1)
        SELECT ((SELECT count(*) FROM revocations) + (SELECT count(*) FROM epochs))::int4 AS deleted`)
      return row!.deleted
    },
    async setUserEpoch(e) {
      await run(sql`
        INSERT INTO user_epochs (user_id, epoch, expires_at) VALUES (${e.userId}, ${e.epoch}, ${e.expiresAt})
        ON CONFLICT (user_id) DO UPDATE
        SET epoch = GREATEST(user_epochs.epoch, EXCLUDED.epoch),
            expires_at = GREATEST(user_epochs.expires_at, EXCLUDED.expires_at)`)
    },
    async listUserEpochs(now) {
      const rows = await run(sql<EpochRow[]>`
        SELECT user_id, epoch, expires_at FROM user_epochs WHERE expires_at > ${now}`)
      return rows.map(toEpoch)
    },

    async hitRateLimit(key, windowSeconds, now) {
      const slot = rateLimitSlot(key, windowSeconds, now)
      // One statement: the upsert is the atomic increment (concurrent hits queue on the row lock, and each
      // returns its own count), and the CTE purges counters of windows that ended (a grace period ago), a
      // batch at a time. Each hit adds at most one row and can delete up to a batch, so the table holds little
      // beyond live windows. SKIP LOCKED keeps the purge from ever waiting on (or deadlocking with) a
      // concurrent hit; the current window ends after `now`, so the purge never touches the row being counted.
      const [row] = await run(sql<Array<{ count: number }>>`
        WITH ended AS (
          DELETE FROM rate_limits
          WHERE slot IN (SELECT slot FROM rate_limits WHERE ends_at <= ${now - RATE_PURGE_GRACE}
                         ORDER BY ends_at LIMIT ${RATE_PURGE_BATCH} FOR UPDATE SKIP LOCKED)
        )
        INSERT INTO rate_limits (slot, count, ends_at) VALUES (${slot.id}, 1, ${slot.endsAt})
        ON CONFLICT (slot) DO UPDATE SET count = rate_limits.count + 1
        RETURNING count`)
      return row!.count
    },
    async countRateLimit(key, windowSeconds, now) {
      const [row] = await run(sql<Array<{ count: number }>>`
        SELECT count FROM rate_limits WHERE slot = ${rateLimitSlot(key, windowSeconds, now).id}`)
      return row?.count ?? 0
    },
    async resetRateLimit(key, windowSeconds, now) {
      await run(sql`DELETE FROM rate_limits WHERE slot = ${rateLimitSlot(key, windowSeconds, now).id}`)
    },

    async createClient(c) {
      // One statement: of concurrent creates with one id, the later ones wait for the first and then skip.
      const rows = await run(sql`
        INSERT INTO oauth_clients (id, name, type, redirect_uris, post_logout_redirect_uris, origins, first_party,
                                   scopes, secret_hash, created_at)
        VALUES (${c.id}, ${c.name}, ${c.type}, ${sql.json([...c.redirectUris])},
                ${sql.json([...c.postLogoutRedirectUris])}, ${sql.json([...c.origins])}, ${c.firstParty},
                ${sql.json([...c.scopes])}, ${c.secretHash}, ${c.createdAt})
        ON CONFLICT (id) DO NOTHING
        RETURNING id`)
      return rows.length === 1 ? copyClient(c) : CLIENT_TAKEN
    },
    async findClient(clientId) {
      const [row] = await run(sql<ClientRow[]>`SELECT * FROM oauth_clients WHERE id = ${clientId}`)
      return row ? toClient(row) : null
    },
    async listClients() {
      const rows = await run(sql<ClientRow[]>`SELECT * FROM oauth_clients ORDER BY id`)
      return rows.map(toClient)
    },
    async deleteClient(clientId) {
      // One statement: its consents go with it (oauth_consents.client_id is ON DELETE CASCADE).
      const result = await run(sql`DELETE FROM oauth_clients WHERE id = ${clientId}`)
      return result.count === 1
    },

    async putConsent(c) {
      // One statement, and the foreign keys are the check: a consent of a user or to a client that is gone (or
      // being deleted, which the insert waits for) is not stored, as no store keeps one; it would otherwise pass
      // to a client registered again under that id.
      try {
        await run(sql`
          INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at)
          VALUES (${c.userId}, ${c.clientId}, ${sql.json([...c.scopes])}, ${c.grantedAt})
          ON CONFLICT (user_id, client_id) DO UPDATE
          SET scopes = EXCLUDED.scopes, granted_at = EXCLUDED.granted_at`)
      } catch (error) {
        if (!isForeignKeyViolation(error)) throw error
      }
    },
    async findConsent(userId, clientId) {
      const [row] = await run(sql<ConsentRow[]>`
        SELECT * FROM oauth_consents WHERE user_id = ${userId} AND client_id = ${clientId}`)
      return row ? toConsent(row) : null
    },
    async listUserConsents(userId) {
      const rows = await run(sql<ConsentRow[]>`
        SELECT * FROM oauth_consents WHERE user_id = ${userId} ORDER BY client_id`)
      return rows.map(toConsent)
    },
    async deleteConsent(userId, clientId) {
      const result = await run(sql`
        DELETE FROM oauth_consents WHERE user_id = ${userId} AND client_id = ${clientId}`)
      return result.count === 1
    },

    async claimOnce(key, expiresAt, now) {
      // One statement: a new key is inserted, a held one taken over only if its claim has ended by `now`.
      // Concurrent claims of one key queue on its row (or its index entry); each later one re-checks the WHERE
      // against the row the earlier one committed, so exactly one gets it.
      const rows = await run(sql`
        INSERT INTO claims (key, expires_at) VALUES (${key}, ${expiresAt})
        ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE claims.expires_at <= ${now}
        RETURNING 1`)
      return rows.length === 1
    },
    async deleteExpiredClaims(now) {
      const result = await run(sql`DELETE FROM claims WHERE expires_at <= ${now}`)
      return result.count
    },

    changes,
    sessionFeeds: [changes],

    async ping() {
      await run(sql`SELECT 1`)
    },
    async close() {
      changes.close()
      // Waits up to 1 s for running queries, then closes every connection, the LISTEN one included.
      await sql.end({ timeout: 1 })
    },
  })
}
