/**
 * Runs the built server (`dist/server/main.js`, what `npm start` runs) as a real child process. The test
 * script builds before the suite runs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'

export const SERVER_ENTRY = resolve(import.meta.dirname, '../../dist/server/main.js')

export interface ServerProcess {
  child: ChildProcess
  url: string
  output: () => string
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

/** Starts the server with `env` and resolves once `/healthz` answers (or rejects if it exits first). */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run "npm run build" first`)
  return startNodeProcess(SERVER_ENTRY, env)
}

/** Runs `entry` (a script that listens on `PORT` and serves `/healthz`) and resolves once it is healthy. */
export async function startNodeProcess(entry: string, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? -1)),
  )
  const url = `http://127.0.0.1:${port}`
  let alive = true
  void exited.then(() => (alive = false))
  for (let attempt = 0; attempt < 200 && alive; attempt++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, output: () => output, exited }
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`${entry} did not become healthy:\n${output}`)
}

/** Runs the server expecting it to exit by itself; resolves with its exit code and output. */
export async function runServerToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  return { code, output }
}
