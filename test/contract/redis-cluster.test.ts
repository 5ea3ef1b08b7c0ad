/**
 * The store contract on a real Redis Cluster (three masters, three replicas; test/helpers/redis-cluster.ts),
 * opened from its seed nodes twice: the Cluster store, whose untagged prefix spreads users over the shards in
 * groups (`store/redis/sharded.ts`), and the single-slot store with a hash-tagged prefix, every key in one slot.
 * Also: the single-slot store refuses a prefix without a hash tag rather than failing every script, and the
 * Cluster store one with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { generateSecretToken } from '../../src/core/random.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createRedisClusterStore } from '../../src/store/redis/sharded.js'
import type { Store } from '../../src/store/types.js'
import { type RedisClusterSet, startRedisCluster } from '../helpers/redis-cluster.js'
import { freshPrefix } from '../helpers/shared-stores.js'
import { CONTRACT_TIMEOUT_MS, describeStoreContract, makeSession, makeUser } from './store-contract.js'

let cluster: RedisClusterSet

beforeAll(async () => {
  cluster = await startRedisCluster()
}, 90_000)

afterAll(async () => {
  await cluster?.close()
})

/** A session of `userId` whose token carries the route `store` wants, as the engine makes them. */
function sessionOf(store: Store, userId: string) {
  return makeSession(userId, {
    tokenHash: hashSecret(generateSecretToken(store.secretRoute?.(userId) ?? null)),
  })
}

const nodes = () => cluster.ports.map((port) => ({ host: '127.0.0.1', port }))

describeStoreContract('redis cluster (spread over the shards)', async () => {
  const prefix = `${freshPrefix('spread')}:`
  return {
    store: createRedisClusterStore({
      cluster: { nodes: nodes() },
      keyPrefix: prefix,
      timeoutMs: CONTRACT_TIMEOUT_MS,
    }),
    cleanup: () => cluster.deleteKeysUnder(prefix),
    sessionNotices: true,
  }
})

describeStoreContract('redis cluster (one hash-tagged prefix)', async () => {
  const prefix = `{${freshPrefix('cluster')}}:`
  return {
    store: createRedisStore({
      cluster: { nodes: nodes() },
      keyPrefix: prefix,
      timeoutMs: CONTRACT_TIMEOUT_MS,
    }),
    cleanup: () => cluster.deleteKeysUnder(prefix),
    sessionNotices: true,
  }
})

describe('redis store on a cluster', () => {
  it.each([
    ['one-slot', `{${freshPrefix('cluster-wait')}}:`],
    ['spread', `${freshPrefix('cluster-wait')}:`],
  ])(
    'confirms a revocation on the replica of the master that ran it, and refuses one no replica set can confirm (%s)',
    async (layout, prefix) => {
      const open = (revocationReplicas: number) =>
        layout === 'spread'
          ? createRedisClusterStore({
              cluster: { nodes: nodes() },
              keyPrefix: prefix,
              timeoutMs: 500,
              revocationReplicas,
            })
          : createRedisStore({
              cluster: { nodes: nodes() },
              keyPrefix: prefix,
              timeoutMs: 500,
              revocationReplicas,
            })
      const confirmed = open(1)
      const overAsked = open(2) // each master has one replica
      try {
        const user = await confirmed.createUser(makeUser())
        if (typeof user !== 'object') throw new Error('the user was not created')
        await confirmed.createSession(sessionOf(confirmed, user.id))
        await confirmed.createSession(sessionOf(confirmed, user.id))
        expect(await confirmed.deleteUserSessions(user.id, null)).toBe(2)

        await confirmed.createSession(sessionOf(confirmed, user.id))
        await expect(overAsked.deleteUserSessions(user.id, null)).rejects.toMatchObject({
          code: 'store_unavailable',
          cause: { name: 'UnconfirmedRevocationError' },
        })
        // The revocation did run on the master: what was refused was the confirmation.
        expect(await confirmed.listUserSessions(user.id)).toEqual([])
      } finally {
        await confirmed.close()
        await overAsked.close()
        await cluster.deleteKeysUnder(prefix)
      }
    },
  )

  it('refuses a prefix without a hash tag at once, naming the fix', () => {
    expect(() => createRedisStore({ cluster: { nodes: nodes() }, keyPrefix: 'sesame:' })).toThrow(
      'On a Redis Cluster the key prefix needs a {hash tag} (e.g. "{sesame}:")',
    )
  })

  it('refuses a prefix with a brace for the Cluster store, which would move every key out of its group', () => {
    for (const keyPrefix of ['{sesame}:', '{}x:', 'a{b:', 'a}:']) {
      expect(() => createRedisClusterStore({ cluster: { nodes: nodes() }, keyPrefix }), keyPrefix).toThrow(
        'holds a brace, which would move every key',
      )
    }
  })
})
