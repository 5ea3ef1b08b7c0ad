/**
 * The store contract on a real Redis Cluster (three masters, three replicas; test/helpers/redis-cluster.ts),
 * opened from its seed nodes with a hash-tagged prefix: the layout the store has today, every key of a prefix
 * in one slot. Also: the store refuses a Cluster prefix without a hash tag rather than failing every script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore } from '../../src/store/redis/index.js'
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

const nodes = () => cluster.ports.map((port) => ({ host: '127.0.0.1', port }))

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
  it('confirms a revocation on the replica of the master that ran it, and refuses one no replica set can confirm', async () => {
    const prefix = `{${freshPrefix('cluster-wait')}}:`
    const open = (revocationReplicas: number) =>
      createRedisStore({ cluster: { nodes: nodes() }, keyPrefix: prefix, timeoutMs: 500, revocationReplicas })
    const confirmed = open(1)
    const overAsked = open(2) // each master has one replica
    try {
      const user = await confirmed.createUser(makeUser())
      if (typeof user !== 'object') throw new Error('the user was not created')
      await confirmed.createSession(makeSession(user.id))
      await confirmed.createSession(makeSession(user.id))
      expect(await confirmed.deleteUserSessions(user.id, null)).toBe(2)

      await confirmed.createSession(makeSession(user.id))
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
  })

  it('refuses a prefix without a hash tag at once, naming the fix', () => {
    expect(() => createRedisStore({ cluster: { nodes: nodes() }, keyPrefix: 'sesame:' })).toThrow(
      'On a Redis Cluster the key prefix needs a {hash tag} (e.g. "{sesame}:")',
    )
  })
})
