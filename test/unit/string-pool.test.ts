import { describe, expect, it } from 'vitest'
import { StringPool } from '../../src/store/memory/string-pool.js'

describe('StringPool', () => {
  it('keeps one entry per distinct string while any user holds it, and drops it with the last', () => {
    const pool = new StringPool()
    const agent = 'Mozilla/5.0 (X11; Linux x86_64)'
    expect(pool.acquire(agent)).toBe(agent)
    expect(pool.acquire(`${agent}`)).toBe(agent)
    expect(pool.acquire('curl/8.0')).toBe('curl/8.0')
    expect(pool.size).toBe(2)
    pool.release(agent)
    expect(pool.size).toBe(2)
    pool.release(agent)
    expect(pool.size).toBe(1)
    pool.release('curl/8.0')
    expect(pool.size).toBe(0)
  })

  it('passes null through and ignores releases of what it does not hold', () => {
    const pool = new StringPool()
    expect(pool.acquire(null)).toBeNull()
    pool.release(null)
    pool.release('never acquired')
    expect(pool.size).toBe(0)
  })
})
