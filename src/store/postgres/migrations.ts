/**
 * Versioned schema migrations for the PostgreSQL store, and the function that applies them. Append only: a
 * released migration is never edited, a change is a new entry with the next version. The tables mirror the
 * SQLite store's, version for version.
 *
 * Operational choices:
 * - Each migration runs in its own transaction together with the row that records it, so a crash (or a
 *   failed statement) mid-migration leaves the previous version intact. PostgreSQL DDL is transactional.
 * - Every transaction first takes a transaction-level advisory lock keyed by the schema name. When several
 *   instances start at once, one migrates and the others wait, then read the new version and find nothing
 *   to do: each migration runs exactly once. A transaction-level lock (`pg_advisory_xact_lock`) is released
 *   by COMMIT or ROLLBACK, and by the server if the connection dies, so a crashed instance never leaves it
 *   held. The schema and the bookkeeping table are created under the same lock, because concurrent
 *   `CREATE ... IF NOT EXISTS` statements can still collide on the catalog's unique indexes.
 * - `statement_timeout` is lifted inside migration transactions: the store's per-operation bound suits
 *   requests, not an index build on a large table, nor waiting for another instance to finish migrating.
 * - Roles are a JSONB array of strings (queryable with `roles ? 'admin'`); JSONB rather than text[] because
 *   postgres.js types array parameters only after fetching the server's array types, which a fresh pool's
 *   first query can race, while JSON goes through the driver's built-in parser.
 * - Times are BIGINT whole seconds (no 2038 limit); identifiers, hashes and emails are `COLLATE "C"`: they
 *   are compared byte for byte, which is faster, sorts like SQLite, and cannot be broken by an operating
 *   system's collation update (a known cause of corrupt text indexes).
 */
import type postgres from 'postgres'
import { assignEmailKeys, describeKeylessUsers } from '../email-keys.js'
import type { Sql } from './connection.js'
import { changeChannel } from './change-feed.js'
import { assertSchemaName, unavailable } from './connection.js'

