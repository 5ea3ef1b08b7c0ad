import { describe, expect, it } from 'vitest'
import type { KeyResolver } from '../../src/core/jws/compact.js'
import { KeySource } from '../../src/core/key-source.js'
import { createManualClock } from '../helpers/clock.js'

interface NamedSet {
  name: string
  resolveKey: KeyResolver
}

const set = (name: string): NamedSet => ({ name, resolveKey: () => null })

/** A load whose answers the test releases one by one, in any order. */
function controlledLoads() {
  const pending: Array<(value: NamedSet) => void> = []
  return {
    load: () => new Promise<NamedSet>((resolve) => pending.push(resolve)),
    release: (index: number, value: NamedSet) => pending[index]!(value),
    get started() {
      return pending.length
    },
  }
}

describe('KeySource', () => {
  it('refuses every key before the first load, and throws on reading the set', () => {
    const source = new KeySource<NamedSet>({
      load: async () => set('a'),
      clock: createManualClock(),
      unknownKeyReloadSeconds: 5,
      onError: () => {},
    })
    expect(source.loaded).toBe(false)
    expect(source.resolveKey({ alg: 'ES256', kid: 'k' })).toBeNull()
    expect(() => source.current).toThrow('The keys have not been loaded yet.')
  })

  it('never lets an older, slower load replace a newer one', async () => {
    const loads = controlledLoads()
    const replaced: string[] = []
    const source = new KeySource<NamedSet>({
      load: loads.load,
      clock: createManualClock(),
      unknownKeyReloadSeconds: 5,
      onError: () => {},
      onReplace: (keys) => replaced.push(keys.name),
    })
    const older = source.reload()
    const newer = source.reload()
    loads.release(1, set('newer'))
    await newer
    loads.release(0, set('older'))
    await older
    expect(source.current.name).toBe('newer')
    expect(replaced).toEqual(['newer'])
  })

  it('replaces nothing when the load answers the current set', async () => {
    const replaced: string[] = []
    const only = set('only')
    const source = new KeySource<NamedSet>({
      load: async (current) => current ?? only,
      clock: createManualClock(),
      unknownKeyReloadSeconds: 5,
      onError: () => {},
      onReplace: (keys) => replaced.push(keys.name),
    })
    await source.reload()
    await source.reload()
    expect(replaced).toEqual(['only'])
  })

  it('reloads for unknown kids at most once per interval, by the injected clock', async () => {
    const clock = createManualClock()
    let loads = 0
    const source = new KeySource<NamedSet>({
      load: async () => set(String(++loads)),
      clock,
      unknownKeyReloadSeconds: 5,
      onError: () => {},
    })
    source.onUnknownKey()
    source.onUnknownKey()
    clock.advance(4)
    source.onUnknownKey()
    expect(loads).toBe(1)
    clock.advance(1)
    source.onUnknownKey()
    expect(loads).toBe(2)
  })

  it('reports a failed background reload and keeps the current set', async () => {
    const errors: unknown[] = []
    let fail = false
    const source = new KeySource<NamedSet>({
      load: async () => {
        if (fail) throw new Error('down')
        return set('kept')
      },
      clock: createManualClock(),
      unknownKeyReloadSeconds: 5,
      onError: (error) => errors.push(error),
    })
    await source.reload()
    fail = true
    source.onUnknownKey()
    await new Promise((resolve) => setImmediate(resolve))
    expect(errors).toEqual([new Error('down')])
    expect(source.current.name).toBe('kept')
  })
})
