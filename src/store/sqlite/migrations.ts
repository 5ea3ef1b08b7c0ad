/**
 * Versioned schema migrations for the SQLite store. Append only: a released migration is never edited, a
 * change is a new entry with the next version. Each runs in its own transaction together with the row that
 * records it, so a crash mid-migration leaves the previous version intact.
 */

import type Database from 'better-sqlite3'
import { assignEmailKeys, describeKeylessUsers, type UserForKey } from '../email-keys.js'

export interface Migration {
  version: number
  name: string
  sql: string
  /**
   * Runs after `sql`, in the same transaction, for what SQL can not compute (Unicode normalisation). Returns
   * lines for the operator (warnings), if any.
   */
  run?: (db: Database.Database) => string[]
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users and cookie sessions',
    sql: `
      CREATE TABLE users (
        id            TEXT    PRIMARY KEY,
        email         TEXT    NOT NULL UNIQUE,
        password_hash TEXT    NOT NULL,
        roles         TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
        created_at    INTEGER NOT NULL,
        disabled_at   INTEGER
      ) STRICT;

      -- Keyed by the SHA-256 of the cookie secret; the secret itself is never stored.
      CREATE TABLE sessions (
        token_hash          TEXT    PRIMARY KEY,
        id                  TEXT    NOT NULL UNIQUE,
        user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          INTEGER NOT NULL,
        last_seen_at        INTEGER NOT NULL,
        expires_at          INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        user_agent          TEXT,
        ip                  TEXT
      ) STRICT, WITHOUT ROWID;

      CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    `,
  },
  {
    version: 2,
    name: 'signing keys, secrets, refresh families, access-token revocations',
    sql: `
      CREATE TABLE signing_keys (
        kid         TEXT    PRIMARY KEY,
        alg         TEXT    NOT NULL,
        private_jwk TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        retired_at  INTEGER
      ) STRICT;

      CREATE TABLE secrets (
        name       TEXT    PRIMARY KEY,
        value      TEXT    NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE refresh_families (
        id                  TEXT    PRIMARY KEY,
        user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          INTEGER NOT NULL,
        last_used_at        INTEGER NOT NULL,
        expires_at          INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        generation          INTEGER NOT NULL,
        rotated_at          INTEGER,
        revoked_at          INTEGER,
        user_agent          TEXT,
        ip                  TEXT
      ) STRICT;
      CREATE INDEX refresh_families_by_user ON refresh_families (user_id, created_at);
      CREATE INDEX refresh_families_by_expiry ON refresh_families (expires_at);

      -- Every token a family ever had, by hash, so a rotated-out token is recognised (and its reuse caught).
      CREATE TABLE refresh_tokens (
        token_hash TEXT    PRIMARY KEY,
        family_id  TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
        generation INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

      CREATE TABLE access_revocations (
        kind       TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'user revocation epochs',
    sql: `
      CREATE TABLE user_epochs (
        user_id    TEXT    PRIMARY KEY,
        epoch      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'sealed refresh successors',
    sql: `ALTER TABLE refresh_families ADD COLUMN successor_seal TEXT;`,
  },
  {
    version: 5,
    name: 'rate-limit counters',
    sql: `
      CREATE TABLE rate_limits (
        slot     TEXT    PRIMARY KEY, -- key, window length and window number
        count    INTEGER NOT NULL,
        ends_at  INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX rate_limits_by_end ON rate_limits (ends_at);
    `,
  },
  {
    version: 6,
    name: 'email keys (NFKC + case fold) for uniqueness and lookup',
    // Null only for an account that shares its key with an older one (see store/email-keys.ts); a UNIQUE index
    // allows any number of nulls.
    sql: `
      ALTER TABLE users ADD COLUMN email_key TEXT;
      CREATE UNIQUE INDEX users_by_email_key ON users (email_key);
    `,
    run: fillEmailKeys,
  },
  {
    version: 7,
    name: 'signing-key activation times (staged rotation)',
    // Existing keys count as active since their creation. The default covers rows written by an older Sesame
    // still running beside this one during an upgrade: its keys sign at once, as they did there.
    sql: `
      ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
      UPDATE signing_keys SET activates_at = created_at;
    `,
  },
  {
    version: 8,
    name: 'sign-in providers: verified emails, federated identities',
    // Accounts stored before read as unverified (null). A user without a password keeps `password_hash` NOT
    // NULL and holds '' there (`NO_PASSWORD` in index.ts): dropping the constraint takes a table rebuild, and
    // dropping the old users table under foreign keys would delete every session and family with it.
    // Subjects compare byte for byte (BINARY), so ids differing only in case stay different identities.
    sql: `
      ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

      CREATE TABLE federated_identities (
        provider   TEXT    NOT NULL,
        subject    TEXT    NOT NULL,
        user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        email      TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (provider, subject),
        UNIQUE (user_id, provider) -- one identity per provider per user; also the per-user lookup
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'single-use claims',
    sql: `
      CREATE TABLE claims (
        key        TEXT    PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX claims_by_expiry ON claims (expires_at);
    `,
  },
  {
    version: 10,
    name: 'one-time tokens (email verification, password reset, email change)',
    // A new, empty table: no existing row changes. One token per user and purpose (the UNIQUE, also the
    // per-user lookup), so a new one replaces the last; a user's tokens go with the user (the cascade). The
    // purpose is not CHECKed: a later purpose would otherwise take a table rebuild.
    sql: `
      CREATE TABLE one_time_tokens (
        token_hash TEXT    PRIMARY KEY,
        user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose    TEXT    NOT NULL,
        email      TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        UNIQUE (user_id, purpose)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens (expires_at);
    `,
  },
  {
    version: 11,
    name: 'OAuth clients, consents, and the client and scope of refresh families',
    // Families stored before read as issued to no client with no scope (null); `client_id` names no foreign key,
    // since the built-in first-party client has no row. A consent goes with its user and with its client (the
    // cascades; the index serves the client's). Lists are JSON arrays of strings, as `roles` is; the client type
    // is not CHECKed, for the reason the token purpose is not.
    sql: `
      ALTER TABLE refresh_families ADD COLUMN client_id TEXT;
      ALTER TABLE refresh_families ADD COLUMN scope TEXT;

      CREATE TABLE oauth_clients (
        id                        TEXT    PRIMARY KEY,
        name                      TEXT    NOT NULL,
        type                      TEXT    NOT NULL,
        redirect_uris             TEXT    NOT NULL, -- JSON array of strings, as registered
        post_logout_redirect_uris TEXT    NOT NULL, -- JSON array of strings
        origins                   TEXT    NOT NULL, -- JSON array of strings
        first_party               INTEGER NOT NULL CHECK (first_party IN (0, 1)),
        scopes                    TEXT    NOT NULL, -- JSON array of strings
        secret_hash               TEXT,
        created_at                INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE oauth_consents (
        user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client_id  TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
        scopes     TEXT    NOT NULL, -- JSON array of strings
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, client_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX oauth_consents_by_client ON oauth_consents (client_id);
    `,
  },
  {
    version: 12,
    name: 'sign-in methods of sessions and refresh families; sign-in factors',
    // `amr` is the methods joined by single spaces ('' for none). A column added with a constant default rewrites
    // no row: sessions and families stored before read '' (no methods recorded), and so do rows written by an
    // older Sesame still running beside this one during an upgrade.
    // A factor goes with its user (the cascade). Its lookup key is unique per user only (the primary key, also
    // the per-user lookup and list); the id is unique, and names it in every change. A rowid table, not WITHOUT
    // ROWID: a passkey's row (a credential id of up to 1,366 characters, its public key) is larger than such a
    // table handles well. The kind is not CHECKed, for the reason the token purpose is not.
    sql: `
      ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
      ALTER TABLE refresh_families ADD COLUMN amr TEXT NOT NULL DEFAULT '';

      CREATE TABLE factors (
        id           TEXT    NOT NULL UNIQUE,
        user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind         TEXT    NOT NULL,
        lookup_key   TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        data         TEXT    NOT NULL,
        counter      INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        PRIMARY KEY (user_id, lookup_key)
      ) STRICT;
    `,
  },
]

/** Gives every existing user its email key, the oldest of look-alikes first; returns who got none. */
function fillEmailKeys(db: Database.Database): string[] {
  const users = db.prepare('SELECT id, email, created_at AS createdAt FROM users').all() as UserForKey[]
  const { keyed, keyless } = assignEmailKeys(users)
  const update = db.prepare('UPDATE users SET email_key = ? WHERE id = ?')
  for (const { id, key } of keyed) update.run(key, id)
  return describeKeylessUsers(keyless)
}
