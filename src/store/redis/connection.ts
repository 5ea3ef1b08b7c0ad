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
import { Cluster, Redis, type RedisOptions } from 'ioredis'
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

/** One Redis server (or sentinel, or cluster node) by address. */
export interface RedisNode {
  host: string
  port: number
}

/** Credentials and TLS of the servers that hold the data (as a `REDIS_URL` would carry them). */
export interface RedisAccess {
  username?: string
  password?: string
  /** TLS to every server (`rediss://`), with the system's CA store. */
  tls?: boolean
}

/** A master found through Redis Sentinel, and found again when Sentinel promotes a replica. */
export interface RedisSentinelOptions extends RedisAccess {
  /** Some of the sentinels watching the master; ioredis asks them in turn. */
  sentinels: readonly RedisNode[]
  /** The master's name, as in the sentinels' `sentinel monitor <name> ...`. */
  name: string
  /** Credentials of the sentinels themselves, when they require any (`requirepass` in sentinel.conf). */
  sentinelUsername?: string
  sentinelPassword?: string
}

/** A Redis Cluster, discovered from any of its nodes. */
export interface RedisClusterOptions extends RedisAccess {
  /** Seed nodes: any reachable one is enough to learn the others. */
  nodes: readonly RedisNode[]
}

/** Where the store's Redis is: exactly one of these. */
export type RedisTarget =
  { url: string } | { sentinel: RedisSentinelOptions } | { cluster: RedisClusterOptions }

/**
 * The one target among `url`, `sentinel` and `cluster` (an error if several are given); `redis://127.0.0.1:6379`
 * when none is.
 */
export function redisTarget(options: {
  url?: string | undefined
  sentinel?: RedisSentinelOptions | undefined
  cluster?: RedisClusterOptions | undefined
}): RedisTarget {
  const given = (['url', 'sentinel', 'cluster'] as const).filter((name) => options[name] !== undefined)
  if (given.length > 1)
    throw new TypeError(`Give one of url, sentinel or cluster, not ${given.join(' and ')}.`)
  if (options.sentinel) return { sentinel: options.sentinel }
  if (options.cluster) return { cluster: options.cluster }
  return { url: options.url ?? 'redis://127.0.0.1:6379' }
}

/** The options of a standalone or Sentinel client, as `redisClientOptions` sets them, for one target's access. */
function accessOptions(access: RedisAccess): RedisOptions {
  return {
    ...(access.username !== undefined && { username: access.username }),
    ...(access.password !== undefined && { password: access.password }),
    ...(access.tls && { tls: {} }),
  }
}

/**
 * Opens a connection to `target` with the store's failure policy (module header). A Sentinel client also
 * listens for the sentinels' `+switch-master` (ioredis `failoverDetector`), so a promotion is followed as soon
 * as Sentinel announces it rather than at the next failed command.
 */
export function openRedisConnection(target: RedisTarget, timeoutMs: number): Redis | Cluster {
  if ('url' in target) return new Redis(target.url, redisClientOptions(timeoutMs))
  if ('sentinel' in target) {
    const { sentinel } = target
    return new Redis({
      ...redisClientOptions(timeoutMs),
      ...accessOptions(sentinel),
      sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
      name: sentinel.name,
      ...(sentinel.sentinelUsername !== undefined && { sentinelUsername: sentinel.sentinelUsername }),
      ...(sentinel.sentinelPassword !== undefined && { sentinelPassword: sentinel.sentinelPassword }),
      ...(sentinel.tls && { enableTLSForSentinelMode: true, sentinelTLS: {} }),
      sentinelCommandTimeout: timeoutMs,
      failoverDetector: true,
    })
  }
  const { cluster } = target
  const { enableOfflineQueue, retryStrategy, ...perNode } = redisClientOptions(timeoutMs)
  return new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    {
      enableOfflineQueue,
      clusterRetryStrategy: retryStrategy ?? null,
      slotsRefreshTimeout: timeoutMs,
      redisOptions: { ...perNode, ...accessOptions(cluster) },
    },
  )
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
