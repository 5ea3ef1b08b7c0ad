/**
 * The client SDK in Node against a scripted `fetch` (no Web Locks here, so the in-process single flight is what
 * runs): proactive refresh before expiry, refresh-token storage for native apps, clean sign-out on
 * `invalid_grant`, transient failures that keep the session, and no imports at all in the built module.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type TokenStorage, createSesameClient, memoryStorage } from '../../src/client/index.js'

const BASE = 'https://auth.example.test'

/** An unsigned JWT-shaped string with these claims: the client reads `exp` and `sub`, the server checks. */
function accessToken(exp: number, sub = 'user-1'): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'ES256', typ: 'at+jwt' })}.${part({ sub, exp })}.c2ln`
}

interface Call {
  url: string
  body: Record<string, string> | null
  authorization: string | null
}

/** A fake Sesame: answers the token endpoint from `grants` and API calls with 200 (or 401 for `revoked`). */
function fakeServer(grants: (body: Record<string, string>) => Response) {
  const calls: Call[] = []
  const revoked = new Set<string>()
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : input.toString()
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : null
    const authorization = new Headers(init?.headers).get('authorization')
    calls.push({ url, body, authorization })
    if (url === `${BASE}/auth/token`) return grants(body ?? {})
    if (url === `${BASE}/auth/revoke`) return new Response(null, { status: 200 })
    if (authorization && revoked.has(authorization.slice(7)))
      return new Response('{}', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      })
    return new Response('{"ok":true}', { status: 200 })
  }) as typeof fetch
  return { calls, revoked, fetchImpl }
}

const json = (body: object, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('client SDK', () => {
  it('refreshes before the access token expires, once for many concurrent calls', async () => {
    const now = Math.floor(Date.now() / 1000)
    let issued = 0
    const server = fakeServer((body) =>
      json({
        access_token: accessToken(body.grant_type === 'password' ? now + 10 : now + 900, `u${++issued}`),
        expires_in: body.grant_type === 'password' ? 10 : 900, // what the client times by (its own clock)
        refresh_token: `refresh-${issued}`,
      }),
    )
    const client = createSesameClient({ baseUrl: BASE, fetch: server.fetchImpl, refreshTokenIn: 'storage' })
    await client.signIn('a@example.com', 'pw')
    expect(server.calls[0]!.body).toMatchObject({ grant_type: 'password', refresh_token_delivery: 'body' })
    // The first token expires in 10 s, inside the 30 s margin: refreshed before any call goes out.
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.fetch(`${BASE}/api`)))
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200))
    const refreshes = server.calls.filter((call) => call.body?.grant_type === 'refresh_token')
    expect(refreshes).toHaveLength(1)
    expect(refreshes[0]!.body).toEqual({ grant_type: 'refresh_token', refresh_token: 'refresh-1' })
    const apiCalls = server.calls.filter((call) => call.url === `${BASE}/api`)
    expect(new Set(apiCalls.map((call) => call.authorization))).toEqual(
      new Set([`Bearer ${accessToken(now + 900, 'u2')}`]),
    )
  })

  it('keeps the refresh token in the given storage, so a new client restores the session', async () => {
    const now = Math.floor(Date.now() / 1000)
    const storage: TokenStorage = memoryStorage()
    const server = fakeServer(() =>
      json({ access_token: accessToken(now + 900), expires_in: 900, refresh_token: 'r1' }),
    )
    const first = createSesameClient({
      baseUrl: BASE,
      fetch: server.fetchImpl,
      refreshTokenIn: 'storage',
      storage,
    })
    await first.signIn('a@example.com', 'pw')
    expect(JSON.parse(String(await storage.get('sesame:tokens')))).toMatchObject({ refreshToken: 'r1' })
    const relaunched = createSesameClient({
      baseUrl: BASE,
      fetch: server.fetchImpl,
      refreshTokenIn: 'storage',
      storage,
    })
    expect(await relaunched.restore()).toBe(true)
    expect(relaunched.state).toEqual({ status: 'signed-in', userId: 'user-1' })
    await relaunched.signOut()
    expect(server.calls.at(-1)).toMatchObject({ url: `${BASE}/auth/revoke`, body: { token: 'r1' } })
    expect(await storage.get('sesame:tokens')).toBeNull()
  })

  it('signs out cleanly when the refresh token is refused, and keeps the session on a transient failure', async () => {
    const now = Math.floor(Date.now() / 1000)
    let answer: 'ok' | 'busy' | 'invalid_grant' = 'ok'
    const server = fakeServer((body) => {
      if (body.grant_type === 'refresh_token' && answer === 'busy') return json({ error: 'server_busy' }, 503)
      if (body.grant_type === 'refresh_token' && answer === 'invalid_grant')
        return json({ error: 'invalid_grant', error_description: 'The refresh token is invalid.' }, 400)
      return json({ access_token: accessToken(now + 900), expires_in: 900, refresh_token: 'r' })
    })
    const client = createSesameClient({ baseUrl: BASE, fetch: server.fetchImpl, refreshTokenIn: 'storage' })
    const states: string[] = []
    client.subscribe((state) => states.push(state.status))
    await client.signIn('a@example.com', 'pw')
    server.revoked.add(accessToken(now + 900)) // e.g. "log out everywhere" elsewhere
    answer = 'busy'
    await expect(client.fetch(`${BASE}/api`)).rejects.toMatchObject({ code: 'server_busy', status: 503 })
    expect(client.state.status).toBe('signed-in')
    answer = 'invalid_grant'
    const refused = await client.fetch(`${BASE}/api`)
    expect(refused.status).toBe(401)
    expect(client.state).toEqual({ status: 'signed-out', reason: 'session_ended' })
    expect(states).toEqual(['signed-in', 'signed-out'])
    await expect(client.fetch(`${BASE}/api`)).rejects.toMatchObject({ code: 'signed_out' })
  })

  it('checks its options', () => {
    expect(() => createSesameClient({ baseUrl: 'auth.example.test' })).toThrow(TypeError)
    expect(() => createSesameClient({ baseUrl: BASE, mode: 'session' as never })).toThrow(TypeError)
  })

  it('is one self-contained module: no imports, so browsers and React Native load it as is', () => {
    const built = readFileSync(resolve(import.meta.dirname, '../../dist/client/index.js'), 'utf8')
    expect(built).not.toMatch(/^\s*import\s/m)
    expect(built).not.toMatch(/\brequire\(/)
  })
})
