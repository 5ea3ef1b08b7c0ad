/** The real `npm start` entry point as a child process: configuration errors, serving, signals, crashes. */
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../helpers/server.js'
import { runServerToExit, startServerProcess } from '../helpers/process.js'

describe('the server process', () => {
  const dataDir = makeTempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it.each([
    [
      { SESAME_SESSION_IDLE_SECONDS: 'soon' },
      'sesame: Invalid SESAME_SESSION_IDLE_SECONDS: must be a number.\n',
    ],
    [
      { SESAME_STORE: 'mongo' },
      'sesame: Invalid SESAME_STORE: must be one of sqlite, memory, postgres, redis.\n',
    ],
    [
      { SESAME_SESION_ABSOLUTE_SECONDS: '60' },
      "sesame: Unknown environment variable SESAME_SESION_ABSOLUTE_SECONDS; see the README's configuration table.\n",
    ],
  ])('exits 1 with one clear line for %j', async (env, line) => {
    const { code, output } = await runServerToExit({ SESAME_DATA_DIR: dataDir, ...env })
    expect(code).toBe(1)
    expect(output).toBe(line)
  })

  it('serves sign-up and sign-in over HTTP, survives SIGKILL with sessions intact, and stops on SIGTERM', async () => {
    const env = { SESAME_DATA_DIR: dataDir, SESAME_LOG_LEVEL: 'info' }
    const first = await startServerProcess(env)
    expect(first.output()).toContain(`Sesame listening on ${first.url}\n`)
    const headers = { 'content-type': 'application/json', origin: first.url }
    const credentials = JSON.stringify({ email: 'proc@example.com', password: 'pass-word-1234' })
    expect(
      (await fetch(`${first.url}/auth/signup`, { method: 'POST', headers, body: credentials })).status,
    ).toBe(201)
    const login = await fetch(`${first.url}/auth/session`, { method: 'POST', headers, body: credentials })
    expect(login.status).toBe(200)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    expect((await fetch(`${first.url}/auth/me`, { headers: { cookie } })).status).toBe(200)

    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    // Nothing secret reached the logs.
    expect(first.output()).not.toContain(cookie.split('=')[1])
    expect(first.output()).not.toContain('pass-word-1234')

    const second = await startServerProcess(env)
    const me = await fetch(`${second.url}/auth/me`, { headers: { cookie } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ user: { email: 'proc@example.com' } })
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('warns at start (SESAME_W003) when the issuer is plain http on a host other than localhost', async () => {
    const plain = await startServerProcess({
      SESAME_DATA_DIR: dataDir,
      SESAME_ISSUER: 'http://192.0.2.10:3000',
    })
    const local = await startServerProcess({ SESAME_DATA_DIR: dataDir })
    for (const server of [plain, local]) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    expect(plain.output()).toContain('[SESAME_W003] SesameWarning: SESAME_ISSUER is plain http')
    expect(local.output()).not.toContain('SESAME_W003')
  })

  it('warns at start (SESAME_W006) when served over https with no factor key, and not once one is given', async () => {
    const https = { SESAME_DATA_DIR: dataDir, SESAME_ISSUER: 'https://auth.example.com' }
    const keyless = await startServerProcess(https)
    const keyed = await startServerProcess({
      ...https,
      SESAME_FACTOR_KEY: Buffer.alloc(32, 9).toString('base64url'),
    })
    for (const server of [keyless, keyed]) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    expect(keyless.output()).toContain('[SESAME_W006] SesameWarning: SESAME_FACTOR_KEY is not set')
    expect(keyed.output()).not.toContain('SESAME_W006')
  })
})
