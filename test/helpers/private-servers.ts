/**
 * Private Redis and PostgreSQL servers for fault tests: each on a free loopback port with its own temporary
 * directory, so a test can crash and restart it without touching the machine's shared servers. Data survives
 * a crash: Redis writes an fsync'd append-only file, PostgreSQL replays its WAL on restart.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './process.js'

export interface PrivateServer {
  url: string
  port: number
  dir: string
  /** Crashes the server (Redis: SIGKILL; PostgreSQL: immediate shutdown) and resolves once it is gone. */
  stop(): Promise<void>
  /** Starts it again on the same port and directory; resolves once it answers. */
  start(): Promise<void>
  /** Stops it if running and removes its directory. Safe to call more than once. */
  close(): Promise<void>
}

/** A private Redis can also be frozen mid-request: SIGSTOP holds every connection open with no answer. */
export interface PrivateRedis extends PrivateServer {
  /** SIGSTOP: the server stops answering (a command it is running stays half-run until resumed). */
  pause(): void
  /** SIGCONT: it carries on where it stopped. */
  resume(): void
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    // Resolve on 'exit', not 'close': a daemon the command leaves behind must not keep us waiting on its pipes.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      child.stdout.destroy()
      child.stderr.destroy()
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`))
    })
  })
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

// ---------------------------------------------------------------------------------------------------- Redis

/** Sends PING and resolves true on `+PONG` (not while Redis still loads its AOF: that answers `-LOADING`). */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let answer = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString()
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
  })
}

/**
 * Starts `redis-server` with an fsync-always AOF in a temporary directory, on a free loopback port.
 * `extraArgs` are appended to its command line (later settings win, e.g. `['--appendonly', 'no']`).
 */
export async function startPrivateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sesame-fault-redis-'))
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()
  let output = ''

  async function start(): Promise<void> {
    if (child) throw new Error('the private Redis is already running')
    output = ''
    const started = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = started
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    exited = new Promise((done) =>
      started.once('exit', () => {
        if (child === started) child = null
        done()
      }),
    )
    for (let attempt = 0; attempt < 200; attempt++) {
      if (started.exitCode !== null || started.signalCode !== null) break
      if (await redisPing(port)) return
      await sleep(50)
    }
    started.kill('SIGKILL')
    await exited
    throw new Error(`the private Redis on port ${port} did not start:\n${output}`)
  }

  async function stop(): Promise<void> {
    if (!child) return
    child.kill('SIGKILL')
    await exited
  }

  try {
    await start()
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ----------------------------------------------------------------------------------------------- PostgreSQL

/** The directory holding `initdb` and `pg_ctl` (Debian keeps them out of PATH). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a))
    for (const version of versions) {
      if (existsSync(join(root, version, 'bin', 'initdb'))) return join(root, version, 'bin')
    }
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin')
}

/** A private PostgreSQL can also be frozen mid-request: SIGSTOP to the postmaster and every backend. */
export interface PrivatePostgres extends PrivateServer {
  /** SIGSTOP to the postmaster, then its children: no connection answers, a running statement halts. */
  pause(): void
  /** SIGCONT to every process `pause` stopped: each carries on where it stopped. */
  resume(): void
}

/**
 * Creates a cluster (`initdb`, trust authentication) with a `test` database in a temporary directory and
 * starts it on a free loopback port. As root, the binaries run as the `postgres` user, since initdb refuses
 * to run as root.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sesame-fault-pg-'))
  const data = join(dir, 'db')
  const log = join(dir, 'log')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).trim())
    const gid = Number((await run('id', ['-g', 'postgres'])).trim())
    chownSync(dir, uid, gid)
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args)
  let running = false

  async function start(): Promise<void> {
    if (running) throw new Error('the private PostgreSQL is already running')
    try {
      await pg('pg_ctl', [
        '-D',
        data,
        '-l',
        log,
        '-w',
        '-t',
        '30',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`,
        'start',
      ])
    } catch (error) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''
      throw new Error(`the private PostgreSQL on port ${port} did not start:\n${tail}`, { cause: error })
    }
    running = true
  }

  async function stop(): Promise<void> {
    if (!running) return
    await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
    running = false
  }

  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'])
    await start()
    await pg('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test'])
  } catch (error) {
    await stop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let paused: number[] = []
  function pause(): void {
    if (paused.length > 0) return
    // The postmaster first, so it forks no new backend between the listing and the stop.
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    process.kill(postmaster, 'SIGSTOP')
    paused = [postmaster]
    const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout
    for (const pid of children.split('\n').filter(Boolean).map(Number)) {
      process.kill(pid, 'SIGSTOP')
      paused.push(pid)
    }
  }
  function resume(): void {
    for (const pid of paused.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // gone meanwhile
      }
    }
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    port,
    dir,
    stop: async () => {
      resume() // a stopped postmaster would not act on pg_ctl's shutdown signal
      await stop()
    },
    start,
    pause,
    resume,
    async close() {
      resume()
      try {
        await stop()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
