/**
 * `npm run bench [-- --quick | --instructions | --cluster]`: measures Sesame against a baseline taken in the
 * same run, and writes bench/RESULTS.md with the machine and versions. Ratios, not absolute numbers, are the
 * result: the machine is shared and noisy. Never a timed assertion in the test suite.
 *
 * Cases:
 * 1. Sign-in timing: unknown email vs wrong password (must be close: one argon2id verification each).
 * 2. `GET /auth/me` with a bearer token (warm and cold) and a cookie session on each store (on Redis and
 *    PostgreSQL with and without the session cache), vs a bare Fastify route, Sesame's `/healthz` on its default
 *    configuration, express-session (MemoryStore, connect-redis) and better-auth (SQLite, Redis): req/s, p99 and
 *    the server's CPU per request.
 * 3. Access-token verify ops/s per algorithm vs the raw node:crypto limit, jose, fast-jwt, jsonwebtoken.
 * 4. Revocation propagation across three instances on each shared store (p50/p99 over >= 200 revocations).
 *
 * Needs Redis and PostgreSQL like the tests (REDIS_URL, DATABASE_URL; `npm run bench` starts private ones
 * through scripts/test-services.sh when they do not answer).
 */
import { spawn } from 'node:child_process'
import * as argon2 from '@node-rs/argon2'
import { readFileSync, writeFileSync } from 'node:fs'
import { callgrindAvailable, countInstructions } from './instructions.js'
import { clusterSizingSection } from './cluster-sizing.js'
import { cpus, totalmem, type as osType, release } from 'node:os'
import { performance } from 'node:perf_hooks'
import { createAuth } from '../src/auth.js'
import { AuthError } from '../src/core/errors.js'
import { createMemoryStore } from '../src/store/memory/index.js'
import { DEFAULT_ARGON2_PARAMS } from '../src/core/password-hasher.js'
import {
  CONNECTIONS,
  type Target,
  loadPasswordGrants,
  loadRefreshGrants,
  loadTarget,
  SERVER_CORE,
  startTarget,
  stopTarget,
} from './http-load.js'
import type { SessionBytes } from './session-bytes.js'
import { profileTarget } from './profile.js'
import { median, percentile, ratioText } from './stats.js'
import { verifyTable } from './verify.js'
import { propagationTable } from './propagation.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../test/helpers/shared-stores.js'

const quick = process.argv.includes('--quick')
const HTTP_SECONDS = quick ? 3 : 6
const HTTP_RUNS = quick ? 1 : 5
const SIGN_IN_SAMPLES = quick ? 15 : 40

async function signInTiming(): Promise<string> {
  // Throttling off: this measures the password check itself, which the throttle would cut short.
  const off = { limit: 0, windowSeconds: 900 }
  const auth = await createAuth({
    store: createMemoryStore(),
    rateLimits: { loginFailuresPerAccountAndAddress: off, loginAttemptsPerAccount: off },
  })
  await auth.signUp({ email: 'timing@example.com', password: 'the right password' })
  const unknown: number[] = []
  const wrong: number[] = []
  async function attempt(email: string): Promise<number> {
    const started = performance.now()
    try {
      await auth.signIn({ email, password: 'a wrong password' })
    } catch (error) {
      if (!(error instanceof AuthError) || error.code !== 'invalid_credentials') throw error
    }
    return performance.now() - started
  }
  await attempt('warmup@example.com') // computes the dummy hash once
  for (let i = 0; i < SIGN_IN_SAMPLES; i++) {
    unknown.push(await attempt(`nobody${i}@example.com`))
    wrong.push(await attempt('timing@example.com'))
  }
  const mu = median(unknown)
  const mw = median(wrong)
  return [
    '## Sign-in timing: unknown email vs wrong password',
    '',
    `${SIGN_IN_SAMPLES} interleaved attempts each, in-process engine, memory store, argon2id m=19456 t=2 p=1.`,
    '',
    '| path | median ms | p90 ms |',
    '| --- | --- | --- |',
    `| unknown email | ${mu.toFixed(1)} | ${percentile(unknown, 90).toFixed(1)} |`,
    `| wrong password | ${mw.toFixed(1)} | ${percentile(wrong, 90).toFixed(1)} |`,
    '',
    `Ratio of medians (unknown / wrong): **${(mu / mw).toFixed(3)}** (1.000 = indistinguishable).`,
    '',
  ].join('\n')
}

