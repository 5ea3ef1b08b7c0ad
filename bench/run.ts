/**
 * `npm run bench [-- --quick]`: measures Sesame against a baseline taken in the same run, and writes
 * bench/RESULTS.md with the machine and versions. Ratios, not absolute numbers, are the result: the machine is
 * shared and noisy. Never a timed assertion in the test suite.
 *
 * Cases:
 * 1. Sign-in timing: unknown email vs wrong password (must be close: one argon2id verification each).
 * 2. `GET /auth/me` with a bearer token (warm and cold) and a cookie session on each store, vs a bare Fastify
 *    route and vs express-session (MemoryStore, connect-redis), req/s and p99.
 * 3. Access-token verify ops/s per algorithm vs the raw node:crypto limit, jose, fast-jwt, jsonwebtoken.
 * 4. Revocation propagation across three instances on each shared store (p50/p99 over >= 200 revocations).
 *
 * Needs Redis and PostgreSQL like the tests (REDIS_URL, DATABASE_URL; `npm run bench` starts private ones
 * through scripts/test-services.sh when they do not answer).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem, type as osType, release } from 'node:os'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { createAuth } from '../src/auth.js'
import { AuthError } from '../src/core/errors.js'
import { createMemoryStore } from '../src/store/memory/index.js'
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
const HTTP_SECONDS = quick ? 3 : 10
const HTTP_RUNS = quick ? 1 : 3
const CONNECTIONS = 50
const SIGN_IN_SAMPLES = quick ? 15 : 40

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

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

interface Target {
  child: ChildProcess
  url: string
  headers: Record<string, string>
  tokensFile?: string
}

async function startTarget(name: string, env: Record<string, string>): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/target.ts', name], {
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

/** One autocannon run; with `tokens`, every request carries the next one (the cold bearer case). */
async function load(
  target: Target,
  duration: number,
  tokens?: string[],
): Promise<{ rps: number; p99: number; non2xx: number }> {
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
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx }
}

interface RouteCase {
  label: string
  target: string
  cold?: boolean
}

const ROUTE_CASES: RouteCase[] = [
  { label: 'Fastify hello, no auth (baseline)', target: 'hello' },
  { label: 'Sesame, bearer, warm (the same token again)', target: 'sesame-bearer' },
  { label: 'Sesame, bearer, cold (a new ES256 token every request)', target: 'sesame-bearer', cold: true },
  { label: 'Sesame, cookie, memory store', target: 'sesame-memory' },
  { label: 'Sesame, cookie, sqlite store', target: 'sesame-sqlite' },
  { label: 'Sesame, cookie, redis store', target: 'sesame-redis' },
  { label: 'Sesame, cookie, postgres store', target: 'sesame-postgres' },
  { label: 'Express + express-session, MemoryStore', target: 'express-memory' },
  { label: 'Express + express-session + connect-redis', target: 'express-redis' },
]

async function authenticatedRoute(es256RawLimit: number): Promise<string> {
  const rows: Array<RouteCase & { rps: number[]; p99: number[]; non2xx: number }> = []
  const prefixes: string[] = []
  const schemas: string[] = []
  try {
    for (const routeCase of ROUTE_CASES) {
      const prefix = freshPrefix('bench')
      const schema = freshSchema('bench')
      prefixes.push(prefix)
      schemas.push(schema)
      const target = await startTarget(routeCase.target, {
        REDIS_URL,
        DATABASE_URL,
        SESAME_REDIS_PREFIX: prefix,
        SESAME_POSTGRES_SCHEMA: schema,
      })
      const tokens =
        routeCase.cold && target.tokensFile
          ? (JSON.parse(readFileSync(target.tokensFile, 'utf8')) as string[])
          : undefined
      await load(target, 1, tokens) // warm-up
      const row = { ...routeCase, rps: [] as number[], p99: [] as number[], non2xx: 0 }
      for (let run = 0; run < HTTP_RUNS; run++) {
        const measured = await load(target, HTTP_SECONDS, tokens)
        row.rps.push(measured.rps)
        row.p99.push(measured.p99)
        row.non2xx += measured.non2xx
      }
      target.child.kill('SIGTERM')
      rows.push(row)
      process.stderr.write(`  ${routeCase.label}: ${Math.round(median(row.rps))} req/s\n`)
    }
  } finally {
    await deletePrefixes(prefixes)
    await dropSchemas(schemas.filter((_, index) => ROUTE_CASES[index]?.target === 'sesame-postgres'))
  }
  const rate = (target: string, cold = false): number =>
    median(rows.find((row) => row.target === target && Boolean(row.cold) === cold)!.rps)
  const baseline = rate('hello')
  const ratio = (a: number, b: number): string => (a / b).toFixed(2)
  return [
    '## `GET /auth/me`: bearer tokens, cookie sessions on every store, and the peers',
    '',
    `autocannon, ${CONNECTIONS} connections, ${HTTP_SECONDS} s per run, ${HTTP_RUNS} run(s) per case after a 1 s warm-up;`,
    'each server in its own process, the load generator in this one, on the same 2-core machine (so the baseline',
    'itself is well below what the server could do alone).',
    '',
    '| case | req/s (median) | spread (min-max) | p99 ms (median) | non-2xx | ratio to baseline |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${Math.round(median(row.rps))} | ${Math.round(Math.min(...row.rps))}-${Math.round(Math.max(...row.rps))} | ${median(row.p99)} | ${row.non2xx} | ${ratio(median(row.rps), baseline)} |`,
    ),
    '',
    'Targets (issue 7), as ratios of this run:',
    '',
    '| target | measured | goal |',
    '| --- | --- | --- |',
    `| warm bearer vs Fastify baseline | ${ratio(rate('sesame-bearer'), baseline)} | >= 0.80 |`,
    `| cold bearer vs the ES256 raw verify limit (${Math.round(es256RawLimit)} ops/s, table above) | ${ratio(rate('sesame-bearer', true), es256RawLimit)} | >= 0.80 |`,
    `| cookie on Redis vs express-session + connect-redis | ${ratio(rate('sesame-redis'), rate('express-redis'))} | >= 4 |`,
    `| cookie on SQLite vs express-session MemoryStore | ${ratio(rate('sesame-sqlite'), rate('express-memory'))} | >= 4 |`,
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

async function main(): Promise<void> {
  process.stderr.write('token verify...\n')
  const { markdown: verify, rawLimits } = await verifyTable(quick)
  process.stderr.write('sign-in timing...\n')
  const timing = await signInTiming()
  process.stderr.write('GET /auth/me...\n')
  const route = await authenticatedRoute(rawLimits.ES256)
  process.stderr.write('revocation propagation...\n')
  const propagation = await propagationSection()
  const report = `# Benchmark results\n\nWritten by \`npm run bench\`. Shared, noisy machine: read the ratios.\n\n${environment()}\n\n${verify}\n${propagation}\n${timing}\n${route}`
  writeFileSync('bench/RESULTS.md', report)
  process.stdout.write(report)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
