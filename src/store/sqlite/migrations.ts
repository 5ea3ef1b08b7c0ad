/**
 * Versioned schema migrations for the SQLite store. Append only: a released migration is never edited, a
 * change is a new entry with the next version. Each runs in its own transaction together with the row that
 * records it, so a crash mid-migration leaves the previous version intact.
 */

export interface Migration {
  version: number
  name: string
  sql: string
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
]
