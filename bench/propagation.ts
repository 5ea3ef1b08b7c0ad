/**
 * Revocation propagation across instances: three Sesame processes on one shared store; an access token is
 * accepted by instances B and C, then "log out everywhere" is sent to instance A, and B and C are polled until
 * they refuse the token. The delay is from sending the logout to B (or C) first answering 401, so it includes
 * A's own work, the store write, the change feed and B/C applying it. Loopback, same machine.
 */
import { randomBytes } from 'node:crypto'
import { startServerProcess, type ServerProcess } from '../test/helpers/process.js'

export interface PropagationOptions {
  /** Environment naming the shared store. */
  env: Record<string, string>
  revocations: number
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
    for (let round = 0; round < options.revocations; round++) {
      const { access_token: token } = await json<{ access_token: string }>(
        await fetch(`${a}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'password', username: email, password }),
        }),
      )
      const headers = { authorization: `Bearer ${token}` }
      for (const base of [b, c]) await json(await fetch(`${base}/auth/me`, { headers }))
      const started = performance.now()
      const sent = fetch(`${a}/auth/logout-everywhere`, { method: 'POST', headers }).then((response) => {
        if (response.status !== 204) throw new Error(`logout answered ${response.status}`)
        logout.push(performance.now() - started)
      })
      const observe = async (base: string): Promise<void> => {
        for (;;) {
          const response = await fetch(`${base}/auth/me`, { headers })
          await response.arrayBuffer()
          if (response.status === 401) return void delays.push(performance.now() - started)
          if (performance.now() - started > 5000) throw new Error(`${base} still accepts the token after 5 s`)
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

/** The propagation section of bench/RESULTS.md for each named store setup. */
export async function propagationTable(
  setups: Array<{ name: string; env: Record<string, string> }>,
  revocations: number,
): Promise<string> {
  const lines = [
    '## Revocation propagation across three instances',
    '',
    `${revocations} "log out everywhere" calls on instance A per setup; instances B and C polled until they refuse the`,
    'access token they accepted a moment before. Delay = from sending the logout to A until B (or C) answers 401.',
    'Target: p99 < 50 ms on loopback.',
    '',
    '| store | samples | p50 ms | p99 ms | max ms | logout request p50 ms |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const setup of setups) {
    const { delays, logout } = await measurePropagation({ env: setup.env, revocations })
    delays.sort((x, y) => x - y)
    logout.sort((x, y) => x - y)
    lines.push(
      `| ${setup.name} | ${delays.length} | ${percentile(delays, 50).toFixed(1)} | ${percentile(delays, 99).toFixed(1)} | ${delays.at(-1)!.toFixed(1)} | ${percentile(logout, 50).toFixed(1)} |`,
    )
    process.stderr.write(`  ${setup.name}: p99 ${percentile(delays, 99).toFixed(1)} ms\n`)
  }
  return `${lines.join('\n')}\n`
}