export interface PostgresMigration {
  version: number
  name: string
  sql: string
  /**
   * Runs after `sql`, in the same transaction (with the schema on the `search_path`), for what SQL can not
   * compute (Unicode normalisation). Resolves to lines for the operator, if any.
   */
  run?: (tx: postgres.TransactionSql) => Promise<string[]>
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'users and cookie sessions',
    sql: `
      CREATE TABLE users (
        id            TEXT COLLATE "C" PRIMARY KEY,
        email         TEXT COLLATE "C" NOT NULL UNIQUE,
        password_hash TEXT             NOT NULL,
        roles         JSONB            NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(roles) = 'array'),
        created_at    BIGINT           NOT NULL,
        disabled_at   BIGINT
      );

      -- Keyed by the SHA-256 of the cookie secret; the secret itself is never stored.
      CREATE TABLE sessions (
        token_hash          TEXT COLLATE "C" PRIMARY KEY,
        id                  TEXT COLLATE "C" NOT NULL UNIQUE,
        user_id             TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          BIGINT           NOT NULL,
        last_seen_at        BIGINT           NOT NULL,
        expires_at          BIGINT           NOT NULL,
        absolute_expires_at BIGINT           NOT NULL,
        user_agent          TEXT,
        ip                  TEXT
      );
      CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    `,
  },
  {
    version: 2,
    name: 'signing keys, secrets, refresh families, access-token revocations',
    sql: `
      CREATE TABLE signing_keys (
        kid         TEXT COLLATE "C" PRIMARY KEY,
        alg         TEXT             NOT NULL,
        private_jwk TEXT             NOT NULL,
        created_at  BIGINT           NOT NULL,
        retired_at  BIGINT
      );

      CREATE TABLE secrets (
        name       TEXT COLLATE "C" PRIMARY KEY,
        value      TEXT             NOT NULL,
        created_at BIGINT           NOT NULL
      );

      CREATE TABLE refresh_families (
        id                  TEXT COLLATE "C" PRIMARY KEY,
        user_id             TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          BIGINT           NOT NULL,
        last_used_at        BIGINT           NOT NULL,
        expires_at          BIGINT           NOT NULL,
        absolute_expires_at BIGINT           NOT NULL,
        generation          INTEGER          NOT NULL,
        rotated_at          BIGINT,
        revoked_at          BIGINT,
        user_agent          TEXT,
        ip                  TEXT
      );
      CREATE INDEX refresh_families_by_user ON refresh_families (user_id, created_at);
      CREATE INDEX refresh_families_by_expiry ON refresh_families (expires_at);

      -- Every token a family ever had, by hash, so a rotated-out token is recognised (and its reuse caught).
      CREATE TABLE refresh_tokens (
        token_hash TEXT COLLATE "C" PRIMARY KEY,
        family_id  TEXT COLLATE "C" NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
        generation INTEGER          NOT NULL
      );
      CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

      CREATE TABLE access_revocations (
        kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('jti', 'sid')),
        value      TEXT COLLATE "C" NOT NULL,
        expires_at BIGINT           NOT NULL,
        PRIMARY KEY (kind, value)
      );
      CREATE INDEX access_revocations_by_expiry ON access_revocations (expires_at);
    `,
  },
  {
    version: 3,
    name: 'user revocation epochs',
    sql: `
      CREATE TABLE user_epochs (
        user_id    TEXT COLLATE "C" PRIMARY KEY,
        epoch      BIGINT           NOT NULL,
        expires_at BIGINT           NOT NULL
      );
      CREATE INDEX user_epochs_by_expiry ON user_epochs (expires_at);
    `,
  },
  {
    version: 4,
    name: 'sealed refresh successors',
    // Nullable with no default: adding it is a catalog-only change, no table rewrite or long lock.
    sql: `ALTER TABLE refresh_families ADD COLUMN successor_seal TEXT;`,
  },
  {
    version: 5,
    name: 'rate-limit counters',
    sql: `
      -- One row per key and fixed window (see store/rate-window.ts); purged once the window has ended.
      CREATE TABLE rate_limits (
        slot    TEXT COLLATE "C" PRIMARY KEY, -- key, window length and window number
        count   INTEGER          NOT NULL,
        ends_at BIGINT           NOT NULL
      );
      CREATE INDEX rate_limits_by_end ON rate_limits (ends_at);
    `,
  },
  {
    version: 6,
    name: 'email keys (NFKC + case fold) for uniqueness and lookup',
    // Null only for an account that shares its key with an older one (see store/email-keys.ts); a UNIQUE index
    // allows any number of nulls. Nullable with no default: adding it rewrites nothing.
    sql: `
      ALTER TABLE users ADD COLUMN email_key TEXT COLLATE "C";
      CREATE UNIQUE INDEX users_by_email_key ON users (email_key);
    `,
    run: fillEmailKeys,
  },
  {
    version: 7,
    name: 'signing-key activation times (staged rotation)',
    // Existing keys count as active since their creation. A constant default is a catalog-only change (no
    // rewrite), and covers rows written by an older Sesame still running beside this one during an upgrade:
    // its keys sign at once, as they did there.
    sql: `
      ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT NOT NULL DEFAULT 0;
      UPDATE signing_keys SET activates_at = created_at;
    `,
  },
  {
    version: 8,
    name: 'sign-in providers: verified emails, federated identities',
    // Dropping NOT NULL and adding a nullable column without a default change only the catalog (no rewrite,
    // no scan); accounts stored before read as unverified (null). An older Sesame still running during the
    // upgrade inserts without the new column, and its users read as unverified too.
    sql: `
      ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
      ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

      CREATE TABLE federated_identities (
        provider   TEXT COLLATE "C" NOT NULL,
        subject    TEXT COLLATE "C" NOT NULL,
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        email      TEXT COLLATE "C",
        created_at BIGINT           NOT NULL,
        PRIMARY KEY (provider, subject),
        UNIQUE (user_id, provider) -- one identity per provider per user; also the per-user lookup
      );
    `,
  },
  {
    version: 9,
    name: 'single-use claims',
    sql: `
      CREATE TABLE claims (
        key        TEXT COLLATE "C" PRIMARY KEY,
        expires_at BIGINT           NOT NULL
      );
      CREATE INDEX claims_by_expiry ON claims (expires_at);
    `,
  },
  {
    version: 10,
    name: 'one-time tokens (email verification, password reset, email change)',
    // A new, empty table: no existing row changes. One token per user and purpose (the UNIQUE, also the
    // per-user lookup), so a new one replaces the last; a user's tokens go with the user (the cascade).
    sql: `
      CREATE TABLE one_time_tokens (
        token_hash TEXT COLLATE "C" PRIMARY KEY,
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose    TEXT COLLATE "C" NOT NULL,
        email      TEXT COLLATE "C" NOT NULL,
        created_at BIGINT           NOT NULL,
        expires_at BIGINT           NOT NULL,
        UNIQUE (user_id, purpose)
      );
      CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens (expires_at);
    `,
  },
  {
    version: 11,
    name: 'OAuth clients, consents, and the client and scope of refresh families',
    // Nullable columns with no default change only the catalog (no rewrite); families stored before, and those an
    // older Sesame still running during the upgrade inserts, read as issued to no client with no scope. `client_id`
    // names no foreign key, since the built-in first-party client has no row. A consent goes with its user and
    // with its client (the cascades; the index serves the client's). Lists are JSONB arrays, as `roles` is; the
    // client type is not CHECKed, so a later type needs no constraint change.
    sql: `
      ALTER TABLE refresh_families ADD COLUMN client_id TEXT COLLATE "C";
      ALTER TABLE refresh_families ADD COLUMN scope TEXT COLLATE "C";

      CREATE TABLE oauth_clients (
        id                        TEXT COLLATE "C" PRIMARY KEY,
        name                      TEXT             NOT NULL,
        type                      TEXT COLLATE "C" NOT NULL,
        redirect_uris             JSONB            NOT NULL CHECK (jsonb_typeof(redirect_uris) = 'array'),
        post_logout_redirect_uris JSONB            NOT NULL
                                  CHECK (jsonb_typeof(post_logout_redirect_uris) = 'array'),
        origins                   JSONB            NOT NULL CHECK (jsonb_typeof(origins) = 'array'),
        first_party               BOOLEAN          NOT NULL,
        scopes                    JSONB            NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
        secret_hash               TEXT COLLATE "C",
        created_at                BIGINT           NOT NULL
      );

      CREATE TABLE oauth_consents (
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client_id  TEXT COLLATE "C" NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
        scopes     JSONB            NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
        granted_at BIGINT           NOT NULL,
        PRIMARY KEY (user_id, client_id)
      );
      CREATE INDEX oauth_consents_by_client ON oauth_consents (client_id);
    `,
  },
  {
    version: 12,
    name: 'numbered sessions-changed notices for the session cache',
    // Triggers, so every writer announces, Sesame's statements and an operator's psql alike, in the writing
    // transaction: the count moves and the NOTIFY is queued only if the change commits. The count's one row is
    // locked from the trigger to the commit, so announcing transactions number their notices in commit order,
    // the order NOTIFY delivers them in (NOTIFY already serialises committing transactions). Statement-level
    // triggers with transition tables: one notice per user per statement, however many of its rows changed.
    sql: `
      CREATE TABLE session_change_count (
        only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
        count    BIGINT  NOT NULL
      );
      INSERT INTO session_change_count (count) VALUES (0);
    `,
    run: async (tx) => {
      const [row] = await tx<Array<{ schema: string }>>`SELECT current_schema() AS schema`
      await tx.unsafe(sessionChangeTriggers(row!.schema))
      return []
    },
  },
  {
    version: 13,
    name: 'sign-in methods of sessions and refresh families; sign-in factors',
    // `amr` is the methods joined by single spaces ('' for none). A NOT NULL column with a constant default changes
    // only the catalog (no rewrite, no scan): sessions and families stored before read '' (no methods recorded),
    // and so do rows an older Sesame still running beside this one inserts during an upgrade.
    // A factor goes with its user (the cascade). Its lookup key is unique per user only (the primary key, also the
    // per-user lookup and list: a user has a handful of factors, sorted in memory); the id is unique, and names
    // it in every change. A credential id of up to 1,366 characters plus a user id stays far below the largest
    // index entry PostgreSQL takes (about 2,700 bytes). `counter` is BIGINT: a passkey's signature counter is an
    // unsigned 32-bit number. The kind is not CHECKed, so a later kind needs no constraint change (as the client
    // type).
    sql: `
      ALTER TABLE sessions ADD COLUMN amr TEXT COLLATE "C" NOT NULL DEFAULT '';
      ALTER TABLE refresh_families ADD COLUMN amr TEXT COLLATE "C" NOT NULL DEFAULT '';

      CREATE TABLE factors (
        id           TEXT COLLATE "C" NOT NULL UNIQUE,
        user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind         TEXT COLLATE "C" NOT NULL,
        lookup_key   TEXT COLLATE "C" NOT NULL,
        name         TEXT             NOT NULL,
        data         TEXT             NOT NULL,
        counter      BIGINT           NOT NULL,
        created_at   BIGINT           NOT NULL,
        last_used_at BIGINT,
        PRIMARY KEY (user_id, lookup_key)
      );
    `,
  },
]

