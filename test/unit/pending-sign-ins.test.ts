/** Pending sign-ins (`engine/pending-sign-ins.ts`): sealed, short-lived, completed once. */
import { beforeEach, describe, expect, it } from 'vitest'
import { isAuthError } from '../../src/core/errors.js'
import { type PendingSignIns, openPendingSignIns } from '../../src/engine/pending-sign-ins.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/types.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'

async function reasonOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    if (isAuthError(error, 'invalid_second_factor')) return error.reason
    throw error
  }
  throw new Error('expected invalid_second_factor')
}

describe('pending sign-ins', () => {
  let store: Store
  let clock: ManualClock
  let pending: PendingSignIns

  beforeEach(async () => {
    store = createMemoryStore()
    clock = createManualClock()
    pending = await openPendingSignIns({ store, clock })
  })

  it('carries who passed which factor, sealed: the note reveals neither', async () => {
    const { sealed } = await pending.start('user-1', ['pwd'])
    // Encrypted, not only signed: a signed note would show the user id in its base64url payload.
    for (const part of sealed.split('.')) {
      expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain('user-1')
    }
    expect(await pending.open(sealed)).toMatchObject({
      userId: 'user-1',
      amr: ['pwd'],
      expiresAt: clock.nowSeconds() + 300,
    })
  })

  it('lapses after five minutes', async () => {
    const { sealed } = await pending.start('user-1', ['pwd'])
    clock.advance(299)
    await pending.open(sealed)
    clock.advance(1)
    expect(await reasonOf(pending.open(sealed))).toBe('pending_expired')
  })

  it('refuses a damaged or foreign note, and one sealed by another deployment', async () => {
    const { sealed } = await pending.start('user-1', ['pwd'])
    // One character of the tag changed: a full six bits, not the last character's padding bits, which
    // base64url decoding ignores (a change there would leave the note intact).
    const at = sealed.length - 5
    const damaged = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`
    expect(await reasonOf(pending.open(damaged))).toBe('pending_unreadable')
    expect(await reasonOf(pending.open('x'.repeat(5000)))).toBe('pending_unreadable')
    const elsewhere = await openPendingSignIns({ store: createMemoryStore(), clock })
    expect(await reasonOf(elsewhere.open(sealed))).toBe('pending_unreadable')
  })

  it('completes once: of concurrent completions exactly one gets through', async () => {
    const opened = await pending.open((await pending.start('user-1', ['pwd'])).sealed)
    const results = await Promise.allSettled([
      pending.finish(opened),
      pending.finish(opened),
      pending.finish(opened),
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(await reasonOf(pending.finish(opened))).toBe('pending_used')
  })
})
