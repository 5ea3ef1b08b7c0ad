/**
 * What `pack.test.ts` writes into its consumer project: the peers each subpath needs, and the files a user of
 * the package would write. Kept as text, not as files in this repository, where `sesame-auth` would resolve to
 * the repository itself.
 */

export interface Manifest {
  name: string
  version: string
  private?: boolean
  exports: Record<string, string | Record<string, string>>
  bin: Record<string, string>
  dependencies: Record<string, string>
  peerDependencies: Record<string, string>
}

/** The optional peers a subpath needs in order to be imported; any subpath not named here needs none. */
const PEERS_AT_IMPORT: Record<string, string[]> = {
  './store/sqlite': ['better-sqlite3'],
  './store/postgres': ['postgres'],
  './store/redis': ['ioredis'],
  './store/redis-cluster': ['ioredis'],
}

export function peersOfSubpath(subpath: string): string[] {
  return PEERS_AT_IMPORT[subpath] ?? []
}

/** `.` → `sesame-auth`, `./client` → `sesame-auth/client`. */
export function publicName(subpath: string): string {
  return subpath === '.' ? 'sesame-auth' : `sesame-auth/${subpath.slice(2)}`
}

/**
 * What the consumer file's project has installed besides Sesame, as an app using every entry point would:
 * Node's types, and the drivers and frameworks whose types Sesame's declarations name (`ioredis`, `postgres`
 * and `fastify` ship their own) or that the file uses (`express`, typed by `@types/express`). better-sqlite3
 * is absent: no declaration of Sesame's names it, so the SQLite entry point must type-check without it.
 */
export const CONSUMER_TYPE_PACKAGES = [
  '@types/node',
  'ioredis',
  'postgres',
  'fastify',
  'express',
  '@types/express',
]

/**
 * `skipLibCheck` is off: Sesame's own declarations are checked in full, as a user's `tsc` without the flag
 * would. A declaration naming a package that is not installed fails the check instead of turning into `any`.
 */
export const CONSUMER_TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023', 'DOM'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: ['consumer.ts'],
  },
  null,
  2,
)}\n`

/**
 * Correct use of every entry point, and at least one misuse of each: an `@ts-expect-error` with no error under
 * it fails the check, so an entry point whose types did not resolve (and so became `any`) cannot pass. The
 * misuses of `client: 'redis://…'`, `migratePostgres('…')` and a Fastify hook called with plain objects are
 * errors only while the peers' own types resolve. Nothing here runs: the file is only type-checked.
 */
export const CONSUMER_TYPE_CHECK = `import express from 'express'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { type Auth, AuthError, type PublicUser, type Store, createAuth, isSecondFactorRequired } from 'sesame-auth'
import { type ClientState, type SesameClient, createSesameClient } from 'sesame-auth/client'
import { type SesameExpress, principalOf, sesameErrorHandler, sesameExpress } from 'sesame-auth/express'
import { type FastifyHook, type SesameFastify, principalOf as fastifyPrincipalOf, sesameFastify } from 'sesame-auth/fastify'
import { createMemoryStore } from 'sesame-auth/store/memory'
import { type MigrationReport, POSTGRES_MIGRATIONS, createPostgresStore, migratePostgres } from 'sesame-auth/store/postgres'
import { DEFAULT_REDIS_TIMEOUT_MS, createRedisStore, redisClientOptions } from 'sesame-auth/store/redis'
import { createRedisClusterStore } from 'sesame-auth/store/redis-cluster'
import { createSplitStore } from 'sesame-auth/store/split'
import { type SqliteStoreOptions, createSqliteStore } from 'sesame-auth/store/sqlite'
import { type Verifier, createVerifier } from 'sesame-auth/verifier'

