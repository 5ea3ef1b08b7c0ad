/**
 * A strategy-lab target in its own process: the real server on one store, with one signed-in user, whose
 * store is wrapped to count every call the engine makes (`GET /lab/store-ops` reads the count), and a
 * protected route (`GET /lab/protected`) that only authenticates. Prints
 * `{ url, header, value }`: the credential header a client of this strategy sends on every request.
 * Usage: `target.ts <memory|sqlite|redis|postgres> <cookie|bearer>` with REDIS_URL / DATABASE_URL and a fresh
 * SESAME_REDIS_PREFIX / SESAME_POSTGRES_SCHEMA in the environment.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { openStore } from '../../src/server/open-store.js'
import type { Store } from '../../src/store/types.js'

const [storeKind, credential] = process.argv.slice(2)

/** The store with every method call counted (not the change feed's: publishing is not a lookup). */
function counted(store: Store): { store: Store; calls: () => number } {
  let calls = 0
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { store: wrapped, calls: () => calls }
}

async function start(): Promise<{ url: string; header: string; value: string }> {
  const config = loadConfig({
    SESAME_STORE: storeKind,
    SESAME_DATA_DIR: mkdtempSync(join(tmpdir(), 'sesame-lab-')),
    SESAME_LOG_LEVEL: 'silent',
    // The lab signs in once and then measures; the sign-in limits are not what it studies.
    SESAME_SIGNUPS_PER_IP: '0',
    ...(process.env.REDIS_URL && { REDIS_URL: process.env.REDIS_URL }),
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
    ...(process.env.SESAME_REDIS_PREFIX && { SESAME_REDIS_PREFIX: process.env.SESAME_REDIS_PREFIX }),
    ...(process.env.SESAME_POSTGRES_SCHEMA && { SESAME_POSTGRES_SCHEMA: process.env.SESAME_POSTGRES_SCHEMA }),
  })
  const { store, calls } = counted(await openStore(config))
  const { app, auth } = await buildServer({ config, store, logger: false })
  const before = calls()
  app.get('/lab/store-ops', async () => ({ calls: calls() - before }))
  // What an app's protected route pays to know who is calling: the engine's authenticate and nothing else
  // (`/auth/me` also loads the user record to show it, which is not the strategy's cost).
  app.get('/lab/protected', async (request, reply) => {
    const result = await auth.authenticate({
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
    })
    if (result?.cookie) reply.header('set-cookie', `${result.cookie.name}=${result.cookie.value}; Path=/`)
    return result ? { userId: result.principal.userId } : reply.code(401).send({ error: 'unauthenticated' })
  })
  const user = await auth.signUp({ email: 'lab@example.com', password: 'strategy lab phrase' })
  let header: string
  let value: string
  if (credential === 'bearer') {
    const grant = await auth.tokens.grantPassword({ username: user.email, password: 'strategy lab phrase' })
    header = 'authorization'
    value = `Bearer ${grant.accessToken}`
  } else {
    const { cookie } = await auth.createSession(user, {})
    header = 'cookie'
    value = `${cookie.name}=${cookie.value}`
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, header, value }
}

start().then(
  (ready) => process.stdout.write(`${JSON.stringify(ready)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
