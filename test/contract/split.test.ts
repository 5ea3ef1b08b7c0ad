/** The production split (users in PostgreSQL, session state in Redis) is one Store and passes the contract. */
import { afterAll } from 'vitest'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSplitStore } from '../../src/store/split-store.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../helpers/shared-stores.js'
import { CONTRACT_TIMEOUT_MS, describeStoreContract } from './store-contract.js'

const schemas: string[] = []
const prefixes: string[] = []
afterAll(async () => {
  await dropSchemas(schemas)
  await deletePrefixes(prefixes)
})

describeStoreContract('postgres users + redis sessions', async () => {
  const schema = freshSchema('split')
  const prefix = freshPrefix('split')
  schemas.push(schema)
  prefixes.push(prefix)
  const store = createSplitStore({
    users: await createPostgresStore({ url: DATABASE_URL, schema, timeoutMs: CONTRACT_TIMEOUT_MS }),
    sessions: createRedisStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: CONTRACT_TIMEOUT_MS }),
  })
  return { store, devicesApart: true, sessionNotices: true }
})
