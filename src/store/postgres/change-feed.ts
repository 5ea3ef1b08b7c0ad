/**
 * The PostgreSQL store's change feed: LISTEN/NOTIFY on one channel per schema, the payload being the
 * ChangeEvent as JSON. Every instance sharing the schema hears every event, its own included.
 *
 * Operational choices:
 * - postgres.js runs LISTEN on a dedicated connection, outside the pool: a pooled connection is handed to
 *   other queries and closed when idle, and a LISTEN lives only as long as its session. The dedicated
 *   connection has no idle timeout and, when it drops, postgres.js reconnects (with backoff) and re-issues
 *   LISTEN. Its `onlisten` callback fires after the first LISTEN and after every re-LISTEN; that is exactly
 *   when the contract's `onResync` must run, because notifications sent while it was down are lost.
 * - The channel is database-wide, so it is named after the schema: stores in other schemas (test runs, other
 *   tenants) never hear each other. A name longer than PostgreSQL's 63-byte identifier limit would be
 *   truncated by LISTEN but rejected by pg_notify, so long schema names get a shortened, hashed channel name.
 * - NOTIFY is delivered only on commit and is best effort (a payload is limited to 8000 bytes; events are a
 *   few hundred). The store stays the source of truth: that is what `onResync` reloads.
 * - A connection that dies silently (host gone, no TCP reset) is noticed only when TCP keepalive gives up;
 *   until then this instance misses events, and it resyncs once the reconnect succeeds.
 * - Payloads are checked before delivery: anyone who can NOTIFY on the database could send one, and a
 *   malformed event must not reach the revocation lists.
 */
import { createHash } from 'node:crypto'
import type { ChangeEvent, SessionChangeFeed } from '../types.js'
import { localSessionChange, parseChangeEvent } from '../../core/change-event.js'
import { bounded, type Sql, unavailable } from './connection.js'

/** The NOTIFY channel of a schema's store. */
export function changeChannel(schema: string): string {
  const channel = `${schema}_changes`
  if (channel.length <= 63) return channel
  const digest = createHash('sha256').update(schema).digest('hex').slice(0, 16)
  return `${schema.slice(0, 46)}_${digest}`
}

/** The feed, plus what the store's `close()` needs from it. */
export interface PostgresChangeFeed extends SessionChangeFeed {
  /** Tells this process's subscribers at once that a write through this store changed a user's sessions. */
  announceLocally(userId: string): void
  /** Refuses new subscriptions: postgres.js would open a fresh LISTEN connection that nothing closes. */
  close(): void
}

export function createPostgresChangeFeed(sql: Sql, schema: string, timeoutMs: number): PostgresChangeFeed {
  const channel = changeChannel(schema)
  let closed = false
  const subscribers = new Set<(event: ChangeEvent) => void>()
  return {
    announceLocally(userId) {
      for (const onEvent of [...subscribers]) callSafely(() => onEvent(localSessionChange(userId)))
    },

    close() {
      closed = true
    },

    async publish(event) {
      await bounded(sql`SELECT pg_notify(${channel}, ${JSON.stringify(event)})`, timeoutMs)
    },

    async lastSessionChange() {
      const [row] = await bounded(
        sql<Array<{ count: string }>>`SELECT count FROM session_change_count`,
        timeoutMs,
      )
      return Number(row?.count ?? 0)
    },

    async subscribe(onEvent, onResync) {
      if (closed) throw unavailable(new Error('The PostgreSQL store is closed.'))
      // Cleared on unsubscribe, and when subscribing fails: postgres.js keeps retrying a LISTEN it could not
      // establish, and a late success must not call back a subscriber that was told it failed.
      let active = true
      const listening = sql.listen(
        channel,
        (payload) => {
          const event = active ? parseChangeEvent(payload) : null
          if (event) callSafely(() => onEvent(event))
        },
        () => {
          if (active) callSafely(onResync)
        },
      )
      let meta: Awaited<typeof listening>
      try {
        meta = await bounded(listening, timeoutMs)
      } catch (error) {
        active = false
        // If the LISTEN succeeds after all, take it back.
        listening.then((late) => late.unlisten()).catch(() => {})
        throw unavailable(error)
      }
      const local = (event: ChangeEvent) => onEvent(event)
      subscribers.add(local)
      return async () => {
        if (!active) return
        active = false
        subscribers.delete(local)
        // After close the LISTEN connection is gone, and with it the subscription.
        if (!closed) await bounded(meta.unlisten(), timeoutMs)
      }
    },
  }
}

/**
 * Runs a subscriber callback without letting its exception unwind into postgres.js's protocol parser (where
 * it would fail whatever query the LISTEN connection was running). A throwing subscriber is a bug: it still
 * surfaces, as an uncaught exception, on a later tick.
 */
function callSafely(callback: () => void): void {
  try {
    callback()
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}
