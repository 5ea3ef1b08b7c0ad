/**
 * The package surface: every `exports` subpath loads from the built `dist/` by its public name, and loads no
 * driver or framework it does not need (drivers are optional peer dependencies, so a memory-store user may not
 * have `ioredis` installed at all). Each import runs in a fresh Node process that records every package it
 * resolves.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const OPTIONAL_PEERS = ['better-sqlite3', 'postgres', 'ioredis', 'fastify', 'express']

/** Subpath, the peers it may load, and a named export it must have. */
const SUBPATHS: [string, string[], string][] = [
  ['sesame-auth', [], 'createAuth'],
  ['sesame-auth/store/memory', [], 'createMemoryStore'],
  ['sesame-auth/store/sqlite', ['better-sqlite3'], 'createSqliteStore'],
  ['sesame-auth/store/postgres', ['postgres'], 'createPostgresStore'],
  ['sesame-auth/store/redis', ['ioredis'], 'createRedisStore'],
  ['sesame-auth/store/redis-cluster', ['ioredis'], 'createRedisClusterStore'],
  ['sesame-auth/store/split', [], 'createSplitStore'],
  ['sesame-auth/express', [], 'sesameExpress'],
  ['sesame-auth/fastify', [], 'sesameFastify'],
  ['sesame-auth/verifier', [], 'createVerifier'],
  ['sesame-auth/client', [], 'createSesameClient'],
]

// Made in beforeAll (not when the file loads), so that a run that filters out every test here leaves none.
let dir: string | undefined
let register: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sesame-exports-'))
  // A resolve hook that writes down every bare specifier the program asks for.
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  if (!/^(node:|\\.|\\/|file:|data:)/.test(specifier)) appendFileSync(process.env.SPECIFIER_LOG, specifier + '\\n')
  return next(specifier, context)
}`,
  )
  register = join(dir, 'register.mjs')
  writeFileSync(
    register,
    `import { register } from 'node:module'\nregister(${JSON.stringify(`file://${hooks}`)})\n`,
  )
})
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('package exports', () => {
  it('every published subpath is in the exports map, and only those', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, unknown> }
    const published = Object.keys(manifest.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'sesame-auth' : `sesame-auth/${key.slice(2)}`))
    expect(published.sort()).toEqual(SUBPATHS.map(([subpath]) => subpath).sort())
  })

  it.each(SUBPATHS)('%s loads without any optional peer but %j', (subpath, allowed, exported) => {
    const log = join(dir!, `${subpath.replaceAll('/', '_')}.log`)
    writeFileSync(log, '')
    const output = execFileSync(
      process.execPath,
      [
        '--import',
        register,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(subpath)}); console.log(typeof m[${JSON.stringify(exported)}])`,
      ],
      { env: { ...process.env, SPECIFIER_LOG: log }, encoding: 'utf8' },
    )
    expect(output.trim()).toBe('function')
    const loaded = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))
    expect(loaded.has(subpath)).toBe(true) // the hook saw the import, so the log is live
    for (const peer of OPTIONAL_PEERS) {
      // The allowed ones must show up too: proof that a loaded peer would be seen.
      expect(loaded.has(peer), `${subpath} and ${peer}`).toBe(allowed.includes(peer))
    }
  })
})
