/**
 * Where the server's Redis is, from the environment: one server (`REDIS_URL`), a master found through Sentinel
 * (`SESAME_REDIS_SENTINELS` with `SESAME_REDIS_SENTINEL_NAME`), or a Cluster (`SESAME_REDIS_CLUSTER_NODES`).
 * Exactly one of the three; anything else stops the start with one line naming the variables (never their
 * values, which may hold passwords).
 *
 * The node lists are comma-separated `host:port` (`[v6]:port` for IPv6) or URLs
 * `redis[s]://[user[:password]@]host:port` carrying credentials and TLS as `REDIS_URL` does; every entry of a
 * list must then carry the same. In the sentinel list they are those of the master and replicas found through
 * the sentinels (what `REDIS_URL` would name); the sentinels' own, when they require any, are
 * `SESAME_REDIS_SENTINEL_USERNAME` / `SESAME_REDIS_SENTINEL_PASSWORD`.
 */
import type { RedisAccess, RedisClusterOptions, RedisNode, RedisTarget } from '../store/redis/connection.js'
import { hasHashTag } from '../store/redis/keys.js'
import { ConfigError } from './config-error.js'

export interface RedisVariables {
  REDIS_URL?: string | undefined
  SESAME_REDIS_CLUSTER_NODES?: string | undefined
  SESAME_REDIS_SENTINELS?: string | undefined
  SESAME_REDIS_SENTINEL_NAME?: string | undefined
  SESAME_REDIS_SENTINEL_USERNAME?: string | undefined
  SESAME_REDIS_SENTINEL_PASSWORD?: string | undefined
}

/** The configured Redis, or undefined when none is; `required` says why one must be there (the store kind). */
export function readRedisTarget(e: RedisVariables, required: boolean): RedisTarget | undefined {
  const given = (['REDIS_URL', 'SESAME_REDIS_CLUSTER_NODES', 'SESAME_REDIS_SENTINELS'] as const).filter(
    (name) => e[name] !== undefined,
  )
  if (given.length > 1) {
    throw new ConfigError(
      `Invalid Redis settings: give one of REDIS_URL, SESAME_REDIS_CLUSTER_NODES or SESAME_REDIS_SENTINELS, not ${given.join(' and ')}.`,
    )
  }
  const sentinelOnly = (
    [
      'SESAME_REDIS_SENTINEL_NAME',
      'SESAME_REDIS_SENTINEL_USERNAME',
      'SESAME_REDIS_SENTINEL_PASSWORD',
    ] as const
  ).find((name) => e[name] !== undefined)
  if (sentinelOnly && e.SESAME_REDIS_SENTINELS === undefined) {
    throw new ConfigError(`Invalid ${sentinelOnly}: it needs SESAME_REDIS_SENTINELS.`)
  }
  if (e.REDIS_URL !== undefined) return { url: e.REDIS_URL }
  if (e.SESAME_REDIS_CLUSTER_NODES !== undefined) {
    const { nodes, access } = readNodeList('SESAME_REDIS_CLUSTER_NODES', e.SESAME_REDIS_CLUSTER_NODES)
    return { cluster: { nodes, ...access } }
  }
  if (e.SESAME_REDIS_SENTINELS !== undefined) {
    const name = e.SESAME_REDIS_SENTINEL_NAME
    if (name === undefined) {
      throw new ConfigError('Missing SESAME_REDIS_SENTINEL_NAME: required with SESAME_REDIS_SENTINELS.')
    }
    const { nodes, access } = readNodeList('SESAME_REDIS_SENTINELS', e.SESAME_REDIS_SENTINELS)
    return {
      sentinel: {
        sentinels: nodes,
        name,
        ...access,
        ...(e.SESAME_REDIS_SENTINEL_USERNAME !== undefined && {
          sentinelUsername: e.SESAME_REDIS_SENTINEL_USERNAME,
        }),
        ...(e.SESAME_REDIS_SENTINEL_PASSWORD !== undefined && {
          sentinelPassword: e.SESAME_REDIS_SENTINEL_PASSWORD,
        }),
      },
    }
  }
  if (required) {
    throw new ConfigError(
      'Missing REDIS_URL: required with the redis store (or SESAME_REDIS_CLUSTER_NODES, or SESAME_REDIS_SENTINELS).',
    )
  }
  return undefined
}

/** Most nodes a list may name: seeds, not an inventory (a larger cluster is learned from any of them). */
const MAX_NODES = 64

function readNodeList(variable: string, value: string): { nodes: RedisNode[]; access: RedisAccess } {
  const entries = value.split(',').map((entry) => entry.trim())
  if (entries.some((entry) => entry === '') || entries.length > MAX_NODES) {
    throw new ConfigError(
      `Invalid ${variable}: expected 1 to ${MAX_NODES} comma-separated host:port or redis[s]:// entries.`,
    )
  }
  const parsed = entries.map((entry, index) => readNode(variable, entry, index + 1))
  const [first] = parsed
  const differs = parsed.find(
    (node) =>
      node.access.tls !== first!.access.tls ||
      node.access.username !== first!.access.username ||
      node.access.password !== first!.access.password,
  )
  if (differs) {
    throw new ConfigError(
      `Invalid ${variable}: every entry must carry the same scheme and credentials (entry ${parsed.indexOf(differs) + 1} differs from the first).`,
    )
  }
  return { nodes: parsed.map((node) => node.node), access: first!.access }
}

function readNode(
  variable: string,
  entry: string,
  position: number,
): { node: RedisNode; access: RedisAccess } {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry)
  let url: URL
  try {
    url = new URL(hasScheme ? entry : `redis://${entry}`)
  } catch {
    url = new URL('invalid://')
  }
  const bad = (why: string): ConfigError => new ConfigError(`Invalid ${variable}: entry ${position} ${why}.`)
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw bad('is not host:port or a redis:// or rediss:// URL')
  }
  if (url.hostname === '' || url.port === '') throw bad('needs a host and a port')
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw bad('may name a server only (no database number, path or query)')
  }
  const access: RedisAccess = {
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' && { tls: true }),
  }
  // URL keeps IPv6 hosts in brackets; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return { node: { host, port: Number(url.port) }, access }
}

/**
 * The Cluster to spread users over (`store/redis/sharded.ts`), or null: not a Cluster, or one whose prefix has a
 * `{hash tag}`, which keeps every key of the single-slot layout in one slot (and is the layout `sesame migrate`
 * brings forward).
 */
export function spreadCluster(redis: RedisTarget | undefined, prefix: string): RedisClusterOptions | null {
  return redis && 'cluster' in redis && !hasHashTag(prefix) ? redis.cluster : null
}
