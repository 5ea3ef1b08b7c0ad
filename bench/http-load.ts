/**
 * Starting a benchmark target (bench/target.ts) in its own process and loading its `GET /auth/me` (or the
 * path it names) with autocannon: shared by `npm run bench` and `npm run bench:profile`. Each run also reads
 * the target process's CPU time (user + system, all its threads) before and after, so the server's cost per
 * request is known whether or not the load generator, which shares the machine, was the bottleneck.
 *
 * On a machine of two or more cores the targets run on the last core and the load generator (this process)
 * on the first (`taskset`): left to the scheduler, both moved between the cores, and the server's CPU time per
 * request then held whatever the load generator's activity did to the caches and the core it had just left
 * (the same hot path, same instruction count, measured 1.14x and 1.51x of its baseline in two runs).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

export const CONNECTIONS = 50

export interface Target {
  child: ChildProcess
  url: string
  /** What the load requests; default `/auth/me`. */
  path?: string
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
  /** The target process's CPU time over the run, in microseconds, divided by the requests it answered. */
  cpuUsPerRequest: number
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** CPU seconds (user + system, every thread) the process has used so far, from /proc/<pid>/stat. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the command name in parentheses: field 3 onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** The core the targets run on; null on a one-core machine or without `taskset` (then nothing is pinned). */
export const SERVER_CORE =
  availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0 ? availableParallelism() - 1 : null

let pinned = false

/** Keeps this process (the load generator: autocannon runs in it), all its threads, off the targets' core. */
function pinLoadGenerator(): void {
  if (SERVER_CORE === null || pinned) return
  pinned = true
  execFileSync('taskset', ['-a', '-p', '-c', `0-${SERVER_CORE - 1}`, String(process.pid)], {
    stdio: 'ignore',
  })
}

export async function startTarget(
  name: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Target> {
  pinLoadGenerator()
  const command = [process.execPath, ...nodeFlags, '--import', 'tsx', 'bench/target.ts', name]
  // taskset execs node in its own process: the child's pid is the server's.
  const onCore = SERVER_CORE === null ? command : ['taskset', '-c', String(SERVER_CORE), ...command]
  const child = spawn(onCore[0]!, onCore.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  const lines = createInterface({ input: child.stdout })
  // The ready line is the one with the URL; the others are a logging target's log, read and dropped, as a
  // log collector would read the pipe.
  const ready = await new Promise<Omit<Target, 'child'>>((resolve, reject) => {
    lines.on('line', (line) => {
      let parsed: Partial<Target>
      try {
        parsed = JSON.parse(line) as Partial<Target>
      } catch {
        return // a log line that is not JSON
      }
      if (typeof parsed.url === 'string' && parsed.headers) resolve(parsed as Omit<Target, 'child'>)
    })
    child.once('exit', (code) => reject(new Error(`target ${name} exited with ${code}`)))
  })
  return { child, ...ready }
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
  return measured(target, () =>
    autocannon({
      url: `${target.url}${target.path ?? '/auth/me'}`,
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
    }),
  )
}

/** Runs `load` against `target`, and reads the target's CPU time around it. */
async function measured(target: Target, load: () => Promise<autocannon.Result>): Promise<LoadResult> {
  const cpuBefore = processCpuSeconds(target.child.pid!)
  const result = await load()
  const cpuSeconds = processCpuSeconds(target.child.pid!) - cpuBefore
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests.total),
  }
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** Password grants (`POST /auth/token`) of the target's user: each one an argon2id verification. */
export async function loadPasswordGrants(
  target: Target,
  duration: number,
  connections: number,
): Promise<LoadResult> {
  const { username, password } = target.login!
  return measured(target, () =>
    autocannon({
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
  return measured(target, () =>
    autocannon({
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