interface RouteCase {
  label: string
  target: string
  cold?: boolean
}

const ROUTE_CASES: RouteCase[] = [
  { label: 'Fastify hello, no auth (baseline)', target: 'hello' },
  { label: 'Fastify, the same response as Sesame, no auth', target: 'hello-same-response' },
  {
    label: 'Sesame `GET /healthz`, no auth, default configuration (log level info)',
    target: 'sesame-healthz',
  },
  { label: 'Sesame, bearer, warm (the same token again)', target: 'sesame-bearer' },
  { label: 'Sesame, bearer, warm, metrics on (`SESAME_METRICS_TOKEN`)', target: 'sesame-bearer-metrics' },
  { label: 'Sesame, bearer, cold (a new ES256 token every request)', target: 'sesame-bearer', cold: true },
  { label: 'Sesame, cookie, memory store', target: 'sesame-memory' },
  { label: 'Sesame, cookie, sqlite store', target: 'sesame-sqlite' },
  { label: 'Sesame, cookie, redis store, session cache (default)', target: 'sesame-redis' },
  { label: 'Sesame, cookie, redis store, no cache', target: 'sesame-redis-nocache' },
  { label: 'Sesame, cookie, postgres store, session cache (default)', target: 'sesame-postgres' },
  { label: 'Sesame, cookie, postgres store, no cache', target: 'sesame-postgres-nocache' },
  { label: 'Express + express-session, MemoryStore', target: 'express-memory' },
  { label: 'Express + express-session + connect-redis', target: 'express-redis' },
  { label: 'better-auth, SQLite (its default setup), getSession per request', target: 'better-auth-sqlite' },
  { label: 'better-auth, Redis secondary storage, getSession per request', target: 'better-auth-redis' },
]

/** Isolated store state for one target process, and its cleanup. */
class Scratch {
  readonly prefixes: string[] = []
  readonly schemas: string[] = []

  env(): Record<string, string> {
    const prefix = freshPrefix('bench')
    const schema = freshSchema('bench')
    this.prefixes.push(prefix)
    this.schemas.push(schema)
    return { REDIS_URL, DATABASE_URL, SESAME_REDIS_PREFIX: prefix, SESAME_POSTGRES_SCHEMA: schema }
  }

  async clean(): Promise<void> {
    await deletePrefixes(this.prefixes)
    await dropSchemas(this.schemas)
  }
}

interface RouteRow extends RouteCase {
  rps: number[]
  /** Server CPU microseconds per request, per round. */
  cpu: number[]
  p99: number[]
  non2xx: number
  /** Per round: this case's req/s over the baseline's in the same round. */
  ratios: number[]
}

const ROUTE_HEADING = '## `GET /auth/me`: bearer tokens, cookie sessions on every store, and the peers'

/**
 * Every target runs at once (idle ones cost nothing) and the cases are measured in rounds, each round
 * visiting every case in order, so a slow minute of the shared machine lands on all cases alike; each ratio
 * is taken within a round, and the reported ratio is the median over rounds.
 */
