/**
 * A benchmark target in its own process, so the load generator does not share its event loop:
 * `hello` is a bare Fastify route (the baseline an authenticated route is held against); `sesame-memory` and
 * `sesame-sqlite` are the real server with one signed-in user. Prints `{ url, cookie }` as one JSON line.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { buildServer } from '../src/server/app.js'
import { loadConfig } from '../src/server/config.js'

const target = process.argv[2]

async function start(): Promise<{ url: string; cookie: string }> {
  if (target === 'hello') {
    const app = Fastify({ logger: false })
    app.get('/auth/me', async () => ({ hello: 'world' }))
    return { url: await app.listen({ port: 0, host: '127.0.0.1' }), cookie: '' }
  }
  const store = target === 'sesame-memory' ? 'memory' : target === 'sesame-sqlite' ? 'sqlite' : undefined
  if (!store) throw new Error(`unknown target ${target}`)
  const config = loadConfig({
    SESAME_STORE: store,
    SESAME_DATA_DIR: mkdtempSync(join(tmpdir(), 'sesame-bench-')),
    SESAME_LOG_LEVEL: 'silent',
  })
  const { app, auth } = await buildServer({ config, logger: false })
  const user = await auth.signUp({ email: 'bench@example.com', password: 'bench password 1' })
  const { cookie } = await auth.createSession(user, {})
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, cookie: `${cookie.name}=${cookie.value}` }
}

start().then(
  (ready) => process.stdout.write(`${JSON.stringify(ready)}\n`),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  },
)
