import { afterEach, describe, expect, it } from 'vitest'
import { openStore } from '../../src/server/open-store.js'

const memoryConfig = {
  store: 'memory',
  sessionStore: 'memory',
  production: true,
  dataDir: '/nonexistent',
  databaseUrl: undefined,
  redisUrl: undefined,
  postgresSchema: 'sesame',
  redisPrefix: 'sesame:',
  migrateOnStart: true,
} as const

describe('openStore', () => {
  const warnings: Error[] = []
  const listener = (warning: Error) => warnings.push(warning)
  afterEach(() => {
    process.off('warning', listener)
  })

  it('warns SESAME_W001 once when the memory store is chosen in production', async () => {
    process.on('warning', listener)
    const first = await openStore(memoryConfig)
    const second = await openStore(memoryConfig)
    await new Promise((resolve) => setImmediate(resolve)) // warnings are delivered on the next tick
    const ours = warnings.filter((warning) => (warning as { code?: string }).code === 'SESAME_W001')
    expect(ours).toHaveLength(1)
    expect(ours[0]!.message).toMatch(/^The memory store keeps sessions in this process only/)
    expect(first.kind).toBe('memory')
    await first.close()
    await second.close()
  })
})
