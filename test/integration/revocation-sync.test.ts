/**
 * Two claims about how an instance keeps its in-memory revocations in step with the store, which before were
 * only stated:
 * - Redis: a revocation made while an instance's connection (and so its change feed) is down is not missed:
 *   when the feed reconnects the instance re-reads the store. The instance reaches Redis through a TCP relay the
 *   test cuts and restores; the other instance, which revokes, talks to Redis directly.
 * - SQLite: there is no feed between processes; a revocation another process writes is applied at the next
 *   periodic re-read (every 30 s), driven here by faked interval timers.
 */
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { PERIODIC_RESYNC_SECONDS } from '../../src/engine/token-sync.js'
import { createRedisStore } from '../../src/store/redis/index.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { REDIS_URL, deletePrefixes, freshPrefix } from '../helpers/shared-stores.js'
import { makeTempDir } from '../helpers/server.js'
import { Relay } from '../helpers/relay.js'

const TOKENS = { issuer: 'https://auth.example', audience: 'https://api.example' }
const FAST_HASHER = createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } })
const EMAIL = 'feed@example.com'
const PASSWORD = 'a passphrase for the feed test'

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function accepts(auth: Auth, accessToken: string): boolean {
  try {
    auth.tokens.authenticateBearer(`Bearer ${accessToken}`)
    return true
  } catch {
    return false
  }
}

describe('revocations reach an instance whose feed was down', () => {
  const prefix = freshPrefix('feed')
  const engines: Auth[] = []
  const relay = new Relay(REDIS_URL)
  afterAll(async () => {
    for (const engine of engines) await engine.close()
    await relay.cut().catch(() => {})
    await deletePrefixes([prefix])
  })

  it('Redis: a token revoked while the feed was cut is refused once it reconnects', async () => {
    await relay.start()
    const direct = await createAuth({
      store: createRedisStore({ url: REDIS_URL, keyPrefix: prefix }),
      tokens: TOKENS,
      passwordHasher: FAST_HASHER,
    })
    engines.push(direct)
    await direct.signUp({ email: EMAIL, password: PASSWORD })
    const relayed = await createAuth({
      store: createRedisStore({ url: `redis://127.0.0.1:${relay.port}`, keyPrefix: prefix }),
      tokens: TOKENS,
      passwordHasher: FAST_HASHER,
    })
    engines.push(relayed)
    const { accessToken } = await direct.tokens.grantPassword({ username: EMAIL, password: PASSWORD })
    expect(accepts(relayed, accessToken)).toBe(true)

    await relay.cut()
    await direct.tokens.revoke(accessToken)
    expect(accepts(direct, accessToken)).toBe(false)
    // The event went out while the relayed instance could not hear it: it still accepts the token.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(accepts(relayed, accessToken)).toBe(true)

    await relay.restore()
    await until(() => !accepts(relayed, accessToken))
  })
})

describe('SQLite: the periodic re-read', () => {
  const dir = makeTempDir()
  const engines: Auth[] = []
  afterEach(() => {
    vi.useRealTimers()
  })
  afterAll(async () => {
    for (const engine of engines) await engine.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(`applies a revocation another process wrote within ${PERIODIC_RESYNC_SECONDS} s, with no feed`, async () => {
    const path = join(dir, 'sesame.db')
    const writer = await createAuth({
      store: createSqliteStore({ path }),
      tokens: TOKENS,
      passwordHasher: FAST_HASHER,
    })
    engines.push(writer)
    await writer.signUp({ email: EMAIL, password: PASSWORD })
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const server = await createAuth({
      store: createSqliteStore({ path }),
      tokens: TOKENS,
      passwordHasher: FAST_HASHER,
    })
    engines.push(server)
    const { accessToken } = await server.tokens.grantPassword({ username: EMAIL, password: PASSWORD })

    await writer.tokens.revoke(accessToken) // another process: nothing tells the server
    await vi.advanceTimersByTimeAsync((PERIODIC_RESYNC_SECONDS - 1) * 1000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(accepts(server, accessToken)).toBe(true) // not yet: no event, and the re-read has not come

    await vi.advanceTimersByTimeAsync(1000)
    await until(() => !accepts(server, accessToken), 5000)
  })
})
