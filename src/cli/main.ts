#!/usr/bin/env node
/**
 * The `sesame` command. It reads the same environment variables, through the same schema, as the server, so
 * `SESAME_STORE=postgres DATABASE_URL=… sesame users create …` acts on the store a running server uses.
 * Coded errors (a bad variable, an unknown user, an invalid token) print one line and exit non-zero; passwords
 * are read from standard input, never from the command line (where `ps` would show them).
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { type JWK } from 'jose'
import { type Auth, createAuth } from '../auth.js'
import { canonicalizeEmail } from '../core/email.js'
import { AuthError } from '../core/errors.js'
import { buildKeyRing, hmacKeyMaterial } from '../core/key-ring.js'
import { authOptionsFromConfig } from '../server/auth-options.js'
import { type Config, ConfigError, loadConfig } from '../server/config.js'
import { migrateStores } from '../server/migrate.js'
import { openStore } from '../server/open-store.js'
import { serve } from '../server/serve.js'
import type { Store } from '../store/types.js'
import { checkSignature, decodeToken, formatDecoded, resolverFromJwks } from './token-decode.js'

/** Exit status for a refused operation or bad input (commander exits 1 for bad usage too, after its help). */
const FAILED = 1

/** A failure to report as one line. */
class CliError extends Error {}

const out = (line = ''): void => void process.stdout.write(`${line}\n`)
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

function config(): Readonly<Config> {
  return loadConfig(process.env)
}

