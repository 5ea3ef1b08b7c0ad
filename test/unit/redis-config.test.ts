import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/server/config.js'
import { spreadCluster } from '../../src/server/redis-config.js'

const REDIS = { SESAME_STORE: 'redis' }

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('the configuration was accepted')
}

describe('where Redis is', () => {
  it('is one server by REDIS_URL, as before', () => {
    expect(loadConfig({ ...REDIS, REDIS_URL: 'redis://cache:6379/2' }).redis).toEqual({
      url: 'redis://cache:6379/2',
    })
  })

  it('is a master found through Sentinel, with the data nodes’ and the sentinels’ credentials apart', () => {
    const config = loadConfig({
      ...REDIS,
      SESAME_REDIS_SENTINELS: 'rediss://app:s%3Acret@10.0.0.1:26379, rediss://app:s%3Acret@[fd00::2]:26380',
      SESAME_REDIS_SENTINEL_NAME: 'sesame-main',
      SESAME_REDIS_SENTINEL_PASSWORD: 'sentinel secret',
    })
    expect(config.redis).toEqual({
      sentinel: {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: 'fd00::2', port: 26380 },
        ],
        name: 'sesame-main',
        username: 'app',
        password: 's:cret',
        tls: true,
        sentinelPassword: 'sentinel secret',
      },
    })
  })

  it('is a Cluster from its seed nodes, given a hash-tagged prefix', () => {
    const config = loadConfig({
      ...REDIS,
      SESAME_REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
      SESAME_REDIS_PREFIX: '{sesame}:',
    })
    expect(config.redis).toEqual({
      cluster: {
        nodes: [
          { host: '127.0.0.1', port: 7000 },
          { host: '127.0.0.1', port: 7001 },
        ],
      },
    })
  })

  it('is exactly one of the three, and each refusal is one line naming the variables, never a value', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [
        { REDIS_URL: 'redis://a:6379', SESAME_REDIS_SENTINELS: 'b:26379', SESAME_REDIS_SENTINEL_NAME: 'm' },
        'Invalid Redis settings: give one of REDIS_URL, SESAME_REDIS_CLUSTER_NODES or SESAME_REDIS_SENTINELS, not REDIS_URL and SESAME_REDIS_SENTINELS.',
      ],
      [
        {
          SESAME_REDIS_CLUSTER_NODES: 'a:7000',
          SESAME_REDIS_SENTINELS: 'b:26379',
          SESAME_REDIS_PREFIX: '{s}:',
        },
        'Invalid Redis settings: give one of REDIS_URL, SESAME_REDIS_CLUSTER_NODES or SESAME_REDIS_SENTINELS, not SESAME_REDIS_CLUSTER_NODES and SESAME_REDIS_SENTINELS.',
      ],
      [
        {},
        'Missing REDIS_URL: required with the redis store (or SESAME_REDIS_CLUSTER_NODES, or SESAME_REDIS_SENTINELS).',
      ],
      [
        { SESAME_REDIS_SENTINELS: 'b:26379' },
        'Missing SESAME_REDIS_SENTINEL_NAME: required with SESAME_REDIS_SENTINELS.',
      ],
      [
        { REDIS_URL: 'redis://a:6379', SESAME_REDIS_SENTINEL_NAME: 'm' },
        'Invalid SESAME_REDIS_SENTINEL_NAME: it needs SESAME_REDIS_SENTINELS.',
      ],
      [
        { SESAME_REDIS_CLUSTER_NODES: 'a:7000,,b:7001', SESAME_REDIS_PREFIX: '{s}:' },
        'Invalid SESAME_REDIS_CLUSTER_NODES: expected 1 to 64 comma-separated host:port or redis[s]:// entries.',
      ],
      [
        { SESAME_REDIS_CLUSTER_NODES: 'a:7000,http://b:7001', SESAME_REDIS_PREFIX: '{s}:' },
        'Invalid SESAME_REDIS_CLUSTER_NODES: entry 2 is not host:port or a redis:// or rediss:// URL.',
      ],
      [
        { SESAME_REDIS_CLUSTER_NODES: 'a', SESAME_REDIS_PREFIX: '{s}:' },
        'Invalid SESAME_REDIS_CLUSTER_NODES: entry 1 needs a host and a port.',
      ],
      [
        { SESAME_REDIS_CLUSTER_NODES: 'redis://a:7000/1', SESAME_REDIS_PREFIX: '{s}:' },
        'Invalid SESAME_REDIS_CLUSTER_NODES: entry 1 may name a server only (no database number, path or query).',
      ],
      [
        {
          SESAME_REDIS_CLUSTER_NODES: 'redis://:hunter2@a:7000,redis://:hunter3@b:7001',
          SESAME_REDIS_PREFIX: '{s}:',
        },
        'Invalid SESAME_REDIS_CLUSTER_NODES: every entry must carry the same scheme and credentials (entry 2 differs from the first).',
      ],
      [
        { SESAME_REDIS_CLUSTER_NODES: 'a:7000', SESAME_REDIS_PREFIX: 'a{b:' },
        'Invalid SESAME_REDIS_PREFIX: on a Redis Cluster, a prefix with braces needs a {hash tag} (every key in one slot), or no braces at all (users spread over the shards).',
      ],
    ]
    for (const [env, message] of cases) {
      const text = refusal({ ...REDIS, ...env })
      expect(text).toBe(message)
      expect(text).not.toMatch(/hunter/)
    }
  })

  it('spreads users over a Cluster whose prefix has no hash tag, and keeps one slot for a tagged prefix', () => {
    const untagged = loadConfig({ ...REDIS, SESAME_REDIS_CLUSTER_NODES: 'a:7000,b:7001' })
    expect(spreadCluster(untagged.redis, untagged.redisPrefix)).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    })
    const tagged = loadConfig({ ...REDIS, SESAME_REDIS_CLUSTER_NODES: 'a:7000', SESAME_REDIS_PREFIX: '{s}:' })
    expect(spreadCluster(tagged.redis, tagged.redisPrefix)).toBeNull()
    const single = loadConfig({ ...REDIS, REDIS_URL: 'redis://a:6379' })
    expect(spreadCluster(single.redis, single.redisPrefix)).toBeNull()
  })

  it('is not needed when no store is on Redis', () => {
    expect(loadConfig({}).redis).toBeUndefined()
  })
})
