/**
 * Connection policy for the Redis store: fail fast while Redis is away, reconnect in the background, and turn
 * every failure into `store_unavailable`.
 *
 * Why these ioredis options:
 * - `enableOfflineQueue: false`. By default ioredis queues commands while disconnected, without bound, and sends
 *   them whenever Redis returns. A sign-in would hang instead of failing, memory would grow with every request
 *   of an outage, and writes would land minutes late. Instead a command waits at most `timeoutMs` for the
 *   connection to be ready (see {@link CommandGuard}) and then fails.
 * - `autoResendUnfulfilledCommands: false`. A command in flight when the connection dropped has already failed
 *   for its caller; resending it after the reconnect would apply a write the caller was told did not happen.
 * - `commandTimeout`: a Redis that accepts the connection but never answers (paused, swapping, partitioned)
 *   fails the command after `timeoutMs` instead of hanging the request.
 * - `connectTimeout`, `maxRetriesPerRequest: 1`, and a `retryStrategy` that never gives up: reconnecting runs
 *   in the background with a capped backoff, so the service comes back by itself when Redis does.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { AuthError } from '../../core/errors.js'

/** The default for `timeoutMs`: how long a command may wait for a connection, and then for its answer. */
export const DEFAULT_REDIS_TIMEOUT_MS = 1000

/** Longest pause between reconnect attempts. */
const MAX_RECONNECT_DELAY_MS = 2000

/** The ioredis options the store opens its own connections with. */
export function redisClientOptions(timeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
  }
}

/** Runs commands on one connection, mapping every failure to `store_unavailable`. */
export interface CommandGuard {
  run<T>(this: void, operation: () => Promise<T>): Promise<T>
  /** Makes every later `run` fail at once (the store is closed). */
  close(this: void): void
}

/**
 * Guards `connection`: a command issued while it is (re)connecting waits for 'ready' at most `timeoutMs`, then
 * fails; the last connection error becomes the failure's cause. Also listens to 'error', which ioredis would
 * otherwise print as an unhandled error event on every failed reconnect.
 */
export function createCommandGuard(connection: Redis | Cluster, timeoutMs: number): CommandGuard {
  let lastError: unknown
  let closed = false
  // One listener for all waiting commands, however many there are during an outage.
  let nextReady: Promise<void> | null = null
  connection.on('error', (error: unknown) => {
    lastError = error
  })

  function waitForReady(): Promise<void> {
    nextReady ??= new Promise<void>((resolve) => {
      connection.once('ready', () => {
        nextReady = null
        resolve()
      })
    })
    const ready = nextReady
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`Redis was not ready within ${timeoutMs} ms (connection ${connection.status}).`, {
            cause: lastError,
          }),
        )
      }, timeoutMs)
      void ready.then(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  return {
    async run(operation) {
      try {
        if (closed) throw new Error('The Redis store is closed.')
        if (connection.status !== 'ready') await waitForReady()
        return await operation()
      } catch (error) {
        if (error instanceof AuthError) throw error
        throw new AuthError('store_unavailable', 'The Redis store could not complete the operation.', {
          cause: error,
        })
      }
    },
    close() {
      closed = true
    },
  }
}

/** Closes a connection: QUIT when it is up (so Redis sees a clean goodbye), else just drop it. */
export async function quitConnection(connection: Redis | Cluster): Promise<void> {
  if (connection.status === 'end') return
  if (connection.status === 'ready') {
    try {
      await connection.quit()
      return
    } catch {
      // Fall through: drop the socket instead.
    }
  }
  connection.disconnect()
}
