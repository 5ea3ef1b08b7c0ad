/**
 * Revocation propagation across instances: three Sesame processes on one shared store.
 * - Access tokens: a token is accepted by instances B and C, then "log out everywhere" is sent to instance A,
 *   and B and C are polled until they refuse the token.
 * - Cookie sessions: a session is accepted twice by B and C (so each serves it from its session cache), then
 *   the session signs out on A (`DELETE /auth/session`), and B and C are polled until they refuse the cookie.
 * The delay is from sending the request to A until B (or C) first answers 401, so it includes A's own work,
 * the store write, the change feed and B/C applying it. Loopback, same machine.
 */
import { randomBytes } from 'node:crypto'
import { startServerProcess, type ServerProcess } from '../test/helpers/process.js'

export interface PropagationOptions {
  /** Environment naming the shared store. */
  env: Record<string, string>
  revocations: number
  /** What is revoked: an access token (default) or a cookie session. */
  kind?: 'token' | 'cookie'
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`unexpected ${response.status}: ${await response.text()}`)
  return (await response.json()) as T
}

/** Measures propagation delays in milliseconds over `revocations` rounds (two observers each). */
export async function measurePropagation(
  options: PropagationOptions,
): Promise<{ delays: number[]; logout: number[] }> {
  const instances: ServerProcess[] = []
  try {
    for (let i = 0; i < 3; i++) {
      instances.push(
        await startServerProcess({
          SESAME_LOG_LEVEL: 'warn',
          SESAME_ISSUER: 'http://sesame.bench',
          // Every round signs the one user in again: far past the per-account cap of 100 attempts an hour.
          SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '0',
          ...options.env,
        }),
      )
    }
    const [a, b, c] = instances.map((instance) => instance.url) as [string, string, string]
    const email = `prop-${randomBytes(4).toString('hex')}@example.com`
    const password = 'propagation password'
    await json(
      await fetch(`${a}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: a },
        body: JSON.stringify({ email, password }),
      }),
    )
    const delays: number[] = []
    const logout: number[] = []
    /** Signs in; the headers that carry the credential, and the request that revokes it on A. */
    const signIn = async (): Promise<{
      headers: Record<string, string>
      revoke: () => Promise<Response>
    }> => {
      if (options.kind === 'cookie') {
        const response = await fetch(`${a}/auth/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: a },
          body: JSON.stringify({ email, password }),
        })
        await json(response)
        const cookie = response.headers.get('set-cookie')!.split(';')[0]!
        const headers = { cookie }
        return {
          headers,
          revoke: () => fetch(`${a}/auth/session`, { method: 'DELETE', headers: { ...headers, origin: a } }),
        }
      }
      const { access_token: token } = await json<{ access_token: string }>(
        await fetch(`${a}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'password', username: email, password }),
        }),
      )
      const headers = { authorization: `Bearer ${token}` }
      return { headers, revoke: () => fetch(`${a}/auth/logout-everywhere`, { method: 'POST', headers }) }
    }
    for (let round = 0; round < options.revocations; round++) {
      const { headers, revoke } = await signIn()
      // Twice: the second answer comes from B's and C's session caches.
      for (const base of [b, c, b, c]) await json(await fetch(`${base}/auth/me`, { headers }))
      const started = performance.now()
      const sent = revoke().then((response) => {
        if (response.status !== 204) throw new Error(`the revocation answered ${response.status}`)
        logout.push(performance.now() - started)
      })
      const observe = async (base: string): Promise<void> => {
        for (;;) {
          const response = await fetch(`${base}/auth/me`, { headers })
          await response.arrayBuffer()
          if (response.status === 401) return void delays.push(performance.now() - started)
          if (performance.now() - started > 5000) throw new Error(`${base} still accepts it after 5 s`)
        }
      }
      await Promise.all([sent, observe(b), observe(c)])
    }
    return { delays, logout }
  } finally {
    for (const instance of instances) instance.child.kill('SIGTERM')
    await Promise.all(instances.map((instance) => instance.exited))
  }
}

/** The propagation section of bench/RESULTS.md for each named store setup, access tokens and cookie sessions. */
export async function propagationTable(
  setups: Array<{ name: string; env: Record<string, string> }>,
  revocations: number,
): Promise<string> {
  const lines = [
    '## Revocation propagation across three instances',
    '',
    `${revocations} revocations on instance A per setup and kind; instances B and C polled until they refuse what`,
    'they accepted a moment before. Access token: "log out everywhere" (`POST /auth/logout-everywhere`). Cookie',
    'session: sign-out (`DELETE /auth/session`) of a session B and C had each served twice, the second time from',
    'their session caches. Delay = from sending the request to A until B (or C) answers 401.',
    'Target: p99 < 50 ms on loopback.',
    '',
    '| store | revoked | samples | p50 ms | p99 ms | max ms | revocation request p50 ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const setup of setups) {
    for (const kind of ['token', 'cookie'] as const) {
      const { delays, logout } = await measurePropagation({ env: setup.env, revocations, kind })
      delays.sort((x, y) => x - y)
      logout.sort((x, y) => x - y)
      const what = kind === 'token' ? 'access token' : 'cookie session (cached)'
      lines.push(
        `| ${setup.name} | ${what} | ${delays.length} | ${percentile(delays, 50).toFixed(1)} | ${percentile(delays, 99).toFixed(1)} | ${delays.at(-1)!.toFixed(1)} | ${percentile(logout, 50).toFixed(1)} |`,
      )
      process.stderr.write(`  ${setup.name}, ${what}: p99 ${percentile(delays, 99).toFixed(1)} ms\n`)
    }
  }
  return `${lines.join('\n')}\n`
}
