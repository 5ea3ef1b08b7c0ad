/**
 * Tokens, cookies and passwords never reach the logs: a whole sign-up / sign-in / refresh / revoke / sign-out
 * run, with failures, at the most verbose level, and every log line searched for every secret it handled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { buildServer, type SesameServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { SAME_ORIGIN, cookiePair } from '../helpers/server.js'

describe('logs', () => {
  const lines: string[] = []
  let server: SesameServer
  beforeAll(async () => {
    server = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_LOG_LEVEL: 'trace' }),
      logStream: { write: (line) => void lines.push(line) },
    })
  })
  afterAll(() => server.app.close())

  it('hold no password, cookie, access token or refresh token of a whole run', async () => {
    const password = 'log-scrub passphrase 42'
    const inject = server.app.inject.bind(server.app)
    const secrets: string[] = [password]
    await inject({
      method: 'POST',
      url: '/auth/signup',
      headers: SAME_ORIGIN,
      payload: { email: 'log@example.com', password },
    })
    await inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'log@example.com', password: 'wrong guess 123' },
    })
    secrets.push('wrong guess 123')
    const login = await inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'log@example.com', password },
    })
    const cookie = cookiePair(login.headers['set-cookie'])
    secrets.push(cookie.split('=')[1]!)
    await inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
    const grant = await inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: 'log@example.com', password },
    })
    const pair = grant.json<{ access_token: string; refresh_token: string }>()
    secrets.push(pair.access_token, pair.refresh_token)
    await inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: `Bearer ${pair.access_token}` },
    })
    await inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: `Bearer ${pair.access_token}x` },
    })
    const refreshed = await inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
    })
    const next = refreshed.json<{ access_token: string; refresh_token: string }>()
    secrets.push(next.access_token, next.refresh_token)
    await inject({ method: 'POST', url: '/auth/revoke', payload: { token: next.refresh_token } })
    await inject({ method: 'DELETE', url: '/auth/session', headers: { ...SAME_ORIGIN, cookie } })

    expect(lines.length).toBeGreaterThan(10) // the run really was logged
    const log = lines.join('\n')
    for (const secret of secrets) {
      expect(log).not.toContain(secret)
      expect(log).not.toContain(secret.slice(0, 24)) // not even a prefix
    }
    // Store keys are hashes of secrets; they are not secrets, but there is no reason to log them either.
    expect(log).not.toContain(hashSecret(cookie.split('=')[1]!))
  })
})

function parseLine(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>
}

describe('request lines', () => {
  it('are written at debug, not at the default info level', async () => {
    for (const [level, logged] of [
      ['info', false],
      ['debug', true],
    ] as const) {
      const lines: string[] = []
      const server = await buildServer({
        config: loadConfig({ SESAME_STORE: 'memory', SESAME_LOG_LEVEL: level }),
        logStream: { write: (line) => void lines.push(line) },
      })
      try {
        expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
        expect(lines.some((line) => line.includes('"url":"/healthz"'))).toBe(logged)
        if (logged) {
          const completed = lines.map(parseLine).find((line) => line.msg === 'request completed')
          expect(completed).toMatchObject({ res: { statusCode: 200 }, reqId: expect.any(String) })
        }
      } finally {
        await server.app.close()
      }
    }
  })

  it('at info, still carry a refusal with the id of its request', async () => {
    const lines: string[] = []
    const server = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory' }),
      logStream: { write: (line) => void lines.push(line) },
    })
    try {
      await server.app.inject({ method: 'GET', url: '/healthz' })
      expect(lines).toEqual([])
      expect((await server.app.inject({ method: 'GET', url: '/no-such-page' })).statusCode).toBe(404)
      expect(lines.map(parseLine)).toEqual([
        expect.objectContaining({
          level: 30,
          msg: 'request refused',
          code: 'not_found',
          reqId: expect.any(String),
        }),
      ])
    } finally {
      await server.app.close()
    }
  })
})

describe('logs of requests with a secret in the query', () => {
  it('keep the path and drop the query: a mailed link carries its one-time token there', async () => {
    const lines: string[] = []
    const server = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_LOG_LEVEL: 'debug' }),
      logStream: { write: (line) => void lines.push(line) },
    })
    try {
      const token = 'Q'.repeat(42) + 'A'
      const response = await server.app.inject({ method: 'GET', url: `/reset-password?token=${token}` })
      expect(response.statusCode).toBe(200)
      await server.app.inject({ method: 'GET', url: `/auth/social/corp/callback?code=${token}&state=s` })
      const logged = lines.join('\n')
      expect(logged).toContain('"url":"/reset-password"')
      expect(logged).not.toContain(token)
    } finally {
      await server.app.close()
    }
  })
})
