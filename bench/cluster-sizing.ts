/**
 * What one Redis Cluster shard pays per Sesame operation, for the sizing note in
 * docs/guides/run-several-instances.md: a real three-master, three-replica cluster on loopback
 * (test/helpers/redis-cluster.ts), Sesame's engine on the Cluster store (`store/redis/sharded.ts`), and for each
 * operation the masters' own CPU time (INFO cpu, user + sys) and memory (INFO memory) before and after a run of
 * them. The engine's password hasher is cheap here: argon2 runs on the Sesame instances, never on Redis, and
 * would only slow the run.
 */
import { createAuth } from '../src/auth.js'
import { createArgon2Hasher } from '../src/core/password-hasher.js'
import { createRedisClusterStore } from '../src/store/redis/sharded.js'
import { startRedisCluster } from '../test/helpers/redis-cluster.js'
import { sessionOf } from '../test/helpers/signed-in.js'

const PASSWORD = 'sizing password 1'
/** Operations in flight at once: enough to keep three masters busy from one process. */
const PARALLEL = 50

interface MasterReading {
  cpuSeconds: number
  usedMemory: number
}

/**
 * One operation's cost, all masters together: process CPU (user + sys, so execution, network I/O, pub/sub
 * fan-out and feeding the replicas), and used_memory growth.
 */
export interface OperationCost {
  cpuMicros: number
  bytes: number
}

export interface ClusterSizing {
  users: number
  costs: Record<'signUp' | 'signIn' | 'refresh' | 'cookieRead', OperationCost>
  /** used_memory growth, all masters together, per user (its account) and per session (µs). */
  bytesPerUser: number
  bytesPerSession: number
  bytesPerFamily: number
  /** The 1,000-user spread of sessions over the masters (largest share). */
  largestShare: number
}

export async function measureClusterSizing(users: number): Promise<ClusterSizing> {
  const cluster = await startRedisCluster()
  const prefix = 'sizing:'
  const store = createRedisClusterStore({
    cluster: { nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) },
    keyPrefix: prefix,
  })
  const auth = await createAuth({
    store,
    tokens: { issuer: 'https://auth.example', audience: 'https://api.example' },
    passwordHasher: createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }),
    // Every cookie read goes to Redis: the cost a session cache saves.
    sessionCache: false,
  })
  const emails = Array.from({ length: users }, (_, i) => `sizing-${i}@example.com`)
  async function read(): Promise<MasterReading> {
    const reading = { cpuSeconds: 0, usedMemory: 0 }
    for (const node of cluster.admin.nodes('master')) {
      const cpu = await node.info('cpu')
      const memory = await node.info('memory')
      const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(text)![1])
      reading.cpuSeconds += field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys')
      reading.usedMemory += field(memory, 'used_memory')
    }
    return reading
  }
  async function each<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(run))
  }
  async function phase(run: () => Promise<void>): Promise<OperationCost> {
    const before = await read()
    await run()
    const after = await read()
    return {
      cpuMicros: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / users,
      bytes: (after.usedMemory - before.usedMemory) / users,
    }
  }
  try {
    const signUp = await phase(() => each(emails, (email) => auth.createUser({ email, password: PASSWORD })))
    const cookies: string[] = []
    const signIn = await phase(() =>
      each(emails, async (email) => {
        const { cookie } = sessionOf(await auth.signIn({ email, password: PASSWORD }))
        cookies.push(`${cookie.name}=${cookie.value}`)
      }),
    )
    const cookieRead = await phase(() => each(cookies, (cookie) => auth.authenticateSession(cookie)))
    const refreshTokens: string[] = []
    const grant = await phase(() =>
      each(emails, async (email) => {
        const { refreshToken } = await auth.tokens.grantPassword({ username: email, password: PASSWORD })
        refreshTokens.push(refreshToken)
      }),
    )
    const refresh = await phase(() => each(refreshTokens, (token) => auth.tokens.grantRefresh(token)))
    const sessionsPerMaster: number[] = []
    for (const node of cluster.admin.nodes('master')) {
      let sessions = 0
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*:session:*`, 'COUNT', 1000)
        sessions += keys.length
        cursor = next
      } while (cursor !== '0')
      sessionsPerMaster.push(sessions)
    }
    return {
      users,
      costs: { signUp, signIn, refresh, cookieRead },
      bytesPerUser: signUp.bytes,
      bytesPerSession: signIn.bytes,
      bytesPerFamily: grant.bytes,
      largestShare: Math.max(...sessionsPerMaster) / users,
    }
  } finally {
    await auth.close()
    await store.close()
    await cluster.close()
  }
}

/** The bench's section: the measurements, and what they mean for 10 million users. */
export async function clusterSizingSection(users: number): Promise<string> {
  const m = await measureClusterSizing(users)
  const us = (value: number) => value.toFixed(1)
  const perCore = (micros: number) => Math.round(1e6 / micros).toLocaleString('en-US')
  const row = (name: string, cost: OperationCost) =>
    `| ${name} | ${us(cost.cpuMicros)} | ${perCore(cost.cpuMicros)} |`
  const tenMillion = 10_000_000
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1)
  const accounts = tenMillion * m.bytesPerUser
  const sessions = tenMillion * m.bytesPerSession
  const families = tenMillion * m.bytesPerFamily
  return [
    '## Redis Cluster: cost per operation on a shard',
    '',
    `A real cluster on loopback (three masters, three replicas), Sesame's engine on the Cluster store, ${users.toLocaleString('en-US')}`,
    "users; for each operation the masters' own CPU time (INFO cpu, user + sys, all three together) and",
    'used_memory growth over the run, divided by the operations. Cookie reads with the session cache off (each',
    'one goes to Redis). One shard core at 100% would serve 1,000,000 µs / (µs per operation) of one kind.',
    '',
    '| operation | Redis CPU µs per operation | one shard core, operations/s |',
    '| --- | --- | --- |',
    row('sign-up (home entry claimed and settled, user created)', m.costs.signUp),
    row('sign-in (throttle, email home, user, session created)', m.costs.signIn),
    row('refresh (token found, user read, family rotated)', m.costs.refresh),
    row('cookie read, no session cache', m.costs.cookieRead),
    '',
    `Memory: ${Math.round(m.bytesPerUser)} bytes per account (user hash, email entries, home entry, group`,
    `indexes), ${Math.round(m.bytesPerSession)} per cookie session, ${Math.round(m.bytesPerFamily)} per refresh family with its first token. The largest`,
    `master held ${(m.largestShare * 100).toFixed(0)}% of the sessions.`,
    '',
    `For 10 million users with one session and one refresh family each: ${gib(accounts)} GiB of accounts, ${gib(sessions)} GiB`,
    `of sessions and ${gib(families)} GiB of families, ${gib(accounts + sessions + families)} GiB in all before Redis's own overhead`,
    `and replicas (each replica holds its master's share again): ${gib((accounts + sessions + families) / 3)} GiB per master on three`,
    'shards. See the guide (docs/guides/run-several-instances.md, section 6) for the sizing note built on these.',
    '',
  ].join('\n')
}