// sesame-auth, sesame-auth/store/memory
const auth: Auth = await createAuth({ store: createMemoryStore(), cookie: { sameSite: 'strict' } })
const user: PublicUser = await auth.signUp({ email: 'ada@example.com', password: 'violet anchor tundra 42' })
const roles: readonly string[] = user.roles
const signedIn = await auth.signIn({ email: user.email, password: 'violet anchor tundra 42' })
// @ts-expect-error: a sign-in may stop at its second step (an account with a second factor): narrow first
signedIn.cookie
if (isSecondFactorRequired(signedIn)) throw new Error(\`ask for one of \${signedIn.secondFactor.methods.join(', ')}\`)
const found = await auth.authenticate({ cookie: \`\${signedIn.cookie.name}=\${signedIn.cookie.value}\` })
const method: 'cookie' | 'token' | undefined = found?.principal.method
const error = new AuthError('invalid_request', 'bad input')
const status: number = error.status
// @ts-expect-error: createAuth needs a store
await createAuth({})
// @ts-expect-error: a user's id is a string
const id: number = user.id
// @ts-expect-error: createMemoryStore takes no options
createMemoryStore({ path: 'x' })
// @ts-expect-error: not an error code
new AuthError('no_such_code', 'x')

// sesame-auth/client, sesame-auth/verifier
const client: SesameClient = createSesameClient({ baseUrl: 'https://auth.example.com', mode: 'cookie' })
const state: ClientState = client.state
const verifier: Verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'api' })
// @ts-expect-error: the client's mode is 'token' or 'cookie'
createSesameClient({ baseUrl: 'https://auth.example.com', mode: 'jwt' })
// @ts-expect-error: a verifier needs an audience
createVerifier({ issuer: 'https://auth.example.com' })

// sesame-auth/store/sqlite
const sqliteOptions: SqliteStoreOptions = { path: 'data/sesame.db', readonly: true }
const sqlite: Store = createSqliteStore(sqliteOptions)
// @ts-expect-error: the database file is \`path\`
createSqliteStore({ filename: 'data/sesame.db' })
// @ts-expect-error: readonly is a boolean
createSqliteStore({ path: 'data/sesame.db', readonly: 'yes' })

// sesame-auth/store/postgres
const pg: Promise<Store> = createPostgresStore({ url: 'postgres://localhost/app', schema: 'sesame', migrate: false })
const report: Promise<MigrationReport> = migratePostgres(postgres('postgres://localhost/app'), 'sesame')
const latest: number | undefined = POSTGRES_MIGRATIONS.at(-1)?.version
// @ts-expect-error: timeoutMs is a number of milliseconds
createPostgresStore({ url: 'postgres://localhost/app', timeoutMs: '1500' })
// @ts-expect-error: migratePostgres takes a postgres.js client, not a URL
migratePostgres('postgres://localhost/app', 'sesame')

// sesame-auth/store/redis
const redis: Store = createRedisStore({
  client: new Redis('redis://127.0.0.1:6379', redisClientOptions(DEFAULT_REDIS_TIMEOUT_MS)),
  keyPrefix: 'sesame:',
})
// @ts-expect-error: a key prefix is required
createRedisStore({ url: 'redis://127.0.0.1:6379' })
// @ts-expect-error: client is an ioredis client, not a URL
createRedisStore({ client: 'redis://127.0.0.1:6379', keyPrefix: 'sesame:' })

// sesame-auth/store/redis-cluster
const spread: Store = createRedisClusterStore({ cluster: { nodes: [{ host: '10.0.1.1', port: 6379 }] }, keyPrefix: 'sesame:' })
void spread.secretRoute?.('user-id')
// @ts-expect-error: a key prefix is required
createRedisClusterStore({ cluster: { nodes: [] } })

// sesame-auth/store/split
const split: Store = createSplitStore({ users: sqlite, sessions: redis })
// @ts-expect-error: both stores are needed
createSplitStore({ users: sqlite })

// sesame-auth/express, in a real Express app
const app = express()
const guards: SesameExpress = sesameExpress({ authenticator: auth, trustedOrigins: ['https://app.example.com'] })
app.get('/api/me', guards.requireAuth(), (request, response) => {
  response.json(principalOf(request))
})
app.post('/api/admin', guards.requireRole('admin'), (_request, response) => {
  response.sendStatus(204)
})
app.use(sesameErrorHandler())
// @ts-expect-error: trustedOrigins is a list
sesameExpress({ authenticator: auth, trustedOrigins: 'https://app.example.com' })
// @ts-expect-error: an authenticator has an authenticate method
sesameExpress({ authenticator: {} })

// sesame-auth/fastify, in a real Fastify app
const server = Fastify()
const hooks: SesameFastify = sesameFastify({ authenticator: verifier })
server.get('/api/me', { preHandler: hooks.requireAuth() }, async (request) => fastifyPrincipalOf(request))
server.delete('/api/things/:id', { preHandler: [hooks.authenticate, hooks.requireRole('admin')] }, async () => null)
const hook: FastifyHook = hooks.requirePermission((principal) => principal.roles.includes('admin'))
// @ts-expect-error: a hook takes Fastify's request and reply
await hook({}, {})
// @ts-expect-error: a role is a string
hooks.requireRole(1)

export { roles, method, state, status, id, pg, report, latest, split, hook }
`

/** Prints what it saw as JSON for the test to compare. */
export const CONSUMER_RUNTIME_CHECK = `import { AuthError, createAuth } from 'sesame-auth'
import { createMemoryStore } from 'sesame-auth/store/memory'
import { createVerifier } from 'sesame-auth/verifier'

const issuer = 'https://auth.example.com'
const audience = 'api'
const password = 'violet anchor tundra 42'
const auth = await createAuth({ store: createMemoryStore(), tokens: { issuer, audience } })
const user = await auth.signUp({ email: 'Ada@Example.com', password })

const { cookie } = await auth.signIn({ email: 'ada@example.com', password })
const bySession = await auth.authenticate({ cookie: \`\${cookie.name}=\${cookie.value}\` })

const grant = await auth.tokens.grantPassword({ username: 'ada@example.com', password })
const byBearer = await auth.authenticate({ authorization: \`Bearer \${grant.accessToken}\` })

// A resource server's verifier, fetching the keys from this engine instead of over HTTP.
const verifier = createVerifier({ issuer, audience, fetch: async () => Response.json(auth.tokens.jwks()) })
await verifier.ready(5000)
const verified = verifier.verifyAuthorization(\`Bearer \${grant.accessToken}\`)
await verifier.close()

let wrongPassword = null
try {
  await auth.signIn({ email: 'ada@example.com', password: 'not the password' })
} catch (error) {
  wrongPassword = error instanceof AuthError ? error.code : String(error)
}
await auth.close()

console.log(JSON.stringify({
  email: user.email,
  sessionUser: bySession?.user?.email,
  bearerUserMatches: byBearer?.principal.userId === user.id,
  verifierUserMatches: verified.principal.userId === user.id,
  wrongPassword,
}))
`
