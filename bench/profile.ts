/**
 * `npm run bench:profile -- <target> [--cold | --refresh] [--seconds N]`: where one benchmark target spends
 * its CPU.
 *
 * Starts the target (bench/target.ts) under `node --cpu-prof`, loads `GET /auth/me` (or, with `--refresh`,
 * refresh grants on `POST /auth/token`) with autocannon like `npm run bench` does, stops it, and prints the functions with the most self time and the same grouped by
 * module. The `.cpuprofile` it leaves in bench/profiles/ opens as a flame graph in Chrome DevTools
 * (Performance > Load profile) or https://www.speedscope.app.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadRefreshGrants, loadTarget, startTarget, stopTarget } from './http-load.js'
import {
  DATABASE_URL,
  REDIS_URL,
  deletePrefixes,
  dropSchemas,
  freshPrefix,
  freshSchema,
} from '../test/helpers/shared-stores.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  /** Microseconds on the monotonic clock, which `process.hrtime` also reads (Linux). */
  startTime: number
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface SelfTime {
  name: string
  module: string
  share: number
}

/**
 * Self time per function and per module over the samples taken in `[from, to]` (monotonic µs), as shares of
 * that window (idle and GC included), and the window's busy (non-idle) microseconds.
 */
export function summarise(
  profile: CpuProfile,
  from: number,
  to: number,
): { functions: SelfTime[]; modules: SelfTime[]; busyMicros: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const micros = new Map<number, number>()
  let at = profile.startTime
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0
    at += delta
    if (at >= from && at <= to) micros.set(id, (micros.get(id) ?? 0) + delta)
  })
  const total = [...micros.values()].reduce((sum, value) => sum + value, 0)
  const functions = new Map<string, SelfTime>()
  const modules = new Map<string, SelfTime>()
  for (const [id, time] of micros) {
    const frame = byId.get(id)!.callFrame
    const module = moduleOf(frame.url, frame.functionName)
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const fn = functions.get(name) ?? { name, module, share: 0 }
    fn.share += time / total
    functions.set(name, fn)
    const mod = modules.get(module) ?? { name: module, module, share: 0 }
    mod.share += time / total
    modules.set(module, mod)
  }
  const sorted = (map: Map<string, SelfTime>): SelfTime[] =>
    [...map.values()].sort((a, b) => b.share - a.share)
  const busyMicros = total * (1 - (modules.get('(idle)')?.share ?? 0))
  return { functions: sorted(functions), modules: sorted(modules), busyMicros }
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '')
}

/** "sesame:src/engine", "fastify", "node:internal/http", or V8's own buckets like "(garbage collector)". */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const path = shortUrl(url)
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (dependency) return dependency[1]!
  if (path.startsWith('node:')) return path.split('/').slice(0, 2).join('/')
  if (path.startsWith('src/')) return `sesame:${path.split('/').slice(0, 2).join('/')}`
  return path
}

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/**
 * The main thread's profile in `dir`: Node names them `CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile`,
 * and the main thread is thread 0 (tsx's loader thread writes one of its own).
 */
function mainThreadProfile(dir: string): [string, CpuProfile] {
  const main = readdirSync(dir).find((entry) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(entry))
  if (!main) throw new Error(`no main-thread CPU profile was written to ${dir}`)
  const file = join(dir, main)
  return [file, JSON.parse(readFileSync(file, 'utf8')) as CpuProfile]
}

export interface ProfileOptions {
  cold?: boolean
  refresh?: boolean
  seconds: number
}

export interface TargetProfile {
  label: string
  rps: number
  file: string
  /** Busy (non-idle) server CPU per request, in µs. */
  cpuMicrosPerRequest: number
  /** Self time per request, in µs, by module and by function, largest first; idle left out. */
  modules: Array<{ name: string; micros: number }>
  functions: Array<{ name: string; micros: number }>
}

/** Runs target `name` under `--cpu-prof` with the bench's load and sums its profile per request. */
export async function profileTarget(name: string, options: ProfileOptions): Promise<TargetProfile> {
  const { cold = false, refresh = false, seconds } = options
  const label = `${name}${cold ? '-cold' : ''}${refresh ? '-refresh' : ''}`
  // A directory per run: tsx's loader thread writes a profile of its own beside the main thread's.
  const dir = resolve('bench/profiles', `${label}-${Date.now()}`)
  const prefix = freshPrefix('profile')
  const schema = freshSchema('profile')
  let measured: { rps: number }
  let from = 0
  let to = 0
  try {
    const env = {
      REDIS_URL,
      DATABASE_URL,
      SESAME_REDIS_PREFIX: prefix,
      SESAME_POSTGRES_SCHEMA: schema,
      BENCH_GRANTS: refresh ? '200' : '0',
    }
    const target = await startTarget(name, env, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
    const tokens =
      cold && target.tokensFile
        ? (JSON.parse(readFileSync(target.tokensFile, 'utf8')) as string[])
        : undefined
    const load = (duration: number) =>
      refresh ? loadRefreshGrants(target, duration) : loadTarget(target, duration, tokens)
    await load(1) // warm-up, as in the bench
    from = monotonicMicros()
    measured = await load(seconds)
    to = monotonicMicros()
    await stopTarget(target)
  } finally {
    await deletePrefixes([prefix])
    await dropSchemas(name === 'sesame-postgres' ? [schema] : [])
  }
  const [file, profile] = mainThreadProfile(dir)
  const { functions, modules, busyMicros } = summarise(profile, from, to)
  const requests = measured.rps * ((to - from) / 1e6)
  const windowMicros = busyMicros / (1 - (modules.find((row) => row.name === '(idle)')?.share ?? 0))
  const perRequest = (rows: SelfTime[]) =>
    rows
      .filter((row) => row.module !== '(idle)')
      .map((row) => ({ name: row.name, micros: (row.share * windowMicros) / requests }))
  return {
    label,
    rps: measured.rps,
    file: shortUrl(file),
    cpuMicrosPerRequest: busyMicros / requests,
    modules: perRequest(modules),
    functions: perRequest(functions),
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const name = args.find((arg) => !arg.startsWith('--'))
  if (!name) throw new Error('usage: bench:profile <target> [--cold | --refresh] [--seconds N]')
  const result = await profileTarget(name, {
    cold: args.includes('--cold'),
    refresh: args.includes('--refresh'),
    seconds: Number(args[args.indexOf('--seconds') + 1]) || 10,
  })
  const row = (entry: { name: string; micros: number }): string =>
    `  ${entry.micros.toFixed(2).padStart(8)} µs  ${entry.name}`
  process.stdout.write(
    [
      `${result.label}: ${Math.round(result.rps)} req/s; profile ${result.file}`,
      `server CPU per request: ${result.cpuMicrosPerRequest.toFixed(1)} µs (busy time in the window / requests)`,
      '',
      'self time per request, by module:',
      ...result.modules.slice(0, 15).map(row),
      '',
      'self time per request, by function:',
      ...result.functions.slice(0, 40).map(row),
      '',
    ].join('\n'),
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  })
}