async function authenticatedRoute(es256RawLimit: number): Promise<string> {
  const scratch = new Scratch()
  const targets = new Map<string, Target>()
  const rows: RouteRow[] = ROUTE_CASES.map((c) => ({
    ...c,
    rps: [],
    cpu: [],
    p99: [],
    non2xx: 0,
    ratios: [],
  }))
  try {
    for (const routeCase of ROUTE_CASES) {
      if (!targets.has(routeCase.target)) {
        targets.set(routeCase.target, await startTarget(routeCase.target, scratch.env()))
      }
    }
    const tokensOf = (row: RouteRow): string[] | undefined => {
      const file = row.cold ? targets.get(row.target)!.tokensFile : undefined
      return file ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : undefined
    }
    const tokens = rows.map(tokensOf)
    for (const [index, row] of rows.entries()) await loadTarget(targets.get(row.target)!, 1, tokens[index]) // warm-up
    for (let round = 0; round < HTTP_RUNS; round++) {
      for (const [index, row] of rows.entries()) {
        const measured = await loadTarget(targets.get(row.target)!, HTTP_SECONDS, tokens[index])
        row.rps.push(measured.rps)
        row.cpu.push(measured.cpuUsPerRequest)
        row.p99.push(measured.p99)
        row.non2xx += measured.non2xx
      }
      for (const row of rows) row.ratios.push(row.rps[round]! / rows[0]!.rps[round]!)
      process.stderr.write(
        `  round ${round + 1}: ${rows.map((row) => Math.round(row.rps[round]!)).join(', ')} req/s\n`,
      )
    }
  } finally {
    for (const target of targets.values()) await stopTarget(target)
    await scratch.clean()
  }
  const row = (target: string, cold = false): RouteRow =>
    rows.find((r) => r.target === target && Boolean(r.cold) === cold)!
  const rate = (target: string, cold = false): number => median(row(target, cold).rps)
  /** Median over rounds of a/b, each taken within one round. */
  const paired = (a: RouteRow, b: RouteRow): number => median(a.rps.map((rps, i) => rps / b.rps[i]!))
  /**
   * Median over rounds of b's server CPU per request over a's: the throughput a would have relative to b if
   * the server's CPU were the only limit, whoever the load generator held back.
   */
  const cpuRatio = (a: RouteRow, b: RouteRow): number => median(a.cpu.map((cpu, i) => b.cpu[i]! / cpu))
  const cpu = (target: string): number => median(row(target).cpu)
  const coldRate = rate('sesame-bearer', true)
  // One core doing both jobs in series: the HTTP work of the same-response route plus one raw verification.
  const serialLimit = 1 / (1 / rate('hello-same-response') + 1 / es256RawLimit)
  return [
    ROUTE_HEADING,
    '',
    `autocannon, ${CONNECTIONS} connections, ${HTTP_SECONDS} s per run after a 1 s warm-up, ${HTTP_RUNS} round(s):`,
    'every server runs at once, each in its own process, and each round measures every case in turn. The load',
    `generator runs in this process on the same ${cpus().length}-core machine, so the baseline is bounded by it, not by Fastify.`,
    SERVER_CORE === null
      ? 'Nothing is pinned (one core, or no `taskset`): servers and load generator share every core.'
      : `The servers are pinned to core ${SERVER_CORE} and the load generator to the other(s) (\`taskset\`).`,
    'Ratios are per round, against the baseline in that round; the table gives their median.',
    '',
    "Server CPU is the target process's CPU time (user + system, all threads, from /proc) over the run divided by",
    'the requests it answered: what the server pays per request, whether or not the load generator was the limit.',
    '',
    '| case | req/s (median) | spread (min-max) | p99 ms (median) | non-2xx | ratio to baseline | server CPU µs/request (median) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${Math.round(median(r.rps))} | ${Math.round(Math.min(...r.rps))}-${Math.round(Math.max(...r.rps))} | ${median(r.p99)} | ${r.non2xx} | ${ratioText(median(r.ratios))} | ${median(r.cpu).toFixed(1)} |`,
    ),
    '',
    "Targets (issue 17), from server CPU per request (CPU ratio: the other case's CPU over this one's, per round,",
    'median; above 1 means cheaper):',
    '',
    '| target | measured | goal |',
    '| --- | --- | --- |',
    `| cookie on Redis, session cache, vs the same response unauthenticated | ${ratioText(cpuRatio(row('sesame-redis'), row('hello-same-response')))} | >= 0.80 |`,
    `| cookie on PostgreSQL, session cache, vs the same response unauthenticated | ${ratioText(cpuRatio(row('sesame-postgres'), row('hello-same-response')))} | >= 0.80 |`,
    `| cookie on Redis, session cache vs no cache | ${ratioText(cpuRatio(row('sesame-redis'), row('sesame-redis-nocache')))} | (context) |`,
    `| cookie on PostgreSQL, session cache vs no cache | ${ratioText(cpuRatio(row('sesame-postgres'), row('sesame-postgres-nocache')))} | (context) |`,
    `| warm bearer CPU over the same response's (${cpu('sesame-bearer').toFixed(1)} / ${cpu('hello-same-response').toFixed(1)} µs) | ${(cpu('sesame-bearer') / cpu('hello-same-response')).toFixed(2)}x | <= 1.20x |`,
    `| Sesame \`/healthz\` on the default configuration vs the bare Fastify route | ${ratioText(cpuRatio(row('sesame-healthz'), row('hello')))} | >= 0.90 |`,
    '',
    `Metrics (issue 19): the warm bearer request with metrics on costs ${cpu('sesame-bearer-metrics').toFixed(1)} µs of server CPU against ${cpu('sesame-bearer').toFixed(1)} µs off (${(cpu('sesame-bearer-metrics') / cpu('sesame-bearer')).toFixed(2)}x, medians of the rounds); off is the default.`,
    '',
    'Targets (issue 7), as throughput ratios of this run:',
    '',
    '| target | measured | goal |',
    '| --- | --- | --- |',
    `| warm bearer vs Fastify hello | ${ratioText(paired(row('sesame-bearer'), row('hello')))} | >= 0.80 |`,
    `| warm bearer vs Fastify answering the same response | ${ratioText(paired(row('sesame-bearer'), row('hello-same-response')))} | (context) |`,
    `| cold bearer vs the ES256 raw verify limit (${Math.round(es256RawLimit)} ops/s, table above) | ${ratioText(coldRate / es256RawLimit)} | >= 0.80 |`,
    `| cold bearer vs one core doing the same-response route and a raw verify in series (${Math.round(serialLimit)} req/s) | ${ratioText(coldRate / serialLimit)} | (context) |`,
    `| cookie on Redis vs express-session + connect-redis | ${ratioText(paired(row('sesame-redis'), row('express-redis')))} | >= 4 |`,
    `| cookie on SQLite vs express-session MemoryStore | ${ratioText(paired(row('sesame-sqlite'), row('express-memory')))} | >= 4 |`,
    '',
    'Against better-auth (issue 17), throughput and server CPU ratios of this run:',
    '',
    '| target | req/s ratio | CPU ratio | goal |',
    '| --- | --- | --- | --- |',
    `| cookie on SQLite vs better-auth on SQLite | ${ratioText(paired(row('sesame-sqlite'), row('better-auth-sqlite')))} | ${ratioText(cpuRatio(row('sesame-sqlite'), row('better-auth-sqlite')))} | >= 10 |`,
    `| cookie on Redis (session cache) vs better-auth on Redis | ${ratioText(paired(row('sesame-redis'), row('better-auth-redis')))} | ${ratioText(cpuRatio(row('sesame-redis'), row('better-auth-redis')))} | >= 6 |`,
    `| cookie on Redis, no cache, vs better-auth on Redis | ${ratioText(paired(row('sesame-redis-nocache'), row('better-auth-redis')))} | ${ratioText(cpuRatio(row('sesame-redis-nocache'), row('better-auth-redis')))} | (context) |`,
    '',
  ].join('\n')
}

