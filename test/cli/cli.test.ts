/**
 * The `sesame` command (`dist/cli/main.js`), run as a process against the same SQLite store a running server
 * uses: accounts, keys, devices, and `token decode` on a real token and a tampered one, and on tokens revoked
 * in each way the engine revokes them. Coded errors are one line on stderr and a non-zero exit. (The password
 * prompt at a terminal is in password-prompt.test.ts; the binary without optional peers in bin.test.ts.)
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { decodeProtectedHeader } from 'jose'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { auditLinesIn } from '../helpers/audit.js'
import { freePort } from '../helpers/process.js'
import { makeTempDir, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'
import { DATABASE_URL, dropSchemas, freshSchema } from '../helpers/shared-stores.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const EMAIL = 'operator-made@example.com'
const PASSWORD = 'made by the operator'
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z'

/** The `iat` of a JWT. */
const issuedAt = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat

/** Waits until the second after `token`'s `iat`: an epoch started then kills it (one in its own second does not). */
async function pastIssuedSecond(token: string): Promise<void> {
  const next = (issuedAt(token) + 1) * 1000
  while (Date.now() < next) await new Promise((done) => setTimeout(done, 50))
}

/** The schema version a SQLite file records, read with a connection of its own. */
function sqliteSchemaVersion(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v
  } finally {
    db.close()
  }
}

