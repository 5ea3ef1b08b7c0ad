/**
 * The installed `sesame` binary (`dist/cli/main.js`) as a package user gets it: it knows its version, and it runs
 * its everyday commands on SQLite without the optional peer dependencies (frameworks, other stores' drivers)
 * installed. Each run goes through a Node resolve hook that writes down every package the program asks for and
 * answers, for the packages it is told to hide, exactly what Node answers for a package that is not installed.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { auditLinesIn } from '../helpers/audit.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const VERSION = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version
const OPTIONAL_PEERS = ['fastify', 'postgres', 'ioredis', 'better-sqlite3', 'express']

const dir = mkdtempSync(join(tmpdir(), 'sesame-bin-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const hooks = join(dir, 'hooks.mjs')
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
const hidden = (process.env.HIDDEN_PACKAGES ?? '').split(',').filter(Boolean)
export async function resolve(specifier, context, next) {
  if (/^(node:|\\.|\\/|file:|data:)/.test(specifier)) return next(specifier, context)
  appendFileSync(process.env.SPECIFIER_LOG, specifier + '\\n')
  if (hidden.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
    const from = context.parentURL ? fileURLToPath(context.parentURL) : '.'
    throw Object.assign(new Error(\`Cannot find package '\${specifier}' imported from \${from}\`), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
  }
  return next(specifier, context)
}`,
)
const register = join(dir, 'register.mjs')
writeFileSync(
  register,
  `import { register } from 'node:module'\nregister(${JSON.stringify(`file://${hooks}`)})\n`,
)

let runs = 0

/**
 * Runs `sesame args` with the packages in `hidden` missing; returns what it printed and every package it
 * asked for.
 */
function sesame(
  args: string[],
  options: { hidden?: string[]; env?: Record<string, string>; input?: string; cwd?: string } = {},
): { status: number | null; stdout: string; stderr: string; loaded: Set<string> } {
  const log = join(dir, `run-${++runs}.log`)
  writeFileSync(log, '')
  const result = spawnSync(process.execPath, ['--import', register, CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    cwd: options.cwd ?? dir,
    env: {
      PATH: process.env.PATH ?? '',
      SPECIFIER_LOG: log,
      HIDDEN_PACKAGES: (options.hidden ?? []).join(','),
      SESAME_LOG_LEVEL: 'silent',
      ...options.env,
    },
  })
  const loaded = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))
  // The hook saw the command's own dependency, so the log is live and an absent entry means something.
  expect(loaded.has('commander')).toBe(true)
  return { ...result, loaded }
}

/** The optional peers among `loaded`. */
const peersIn = (loaded: Set<string>): string[] => OPTIONAL_PEERS.filter((name) => loaded.has(name))

/** An unsigned token with Sesame's claims; decoding and the revocation line need no valid signature. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'ES256', typ: 'at+jwt', kid: 'k' })}.${part(claims)}.c2ln`
}

describe('the sesame binary', () => {
  it("prints the version from its own package.json, whatever the working directory's is", () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/)
    const elsewhere = mkdtempSync(join(dir, 'project-'))
    writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ name: 'an-app', version: '9.9.9' }))
    for (const flag of ['--version', '-V']) {
      const result = sesame([flag], { cwd: elsewhere })
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe(`${VERSION}\n`)
      expect(result.status).toBe(0)
      expect(peersIn(result.loaded)).toEqual([])
    }
  })

  it('prints help, and decodes a token, loading no optional peer at all', () => {
    const help = sesame(['--help'], { hidden: OPTIONAL_PEERS })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: sesame')
    expect(peersIn(help.loaded)).toEqual([])

    const token = unsignedToken({
      iss: 'http://localhost:3000',
      sub: 's',
      jti: 'j',
      sid: 'f',
      iat: 1,
      exp: 2,
    })
    const decoded = sesame(['token', 'decode', token], { hidden: OPTIONAL_PEERS })
    expect(decoded.stderr).toBe('')
    expect(decoded.status).toBe(0)
    expect(decoded.stdout).toContain('sub: "s"')
    expect(decoded.stdout).toContain(
      `Revoked: unknown (no store configured: no SQLite database at ${dir}/data/sesame.db)`,
    )
    expect(peersIn(decoded.loaded)).toEqual([])
  })

  it('manages users and sessions on SQLite with only better-sqlite3 of the optional peers', () => {
    const hidden = OPTIONAL_PEERS.filter((name) => name !== 'better-sqlite3')
    const env = { SESAME_DATA_DIR: mkdtempSync(join(dir, 'data-')) }
    const created = sesame(['users', 'create', 'peerless@example.com'], {
      hidden,
      env,
      input: 'no peers were harmed',
    })
    expect(auditLinesIn(created.stderr)).toMatchObject([{ audit: 'sign_up', outcome: 'success' }])
    expect(created.stdout).toMatch(/^created peerless@example\.com \(id [\w-]{22}\)\n$/)
    expect(peersIn(created.loaded)).toEqual(['better-sqlite3'])
    const listed = sesame(['sessions', 'list', 'peerless@example.com'], { hidden, env })
    expect(listed.stdout).toBe('peerless@example.com has no live sessions\n')
    expect(peersIn(listed.loaded)).toEqual(['better-sqlite3'])
    const revoked = sesame(['sessions', 'revoke', 'peerless@example.com'], { hidden, env })
    expect(revoked.status).toBe(0)
    expect(peersIn(revoked.loaded)).toEqual(['better-sqlite3'])
  })

  it('names the missing package when a command needs one that is not installed', () => {
    // A bad PORT: were the server importable after all, it would stop at its configuration, not listen.
    const serve = sesame(['serve'], { hidden: ['fastify'], env: { PORT: 'none' } })
    expect(serve.status).toBe(1)
    expect(serve.stderr).toMatch(/^sesame: `sesame serve` needs the package fastify: npm install fastify\n$/)

    const sqlite = sesame(['keys', 'list'], {
      hidden: ['better-sqlite3'],
      env: { SESAME_DATA_DIR: join(dir, 'data') },
    })
    expect(sqlite.stderr).toBe(
      'sesame: the sqlite store needs the package better-sqlite3: npm install better-sqlite3\n',
    )
    expect(sqlite.status).toBe(1)

    const postgres = sesame(['keys', 'list'], {
      hidden: ['postgres'],
      env: { SESAME_STORE: 'postgres', DATABASE_URL: 'postgres://sesame@127.0.0.1:1/sesame' },
    })
    expect(postgres.stderr).toBe(
      'sesame: the postgres store needs the package postgres: npm install postgres\n',
    )
    expect(postgres.status).toBe(1)
  })
})