const GRANT_STORES = ['memory', 'sqlite', 'redis', 'postgres'] as const
/** Concurrent password grants: enough to keep every argon2 thread busy. */
const LOGIN_CONNECTIONS = 8

/** Raw argon2id verifications per second (the library, no server) at the server's parameters and concurrency. */
async function argon2Limit(seconds: number): Promise<number> {
  const stored = await argon2.hash('bench password 1', { ...DEFAULT_ARGON2_PARAMS, algorithm: 2 }) // 2: argon2id
  const deadline = performance.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: LOGIN_CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        await argon2.verify(stored, 'bench password 1')
        done++
      }
    }),
  )
  return done / seconds
}

/** Issue 7, case 3: sign-in (password grant) and refresh (rotation) throughput per store. */
async function grantThroughput(): Promise<string> {
  const scratch = new Scratch()
  const lines: string[] = []
  const seconds = HTTP_SECONDS
  try {
    const argon2Rate = await argon2Limit(seconds / 2)
    for (const store of GRANT_STORES) {
      const target = await startTarget(`sesame-${store}`, {
        ...scratch.env(),
        BENCH_GRANTS: String((quick ? 2 : 4) * CONNECTIONS),
      })
      try {
        const login = await loadPasswordGrants(target, seconds / 2, LOGIN_CONNECTIONS)
        const refresh = await loadRefreshGrants(target, seconds)
        lines.push(
          `| ${store} | ${Math.round(login.rps)} | ${ratioText(login.rps / argon2Rate)} | ${login.p99} | ${login.non2xx} | ${Math.round(refresh.rps)} | ${refresh.p99} | ${refresh.non2xx} |`,
        )
        process.stderr.write(
          `  ${store}: login ${Math.round(login.rps)}/s, refresh ${Math.round(refresh.rps)}/s\n`,
        )
      } finally {
        await stopTarget(target)
      }
    }
    return [
      '## Sign-in and refresh throughput per store',
      '',
      `\`POST /auth/token\`: password grants from ${LOGIN_CONNECTIONS} connections for ${seconds / 2} s, then refresh grants from`,
      `${CONNECTIONS} connections for ${seconds} s, each connection rotating its own family (every request presents the`,
      'token the previous answer returned: one compare-and-set rotation, a new access token and a new refresh',
      `token). The sign-in reference is raw argon2id verification at the same concurrency in this process:`,
      `${Math.round(argon2Rate)} per second (m=19456 KiB, t=2, p=1).`,
      '',
      '| store | sign-ins/s | vs argon2id limit | p99 ms | non-2xx | refreshes/s | p99 ms | non-2xx |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...lines,
      '',
    ].join('\n')
  } finally {
    await scratch.clean()
  }
}

