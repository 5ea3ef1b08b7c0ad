#!/usr/bin/env node
/**
 * The `sesame` command. It reads the same environment variables, through the same schema, as the server, so
 * `SESAME_STORE=postgres DATABASE_URL=… sesame users create …` acts on the store a running server uses.
 * Coded errors (a bad variable, an unknown user, an invalid token) print one line and exit non-zero; passwords
 * are typed at a prompt or read from standard input, never taken from the command line (where `ps` would show
 * them).
 *
 * Frameworks and store drivers are optional peer dependencies, so this file imports none of them up front: an
 * installation on SQLite without fastify, postgres or ioredis must still run every command but the one that
 * needs them. `serve` imports the server when it runs; `openStore` imports the chosen store's driver.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { type Auth, createAuth } from '../auth.js'
import { canonicalizeEmail, normalizeEmail } from '../core/email.js'
import { AuthError } from '../core/errors.js'
import { hmacKeyMaterial, importPublishedKeys, pickSigner, resolverOfStoredKeys } from '../core/key-ring.js'
import { checkNewPassword } from '../core/password-policy.js'
import { authOptionsFromConfig } from '../server/auth-options.js'
import { type Config, ConfigError, loadConfig } from '../server/config.js'
import { migrateStores } from '../server/migrate.js'
import { createAuditLines, describeEvent } from '../server/audit-log.js'
import type { AuthEvent } from '../engine/events.js'
import { openStore, SQLITE_FILE_NAME } from '../server/open-store.js'
import { PERIODIC_RESYNC_SECONDS } from '../engine/token-sync.js'
import type { OAuthClientRecord, SigningKeyRecord, Store } from '../store/types.js'
import { openHiddenPrompt } from './password-prompt.js'
import { revocationStatus, revocationSubject } from './revocation-status.js'
import { checkSignature, decodeToken, formatDecoded } from './token-decode.js'

/** Exit status for a refused operation or bad input (commander exits 1 for bad usage too, after its help). */
const FAILED = 1

/** A failure to report as one line. */
class CliError extends Error {}

const out = (line = ''): void => void process.stdout.write(`${line}\n`)
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

function config(): Readonly<Config> {
  return loadConfig(process.env)
}

/**
 * The version in the package's own manifest. Found from this file (`dist/cli/main.js`, two levels below the
 * package root), not from the working directory, which may be any project's.
 */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown
  }
  return String(manifest.version)
}

/**
 * Runs `load` (a dynamic import); when it fails because an optional peer dependency is not installed, says so
 * in one line instead of a stack trace.
 */
async function needing<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const missing =
      error instanceof Error &&
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      /Cannot find package '([^']+)'/.exec(error.message)?.[1]
    if (missing) throw new CliError(`${what} needs the package ${missing}: npm install ${missing}`)
    throw error
  }
}

/** The configuration, refusing one this separate process cannot act on. */
function reachableConfig(): Readonly<Config> {
  const settings = config()
  if (settings.store === 'memory' || settings.sessionStore === 'memory') {
    // A memory store lives inside the server's own process: a second process would act on an empty copy.
    throw new CliError('the memory store lives inside the server process; this command cannot reach it')
  }
  return settings
}

/**
 * Opens the configured store, saying which package is missing when its driver is not installed. `readonly`:
 * only to read, never migrating a schema (see `openStore`).
 */
function openConfiguredStore(settings: Readonly<Config>, readonly = false): Promise<Store> {
  return needing(`the ${settings.store} store`, () => openStore(settings, { readonly }))
}

/** Runs `work` with the configured store open, closing it however `work` ends. */
async function withStore<T>(work: (store: Store, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const settings = reachableConfig()
  const store = await openConfiguredStore(settings)
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
    // A command's engine serves no requests: no cache to keep (its changes reach the servers' caches anyway).
    // An operator's changes (keys, accounts, clients) are audited like a user's, on stderr: the server's JSON
    // line for a log collector, or a short sentence for the person at a terminal.
    const audit = !settings.auditLog
      ? undefined
      : process.stderr.isTTY
        ? (event: AuthEvent) => process.stderr.write(`${describeEvent(event)}\n`)
        : createAuditLines(process.stderr)
    const auth = await createAuth({
      ...authOptionsFromConfig(settings, store),
      sessionCache: false,
      ...(audit && { onEvent: audit }),
    })
    try {
      return await work(auth, store)
    } finally {
      await auth.close()
    }
  })
}

/**
 * A new password: typed twice without echo when a person is at the terminal, else all of standard input (for
 * scripts: `printf %s "$PW" | sesame …`), less one final newline. Prompts go to stderr, so stdout carries only
 * the result.
 */