/**
 * The functions and triggers of migration 12, for `schema` (checked by `assertSchemaName`, so it can be quoted
 * into SQL). Each statement moves the count once, by the number of users it changed, and numbers their notices
 * up to it: one row update per statement, however many users a purge touches. The row is upserted, so a deleted
 * row starts the count again (instances that heard higher numbers start over, see `core/notice-position.ts`)
 * rather than failing every write. A `TRUNCATE` names no users: it moves the count with no notice, which
 * every instance finds at its next check and answers by dropping its whole cache. The functions run as their
 * owner (the role that migrated), with their `search_path` pinned: any role allowed to write `users` or
 * `sessions` announces without a grant on the count, and a writer's `search_path` cannot redirect them.
 */
function sessionChangeTriggers(schema: string): string {
  assertSchemaName(schema)
  const channel = changeChannel(schema)
  const bump = (by: string) => `
        INSERT INTO session_change_count AS c (only_row, count) VALUES (true, ${by})
        ON CONFLICT (only_row) DO UPDATE SET count = c.count + ${by}
        RETURNING count INTO last;`
  const announce = (name: string, userColumn: string) => `
    CREATE FUNCTION "${schema}".${name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}" AS $fn$
    DECLARE
      changed_users TEXT[];
      n    INT;
      last BIGINT;
    BEGIN
      SELECT array_agg(DISTINCT ${userColumn}) INTO changed_users FROM changed;
      n := coalesce(cardinality(changed_users), 0);
      IF n = 0 THEN RETURN NULL; END IF;
      ${bump('n')}
      FOR i IN 1 .. n LOOP
        PERFORM pg_notify('${channel}', json_build_object(
          'type', 'sessions-changed', 'userId', changed_users[i], 'seq', last - n + i)::text);
      END LOOP;
      RETURN NULL;
    END
    $fn$;`
  return `
    ${announce('announce_session_changes', 'user_id')}
    ${announce('announce_user_changes', 'id')}
    CREATE FUNCTION "${schema}".count_truncation() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}" AS $fn$
    DECLARE
      last BIGINT;
    BEGIN
      ${bump('1')}
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions REFERENCING OLD TABLE AS changed
      FOR EACH STATEMENT EXECUTE FUNCTION announce_session_changes();
    CREATE TRIGGER users_updated AFTER UPDATE ON users REFERENCING NEW TABLE AS changed
      FOR EACH STATEMENT EXECUTE FUNCTION announce_user_changes();
    CREATE TRIGGER users_deleted AFTER DELETE ON users REFERENCING OLD TABLE AS changed
      FOR EACH STATEMENT EXECUTE FUNCTION announce_user_changes();
    CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
      FOR EACH STATEMENT EXECUTE FUNCTION count_truncation();
    CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
      FOR EACH STATEMENT EXECUTE FUNCTION count_truncation();`
}