function partsText(parts: Record<string, number>): string {
  return Object.entries(parts)
    .map(([part, bytes]) => `${part} ${Math.round(bytes)}`)
    .join(', ')
}

/** Issue 7, case 4: bytes per live session, in a child process with `--expose-gc` (bench/session-bytes.ts). */
async function sessionBytes(): Promise<string> {
  const scratch = new Scratch()
  const count = quick ? 20_000 : 100_000
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', 'bench/session-bytes.ts', String(count)],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...scratch.env() } },
      )
      let text = ''
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
      child.once('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`session-bytes exited with ${code}`)),
      )
    })
    const results = JSON.parse(output) as SessionBytes[]
    const goal: Record<string, string> = {
      memory: '<= 300',
      redis: '<= 400',
      'redis, one session per user, its own User-Agent': '(context)',
      'session cache (one instance)': '(sizing)',
    }
    return [
      '## Bytes per live session',
      '',
      `${count} cookie sessions per store, created through the engine (one user per ten sessions, each session`,
      'with its own copy of a 111-character Chrome User-Agent and an IPv4 address). The context row is the',
      'case where Redis shares nothing: one session per user, each with a User-Agent text of its own. Redis',
      'rows use the default key prefix `sesame:`; a longer prefix or an IPv6 address can put a session key or',
      'value in the next allocation class (16 or 32 bytes more). The parts are MEMORY USAGE, which leaves out',
      'expiry entries and hash-table buckets, so they add up to less than the total.',
      '',
      '| store | sessions | bytes per session | measured by | goal |',
      '| --- | --- | --- | --- | --- |',
      ...results.map(
        (r) =>
          `| ${r.store} | ${r.sessions} | ${Math.round(r.bytesPerSession)} | ${r.method}${r.parts ? ` (${partsText(r.parts)})` : ''} | ${goal[r.store] ?? ''} |`,
      ),
      '',
    ].join('\n')
  } finally {
    await scratch.clean()
  }
}