async function readNewPassword(): Promise<string> {
  let password: string | null
  if (process.stdin.isTTY) {
    const prompt = openHiddenPrompt(process.stdin, process.stderr)
    try {
      password = await prompt.ask('Password: ')
      // Refused before the second prompt: there is nothing to repeat.
      if (password) {
        const repeated = await prompt.ask('Repeat the password: ')
        if (repeated !== password) throw new CliError('the passwords do not match')
      }
    } finally {
      prompt.close()
    }
  } else {
    password = ''
    // Decoded as a stream, so a character split across two chunks arrives whole.
    process.stdin.setEncoding('utf8')
    for await (const chunk of process.stdin) password += chunk as string
    password = password.replace(/\r?\n$/, '')
  }
  // Said as such rather than as the policy's length error: nothing arrived at all, which is usually a
  // forgotten pipe or a closed standard input, not a short password.
  if (!password) throw new CliError('no password given')
  return password
}

async function userIdOf(store: Store, email: string): Promise<string> {
  const user = await store.findUserByEmail(canonicalizeEmail(email))
  if (!user) throw new CliError(`no user with the email ${email}`)
  return user.id
}

const program = new Command('sesame')
  .description('Sesame authentication server: run it, migrate it, manage keys, users and sessions.')
  .version(packageVersion(), '-V, --version', 'print the version of Sesame')
  .showHelpAfterError()
  .exitOverride()

program
  .command('serve')
  .description('start the server (the configuration comes from SESAME_* variables, as with npm start)')
  .action(async () => {
    const { serve } = await needing('`sesame serve`', () => import('../server/serve.js'))
    await serve(process.env)
  })

program
  .command('migrate')
  .description('apply pending schema migrations to the configured stores')
  .action(() => migrateStores(config(), out))

const keys = program.command('keys').description('the signing keys of access tokens')
keys
  .command('list')
  .description('list signing keys: which signs, which signs next and from when, which only verify')
  .action(() =>
    withStore(async (store, settings) => {
      if (settings.tokens.algorithm === 'HS256')
        return out('HS256: the key is SESAME_JWT_SECRET; nothing is stored.')
      const materials = await store.listSigningKeys()
      if (materials.length === 0) return out('no keys yet: the server creates one on its first start')
      const now = Math.floor(Date.now() / 1000)
      // The same choice the engine makes when it signs (core/key-ring.ts), for the configured algorithm.
      const signer = pickSigner(
        materials.filter((key) => key.alg === settings.tokens.algorithm),
        now,
      )
      for (const key of [...materials].sort((a, b) => b.createdAt - a.createdAt)) {
        out(`${key.kid}  ${key.alg}  created ${iso(key.createdAt)}  ${keyState(key, signer?.kid, now)}`)
      }
    }),
  )
keys
  .command('rotate')
  .description(
    'add a new signing key: published at once, signing after SESAME_KEY_ACTIVATION_DELAY_SECONDS; old keys verify until their tokens expire',
  )
  .option(
    '--now',
    'after a key leak: the new key signs at once and every other key is deleted, so their access tokens are refused (clients refresh)',
  )
  .action((options: { now?: boolean }) =>
    withEngine(async (auth, store) => {
      const settings = config()
      out(`rotating the ${settings.tokens.algorithm} signing key${options.now ? ' at once' : ''}…`)
      const kid = await auth.tokens.rotateSigningKey({ immediate: options.now === true })
      const sqlite = settings.store === 'sqlite'
      if (options.now) {
        out(
          `new signing key ${kid} signs now; every other key is deleted, and access tokens they signed are refused`,
        )
        out(
          sqlite
            ? `a running server on this SQLite file signs with the old key, and accepts its tokens, until its next periodic re-read (within ${PERIODIC_RESYNC_SECONDS} s)`
            : 'running instances switch through the change feed within milliseconds',
        )
        out(
          'resource servers refuse new tokens until they refetch the JWKS (an unknown kid makes them refetch)',
        )
        return
      }
      const activatesAt = (await store.listSigningKeys()).find((key) => key.kid === kid)?.activatesAt
      const from = activatesAt === undefined ? 'later' : `from ${iso(activatesAt)}`
      out(`new signing key ${kid}: in the JWKS now, signing ${from}; the current key signs until then`)
      out(
        sqlite
          ? `a running server on this SQLite file publishes it at its next periodic re-read (within ${PERIODIC_RESYNC_SECONDS} s) and switches at that time, with no restart`
          : 'running instances publish it at once through the change feed and switch at that time',
      )
    }),
  )

