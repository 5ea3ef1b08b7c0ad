/**
 * The `sesame` command (`dist/cli/main.js`), run as a process against the same SQLite store a running server
 * uses: accounts, keys, devices, and `token decode` on a real token and a tampered one. Coded errors are one
 * line on stderr and a non-zero exit.
 */
import { spawn, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/process.js'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const EMAIL = 'operator-made@example.com'
const PASSWORD = 'made by the operator'

describe('sesame command', () => {
  let server: TestServer
  let issuer: string

  /** Runs the command without blocking this process (whose server it may call). */
  function sesame(
    args: string[],
    input = '',
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        SESAME_DATA_DIR: server.dataDir,
        SESAME_ISSUER: issuer,
        SESAME_LOG_LEVEL: 'silent',
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(input)
    return new Promise((done) => child.once('close', (status) => done({ status, stdout, stderr })))
  }

  async function grant(): Promise<{ access_token: string; refresh_token: string }> {
    const answer = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
    })
    expect(answer.statusCode).toBe(200)
    return answer.json()
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
    expect(created.stderr).toBe('')
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
    expect(again.stderr).toBe('sesame: An account with this email already exists.\n')
    const weak = await sesame(['users', 'create', 'weak@example.com'], 'short')
    expect(weak.status).toBe(1)
    expect(weak.stderr.split('\n')).toHaveLength(2) // one line
  })

  it('decodes a token with readable times and checks its signature against the JWKS or the local ring', async () => {
    const { access_token: token } = await grant()
    const viaJwks = await sesame(['token', 'decode', token, '--jwks', `${issuer}/.well-known/jwks.json`])
    expect(viaJwks.status).toBe(0)
    expect(viaJwks.stdout).toContain('"typ": "at+jwt"')
    expect(viaJwks.stdout).toContain(`iss: "${issuer}"`)
    expect(viaJwks.stdout).toMatch(/exp: \d+ {2}\(\d{4}-\d\d-\d\dT[\d:.]+Z, in 15 min\)/)
    expect(viaJwks.stdout).toContain('roles: ["admin"]')
    expect(viaJwks.stdout.trimEnd().endsWith('Signature: valid')).toBe(true)
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

  it('lists and rotates keys', async () => {
    const before = (await sesame(['keys', 'list'])).stdout.trim().split('\n')
    expect(before.length).toBeGreaterThanOrEqual(1)
    expect(before[0]).toMatch(/^[\w-]{43} {2}ES256 {2}created \S+ {2}live$/)
    const rotated = await sesame(['keys', 'rotate'])
    expect(rotated.status).toBe(0)
    const kid = /new signing key ([\w-]{43})/.exec(rotated.stdout)?.[1]
    const after = (await sesame(['keys', 'list'])).stdout
    expect(after.split('\n')[0]).toMatch(new RegExp(`^${kid} {2}ES256 .* live$`))
    expect(after).toContain(`${before[0]!.slice(0, 43)}  ES256`)
    expect(after).toMatch(/retired \S+/)
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