/** Cases whose per-request cost the targets turn on, profiled the way the load above ran them. */
const PROFILED: Array<{ label: string; target: string; cold?: boolean }> = [
  { label: 'Fastify, the same response as Sesame, no auth', target: 'hello-same-response' },
  { label: 'Sesame, bearer, warm', target: 'sesame-bearer' },
  { label: 'Sesame, bearer, cold (ES256)', target: 'sesame-bearer', cold: true },
  { label: 'Sesame, cookie, sqlite store', target: 'sesame-sqlite' },
]

/** `fn path/to/file.ts:12` as `fn (to/file.ts)`; native functions (no file) by name alone. */
function displayName(name: string): string {
  const [fn, location = ''] = name.split(' ')
  const file = location.replace(/:\d+$/, '').split('/').slice(-2).join('/')
  return file ? `${fn} (${file})` : fn!
}

/** Where each profiled case spends its server CPU (bench/profile.ts), per request. */
async function profilesSection(): Promise<string> {
  const rows: string[] = []
  const notes: string[] = []
  for (const profiled of PROFILED) {
    const result = await profileTarget(profiled.target, {
      cold: profiled.cold,
      seconds: quick ? 2 : HTTP_SECONDS,
    })
    const own = result.modules
      .filter((row) => row.name.startsWith('sesame:'))
      .reduce((sum, row) => sum + row.micros, 0)
    const top = result.functions
      .slice(0, 6)
      .map((row) => `${displayName(row.name)} ${row.micros.toFixed(1)}`)
      .join(' · ')
    rows.push(
      `| ${profiled.label} | ${Math.round(result.rps)} | ${result.cpuMicrosPerRequest.toFixed(1)} | ${own.toFixed(1)} | ${top} |`,
    )
    if (profiled.cold) {
      const primitive = result.functions.find((row) => row.name.startsWith('verifyOneShot'))?.micros ?? 0
      notes.push(
        `Cold bearer: the ES256 verification primitive alone (\`verifyOneShot\`) took ${primitive.toFixed(1)} µs of the ${result.cpuMicrosPerRequest.toFixed(1)} µs each request cost the server here.`,
      )
    }
    process.stderr.write(`  ${result.label}: ${result.cpuMicrosPerRequest.toFixed(1)} µs per request\n`)
  }
  return [
    '## Where the time goes: CPU profiles',
    '',
    `\`npm run bench:profile\` for each case: the server under \`node --cpu-prof\` and the same load as above for`,
    `${quick ? 2 : HTTP_SECONDS} s. Server CPU per request is the profile's busy (non-idle) time in the load window over the requests`,
    'served; "Sesame\'s own code" is the self time in src/. `writev` is the kernel sending the response, which on',
    'this shared two-core machine also pays for waking the load generator. The `.cpuprofile` files are left in',
    'bench/profiles/ (open them as flame graphs in Chrome DevTools or speedscope).',
    '',
    "| case | req/s (profiled) | server CPU µs per request | of it, Sesame's own code | largest self times, µs per request |",
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...notes,
    '',
  ].join('\n')
}