/** Rows per UPDATE when filling email keys: bounded statements, few round trips. */
const FILL_BATCH = 1000

/** Gives every existing user its email key, the oldest of look-alikes first; returns who got none. */
async function fillEmailKeys(tx: postgres.TransactionSql): Promise<string[]> {
  const rows = await tx<Array<{ id: string; email: string; created_at: string }>>`
    SELECT id, email, created_at FROM users`
  const { keyed, keyless } = assignEmailKeys(
    rows.map((row) => ({ id: row.id, email: row.email, createdAt: Number(row.created_at) })),
  )
  // JSON rather than array parameters (see the header on postgres.js and array types).
  for (let start = 0; start < keyed.length; start += FILL_BATCH) {
    await tx`
      UPDATE users SET email_key = v.key
      FROM jsonb_to_recordset(${tx.json(keyed.slice(start, start + FILL_BATCH))}) AS v (id text, key text)
      WHERE users.id = v.id`
  }
  return describeKeylessUsers(keyless)
}

/** What {@link migratePostgres} did. */
export interface MigrationReport {
  /** Schema version before the call (0 for a new schema). */
  from: number
  /** Schema version after the call. */
  to: number
  /** The migrations this call applied, in order; empty when the schema was already current. */
  applied: ReadonlyArray<Pick<PostgresMigration, 'version' | 'name'>>
  /** What the applied migrations tell the operator (e.g. accounts left without an email key); often empty. */
  notes: readonly string[]
}

