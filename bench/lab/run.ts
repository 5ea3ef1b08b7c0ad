/**
 * `npm run lab [-- --quick]` (or `sesame lab`): the strategy lab. Each way of remembering a client from the
 * notes is run against the real server and store, and judged by the same numbers:
 * - re-logins per user-day, from the modelled population in `model.ts` (10,000 users, 90 days);
 * - how long a thief keeps access after stealing the credential, and after the victim logs out, from the
 *   strategy's lifetimes and Sesame's revocation rules;
 * - store operations per request and credential bytes per request, measured on the running server;
 * - authenticated req/s on a route that only authenticates (the engine's `authenticate`), measured with
 *   autocannon (50 connections), the server in its own process and the load generator in this one.
 * Writes bench/LAB.md and bench/lab.svg. Shared, noisy machine: compare the rows of one run.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem, type as osType } from 'node:os'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../../test/helpers/shared-stores.js'
import { renderChart } from './chart.js'
import { DAY, type StrategyRules, simulate } from './model.js'

const quick = process.argv.includes('--quick')
const SECONDS = quick ? 2 : 5
const USERS = quick ? 2000 : 10_000

interface Strategy {
  rules: StrategyRules
  label: string
  /** Which measured server stands for it. */
  measured: 'bearer' | 'memory' | 'sqlite' | 'redis' | 'postgres'
  theft: string
  afterLogout: string
}

const STRATEGIES: Strategy[] = [
  {
    rules: { name: 'short', kind: 'token', lifetime: 900 },
    label: 'Short-lived JWT only (15 min)',
    measured: 'bearer',
    theft: '15.5 min (lifetime + 30 s leeway)',
    afterLogout: '15.5 min without a revocation list',
  },
  {
    rules: { name: 'long', kind: 'token', lifetime: 30 * DAY },
    label: 'Long-lived JWT only (30 d)',
    measured: 'bearer',
    theft: '30 d',
    afterLogout: '30 d without a revocation list',
  },
  {
    rules: { name: 'refresh', kind: 'session', lifetime: 14 * DAY, absolute: 30 * DAY },
    label: "Access 15 min + rotating refresh 14 d idle / 30 d (Sesame's tokens)",
    measured: 'bearer',
    theft:
      'access token: 15.5 min; refresh token: until the victim next refreshes (reuse revokes the family), at most 30 d',
    afterLogout: '0 on this instance; others within the feed p99 (bench/RESULTS.md)',
  },
  {
    rules: {
      name: 'sliding-memory',
      kind: 'session',
      lifetime: 1800,
      absolute: 12 * 3600,
      lostOnRestart: true,
    },
    label: 'Sliding session 30 min / 12 h, memory store',
    measured: 'memory',
    theft: 'up to 12 h (the thief keeps it alive)',
    afterLogout: '0 (one instance only)',
  },
  {
    rules: { name: 'sliding-sqlite', kind: 'session', lifetime: 1800, absolute: 12 * 3600 },
    label: 'Sliding session 30 min / 12 h, SQLite file',
    measured: 'sqlite',
    theft: 'up to 12 h',
    afterLogout: '0 (every request reads the store)',
  },
  {
    rules: { name: 'sliding-redis', kind: 'session', lifetime: 1800, absolute: 12 * 3600 },
    label: 'Sliding session 30 min / 12 h, Redis (central)',
    measured: 'redis',
    theft: 'up to 12 h',
    afterLogout: '0 (every request reads the store)',
  },
  {
    rules: { name: 'sliding-postgres', kind: 'session', lifetime: 1800, absolute: 12 * 3600 },
    label: 'Sliding session 30 min / 12 h, PostgreSQL',
    measured: 'postgres',
    theft: 'up to 12 h',
    afterLogout: '0 (every request reads the store)',
  },
  {
    rules: {
      name: 'sliding-day-memory',
      kind: 'session',
      lifetime: 7 * DAY,
      absolute: 30 * DAY,
      lostOnRestart: true,
    },
    label: 'Sliding session 7 d / 30 d, memory store (lost at every restart)',
    measured: 'memory',
    theft: 'up to 30 d, or the next restart',
    afterLogout: '0 (one instance only)',
  },
  {
    rules: { name: 'sliding-day', kind: 'session', lifetime: 7 * DAY, absolute: 30 * DAY },
    label: 'Sliding session 7 d / 30 d, Redis (a "remember me" setting)',
    measured: 'redis',
    theft: 'up to 30 d',
    afterLogout: '0 (every request reads the store)',
  },
]

interface Measured {
  rps: number
  p99: number
  non2xx: number
  opsPerRequest: number
  credentialBytes: number
}