function environment(): string {
  const version = (name: string): string =>
    (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}`,
    `- Node ${process.version}; fastify ${version('fastify')}, better-sqlite3 ${version('better-sqlite3')}, @node-rs/argon2 ${version('@node-rs/argon2')}, autocannon ${version('autocannon')}`,
    `- Mode: ${quick ? 'quick' : 'full'}`,
  ].join('\n')
}

async function propagationSection(): Promise<string> {
  const schema = freshSchema('bench')
  const prefixes = [freshPrefix('bench'), freshPrefix('bench')]
  try {
    return await propagationTable(
      [
        {
          name: 'redis (pub/sub)',
          env: { SESAME_STORE: 'redis', REDIS_URL, SESAME_REDIS_PREFIX: prefixes[0]! },
        },
        {
          name: 'postgres (LISTEN/NOTIFY)',
          env: { SESAME_STORE: 'postgres', DATABASE_URL, SESAME_POSTGRES_SCHEMA: schema },
        },
        {
          name: 'postgres users + redis sessions',
          env: {
            SESAME_STORE: 'postgres',
            SESAME_SESSION_STORE: 'redis',
            DATABASE_URL,
            REDIS_URL,
            SESAME_POSTGRES_SCHEMA: `${schema}_split`,
            SESAME_REDIS_PREFIX: prefixes[1]!,
          },
        },
      ],
      quick ? 50 : 200,
    )
  } finally {
    await dropSchemas([schema, `${schema}_split`])
    await deletePrefixes(prefixes)
  }
}

/** The cases whose instructions per request are counted, and the targets read from them. */
const INSTRUCTION_TARGETS = [
  'hello',
  'hello-same-response',
  'sesame-healthz',
  'sesame-bearer',
  'sesame-memory',
  'sesame-redis',
] as const

const INSTRUCTIONS_HEADING = '## Instructions per request (callgrind)'

async function instructionsSection(): Promise<string> {
  const heading = INSTRUCTIONS_HEADING
  if (quick) return `${heading}\n\nNot measured in quick mode (a few minutes per case under valgrind).\n`
  if (!callgrindAvailable()) return `${heading}\n\nvalgrind is not installed: not measured.\n`
  const scratch = new Scratch()
  const counts = new Map<string, number>()
  const background = new Map<string, number>()
  // A case that fails under valgrind is reported as such, and the rest of the run goes on.
  const failures = new Map<string, string>()
  try {
    for (const target of INSTRUCTION_TARGETS) {
      try {
        const { instructionsPerRequest, backgroundPerRequest } = await countInstructions(
          target,
          scratch.env(),
        )
        counts.set(target, instructionsPerRequest)
        background.set(target, backgroundPerRequest)
        process.stderr.write(
          `  ${target}: ${Math.round(instructionsPerRequest)} instructions per request on the main thread, ${Math.round(backgroundPerRequest)} on others\n`,
        )
      } catch (error) {
        // One line: it goes in a table cell.
        failures.set(target, (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' '))
        process.stderr.write(`  ${target}: not measured (${failures.get(target)})\n`)
      }
    }
  } finally {
    await scratch.clean()
  }
  const label = (target: string) => ROUTE_CASES.find((c) => c.target === target && !c.cold)!.label
  const count = (target: string) =>
    counts.has(target)
      ? `${Math.round(counts.get(target)!)} | ${Math.round(background.get(target)!)}`
      : `not measured: ${failures.get(target)} | `
  const ratio = (a: string, b: string) =>
    counts.has(a) && counts.has(b) ? ratioText(counts.get(b)! / counts.get(a)!) : 'not measured'
  return [
    heading,
    '',
    'Each server under valgrind (callgrind), 20,000 requests to warm up, then 10,000 counted: the instructions',
    "its main thread ran per request, in user space (the kernel's share, which `writev` dominates in the",
    "profiles above, is not counted): the requests' own work. The other threads are counted apart: under",
    "valgrind V8 is still optimising after the warm-up, and its background compiler ran 35% of a process's",
    'instructions in the counted window in one look (callgrind_annotate, 2026-12-07); counted together, as',
    'before, they moved a case by 30% between runs. Compare cases within one run.',
    '',
    "The main thread's count is not free of V8's timing either: a path still running in a lower tier when the",
    'count starts pays for it. In one look at sesame-bearer (callgrind_annotate, 2026-12-07), 27 calls per',
    'request into `Runtime_DefineKeyedOwnPropertyInLiteral` (a slow path for object literals with computed keys)',
    "made 25% of its main thread's instructions; `perf record` of the same target at full speed found no",
    'sample in that function. Read a large gap between two cases as a place to look, not as a measured cost.',
    '',
    '| case | instructions per request, main thread | other threads (V8 compiler, GC helpers) |',
    '| --- | --- | --- |',
    ...INSTRUCTION_TARGETS.map((target) => `| ${label(target)} | ${count(target)} |`),
    '',
    "| comparison (the other case's instructions over this one's) | ratio |",
    '| --- | --- |',
    `| Sesame \`/healthz\` vs the bare Fastify route | ${ratio('sesame-healthz', 'hello')} |`,
    `| warm bearer vs the same response unauthenticated | ${ratio('sesame-bearer', 'hello-same-response')} |`,
    `| cookie, memory store, vs the same response unauthenticated | ${ratio('sesame-memory', 'hello-same-response')} |`,
    `| cookie on Redis, session cache, vs the same response unauthenticated | ${ratio('sesame-redis', 'hello-same-response')} |`,
    '',
  ].join('\n')
}

