import { describe, expect, it } from 'vitest'
import { NoticePosition } from '../../src/core/notice-position.js'

const VALID_MS = 1000

function known(count = 10, at = 0): NoticePosition {
  const position = new NoticePosition()
  position.restart()
  expect(position.checked(count, at, position.era)).toBe('keep')
  return position
}

describe('NoticePosition', () => {
  it('is untrusted until the store count is read after a (re)start', () => {
    const position = new NoticePosition()
    expect(position.trustedUntil(VALID_MS)).toBe(Number.NEGATIVE_INFINITY)
    position.restart()
    expect(position.receive(4)).toBe('keep')
    expect(position.trustedUntil(VALID_MS)).toBe(Number.NEGATIVE_INFINITY)
    expect(position.checked(3, 50, position.era)).toBe('keep')
    expect(position.trustedUntil(VALID_MS)).toBe(50 + VALID_MS)
    // The start is the later of the count and what was heard meanwhile: 5 follows 4.
    expect(position.receive(5)).toBe('keep')
    expect(position.receive(7)).toBe('flush')
  })

  it('keeps in-order and repeated notices, and flushes on a skipped number', () => {
    const position = known(10)
    expect(position.receive(11)).toBe('keep')
    expect(position.receive(11)).toBe('keep')
    expect(position.receive(9)).toBe('keep')
    expect(position.receive(13)).toBe('flush')
    expect(position.receive(14)).toBe('keep')
  })

  it('stops trusting while the count is ahead, and trusts again once the notices catch up', () => {
    const position = known(10)
    expect(position.checked(12, 100, position.era)).toBe('keep')
    expect(position.trustedUntil(VALID_MS)).toBe(Number.NEGATIVE_INFINITY)
    position.receive(11)
    expect(position.trustedUntil(VALID_MS)).toBe(Number.NEGATIVE_INFINITY)
    position.receive(12)
    expect(position.trustedUntil(VALID_MS)).toBe(100 + VALID_MS)
  })

  it('flushes when the count is still ahead at the next check, and starts again from it', () => {
    const position = known(10)
    expect(position.checked(11, 100, position.era)).toBe('keep')
    expect(position.checked(12, 200, position.era)).toBe('flush')
    expect(position.trustedUntil(VALID_MS)).toBe(200 + VALID_MS)
    expect(position.receive(11)).toBe('keep')
    expect(position.receive(13)).toBe('keep')
  })

  it('flushes and starts again when the count is below what was heard (a reset count, a forged number)', () => {
    const position = known(10)
    expect(position.receive(2 ** 53 - 1)).toBe('flush')
    expect(position.checked(12, 100, position.era)).toBe('flush')
    expect(position.trustedUntil(VALID_MS)).toBe(100 + VALID_MS)
    expect(position.receive(13)).toBe('keep')
    expect(position.receive(15)).toBe('flush')
  })

  it('ignores a count read before a restart', () => {
    const position = known(10)
    const era = position.era
    position.restart()
    expect(position.checked(10, 100, era)).toBe('keep')
    expect(position.trustedUntil(VALID_MS)).toBe(Number.NEGATIVE_INFINITY)
  })

  it('goes stale when checks stop succeeding', () => {
    const position = known(10, 0)
    expect(position.trustedUntil(VALID_MS)).toBe(VALID_MS)
    expect(position.checked(10, 700, position.era)).toBe('keep')
    expect(position.trustedUntil(VALID_MS)).toBe(700 + VALID_MS)
  })
})
