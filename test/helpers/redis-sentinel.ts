/**
 * A real Redis Sentinel set on loopback for failover tests: a master, one replica and three sentinels (quorum
 * two), each its own `redis-server` process on a free port in a temporary directory. The sentinels declare a
 * master down after `downAfterMs` without an answer, then elect a leader that promotes the replica.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './process.js'
import { type PrivateRedis, startPrivateRedis } from './private-servers.js'

export const SENTINEL_MASTER_NAME = 'sesame-test'

export interface SentinelSet {
  master: PrivateRedis
  replica: PrivateRedis
  /** The sentinels' ports. */
  sentinelPorts: number[]
  /** The server's environment for this set (SESAME_REDIS_SENTINELS and SESAME_REDIS_SENTINEL_NAME). */
  env: Record<string, string>
  /** The port of the master as the sentinels name it now (after a failover, the former replica's). */
  masterPort(): Promise<number>
  /** Resolves once a sentinel names `port` as the master, or rejects after `timeoutMs`. */
  waitForMaster(port: number, timeoutMs: number): Promise<void>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

async function startSentinel(port: number, dir: string, masterPort: number, downAfterMs: number) {
  const config = join(dir, `sentinel-${port}.conf`)
  // Sentinel rewrites its own configuration file (what it learned, its id): it must be writable and its own.
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
      // A sentinel that loses the leader election (three may ask at once, and split the vote) tries again
      // only after twice this: short, so a split vote costs seconds, not the default's minutes.
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 3000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      '',
    ].join('\n'),
  )
  const child = spawn('redis-server', [config, '--sentinel'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return { child, output: () => output }
}

/** Asks one sentinel what it knows of the master: its address, and how many replicas and other sentinels. */
async function masterState(port: number): Promise<Record<string, string>> {
  const sentinel = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  // A sentinel not up yet refuses the connection: `connect()` rejects, which the callers handle.
  sentinel.on('error', () => {})
  try {
    await sentinel.connect()
    const flat = (await sentinel.call('SENTINEL', 'MASTER', SENTINEL_MASTER_NAME)) as string[]
    const state: Record<string, string> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) state[flat[i]!] = flat[i + 1]!
    return state
  } finally {
    sentinel.disconnect()
  }
}

/** Resolves once the replica on `port` has its link to the master up (the first full sync done). */
async function waitForReplication(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 })
  try {
    for (let attempt = 0; attempt < 150; attempt++) {
      if ((await client.info('replication')).includes('master_link_status:up')) return
      await sleep(100)
    }
    throw new Error(`the replica on port ${port} did not sync with its master within 15 s`)
  } finally {
    client.disconnect()
  }
}

export async function startSentinelSet(downAfterMs = 1000): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-sentinel-'))
  const master = await startPrivateRedis(['--appendonly', 'no'])
  const replica = await startPrivateRedis([
    '--appendonly',
    'no',
    '--replicaof',
    '127.0.0.1',
    String(master.port),
  ])
  const sentinels: Array<{ child: ChildProcess; output: () => string }> = []
  const sentinelPorts: number[] = []
  const close = async () => {
    for (const { child } of sentinels) child.kill('SIGKILL')
    await Promise.all([master.close(), replica.close()])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForReplication(replica.port)
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      sentinelPorts.push(port)
      sentinels.push(await startSentinel(port, dir, master.port, downAfterMs))
    }
    // Ready when every sentinel sees the replica and the two other sentinels (they find each other through
    // hello messages on the master every two seconds): only then can they agree on a failover.
    const deadline = Date.now() + 30_000
    for (;;) {
      const states = await Promise.all(sentinelPorts.map((port) => masterState(port).catch(() => null)))
      if (states.every((s) => s?.['num-slaves'] === '1' && s['num-other-sentinels'] === '2')) break
      if (Date.now() > deadline) {
        throw new Error(
          `the sentinels did not see the whole set within 30 s:\n${sentinels.map((s) => s.output()).join('\n')}`,
        )
      }
      await sleep(200)
    }
  } catch (error) {
    await close()
    throw error
  }

  const masterPort = async () => {
    for (const port of sentinelPorts) {
      const state = await masterState(port).catch(() => null)
      if (state?.port) return Number(state.port)
    }
    throw new Error('no sentinel answered')
  }
  return {
    master,
    replica,
    sentinelPorts,
    env: {
      SESAME_REDIS_SENTINELS: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      SESAME_REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
    },
    masterPort,
    async waitForMaster(port, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while ((await masterPort().catch(() => 0)) !== port) {
        if (Date.now() > deadline)
          throw new Error(`the sentinels did not name ${port} master in ${timeoutMs} ms`)
        await sleep(100)
      }
    },
    close,
  }
}
