/**
 * The PostgreSQL store's connection handling: option validation, the pool, and the time bound every
 * operation runs under, so a dead or unreachable server turns into `store_unavailable` within about
 * `timeoutMs`, never into a hang.
 *
 * Why a bound of our own on top of the driver's timeouts:
 * - `connect_timeout` covers one connection attempt only. While the server is down, postgres.js queues
 *   queries and retries connecting with a growing backoff (up to 20 s between attempts), so a queued query
 *   could wait far longer than one attempt.
 * - A server that vanished without closing the socket (host down, network partition) leaves a sent query
 *   waiting until TCP keepalive gives up, which takes minutes.
 * - `statement_timeout` (set per connection to the same bound) makes a live but slow server abandon the
 *   statement too, so a caller that was told "failed" does not leave work running behind it.
 */
import postgres from 'postgres'
import { AuthError } from '../../core/errors.js'

/** The postgres.js client, with no custom types. */
export type Sql = postgres.Sql

/**
 * Allowed schema names: a plain lowercase identifier (PostgreSQL's limit is 63 bytes). It is quoted wherever
 * it appears in SQL anyway, but validating it means it can never carry SQL, and it fits `search_path` and
 * channel names without escaping.
 */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/

/** Throws a `TypeError` (a configuration mistake, caught at startup) unless `schema` is a safe name. */
export function assertSchemaName(schema: string): void {
  if (typeof schema !== 'string' || !SCHEMA_NAME_PATTERN.test(schema)) {
    throw new TypeError(
      `The PostgreSQL "schema" must match ${String(SCHEMA_NAME_PATTERN)} (lowercase letters, digits, underscores).`,
    )
  }
}

export interface PoolOptions {
  url: string
  schema: string
  maxConnections: number
  connectTimeoutMs: number
  timeoutMs: number
  applicationName: string
}

/**
 * Opens the pool (lazily: postgres.js connects on the first query). Every connection starts with
 * `search_path` set to the store's schema, so statements name tables unqualified, and with
 * `statement_timeout` set to the operation bound.
 */
export function openPool(options: PoolOptions): Sql {
  if (/[?&]search_path=/.test(options.url)) {
    // postgres.js lets URL parameters override connection parameters, which would silently move every table.
    throw new TypeError('The PostgreSQL "url" must not set search_path; use the "schema" option instead.')
  }
  return postgres(options.url, {
    max: options.maxConnections,
    // Seconds (fractions allowed): one attempt, including TLS and authentication, must finish in this time.
    connect_timeout: options.connectTimeoutMs / 1000,
    // Seconds: idle connections are closed, so a connection silently dropped by a firewall or a proxy's idle
    // limit is not the one the next request picks up.
    idle_timeout: 30,
    connection: {
      application_name: options.applicationName,
      search_path: options.schema,
      statement_timeout: options.timeoutMs,
    },
    // No array types are used, so skip the catalog query postgres.js otherwise runs on every new connection.
    fetch_types: false,
    // Notices ("relation already exists, skipping" and the like) are informational; keep them off stdout.
    onnotice: () => {},
  })
}

/** Wraps a driver failure (or a timeout) as the contract's `store_unavailable`, keeping the cause. */
export function unavailable(cause: unknown): AuthError {
  if (cause instanceof AuthError) return cause
  return new AuthError('store_unavailable', 'The PostgreSQL store could not complete the operation.', {
    cause,
  })
}

/**
 * Resolves with `work`, or rejects with `store_unavailable` if it fails or takes longer than `timeoutMs`.
 *
 * On a timeout, a postgres.js query that is still queued (never sent, because no connection could be made)
 * is withdrawn from the queue, so it cannot run later, after the caller was told it failed. A query already
 * sent is left to the server's `statement_timeout`: cancelling it from here would open yet another
 * connection to a server that is not answering, and postgres.js gives no way to observe that attempt's
 * failure.
 */
export function bounded<T>(work: PromiseLike<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      withdrawIfQueued(work)
      reject(unavailable(new Error(`PostgreSQL did not answer within ${timeoutMs} ms.`)))
    }, timeoutMs)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(unavailable(error))
      },
    )
  })
}

/** The parts of a postgres.js query that tell whether it reached a connection (`state` is set on send). */
interface QueryInternals {
  state?: unknown
  cancel?: () => unknown
}

function withdrawIfQueued(work: PromiseLike<unknown>): void {
  const query = work as QueryInternals
  // Not yet sent: postgres.js removes it from its queue and rejects it synchronously, with no network I/O.
  if (typeof query.cancel === 'function' && 'state' in query && query.state == null) query.cancel()
}