const CLUSTER_HEADING = '## Redis Cluster: cost per operation on a shard'

async function clusterSection(): Promise<string> {
  return clusterSizingSection(quick ? 1000 : 5000)
}

/**
 * `npm run bench -- --instructions` (about two minutes per case), `-- --route` (about eleven minutes: the
 * `GET /auth/me` section with its issue-17 targets) or `-- --cluster`: only that section, written
 * over its place in an existing bench/RESULTS.md (or added at its end); the other sections stay as their full
 * run wrote them.
 */
async function oneSection(heading: string, section: string): Promise<void> {
  const report = readFileSync('bench/RESULTS.md', 'utf8')
  const start = report.indexOf(heading)
  const end = start === -1 ? -1 : report.indexOf('\n## ', start + 1)
  const before = start === -1 ? `${report.trimEnd()}\n\n` : report.slice(0, start)
  writeFileSync('bench/RESULTS.md', before + section + (end === -1 ? '' : report.slice(end)))
  process.stdout.write(section)
}

async function main(): Promise<void> {
  if (process.argv.includes('--instructions')) {
    return oneSection(INSTRUCTIONS_HEADING, await instructionsSection())
  }
  if (process.argv.includes('--cluster')) return oneSection(CLUSTER_HEADING, await clusterSection())
  if (process.argv.includes('--route')) {
    const { rawLimits } = await verifyTable(true)
    return oneSection(ROUTE_HEADING, await authenticatedRoute(rawLimits.ES256))
  }
  process.stderr.write('token verify...\n')
  const { markdown: verify, rawLimits } = await verifyTable(quick)
  process.stderr.write('sign-in timing...\n')
  const timing = await signInTiming()
  process.stderr.write('GET /auth/me...\n')
  const route = await authenticatedRoute(rawLimits.ES256)
  process.stderr.write('CPU profiles...\n')
  const profiles = await profilesSection()
  process.stderr.write('instructions per request...\n')
  const instructions = await instructionsSection()
  process.stderr.write('sign-in and refresh throughput...\n')
  const grants = await grantThroughput()
  process.stderr.write('bytes per session...\n')
  const bytes = await sessionBytes()
  process.stderr.write('revocation propagation...\n')
  const propagation = await propagationSection()
  process.stderr.write('redis cluster sizing...\n')
  const cluster = await clusterSection()
  const report = `# Benchmark results\n\nWritten by \`npm run bench\`. Shared, noisy machine: read the ratios.\n\n${environment()}\n\n${verify}\n${route}\n${profiles}\n${instructions}\n${grants}\n${bytes}\n${propagation}\n${cluster}\n${timing}`
  writeFileSync('bench/RESULTS.md', report)
  process.stdout.write(report)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