/** A key's state in `keys list`: whether it signs now, will sign, or only verifies. */
function keyState(key: SigningKeyRecord, signerKid: string | undefined, now: number): string {
  if (key.kid === signerKid) return key.retiredAt === null ? 'signing' : `signing until ${iso(key.retiredAt)}`
  if (key.retiredAt !== null && key.retiredAt <= now) return `retired ${iso(key.retiredAt)}`
  if (key.activatesAt > now) return `next: signs from ${iso(key.activatesAt)}`
  return 'verifies only'
}

const users = program.command('users').description('accounts')
users
  .command('create <email>')
  .description(
    'create an account; the password is prompted for twice on a terminal, else read from standard input',
  )
  .option('--role <role...>', 'roles to give the account, e.g. --role admin')
  .action(async (email: string, options: { role?: string[] }) => {
    // Everything that can be refused without the password is refused before anyone types it.
    reachableConfig()
    const canonical = normalizeEmail(email)
    const password = await readNewPassword()
    // Checked before the store is opened, so a weak password leaves no trace (not even a first signing key).
    checkNewPassword(password, { email: canonical })
    await withEngine(async (auth) => {
      const user = await auth.createUser({ email, password, roles: options.role ?? [] })
      out(
        `created ${user.email} (id ${user.id}${user.roles.length ? `, roles ${user.roles.join(', ')}` : ''})`,
      )
    })
  })
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

const clients = program
  .command('clients')
  .description('the OAuth clients (apps) that may sign people in through Sesame')
clients
  .command('add')
  .description(
    'register a client; a confidential one is given a secret, shown once (store it in the app, not in a repository)',
  )
  .requiredOption('--id <id>', 'the client id, e.g. my-spa (letters, digits, . _ ~ -)')
  .requiredOption(
    '--redirect-uri <uri...>',
    'where Sesame may send the browser back, exactly; repeat for more',
  )
  .option('--name <name>', 'what the consent screen calls it (default: the id)')
  .option('--origin <origin...>', 'web origins whose pages may call the token endpoint (CORS)')
  .option('--post-logout-redirect-uri <uri...>', 'where RP-initiated logout may send the browser')
  .option('--scope <scope...>', 'the scopes it may ask for (default: openid profile email offline_access)')
  .option('--confidential', 'a server-side app that can keep a secret')
  .option('--first-party', 'your own app: no consent screen, and the password grant allowed')
  .action(
    (options: {
      id: string
      redirectUri: string[]
      name?: string
      origin?: string[]
      postLogoutRedirectUri?: string[]
      scope?: string[]
      confidential?: boolean
      firstParty?: boolean
    }) =>
      withEngine(async (auth) => {
        const { client, secret } = await auth.clients.register({
          id: options.id,
          name: options.name,
          confidential: options.confidential,
          firstParty: options.firstParty,
          redirectUris: options.redirectUri,
          postLogoutRedirectUris: options.postLogoutRedirectUri,
          origins: options.origin,
          scopes: options.scope,
        })
        out(`registered ${describeClient(client)}`)
        if (secret !== null) {
          out(`client secret (shown once, only its hash is stored): ${secret}`)
        }
      }),
  )
clients
  .command('list')
  .description('list the registered clients')
  .action(() =>
    withEngine(async (auth) => {
      const registered = await auth.clients.list()
      if (registered.length === 0)
        return out('no clients registered (apps use the built-in first-party client)')
      for (const client of registered) {
        out(describeClient(client))
        out(`  redirect URIs: ${client.redirectUris.join(' ')}`)
        if (client.origins.length > 0) out(`  origins: ${client.origins.join(' ')}`)
        if (client.postLogoutRedirectUris.length > 0) {
          out(`  post-logout redirect URIs: ${client.postLogoutRedirectUris.join(' ')}`)
        }
        out(`  scopes: ${client.scopes.join(' ')}`)
      }
    }),
  )
clients
  .command('remove <id>')
  .description('remove a client: its consents go, and its refresh tokens stop working')
  .action((id: string) =>
    withEngine(async (auth) => {
      if (!(await auth.clients.remove(id))) throw new CliError(`no client with the id ${id}`)
      out(
        `removed ${id}; its refresh tokens can no longer be used, and its access tokens expire within minutes`,
      )
    }),
  )

function describeClient(client: OAuthClientRecord): string {
  const kind = [client.type, client.firstParty ? 'first-party' : 'third-party'].join(', ')
  return `${client.id} "${client.name}" (${kind}, since ${iso(client.createdAt)})`
}

/**
 * Why the configured store cannot be asked about a token without changing anything, or null when it can. A
 * missing SQLite file is not created just to answer (the default configuration names one under ./data, which
 * need not exist where the command runs).
 */
