/**
 * An unknown email and a wrong password must be indistinguishable: same status, headers and body, and the
 * same work (one argon2id verification at the configured cost), so timing does not tell them apart either.
 * Timing itself is measured by the benchmark, not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArgon2Hasher, type PasswordHasher } from '../../src/core/password-hasher.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { buildServer, type SesameServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { SAME_ORIGIN } from '../helpers/server.js'

describe('sign-in does not reveal whether an account exists', () => {
  let server: SesameServer
  const calls: string[] = []

  beforeAll(async () => {
    const real = createArgon2Hasher()
    const counting: PasswordHasher = {
      hash: (password) => real.hash(password),
      verify: (hash, password) => {
        calls.push(`verify:${hash.slice(0, 31)}`)
        return real.verify(hash, password)
      },
      verifyDummy: (password) => {
        calls.push('verifyDummy')
        return real.verifyDummy(password)
      },
      needsRehash: (hash) => real.needsRehash(hash),
    }
    server = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_LOG_LEVEL: 'silent' }),
      store: createMemoryStore(),
      passwordHasher: counting,
      logger: false,
    })
    await server.auth.signUp({ email: 'real@example.com', password: 'the right password' })
  })
  afterAll(() => server.app.close())

  function logIn(email: string, password: string) {
    return server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email, password },
    })
  }

  it('answers both with the same status, headers and body', async () => {
    const unknown = await logIn('nobody@example.com', 'the right password')
    const wrong = await logIn('real@example.com', 'a wrong password')
    expect(unknown.statusCode).toBe(401)
    expect(wrong.statusCode).toBe(401)
    expect(unknown.body).toBe(wrong.body)
    expect(unknown.json()).toEqual({
      error: 'invalid_credentials',
      error_description: 'The email or password is incorrect.',
    })
    const comparable = (headers: Record<string, unknown>) => {
      const { date: _date, ...rest } = headers
      return rest
    }
    expect(comparable(unknown.headers)).toEqual(comparable(wrong.headers))
  })

  it('spends one argon2id verification on each path, at the configured cost', async () => {
    calls.length = 0
    await logIn('nobody@example.com', 'whatever it is')
    await logIn('real@example.com', 'a wrong password')
    expect(calls).toEqual(['verifyDummy', 'verify:$argon2id$v=19$m=19456,t=2,p=1$'])
  })
})