/** An unsigned token with these claims: decoding and the revocation line read claims, not signatures. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'ES256', typ: 'at+jwt', kid: 'k' })}.${part(claims)}.c2ln`
}

describe('sesame command', () => {
  let server: TestServer
  let issuer: string

  /** Runs the command without blocking this process (whose server it may call). */
  function sesame(
    args: string[],
    input = '',
    env: Record<string, string> = {},
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        SESAME_DATA_DIR: server.dataDir,
        SESAME_ISSUER: issuer,
        SESAME_LOG_LEVEL: 'silent',
        ...env,
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(input)
    return new Promise((done) => child.once('close', (status) => done({ status, stdout, stderr })))
  }

  async function grant(email = EMAIL): Promise<{ access_token: string; refresh_token: string }> {
    const answer = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password: PASSWORD },
    })
    expect(answer.statusCode).toBe(200)
    return answer.json()
  }

  /** The "Revoked:" line `sesame token decode` prints for `token`. */
  async function revokedLine(token: string, env: Record<string, string> = {}): Promise<string | undefined> {
    const decoded = await sesame(['token', 'decode', token], '', env)
    expect(decoded.stderr).toBe('')
    expect(decoded.status).toBe(0)
    return decoded.stdout.split('\n').find((line) => line.startsWith('Revoked:'))
  }

  beforeAll(async () => {
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    server = await startTestServer({ env: { SESAME_STORE: 'sqlite', SESAME_ISSUER: issuer } })
    await server.app.listen({ port, host: '127.0.0.1' })
  })
  afterAll(() => server.close())

  it('creates an account from a password on stdin, with roles, and refuses a second one', async () => {
    const created = await sesame(['users', 'create', EMAIL, '--role', 'admin'], PASSWORD)
    // Nothing on stderr but the audit line of the operator's change.
    expect(auditLinesIn(created.stderr)).toMatchObject([
      { audit: 'sign_up', outcome: 'success', via: 'operator', userId: expect.any(String) },
    ])
    expect(created.stderr).not.toContain(PASSWORD)
    expect(created.status).toBe(0)
    expect(created.stdout).toMatch(new RegExp(`^created ${EMAIL} \\(id [\\w-]{22}, roles admin\\)\\n$`))
    const { access_token: accessToken } = await grant() // the running server signs them in
    const me = await server.app.inject({
      url: '/auth/me',
      headers: { authorization: `Bearer ${accessToken}` },
    })
    expect(me.json()).toMatchObject({ user: { email: EMAIL } })

    const again = await sesame(['users', 'create', EMAIL], PASSWORD)
    expect(again.status).toBe(1)
    // The refusal is audited (one line), then explained.
    const [auditLine, ...explained] = again.stderr.split('\n')
    expect(auditLinesIn(auditLine!)).toMatchObject([
      { audit: 'sign_up', outcome: 'failure', error: 'email_taken' },
    ])
    expect(explained.join('\n')).toBe('sesame: An account with this email already exists.\n')
    const weak = await sesame(['users', 'create', 'weak@example.com'], 'short')
    expect(weak.status).toBe(1)
    expect(weak.stderr).toBe('sesame: The "password" field must be at least 8 characters.\n')
  })

  it('says "no password given" for an empty standard input, not that the password is too short', async () => {
    for (const input of ['', '\n']) {
      const empty = await sesame(['users', 'create', 'nobody-typed@example.com'], input)
      expect(empty.stderr).toBe('sesame: no password given\n')
      expect(empty.status).toBe(1)
    }
    const bad = await sesame(['users', 'create', 'not-an-email'], PASSWORD)
    expect(bad.stderr).toBe('sesame: The "email" field is not a valid email address.\n')
    expect(bad.status).toBe(1)
  })

  it('decodes a token with readable times and checks its signature against the JWKS or the local ring', async () => {
    const { access_token: token } = await grant()
    const viaJwks = await sesame(['token', 'decode', token, '--jwks', `${issuer}/.well-known/jwks.json`])
    expect(viaJwks.status).toBe(0)
    expect(viaJwks.stdout).toContain('"typ": "at+jwt"')
    expect(viaJwks.stdout).toContain(`iss: "${issuer}"`)
    expect(viaJwks.stdout).toMatch(/exp: \d+ {2}\(\d{4}-\d\d-\d\dT[\d:.]+Z, in 15 min\)/)
    expect(viaJwks.stdout).toContain('roles: ["admin"]')
    expect(viaJwks.stdout.endsWith('Signature: valid\nRevoked: no\n')).toBe(true)
    const local = await sesame(['token', 'decode', token, '--local'])
    expect(local.status).toBe(0)
    expect(local.stdout).toContain('Signature: valid')

    // Tampered: another user's id put in the claims, which still decode, but the signature no longer holds.
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    const flipped = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')
    const tampered = await sesame([
      'token',
      'decode',
      `${header}.${flipped}.${signature}`,
      '--jwks',
      `${issuer}/.well-known/jwks.json`,
    ])
    expect(tampered.status).toBe(1)
    expect(tampered.stdout).toContain('sub: "someone-else"')
    expect(tampered.stdout).toContain('Signature: INVALID (bad_signature)')
    const unchecked = await sesame(['token', 'decode', token])
    expect(unchecked.stdout).toContain('Signature: not checked')
    const garbage = await sesame(['token', 'decode', 'not-a-jwt'])
    expect(garbage.status).toBe(1)
    expect(garbage.stderr).toBe('sesame: Not a JWT: expected 3 dot-separated segments, found 1.\n')
    // A broken token may still be a live credential: errors name what is wrong, never the token.
    const broken = `${header}.${payload.slice(1)}.${signature}`
    const unreadable = await sesame(['token', 'decode', broken])
    expect(unreadable.status).toBe(1)
    expect(unreadable.stderr).toBe('sesame: Not a JWT: the payload is not base64url JSON.\n')
    expect(unreadable.stdout).toBe('')
  })

  it('tells whether the configured store revoked a token, in each way the engine revokes', async () => {
    const email = 'revocable@example.com'
    expect((await sesame(['users', 'create', email], PASSWORD)).status).toBe(0)
    const revoke = async (token: string): Promise<void> => {
      const answer = await server.app.inject({ method: 'POST', url: '/auth/revoke', payload: { token } })
      expect(answer.statusCode).toBe(200)
    }

    const live = await grant(email)
    expect(await revokedLine(live.access_token)).toBe('Revoked: no')

    const single = await grant(email) // RFC 7009 on the access token itself: its jti
    await revoke(single.access_token)
    expect(await revokedLine(single.access_token)).toBe('Revoked: yes (this token was revoked)')

    const family = await grant(email) // its refresh token: the whole family, by sid
    await revoke(family.refresh_token)
    expect(await revokedLine(family.access_token)).toMatch(
      new RegExp(`^Revoked: yes \\(its session ended at ${ISO}\\)$`),
    )
    expect(await revokedLine(live.access_token)).toBe('Revoked: no') // the others live on

    // The epoch kills tokens issued before its second, not in it: sign out everywhere a second later.
    await pastIssuedSecond(live.access_token)
    expect((await sesame(['sessions', 'revoke', email])).status).toBe(0)
    expect(await revokedLine(live.access_token)).toMatch(
      new RegExp(`^Revoked: yes \\(user signed out everywhere at ${ISO}\\)$`),
    )

    // Disabling: verification never reads the flag, but disable also starts a new epoch, which kills the token.
    const fresh = await grant(email)
    expect(await revokedLine(fresh.access_token)).toBe('Revoked: no') // the earlier epoch spares it
    await pastIssuedSecond(fresh.access_token)
    expect((await sesame(['users', 'disable', email])).status).toBe(0)
    expect(await revokedLine(fresh.access_token)).toMatch(
      new RegExp(`^Revoked: yes \\(user signed out everywhere at ${ISO}\\)$`),
    )
  })

  it('does not call a token of a disabled user revoked when no revocation is recorded for it', async () => {
    const email = 'flag-only@example.com'
    expect((await sesame(['users', 'create', email], PASSWORD)).status).toBe(0)
    const { access_token: token } = await grant(email)
    // Only the flag, as a disable stopped between its two writes leaves it: bearer authentication still passes.
    const store = createSqliteStore({ path: join(server.dataDir, 'sesame.db') })
    try {
      const user = (await store.findUserByEmail(email))!
      expect(await store.setUserDisabled(user.id, Math.floor(Date.now() / 1000))).toBe(true)
    } finally {
      await store.close()
    }
    expect(await revokedLine(token)).toBe(
      'Revoked: no (the user is disabled, but no revocation is recorded: accepted until it expires)',
    )
  })

  it('changes no schema to answer: SQLite opened read-only, PostgreSQL not migrated', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = unsignedToken({
      iss: issuer,
      sub: 'u'.repeat(22),
      jti: 'j',
      sid: 's',
      iat: now,
      exp: now + 600,
    })

    // The running server's file, at the current schema: read, and left at its version.
    const live = join(server.dataDir, 'sesame.db')
    const latest = SQLITE_MIGRATIONS.at(-1)!.version
    expect(sqliteSchemaVersion(live)).toBe(latest)
    expect(await revokedLine(token)).toBe('Revoked: unknown (the configured store has no user with this sub)')
    expect(sqliteSchemaVersion(live)).toBe(latest)

    // A file an older Sesame wrote: a migrating open would bring it to the latest version; this one refuses it.
    const dataDir = makeTempDir()
    const old = new Database(join(dataDir, 'sesame.db'))
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of SQLITE_MIGRATIONS.slice(0, 2)) {
      old.exec(migration.sql)
      old
        .prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)')
        .run(migration.version, migration.name, now)
    }
    old.close()
    expect(await revokedLine(token, { SESAME_DATA_DIR: dataDir })).toBe(
      `Revoked: unknown (the store could not be opened: The SQLite database is at schema version 2, older than this Sesame's (${latest}); run sesame migrate.)`,
    )
    expect(sqliteSchemaVersion(join(dataDir, 'sesame.db'))).toBe(2)
    rmSync(dataDir, { recursive: true })

    // PostgreSQL, with migration at start on (the default): a schema that does not exist is not created.
    const schema = freshSchema('cli_decode')
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
    try {
      expect(
        await revokedLine(token, {
          SESAME_STORE: 'postgres',
          DATABASE_URL,
          SESAME_POSTGRES_SCHEMA: schema,
          SESAME_MIGRATE_ON_START: 'true',
        }),
      ).toMatch(/^Revoked: unknown \(the store could not be reached: .+\)$/)
      const found = await sql`SELECT 1 FROM information_schema.schemata WHERE schema_name = ${schema}`
      expect(found).toHaveLength(0)
    } finally {
      await sql.end({ timeout: 1 })
      await dropSchemas([schema])
    }
  })

  it('decodes whatever the SESAME_* configuration; only --local needs a valid one', async () => {
    const { access_token: token } = await grant()
    const bad = { SESAME_STORE: 'mongo' }
    const unknown =
      'Revoked: unknown (configuration: Invalid SESAME_STORE: must be one of sqlite, memory, postgres, redis.)'
    const plain = await sesame(['token', 'decode', token], '', bad)
    expect(plain.stderr).toBe('')
    expect(plain.status).toBe(0)
    expect(plain.stdout).toContain('"typ": "at+jwt"')
    expect(plain.stdout).toContain(`iss: "${issuer}"`)
    expect(plain.stdout.endsWith(`Signature: not checked (use --jwks <url> or --local)\n${unknown}\n`)).toBe(
      true,
    )
    const jwks = `${issuer}/.well-known/jwks.json`
    const checked = await sesame(['token', 'decode', token, '--jwks', jwks], '', bad)
    expect(checked.stderr).toBe('')
    expect(checked.status).toBe(0)
    expect(checked.stdout.endsWith(`Signature: valid\n${unknown}\n`)).toBe(true)
    // The exit status still follows the signature alone.
    const [header, payload] = token.split('.') as [string, string, string]
    const forged = await sesame(
      ['token', 'decode', `${header}.${payload}.${'A'.repeat(86)}`, '--jwks', jwks],
      '',
      bad,
    )
    expect(forged.status).toBe(1)
    expect(forged.stdout).toContain('Signature: INVALID')
    expect(forged.stdout.endsWith(`${unknown}\n`)).toBe(true)
    // Missing rather than invalid: the same.
    const missing = await sesame(['token', 'decode', token], '', { SESAME_STORE: 'postgres' })
    expect(missing.status).toBe(0)
    expect(missing.stdout).toContain(
      'Revoked: unknown (configuration: Missing DATABASE_URL: required with the postgres store.)\n',
    )

    const local = await sesame(['token', 'decode', token, '--local'], '', bad)
    expect(local.status).toBe(1)
    expect(local.stderr).toBe(
      'sesame: Invalid SESAME_STORE: must be one of sqlite, memory, postgres, redis.\n',
    )
    expect(local.stdout).toBe('')
  })

  it('says "unknown" whenever the store cannot tell, and creates no store to answer', async () => {
    const userId = /\(id ([\w-]{22})/.exec(
      (await sesame(['users', 'create', 'unrevoked@example.com'], PASSWORD)).stdout,
    )![1]!
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: issuer, sub: userId, aud: issuer, jti: 'j'.repeat(22), sid: 's'.repeat(22) }
    const token = unsignedToken({ ...claims, iat: now, exp: now + 600 })
    expect(await revokedLine(token)).toBe('Revoked: no') // the control: this store can judge this token

    expect(await revokedLine(token, { SESAME_STORE: 'memory' })).toBe(
      'Revoked: unknown (no store configured: the memory store lives inside the server process)',
    )
    const empty = makeTempDir()
    const nowhere = join(empty, 'data')
    expect(await revokedLine(token, { SESAME_DATA_DIR: nowhere })).toBe(
      `Revoked: unknown (no store configured: no SQLite database at ${nowhere}/sesame.db)`,
    )
    const local = await sesame(['token', 'decode', token, '--local'], '', { SESAME_DATA_DIR: nowhere })
    expect(local.stderr).toBe(`sesame: no SQLite database at ${nowhere}/sesame.db\n`)
    expect(local.status).toBe(1)
    expect(existsSync(nowhere)).toBe(false)
    rmSync(empty, { recursive: true })
    expect(await revokedLine(token, { SESAME_ISSUER: 'https://elsewhere.example' })).toBe(
      `Revoked: unknown (issued by "${issuer}", not by this configuration's issuer "https://elsewhere.example")`,
    )
    expect(await revokedLine(unsignedToken({ sub: userId, iat: now }))).toBe(
      'Revoked: unknown (not a Sesame access token: it lacks iss, sub, jti, sid, iat or exp)',
    )
    expect(
      await revokedLine(unsignedToken({ ...claims, sub: 'u'.repeat(22), iat: now, exp: now + 600 })),
    ).toBe('Revoked: unknown (the configured store has no user with this sub)')
    expect(await revokedLine(unsignedToken({ ...claims, iat: now - 900, exp: now - 1 }))).toBe(
      'Revoked: unknown (it has expired, and revocations are kept only until then)',
    )
    expect(
      await revokedLine(token, {
        SESAME_STORE: 'postgres',
        DATABASE_URL: 'postgres://sesame@127.0.0.1:1/sesame', // nothing listens on port 1
      }),
    ).toMatch(/^Revoked: unknown \(the store could not be reached: .+\)$/)
  })

  it("lists a user's devices and ends them all", async () => {
    const { refresh_token: refreshToken } = await grant()
    const listed = await sesame(['sessions', 'list', EMAIL])
    expect(listed.status).toBe(0)
    expect(listed.stdout).toMatch(/ token {2}since /)
    const revoked = await sesame(['sessions', 'revoke', EMAIL])
    expect(revoked.stdout).toBe(
      `ended every session and token of ${EMAIL} (a running server on this SQLite file applies it to access tokens within 30 s (its periodic re-read); sessions and refresh tokens end at once)\n`,
    )
    expect((await sesame(['sessions', 'list', EMAIL])).stdout).toBe(`${EMAIL} has no live sessions\n`)
    const refresh = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'refresh_token', refresh_token: refreshToken },
    })
    expect(refresh.json()).toMatchObject({ error: 'invalid_grant' })
    const unknown = await sesame(['sessions', 'list', 'nobody@example.com'])
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toBe('sesame: no user with the email nobody@example.com\n')
  })

  it('rotates keys staged, or at once with --now; the running server follows at its re-read, with no restart', async () => {
    const kidOf = (token: string): string => decodeProtectedHeader(token).kid!
    const served = (): string[] =>
      server.auth.tokens
        .jwks()
        .keys.map((key) => (key as { kid: string }).kid)
        .sort()
    const before = (await sesame(['keys', 'list'])).stdout.trim().split('\n')
    expect(before).toHaveLength(1)
    expect(before[0]).toMatch(/^[\w-]{43} {2}ES256 {2}created \S+ {2}signing$/)
    const oldKid = before[0]!.slice(0, 43)
    const { access_token: oldToken } = await grant()

    const rotated = await sesame(['keys', 'rotate'])
    expect(rotated.status).toBe(0)
    const staged = /new signing key ([\w-]{43}): in the JWKS now, signing from (\S+); /.exec(rotated.stdout)
    expect(staged).not.toBeNull()
    const [, kid, from] = staged!
    expect(auditLinesIn(rotated.stderr)).toMatchObject([
      { audit: 'key_rotation', outcome: 'success', via: 'staged', kid },
    ])
    expect(rotated.stdout).toContain('publishes it at its next periodic re-read (within 30 s)')
    const listed = (await sesame(['keys', 'list'])).stdout
    expect(listed).toMatch(new RegExp(`^${kid} {2}ES256 {2}created \\S+ {2}next: signs from ${from}$`, 'm'))
    expect(listed).toMatch(new RegExp(`^${oldKid} {2}ES256 {2}created \\S+ {2}signing until ${from}$`, 'm'))
    // The server process learns of it at its periodic re-read (run here rather than waited for; on a loaded
    // machine the 30 s timer may already have run it), publishes it, and keeps signing with the old key until
    // the activation time.
    expect([[oldKid], [oldKid, kid!].sort()]).toContainEqual(served())
    await server.auth.tokens.reload()
    expect(served()).toEqual([oldKid, kid!].sort())
    expect(kidOf((await grant()).access_token)).toBe(oldKid)

    const leaked = await sesame(['keys', 'rotate', '--now'])
    expect(auditLinesIn(leaked.stderr)).toMatchObject([
      { audit: 'key_rotation', outcome: 'success', via: 'immediate' },
    ])
    expect(leaked.status).toBe(0)
    const nowKid = /new signing key ([\w-]{43}) signs now; every other key is deleted/.exec(
      leaked.stdout,
    )?.[1]
    expect(nowKid).toBeDefined()
    expect(leaked.stdout).toContain(
      'signs with the old key, and accepts its tokens, until its next periodic re-read',
    )
    expect((await sesame(['keys', 'list'])).stdout).toMatch(
      new RegExp(`^${nowKid} {2}ES256 {2}created \\S+ {2}signing\\n$`),
    )
    await server.auth.tokens.reload()
    expect(served()).toEqual([nowKid])
    const { access_token: newToken } = await grant()
    expect(kidOf(newToken)).toBe(nowKid)
    const me = (token: string) =>
      server.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })
    expect((await me(newToken)).statusCode).toBe(200)
    expect((await me(oldToken)).statusCode).toBe(401)
  })

  it('disables an account: its sign-ins fail from then on', async () => {
    const disabled = await sesame(['users', 'disable', EMAIL])
    expect(disabled.status).toBe(0)
    const signIn = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: EMAIL, password: PASSWORD },
    })
    expect(signIn.statusCode).toBe(401)
  })

  it('registers, lists and removes OAuth clients; the running server sees each change at once', async () => {
    const added = await sesame([
      'clients',
      'add',
      '--id',
      'reports',
      '--name',
      'Reports',
      '--confidential',
      '--redirect-uri',
      'https://reports.example.com/callback',
      '--origin',
      'https://reports.example.com',
    ])
    expect(auditLinesIn(added.stderr)).toMatchObject([
      { audit: 'client_registration', outcome: 'success', clientId: 'reports', via: 'operator' },
    ])
    expect(added.status).toBe(0)
    const secret = /client secret \(shown once, only its hash is stored\): ([A-Za-z0-9_-]{43})\n/.exec(
      added.stdout,
    )?.[1]
    expect(secret).toBeDefined()
    expect(added.stderr).not.toContain(secret)
    // The server reads the registry from the store: the secret works there with no restart.
    const introspect = (credentials: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/introspect',
        headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
        payload: { token: 'not-a-token' },
      })
    expect((await introspect(`reports:${secret}`)).json()).toEqual({ active: false })
    expect((await introspect('reports:wrong')).statusCode).toBe(401)

    const listed = await sesame(['clients', 'list'])
    expect(listed.stdout).toMatch(
      new RegExp(`^reports "Reports" \\(confidential, third-party, since ${ISO}\\)\n`),
    )
    expect(listed.stdout).toContain('  redirect URIs: https://reports.example.com/callback\n')
    expect(listed.stdout).not.toContain(secret)

    const taken = await sesame([
      'clients',
      'add',
      '--id',
      'reports',
      '--redirect-uri',
      'https://x.example/cb',
    ])
    expect(taken).toMatchObject({ status: 1, stdout: '' })
    const [takenAudit, ...takenExplained] = taken.stderr.split('\n')
    expect(auditLinesIn(takenAudit!)).toMatchObject([{ audit: 'client_registration', outcome: 'failure' }])
    expect(takenExplained.join('\n')).toBe('sesame: A client with the id "reports" is registered already.\n')
    const insecure = await sesame([
      'clients',
      'add',
      '--id',
      'plain',
      '--redirect-uri',
      'http://app.example/cb',
    ])
    expect(insecure.status).toBe(1)
    expect(insecure.stderr).toContain('must use https')

    const removed = await sesame(['clients', 'remove', 'reports'])
    expect(removed.status).toBe(0)
    expect(auditLinesIn(removed.stderr)).toMatchObject([
      { audit: 'client_removal', outcome: 'success', clientId: 'reports' },
    ])
    expect((await introspect(`reports:${secret}`)).statusCode).toBe(401)
    const again = await sesame(['clients', 'remove', 'reports'])
    expect(again.status).toBe(1)
    const [againAudit, ...againExplained] = again.stderr.split('\n')
    expect(auditLinesIn(againAudit!)).toMatchObject([
      { audit: 'client_removal', outcome: 'failure', error: 'not_found', reason: 'unknown_client' },
    ])
    expect(againExplained.join('\n')).toBe('sesame: no client with the id reports\n')
  })

  it('migrates the configured store', async () => {
    const migrated = await sesame(['migrate'])
    expect(migrated.status).toBe(0)
    expect(migrated.stdout).toBe(`sqlite database in "${server.dataDir}": up to date\n`)
  })

  it('refuses to act on a memory store, which only the server process holds', async () => {
    const result = spawnSync(process.execPath, [CLI, 'sessions', 'list', EMAIL], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', SESAME_STORE: 'memory' },
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      'sesame: the memory store lives inside the server process; this command cannot reach it\n',
    )
    const both = await sesame(['token', 'decode', 'a.b.c', '--local', '--jwks', 'https://x.example/jwks'])
    expect(both.status).toBe(1)
    expect(both.stderr).toContain("option '--local' cannot be used with option '--jwks")
  })

  it('refuses a bad configuration with one line, like the server', () => {
    const result = spawnSync(process.execPath, [CLI, 'keys', 'list'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', SESAME_STORE: 'mongo' },
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      'sesame: Invalid SESAME_STORE: must be one of sqlite, memory, postgres, redis.\n',
    )
  })
})
