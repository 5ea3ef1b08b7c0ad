/**
 * A benchmark target in its own process, so the load generator does not share its event loop. Prints
 * `{ url, headers, tokensFile? }` as one JSON line: the headers a signed-in client sends on every request.
 *
 * - `hello`: a bare Fastify route, the baseline an authenticated route is held against.
 * - `sesame-<memory|sqlite|redis|postgres>`: the real server, one signed-in user, cookie session; with
 *   BENCH_GRANTS=n also n refresh tokens of that user (one family each) for the refresh case. On Redis and
 *   PostgreSQL the session cache is on, as by default; `sesame-<redis|postgres>-nocache` turn it off.
 * - `sesame-healthz`: the real server on its default configuration (SQLite, log level `info`, logging to its
 *   stdout, which the bench reads), loaded on `GET /healthz`: what every user's server pays per request.
 * - `sesame-bearer`: the real server (memory store), one access token; also writes `tokensFile`, 20,000
 *   distinct valid tokens of the same user for the cold case (a new token every request).
 * - `express-memory`, `express-redis`: what a Node team would otherwise pick: Express with express-session on
 *   its MemoryStore, or on connect-redis (ioredis), with a route that reads the session.
 * - `better-auth-sqlite`, `better-auth-redis`: better-auth with its default SQLite setup (better-sqlite3), or
 *   with its Redis secondary storage (`@better-auth/redis-storage`, ioredis) holding the sessions; a route
 *   calling `auth.api.getSession` per request (no cookie cache: its default, and the one that stays
 *   revocable), served by node:http, the lightest server it can have.
 * Redis and PostgreSQL come from REDIS_URL / DATABASE_URL with SESAME_REDIS_PREFIX / SESAME_POSTGRES_SCHEMA.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisStorage } from '@better-auth/redis-storage'
import Database from 'better-sqlite3'
import { betterAuth } from 'better-auth'
import { getMigrations } from 'better-auth/db/migration'
import RedisStore from 'connect-redis'
import express from 'express'
import session from 'express-session'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { signAccessToken } from '../src/core/access-token.js'
import { buildKeyRing } from '../src/core/key-ring.js'
import { buildServer } from '../src/server/app.js'
import { loadConfig } from '../src/server/config.js'

const target = process.argv[2] ?? ''
const COLD_TOKENS = 20_000

interface Ready {
  url: string
  path?: string
  headers: Record<string, string>
  tokensFile?: string
  login?: { username: string; password: string }
  refreshTokens?: string[]
}

const PASSWORD = 'bench password 1'

/** What `GET /auth/me` answers a signed-in user, byte for byte in length and shape. */
const ME_BODY = {
  user: { id: 'GLhDEkVAvPme-JRlT-0z-A', email: 'bench@example.com' },
  session: {
    id: '-osP1zIYMuNryN24hvFufw',
    method: 'cookie',
    created_at: '2026-12-01T22:10:52.000Z',
    expires_at: '2026-12-01T22:40:52.000Z',
  },
}

async function hello(sameResponse: boolean): Promise<Ready> {
  const app = Fastify({ logger: false })
  if (sameResponse) {
    app.get('/auth/me', async (_request, reply) => {
      reply.header('cache-control', 'no-store')
      return ME_BODY
    })
  } else app.get('/auth/me', async () => ({ hello: 'world' }))
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), headers: {} }
}

async function sesame(store: string, bearer: boolean, cache = true, metrics = false): Promise<Ready> {
  const config = loadConfig({
    SESAME_STORE: store,
    SESAME_DATA_DIR: mkdtempSync(join(tmpdir(), 'sesame-bench-')),
    SESAME_LOG_LEVEL: 'silent',
    SESAME_SESSION_CACHE: String(cache),
    // Metrics on: every request is timed and counted (issue 19 measures what that costs).
    ...(metrics && { SESAME_METRICS_TOKEN: 'bench-metrics-token-long-enough-to-be-accepted' }),
    ...(process.env.REDIS_URL && { REDIS_URL: process.env.REDIS_URL }),
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
    ...(process.env.SESAME_REDIS_PREFIX && { SESAME_REDIS_PREFIX: process.env.SESAME_REDIS_PREFIX }),
    ...(process.env.SESAME_POSTGRES_SCHEMA && { SESAME_POSTGRES_SCHEMA: process.env.SESAME_POSTGRES_SCHEMA }),
    // One account signs in over and over: the per-account cap (100 an hour) would stop the login case.
    SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '0',
  })
  const { app, auth, store: opened } = await buildServer({ config, logger: false })
  const user = await auth.signUp({ email: 'bench@example.com', password: PASSWORD })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  if (!bearer) {
    const { cookie } = await auth.createSession(user, {})
    const grants = Number(process.env.BENCH_GRANTS ?? 0)
    const refreshTokens: string[] = []
    for (let i = 0; i < grants; i++) {
      refreshTokens.push(
        (await auth.tokens.grantPassword({ username: user.email, password: PASSWORD })).refreshToken,
      )
    }
    return {
      url,
      headers: { cookie: `${cookie.name}=${cookie.value}` },
      login: { username: user.email, password: PASSWORD },
      refreshTokens,
    }
  }
  const grant = await auth.tokens.grantPassword({ username: user.email, password: PASSWORD })
  // The cold case: many valid tokens of this user, signed with the server's own key, each used once or so.
  const now = Math.floor(Date.now() / 1000)
  const ring = await buildKeyRing(await opened.listSigningKeys(), now, 3600)
  const claims = auth.tokens.authenticateBearer(`Bearer ${grant.accessToken}`).claims
  const tokens = Array.from(
    { length: COLD_TOKENS },
    (_, i) =>
      `Bearer ${signAccessToken({ ...claims, jti: `${claims.jti.slice(0, 14)}${String(i).padStart(8, '0')}` }, ring.signingKey, ring.signingHeader)}`,
  )
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'sesame-bench-tokens-')), 'tokens.json')
  writeFileSync(tokensFile, JSON.stringify(tokens))
  return { url, headers: { authorization: `Bearer ${grant.accessToken}` }, tokensFile }
}

