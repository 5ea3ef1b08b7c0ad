/**
 * The README's "Try it with curl" block, run as pasted (only `BASE` points at this test's port) with bash and
 * curl against the built server process, in an empty directory (it writes `jar.txt`). If the README and the
 * server drift apart, this fails.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startServerProcess } from '../helpers/process.js'
import { makeTempDir } from '../helpers/server.js'

const README = resolve(import.meta.dirname, '../../README.md')

/** The first `sh` block after the "Try it with curl" heading. */
function walkthrough(): string {
  const text = readFileSync(README, 'utf8')
  const section = text.slice(text.indexOf('## Try it with curl'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  if (!block) throw new Error('README.md has no sh block under "## Try it with curl"')
  return block
}

describe("the README's curl walk-through", () => {
  const dataDir = makeTempDir()
  const workDir = makeTempDir('sesame-walkthrough-')
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(workDir, { recursive: true, force: true })
  })

  it('works as pasted against a fresh server', async () => {
    const script = walkthrough()
    expect(script).toMatch(/^BASE=http:\/\/localhost:3000$/m)
    const server = await startServerProcess({ SESAME_DATA_DIR: dataDir })
    try {
      const base = server.url.replace('127.0.0.1', 'localhost')
      const output = execFileSync(
        'bash',
        ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script.replace(/^BASE=.*$/m, `BASE=${base}`)],
        {
          cwd: workDir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
        },
      )
      const lines = output.trimEnd().split('\n')
      expect(lines).toHaveLength(7)
      const [signUp, signIn, meByCookie, meByToken, revoke, refused, meAfterRevoke] = lines.map((line) =>
        line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : line,
      )
      expect(signUp).toMatchObject({ user: { email: 'ada@example.com' } })
      expect(signIn).toMatchObject({ user: { email: 'ada@example.com' }, session: { method: 'cookie' } })
      expect(meByCookie).toMatchObject({ user: { email: 'ada@example.com' }, session: { method: 'cookie' } })
      expect(meByToken).toMatchObject({ user: { email: 'ada@example.com' }, session: { method: 'token' } })
      expect(revoke).toBe('200')
      expect(refused).toMatchObject({ error: 'invalid_grant' })
      expect(meAfterRevoke).toMatchObject({ error: 'invalid_token' })
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })
})