function storeAbsence(settings: Readonly<Config>): string | null {
  if (settings.store === 'memory' || settings.sessionStore === 'memory')
    return 'the memory store lives inside the server process'
  const file = join(settings.dataDir, SQLITE_FILE_NAME)
  if ((settings.store === 'sqlite' || settings.sessionStore === 'sqlite') && !existsSync(file))
    return `no SQLite database at ${file}`
  return null
}

program
  .command('token')
  .description('inspect tokens')
  .command('decode <jwt>')
  .description(
    'show a JWT’s header and claims, check its signature, and tell whether the configured store revoked it',
  )
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
    const now = Math.floor(Date.now() / 1000)
    let settings: Readonly<Config> | null = null
    let misconfigured = ''
    try {
      settings = config()
    } catch (error) {
      // Only --local needs the configuration (the store's keys); the header, the claims and a --jwks check do
      // not, and the revocation line can say why it cannot tell.
      if (options.local || !(error instanceof ConfigError)) throw error
      misconfigured = error.message
    }
    const absent = settings && storeAbsence(settings)
    if (options.local && absent) {
      throw new CliError(absent.startsWith('the memory') ? `${absent}; this command cannot reach it` : absent)
    }
    const subject = settings && revocationSubject(decoded.claims, settings.tokens.issuer)
    let store: Store | null = null
    let unopened = ''
    if (settings && !absent && (options.local || (subject && !('unknown' in subject)))) {
      try {
        // Read-only: decoding a token must never create, migrate or otherwise change the store.
        store = await openConfiguredStore(settings, true)
      } catch (error) {
        // --local cannot work without the store; the revocation line alone can still say "unknown".
        if (options.local) throw error
        unopened = messageOf(error)
      }
    }
    try {
      out(formatDecoded(decoded, now))
      out(await signatureLine(jwt, options, store, settings))
      let revoked: string
      if (!settings || !subject) revoked = `unknown (configuration: ${misconfigured})`
      else if (absent) revoked = `unknown (no store configured: ${absent})`
      else if ('unknown' in subject) revoked = `unknown (${subject.unknown})`
      else if (!store) revoked = `unknown (the store could not be opened: ${unopened})`
      else {
        // Some stores connect lazily (Redis): an unreachable one may only fail at the first read.
        revoked = await revocationStatus(subject, store, now).catch((error: unknown) => {
          if (error instanceof AuthError && error.code === 'store_unavailable')
            return `unknown (the store could not be reached: ${error.message})`
          throw error
        })
      }
      out(`Revoked: ${revoked}`)
    } finally {
      await store?.close()
    }
  })

/**
 * The "Signature:" line; sets exit status 1 when the signature does not hold. `store` and `settings` are there
 * whenever `--local` is given.
 */
async function signatureLine(
  jwt: string,
  options: { jwks?: string; local?: boolean },
  store: Store | null,
  settings: Readonly<Config> | null,
): Promise<string> {
  if (!options.jwks && !options.local) return 'Signature: not checked (use --jwks <url> or --local)'
  let resolveKey
  if (options.jwks) {
    const response = await fetch(options.jwks, { signal: AbortSignal.timeout(5000) }).catch(
      (error: unknown) => {
        throw new CliError(`could not fetch ${options.jwks}: ${messageOf(error)}`)
      },
    )
    if (!response.ok) throw new CliError(`${options.jwks} answered ${response.status}`)
    const jwks = (await response.json().catch(() => null)) as { keys?: unknown } | null
    if (!Array.isArray(jwks?.keys)) throw new CliError(`${options.jwks} is not a JWKS (no "keys" array)`)
    // The keys a resource server's verifier would take from it, and no others.
    resolveKey = (await importPublishedKeys(jwks.keys as unknown[])).resolveKey
  } else {
    const { hmacSecret } = settings!.tokens
    const materials = hmacSecret
      ? [hmacKeyMaterial(hmacSecret, Math.floor(Date.now() / 1000))]
      : await store!.listSigningKeys()
    if (materials.length === 0) throw new CliError('the store has no signing keys yet')
    // Every stored key, retired ones too: the question is who signed it, not whether it is still accepted.
    resolveKey = await resolverOfStoredKeys(materials)
  }
  const verdict = checkSignature(jwt, resolveKey)
  if (verdict.status === 'valid') return 'Signature: valid'
  process.exitCode = FAILED
  return verdict.status === 'unknown_key'
    ? 'Signature: no key with this kid'
    : `Signature: INVALID (${verdict.reason})`
}

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
  process.stderr.write(`sesame: ${messageOf(error)}\n`)
  if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  process.exit(FAILED)
}