/** `npm start` as it comes: nothing set but where the SQLite file goes. */
async function defaultServer(): Promise<Ready> {
  const config = loadConfig({ SESAME_DATA_DIR: mkdtempSync(join(tmpdir(), 'sesame-bench-')) })
  const { app } = await buildServer({ config })
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), path: '/healthz', headers: {} }
}

async function expressSession(onRedis: boolean): Promise<Ready> {
  const app = express()
  const store = onRedis
    ? new RedisStore({
        client: new Redis(process.env.REDIS_URL!),
        prefix: `${process.env.SESAME_REDIS_PREFIX}sess:`,
      })
    : new session.MemoryStore()
  app.use(
    session({
      store,
      secret: 'bench secret that is long enough to be realistic',
      resave: false,
      saveUninitialized: false,
      rolling: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60 * 1000 },
    }),
  )
  app.post('/login', (request, response) => {
    ;(request.session as unknown as { user: unknown }).user = { id: 'bench', email: 'bench@example.com' }
    response.json({ ok: true })
  })
  app.get('/auth/me', (request, response) => {
    const user = (request.session as unknown as { user?: unknown }).user
    if (!user) response.status(401).json({ error: 'unauthenticated' })
    else response.json({ user })
  })
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const login = await fetch(`${url}/login`, { method: 'POST' })
  const cookie = login.headers.get('set-cookie')?.split(';')[0]
  if (!cookie) throw new Error('express-session set no cookie')
  return { url, headers: { cookie } }
}

async function betterAuthServer(onRedis: boolean): Promise<Ready> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-better-auth-'))
  const options = {
    database: new Database(join(dir, 'better-auth.db')),
    secret: 'a bench secret long enough for better-auth (32+)',
    baseURL: 'http://127.0.0.1',
    emailAndPassword: { enabled: true },
    // Sign-ins from the bench's one address would hit its limiter; the peer rows measure sessions only.
    rateLimit: { enabled: false },
    ...(onRedis && {
      secondaryStorage: redisStorage({
        client: new Redis(process.env.REDIS_URL!),
        keyPrefix: `${process.env.SESAME_REDIS_PREFIX}better-auth:`,
      }),
    }),
  }
  const { runMigrations } = await getMigrations(options)
  await runMigrations()
  const auth = betterAuth(options)
  const signUp = await auth.api.signUpEmail({
    body: { email: 'bench@example.com', password: PASSWORD, name: 'Bench' },
    asResponse: true,
  })
  const cookie = signUp.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ')
  if (!cookie) throw new Error('better-auth set no cookie')
  const server = createServer((request, response) => {
    const headers = new Headers()
    if (request.headers.cookie) headers.set('cookie', request.headers.cookie)
    auth.api.getSession({ headers }).then(
      (session) => {
        response.writeHead(session ? 200 : 401, { 'content-type': 'application/json' })
        response.end(JSON.stringify(session ? { user: session.user, session: session.session } : null))
      },
      () => {
        response.writeHead(500).end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers: { cookie } }
}

async function start(): Promise<Ready> {
  if (target === 'hello') return hello(false)
  // The same route answering the same bytes as Sesame's `GET /auth/me`, without authenticating: separates
  // the cost of authentication from the cost of a larger response (the load generator's share included).
  if (target === 'hello-same-response') return hello(true)
  if (target === 'express-memory') return expressSession(false)
  if (target === 'express-redis') return expressSession(true)
  if (target === 'better-auth-sqlite') return betterAuthServer(false)
  if (target === 'better-auth-redis') return betterAuthServer(true)
  if (target === 'sesame-bearer') return sesame('memory', true)
  if (target === 'sesame-bearer-metrics') return sesame('memory', true, true, true)
  if (target === 'sesame-healthz') return defaultServer()
  const [, store, nocache] = /^sesame-(memory|sqlite|redis|postgres)(-nocache)?$/.exec(target) ?? []
  if (!store) throw new Error(`unknown target ${target}`)
  return sesame(store, false, nocache === undefined)
}

// Exit normally on SIGTERM, so that `node --cpu-prof` writes its profile (bench/profile.ts).
process.once('SIGTERM', () => process.exit(0))

start().then(
  (ready) => process.stdout.write(`${JSON.stringify(ready)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
