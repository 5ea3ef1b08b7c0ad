/**
 * The trade-off the notes describe: the embedded file store keeps sessions across a server restart, the
 * memory store loses them. Each "restart" closes the whole server and builds a new one.
 */
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cookiePair, makeTempDir, SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

async function signUpAndLogIn(server: TestServer): Promise<string> {
  await server.auth.signUp({ email: 'restart@example.com', password: 'pass-word-1234' })
  const response = await server.app.inject({
    method: 'POST',
    url: '/auth/session',
    headers: SAME_ORIGIN,
    payload: { email: 'restart@example.com', password: 'pass-word-1234' },
  })
  expect(response.statusCode).toBe(200)
  return cookiePair(response.headers['set-cookie'])
}

function me(server: TestServer, cookie: string) {
  return server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
}

describe('restarts', () => {
  const dataDir = makeTempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('sqlite keeps users and sessions across a restart', async () => {
    const first = await startTestServer({ dataDir, env: { SESAME_STORE: 'sqlite' } })
    const cookie = await signUpAndLogIn(first)
    expect((await me(first, cookie)).statusCode).toBe(200)
    await first.close()

    const second = await startTestServer({ dataDir, env: { SESAME_STORE: 'sqlite' } })
    const response = await me(second, cookie)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ user: { email: 'restart@example.com' } })
    await second.close()
  })

  it('memory loses them: the same cookie is refused after a restart', async () => {
    const first = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    const cookie = await signUpAndLogIn(first)
    expect((await me(first, cookie)).statusCode).toBe(200)
    await first.close()

    const second = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    const response = await me(second, cookie)
    expect(response.statusCode).toBe(401)
    expect(response.json()).toMatchObject({ error: 'invalid_session' })
    expect(await second.store.findUserByEmail('restart@example.com')).toBeNull()
    await second.close()
  })
})