/** Thrown when the schema was migrated by a newer Sesame; nothing is changed. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError'
}

/**
 * Creates `schema` if missing and applies every migration newer than its version, one transaction each.
 * Safe to run from several processes at once. Refuses (with {@link SchemaTooNewError}, changing nothing) a
 * schema at a version newer than the last of `migrations`; any other failure is `store_unavailable`.
 * Works with any postgres.js client, whatever its `search_path`: the `migrate` command can pass its own.
 */
export async function migratePostgres(
  sql: Sql,
  schema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<MigrationReport> {
  assertSchemaName(schema)
  const latest = migrations.at(-1)?.version ?? 0
  const applied: PostgresMigration[] = []
  const notes: string[] = []
  let from: number | null = null
  try {
    for (;;) {
      const step = await sql.begin(async (tx) => {
        await tx`SET LOCAL statement_timeout = 0`
        // hashtextextended gives a stable 64-bit key per schema, so stores in other schemas migrate freely.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`sesame.migrate:${schema}`}, 0))`
        // Checked rather than `CREATE SCHEMA IF NOT EXISTS`, which needs the CREATE privilege on the database
        // even when the schema exists; an operator may create it once and run Sesame with fewer rights.
        const [namespace] = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`
        if (!namespace) await tx.unsafe(`CREATE SCHEMA "${schema}"`)
        await tx.unsafe(`SET LOCAL search_path TO "${schema}"`)
        const [table] = await tx`
          SELECT 1 FROM pg_tables WHERE schemaname = ${schema} AND tablename = 'schema_migrations'`
        if (!table) {
          await tx.unsafe(`CREATE TABLE schema_migrations (
                             version    INTEGER PRIMARY KEY,
                             name       TEXT    NOT NULL,
                             applied_at BIGINT  NOT NULL
                           )`)
        }
        const [row] = await tx<Array<{ version: number }>>`
          SELECT coalesce(max(version), 0)::int4 AS version FROM schema_migrations`
        const current = row!.version
        if (current > latest) {
          throw new SchemaTooNewError(
            `The PostgreSQL schema "${schema}" is at schema version ${current}, newer than this Sesame knows (${latest}); upgrade Sesame.`,
          )
        }
        const next = migrations.find((migration) => migration.version > current)
        let stepNotes: string[] = []
        if (next) {
          await tx.unsafe(next.sql)
          if (next.run) stepNotes = await next.run(tx)
          await tx`INSERT INTO schema_migrations (version, name, applied_at)
                   VALUES (${next.version}, ${next.name}, ${Math.floor(Date.now() / 1000)})`
        }
        return { current, next, notes: stepNotes }
      })
      from ??= step.current
      if (!step.next) {
        const done = applied.map(({ version, name }) => ({ version, name }))
        return { from, to: step.current, applied: done, notes }
      }
      applied.push(step.next)
      notes.push(...step.notes)
    }
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw error
    throw unavailable(error)
  }
}
