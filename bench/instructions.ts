/**
 * Instructions per request, counted by valgrind's callgrind: each target (bench/target.ts) runs under
 * callgrind, takes a warm-up load, then counting restarts (`callgrind_control -z`), a fixed number of requests
 * is sent, and the count is dumped. Instructions are not seconds (they leave out the kernel, cache misses and
 * the load generator's share of the cores), but the same code and inputs give the same count within a few
 * percent whatever else the machine is doing, where server CPU per request moves by more than that between runs.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

/** Requests before counting starts (V8 has optimised the hot paths by then), and requests counted. */
const WARM_UP_REQUESTS = 20_000
const COUNTED_REQUESTS = 10_000

export interface InstructionCount {
  target: string
  /** The main thread's: the JavaScript that serves the requests, with the parts of Node and V8 it calls. */
  instructionsPerRequest: number
  /**
   * Every other thread's: V8's background compiler and GC helpers, Node's platform workers. Their share in the
   * window depends on when V8 decides to optimise (valgrind's slowness moves that), not on the request path.
   */
  backgroundPerRequest: number
}

export function callgrindAvailable(): boolean {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0
}

/** Runs `name` under callgrind and counts the instructions its process runs per request. */
export async function countInstructions(
  name: string,
  env: Record<string, string>,
): Promise<InstructionCount> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-callgrind-'))
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      '--dump-instr=no',
      // One dump per thread: the main thread's count is the requests' own work.
      '--separate-threads=yes',
      process.execPath,
      '--import',
      'tsx',
      'bench/target.ts',
      name,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  // The last of what the target wrote to stderr (valgrind's own lines left out), to say why it stopped.
  let errors = ''
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk
      .toString()
      .split('\n')
      .filter((line) => line && !line.startsWith('=='))
      .join('\n')
    if (text) errors = `${errors}\n${text}`.slice(-600)
  })
  try {
    const lines = createInterface({ input: child.stdout })
    const ready = await new Promise<{ url: string; path?: string; headers: Record<string, string> }>(
      (resolve, reject) => {
        lines.on('line', (line) => {
          try {
            const parsed = JSON.parse(line) as { url?: unknown; headers?: Record<string, string> }
            if (typeof parsed.url === 'string' && parsed.headers) resolve(parsed as never)
          } catch {
            // a log line
          }
        })
        child.once('exit', (code) =>
          reject(new Error(`target ${name} exited with ${code} under valgrind:${errors || ' (no output)'}`)),
        )
      },
    )
    const load = async (amount: number) => {
      const result = await autocannon({
        url: `${ready.url}${ready.path ?? '/auth/me'}`,
        connections: 4,
        amount,
        headers: ready.headers,
      })
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `${name} answered ${result.non2xx} non-2xx and ${result.errors} errors under valgrind`,
        )
      }
    }
    await load(WARM_UP_REQUESTS)
    control(child.pid!, '-z')
    await load(COUNTED_REQUESTS)
    control(child.pid!, '-d')
    // The dump's threads: `callgrind.out.<part>-<thread>`, thread 01 the main one.
    let dumps: string[] = []
    for (let attempt = 0; attempt < 100 && !dumps.some((file) => file.endsWith('-01')); attempt++) {
      await new Promise((done) => setTimeout(done, 100))
      dumps = readdirSync(dir).filter((file) => /^callgrind\.out\.\d+-\d+$/.test(file))
    }
    if (!dumps.some((file) => file.endsWith('-01'))) throw new Error(`callgrind wrote no dump for ${name}`)
    // Every thread's file is written before callgrind_control returns; a moment more for the file system.
    await new Promise((done) => setTimeout(done, 500))
    dumps = readdirSync(dir).filter((file) => /^callgrind\.out\.\d+-\d+$/.test(file))
    const totalOf = (file: string): number => {
      const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
      if (!totals) throw new Error(`no totals in the callgrind dump ${file} of ${name}`)
      return Number(totals[1])
    }
    const main = totalOf(dumps.find((file) => file.endsWith('-01'))!)
    const background = dumps
      .filter((file) => !file.endsWith('-01'))
      .reduce((sum, file) => sum + totalOf(file), 0)
    // For `callgrind_annotate <dir>/<target>/callgrind.out.<n>-01`: where the main thread's instructions went.
    const keep = process.env.SESAME_CALLGRIND_DIR
    if (keep) cpSync(dir, join(keep, name), { recursive: true })
    return {
      target: name,
      instructionsPerRequest: main / COUNTED_REQUESTS,
      backgroundPerRequest: background / COUNTED_REQUESTS,
    }
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

function control(pid: number, option: '-z' | '-d'): void {
  const result = spawnSync('callgrind_control', [option, String(pid)], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`callgrind_control ${option} failed: ${result.stderr}`)
}