/** Runs `work` with the configured store open, closing it however `work` ends. */
async function withStore<T>(work: (store: Store, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const settings = config()
  if (settings.store === 'memory' || settings.sessionStore === 'memory') {
    // A memory store lives inside the server's own process: a second process would act on an empty copy.
    throw new CliError('the memory store lives inside the server process; this command cannot reach it')
  }
  const store = await openStore(settings)
  try {
    return await work(store, settings)
  } finally {
    await store.close()
  }
}

/**
 * What a running server on this store sees of a change made here: with SQLite there is no change feed between
 * processes, so it applies revocations to access tokens at its next periodic re-read.
 */
function propagationNote(settings: Readonly<Config>): string {
  return settings.sessionStore === 'sqlite'
    ? 'a running server on this SQLite file applies it to access tokens within 30 s (its periodic re-read); sessions and refresh tokens end at once'
    : 'running instances learn it through the change feed within milliseconds'
}

/** Runs `work` with the engine over the configured store. */
function withEngine<T>(work: (auth: Auth, store: Store) => Promise<T>): Promise<T> {
  return withStore(async (store, settings) => {
    const auth = await createAuth(authOptionsFromConfig(settings, store))
    try {
      return await work(auth, store)
    } finally {
      await auth.close()
    }
  })
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new CliError('give the password on standard input, e.g. `printf %s "$PW" | sesame …`')
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text.replace(/\r?\n$/, '')
}

async function userIdOf(store: Store, email: string): Promise<string> {
  const user = await store.findUserByEmail(canonicalizeEmail(email))
  if (!user) throw new CliError(`no user with the email ${email}`)
  return user.id
}

const program = new Command('sesame')
  .description('Sesame authentication server: run it, migrate it, manage keys, users and sessions.')
  .showHelpAfterError()
  .exitOverride()

program
  .command('serve')
  .description('start the server (the configuration comes from SESAME_* variables, as with npm start)')
  .action(() => serve(process.env))

program
  .command('migrate')
  .description('apply pending schema migrations to the configured stores')
  .action(() => migrateStores(config(), out))

const keys = program.command('keys').description('the signing keys of access tokens')
keys
  .command('list')
  .description('list signing keys: which signs, which only verify, which have retired')
  .action(() =>
    withStore(async (store, settings) => {
      if (settings.tokens.algorithm === 'HS256')
        return out('HS256: the key is SESAME_JWT_SECRET; nothing is stored.')
      const materials = await store.listSigningKeys()
      if (materials.length === 0) return out('no keys yet: the server creates one on its first start')
      for (const key of [...materials].sort((a, b) => b.createdAt - a.createdAt)) {
        const state = key.retiredAt === null ? 'live' : `retired ${iso(key.retiredAt)}`
        out(`${key.kid}  ${key.alg}  created ${iso(key.createdAt)}  ${state}`)
      }
    }),
  )
keys
  .command('rotate')
  .description('make a new key the signing key; old keys verify until their tokens expire')
  .action(() =>
    withEngine(async (auth) => {
      out(`rotating the ${config().tokens.algorithm} signing key…`)
      const kid = await auth.tokens.rotateSigningKey()
      const settings = config()
      out(
        settings.store === 'sqlite'
          ? `new signing key ${kid}; a running server signs with it after a restart, and verifies its tokens at once`
          : `new signing key ${kid}; running instances switch to it through the change feed`,
      )
    }),
  )

const users = program.command('users').description('accounts')
users
  .command('create <email>')
  .description('create an account; the password is read from standard input')
  .option('--role <role...>', 'roles to give the account, e.g. --role admin')
  .action((email: string, options: { role?: string[] }) =>
    withEngine(async (auth) => {
      const password = await readStdin()
      const user = await auth.createUser({ email, password, roles: options.role ?? [] })
      out(
        `created ${user.email} (id ${user.id}${user.roles.length ? `, roles ${user.roles.join(', ')}` : ''})`,
      )
    }),
  )
users
  .command('disable <email>')
  .description('disable an account and end every session and token of it')
  .action((email: string) =>
    withEngine(async (auth) => {
      if (!(await auth.disableUser(email))) throw new CliError(`no user with the email ${email}`)
      out(
        `disabled ${email}; its sessions, refresh tokens and access tokens are ended (${propagationNote(config())})`,
      )
    }),
  )

const sessions = program
  .command('sessions')
  .description("a user's devices: cookie sessions and token families")
sessions
  .command('list <email>')
  .description("list a user's live sessions and token families")
  .action((email: string) =>
    withEngine(async (auth, store) => {
      const devices = await auth.devices.listForUser(await userIdOf(store, email))
      if (devices.length === 0) return out(`${email} has no live sessions`)
      for (const device of devices) {
        out(
          `${device.id}  ${device.kind}  since ${iso(device.createdAt)}  last seen ${iso(device.lastSeenAt)}  ` +
            `expires ${iso(device.expiresAt)}  ${device.ip ?? '-'}  ${device.userAgent ?? '-'}`,
        )
      }
    }),
  )
sessions
  .command('revoke <email>')
  .description('end every session, refresh family and access token of a user (log out everywhere)')
  .action((email: string) =>
    withEngine(async (auth, store) => {
      await auth.devices.endAllForUser(await userIdOf(store, email))
      out(`ended every session and token of ${email} (${propagationNote(config())})`)
    }),
  )

program
  .command('token')
  .description('inspect tokens')
  .command('decode <jwt>')
  .description('show a JWT’s header and claims, and check its signature')
  .option(
    '--jwks <url>',
    'check the signature against this JWKS (e.g. https://auth.example.com/.well-known/jwks.json)',
  )
  .addOption(
    new Option('--local', 'check the signature against the key ring in the configured store').conflicts(
      'jwks',
    ),
  )
  .action(async (jwt: string, options: { jwks?: string; local?: boolean }) => {
    const decoded = decodeToken(jwt)
    out(formatDecoded(decoded, Math.floor(Date.now() / 1000)))
    if (!options.jwks && !options.local) return out('Signature: not checked (use --jwks <url> or --local)')
    let resolveKey
    if (options.jwks) {
      const response = await fetch(options.jwks, { signal: AbortSignal.timeout(5000) }).catch(
        (error: unknown) => {
          throw new CliError(
            `could not fetch ${options.jwks}: ${error instanceof Error ? error.message : String(error)}`,
          )
        },
      )
      if (!response.ok) throw new CliError(`${options.jwks} answered ${response.status}`)
      const jwks = (await response.json().catch(() => null)) as { keys?: unknown } | null
      if (!Array.isArray(jwks?.keys)) throw new CliError(`${options.jwks} is not a JWKS (no "keys" array)`)
      resolveKey = await resolverFromJwks(jwks.keys as JWK[])
    } else {
      resolveKey = await withStore(async (store, settings) => {
        const now = Math.floor(Date.now() / 1000)
        const { hmacSecret } = settings.tokens
        const materials = hmacSecret ? [hmacKeyMaterial(hmacSecret, now)] : await store.listSigningKeys()
        if (materials.length === 0) throw new CliError('the store has no signing keys yet')
        // Every stored key, retired ones too: the question is who signed it, not whether it is still accepted.
        return (
          await buildKeyRing(
            materials.map((m) => ({ ...m, retiredAt: null })),
            now,
            0,
          )
        ).resolveKey
      })
    }
    const verdict = checkSignature(jwt, resolveKey)
    if (verdict.status === 'valid') return out('Signature: valid')
    out(
      verdict.status === 'unknown_key'
        ? 'Signature: no key with this kid'
        : `Signature: INVALID (${verdict.reason})`,
    )
    process.exitCode = FAILED
  })

/** Runs `scripts/bench.sh` from the repository checkout (the benchmarks need its dev dependencies). */
function runBenchScript(args: string[], quick: boolean | undefined): void {
  const root = resolve(import.meta.dirname, '../..')
  const result = spawnSync('bash', ['scripts/bench.sh', ...args, ...(quick ? ['--quick'] : [])], {
    cwd: root,
    stdio: 'inherit',
  })
  process.exitCode = result.status ?? FAILED
}

program
  .command('bench')
  .description('run the benchmarks (npm run bench; needs the repository checkout)')
  .option('--quick', 'the short run, under 3 minutes')
  .action((options: { quick?: boolean }) => runBenchScript([], options.quick))

program
  .command('lab')
  .description(
    'run the strategy lab: every strategy on the real stores; writes bench/LAB.md and bench/lab.svg',
  )
  .option('--quick', 'a smaller population and shorter loads')
  .action((options: { quick?: boolean }) => runBenchScript(['lab'], options.quick))

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode) // commander already printed why
  const known = error instanceof CliError || error instanceof ConfigError || error instanceof AuthError
  process.stderr.write(`sesame: ${error instanceof Error ? error.message : String(error)}\n`)
  if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  process.exit(FAILED)
}