async function measure(kind: Strategy['measured']): Promise<Measured> {
  const prefix = freshPrefix('lab')
  const schema = freshSchema('lab')
  const store = kind === 'bearer' ? 'memory' : kind
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/lab/target.ts', store, kind === 'bearer' ? 'bearer' : 'cookie'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        REDIS_URL,
        DATABASE_URL,
        SESAME_REDIS_PREFIX: prefix,
        SESAME_POSTGRES_SCHEMA: schema,
      },
    },
  )
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`lab target ${kind} exited with ${code}`)))
    })
    const { url, header, value } = JSON.parse(line) as { url: string; header: string; value: string }
    const headers = { [header]: value }
    await autocannon({ url: `${url}/lab/protected`, connections: 10, duration: 1, headers }) // warm-up
    const ops = async (): Promise<number> =>
      ((await (await fetch(`${url}/lab/store-ops`)).json()) as { calls: number }).calls
    const before = await ops()
    const result = await autocannon({
      url: `${url}/lab/protected`,
      connections: 50,
      duration: SECONDS,
      headers,
    })
    const after = await ops()
    return {
      rps: result.requests.average,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      opsPerRequest: (after - before) / result.requests.total, // reading the counter touches no store
      credentialBytes: `${header}: ${value}`.length,
    }
  } finally {
    child.kill('SIGTERM')
    if (store === 'redis') await deletePrefixes([prefix])
    if (store === 'postgres') await dropSchemas([schema])
  }
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string })
    .version
}

async function redisVersion(): Promise<string> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await client.connect()
    return /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown'
  } finally {
    client.disconnect()
  }
}

async function postgresVersion(): Promise<string> {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`
    return row?.server_version ?? 'unknown'
  } finally {
    await sql.end({ timeout: 1 })
  }
}

async function main(): Promise<void> {
  process.stderr.write(`modelling ${USERS} users over 90 days...\n`)
  const model = simulate(
    STRATEGIES.map((strategy) => strategy.rules),
    USERS,
  )
  const measured = new Map<Strategy['measured'], Measured>()
  for (const kind of new Set(STRATEGIES.map((strategy) => strategy.measured))) {
    process.stderr.write(`measuring ${kind}...\n`)
    measured.set(kind, await measure(kind))
  }
  const rows = STRATEGIES.map((strategy, index) => ({
    strategy,
    reLogins: model.reLoginsPerUserDay[index]!,
    measured: measured.get(strategy.measured)!,
  }))
  const version = process.version
  const report = [
    '# Strategy lab',
    '',
    'Written by `npm run lab` (`sesame lab`). Each strategy from the notes, judged by the same numbers. Re-logins',
    `come from a modelled population (${USERS.toLocaleString('en-US')} users, 90 days; see \`bench/lab/model.ts\`:`,
    'a log-normal ~2 visits per user-day between 07:00 and 24:00, a log-normal 8-minute visit with a request every',
    "20 s, one server restart a day at 04:00). The theft and logout windows follow from the lifetimes and Sesame's",
    'revocation rules. Store operations, credential bytes and req/s are measured on the real server',
    `(a route that only authenticates, autocannon, 50 connections, ${SECONDS} s, server in its own process, same`,
    'machine). The three token strategies verify the same way per request, so one bearer measurement stands for',
    'all three; each client repeats its one token, as real clients do, so verification hits the verified-token',
    'cache (a new token every request would add one ES256 verification, about 0.1 ms).',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}`,
    `- Node ${version}; ${['fastify', 'better-sqlite3', 'ioredis', 'postgres', 'autocannon'].map((name) => `${name} ${packageVersion(name)}`).join(', ')}; Redis ${await redisVersion()}; PostgreSQL ${await postgresVersion()}`,
    `- Mode: ${quick ? 'quick' : 'full'}; modelled requests per user-day: ${model.requestsPerUserDay.toFixed(0)}`,
    '',
    '| strategy | re-logins per user-day | thief keeps access after theft | after the victim logs out | store ops per request | credential bytes per request | req/s (p99 ms) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ({ strategy, reLogins, measured: m }) =>
        `| ${strategy.label} | ${reLogins.toFixed(reLogins < 0.01 ? 4 : 2)} | ${strategy.theft} | ${strategy.afterLogout} | ${m.opsPerRequest.toFixed(2)} | ${m.credentialBytes} | ${Math.round(m.rps).toLocaleString('en-US')} (${m.p99})${m.non2xx ? `, ${m.non2xx} non-2xx` : ''} |`,
    ),
    '',
    '![Re-logins per user-day and req/s per strategy](lab.svg)',
    '',
    'Store operations are measured with one client per server sending as fast as it can, which spreads the',
    'periodic writes thin. At the modelled pace (a request every 20 s) a cookie session also writes its renewal',
    'once a minute, about 0.33 more operations per request, and an access + refresh client makes one refresh',
    'grant per 15 minutes of activity, one grant per 45 requests.',
    '',
    'Reading it: short tokens alone sign users in again on almost every visit; long tokens never do, but a stolen',
    'one works for a month and a logout cannot stop it. A 30-minute sliding session also means a sign-in per visit',
    'for this population, since most visits are more than 30 minutes apart. Short access tokens with rotating refresh',
    'tokens keep both numbers low: almost no re-logins, and theft bounded by reuse detection. Cookie sessions cost a',
    'store round trip per request (and a write at most once a minute per session), which is where their req/s goes;',
    'bearer verification does no I/O.',
    '',
  ].join('\n')
  writeFileSync('bench/LAB.md', report)
  writeFileSync(
    'bench/lab.svg',
    renderChart(
      rows.map(({ strategy, reLogins, measured: m }) => ({ label: strategy.label, reLogins, rps: m.rps })),
    ),
  )
  process.stdout.write(report)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `lab failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
