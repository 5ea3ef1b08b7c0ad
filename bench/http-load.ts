/**
 * Starting a benchmark target (bench/target.ts) in its own process and loading its `GET /auth/me` with
 * autocannon: shared by `npm run bench` and `npm run bench:profile`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

export const CONNECTIONS = 50

export interface Target {
  child: ChildProcess
  url: string
  headers: Record<string, string>
  tokensFile?: string
  /** With BENCH_GRANTS=n: the signed-in user's credentials and n refresh tokens, one family each. */
  login?: { username: string; password: string }
  refreshTokens?: string[]
}

export interface LoadResult {
  rps: number
  p99: number
  non2xx: number
}

export async function startTarget(
  name: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Target> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'bench/target.ts', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`target ${name} exited with ${code}`)))
  })
  return { child, ...(JSON.parse(first) as Omit<Target, 'child'>) }
}

/** Asks the target to exit (it writes its CPU profile, if it runs with one) and waits until it has. */
export async function stopTarget(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return
  const exited = once(target.child, 'exit')
  target.child.kill('SIGTERM')
  await exited
}

/** One autocannon run; with `tokens`, every request carries the next one (the cold bearer case). */
export async function loadTarget(target: Target, duration: number, tokens?: string[]): Promise<LoadResult> {
  let next = 0
  const result = await autocannon({
    url: `${target.url}/auth/me`,
    connections: CONNECTIONS,
    duration,
    headers: target.headers,
    ...(tokens && {
      requests: [
        {
          setupRequest: (request: autocannon.Request) => ({
            ...request,
            headers: { ...request.headers, authorization: tokens[next++ % tokens.length]! },
          }),
        },
      ],
    }),
  })
  return summary(result)
}

function summary(result: autocannon.Result): LoadResult {
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx }
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** Password grants (`POST /auth/token`) of the target's user: each one an argon2id verification. */
export async function loadPasswordGrants(
  target: Target,
  duration: number,
  connections: number,
): Promise<LoadResult> {
  const { username, password } = target.login!
  return summary(
    await autocannon({
      url: `${target.url}/auth/token`,
      method: 'POST',
      connections,
      duration,
      headers: FORM,
      body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
    }),
  )
}

/**
 * Refresh grants, each family followed by one request at a time: every request presents the refresh token
 * the previous answer in its family returned (rotation), so each one is a compare-and-set rotation in the
 * store. autocannon resets a connection's context after each request sequence, so the live tokens wait in
 * the target's pool instead: a request takes one, its answer puts the successor back. The pool outlives
 * runs; the families whose answers were still in flight when a run stopped are lost, so the target issues
 * a few per connection (bench/target.ts). A refused refresh loses its family, and shows in non-2xx.
 */
export async function loadRefreshGrants(target: Target, duration: number): Promise<LoadResult> {
  const live = target.refreshTokens!
  return summary(
    await autocannon({
      url: `${target.url}/auth/token`,
      connections: Math.min(CONNECTIONS, live.length),
      duration,
      requests: [
        {
          method: 'POST',
          headers: FORM,
          setupRequest: (request: autocannon.Request) => ({
            ...request,
            body: `grant_type=refresh_token&refresh_token=${live.shift() ?? 'none-left'}`,
          }),
          onResponse: (status: number, body: string) => {
            if (status === 200) live.push((JSON.parse(body) as { refresh_token: string }).refresh_token)
          },
        },
      ],
    }),
  )
}
