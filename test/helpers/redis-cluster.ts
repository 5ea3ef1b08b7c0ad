/**
 * A real Redis Cluster on loopback: three masters and three replicas, each its own `redis-server
 * --cluster-enabled yes` process on a free port in a temporary directory, joined by `redis-cli --cluster
 * create`. For the store's tests on Cluster; each test run uses its own key prefix.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import { freePort } from './process.js'

export interface RedisClusterSet {
  ports: number[]
  /** The server's environment for this cluster (SESAME_REDIS_CLUSTER_NODES). */
  env: Record<string, string>
  /** A client of the cluster, for inspecting and cleaning up what the tests wrote. */
  admin: Cluster
  /** Deletes every key under `prefix` on every master. */
  deleteKeysUnder(prefix: string): Promise<void>
  /** The port of the master serving `key`'s slot now, as the nodes themselves say. */
  masterOf(key: string): Promise<number>
  /** SIGKILL to the node on `port`. */
  kill(port: number): void
  /**
   * Starts the killed node on `port` again, from its own cluster config: it rejoins as a replica of the master
   * promoted in its place. Resolves once that replica is in sync, so every master has a replica again.
   */
  restart(port: number): Promise<void>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

async function ping(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

export async function startRedisCluster(): Promise<RedisClusterSet> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-cluster-'))
  const children: ChildProcess[] = []
  const ports: number[] = []
  let admin: Cluster | undefined
  const close = async () => {
    admin?.disconnect()
    for (const child of children) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < 6; i++) {
      // Cluster ports pair with a bus port 10000 higher, which must be free too.
      let port = await freePort()
      while (port > 55_000) port = await freePort()
      ports.push(port)
      children.push(startNode(port))
    }
    function startNode(port: number): ChildProcess {
      return spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
          // As the guide advises: the other shards keep serving while one fails over.
          '--cluster-require-full-coverage',
          'no',
          '--save',
          '',
          '--appendonly',
          'no',
          '--repl-diskless-sync-delay',
          '0',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      )
    }
    for (const port of ports) {
      for (let attempt = 0; !(await ping(port)); attempt++) {
        if (attempt > 100) throw new Error(`cluster node ${port} did not start`)
        await sleep(50)
      }
    }
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`)
    // Ready when every node agrees the cluster is ok (all 16384 slots served).
    for (let attempt = 0; ; attempt++) {
      const states = ports.map(
        (port) =>
          spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
      )
      if (states.every((info) => info.includes('cluster_state:ok'))) break
      if (attempt > 150) throw new Error('the cluster did not reach cluster_state:ok within 15 s')
      await sleep(100)
    }
    // And when every master has its replica attached (they sync after the cluster is formed).
    for (let attempt = 0; ; attempt++) {
      const roles = ports.map(
        (port) => spawnSync('redis-cli', ['-p', String(port), 'role'], { encoding: 'utf8' }).stdout,
      )
      const masters = roles.filter((role) => role.startsWith('master'))
      if (masters.length === 3 && masters.every((role) => role.includes('127.0.0.1'))) break
      if (attempt > 150) throw new Error('the replicas did not attach within 15 s')
      await sleep(100)
    }
    admin = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })))
    const cluster = admin
    return {
      ports,
      env: { SESAME_REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(',') },
      admin: cluster,
      async deleteKeysUnder(prefix) {
        // Each live master asked directly: the admin client's view lags a failover.
        for (const [index, port] of ports.entries()) {
          if (children[index]!.exitCode !== null || children[index]!.signalCode !== null) continue
          const node = new Redis({ port, host: '127.0.0.1', retryStrategy: () => null })
          node.on('error', () => {})
          try {
            const [role] = (await node.call('ROLE')) as [string]
            if (role !== 'master') continue
            let cursor = '0'
            do {
              const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
              // One DEL per key: keys of one call must share a slot.
              for (const key of keys) await node.del(key)
              cursor = next
            } while (cursor !== '0')
          } finally {
            node.disconnect()
          }
        }
      },
      async masterOf(key) {
        const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key))
        for (const [index, port] of ports.entries()) {
          if (children[index]!.exitCode !== null || children[index]!.signalCode !== null) continue
          const node = new Redis({ port, host: '127.0.0.1', retryStrategy: () => null })
          node.on('error', () => {})
          try {
            // [[start, end, [ip, port, id], ...replicas], ...]
            const ranges = (await node.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>
            const range = ranges.find(([start, end]) => start <= slot && slot <= end)
            if (range) return Number(range[2][1])
          } catch {
            // This node is not answering: ask the next.
          } finally {
            node.disconnect()
          }
        }
        throw new Error(`no live node names a master for slot ${slot}`)
      },
      kill(port) {
        children[ports.indexOf(port)]?.kill('SIGKILL')
      },
      async restart(port) {
        children[ports.indexOf(port)] = startNode(port)
        for (let attempt = 0; ; attempt++) {
          const role = spawnSync('redis-cli', ['-p', String(port), 'role'], { encoding: 'utf8' }).stdout
          // ROLE of a replica: slave, master host, master port, state, offset.
          if (role.startsWith('slave') && role.includes('\nconnected\n')) break
          if (attempt > 300) throw new Error(`node ${port} did not rejoin as a synced replica within 30 s`)
          await sleep(100)
        }
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
