import { describe, expect, it } from 'vitest'
import { parseChangeEvent, parseRevocationSnapshot } from '../../src/core/change-event.js'

describe('parseChangeEvent', () => {
  it('reads every event type with exactly its fields', () => {
    expect(parseChangeEvent('{"type":"keys-changed","extra":1}')).toEqual({ type: 'keys-changed' })
    expect(
      parseChangeEvent(
        '{"type":"access-revoked","revocation":{"kind":"sid","value":"f","expiresAt":9,"x":1}}',
      ),
    ).toEqual({ type: 'access-revoked', revocation: { kind: 'sid', value: 'f', expiresAt: 9 } })
    expect(parseChangeEvent('{"type":"user-epoch","epoch":{"userId":"u","epoch":1,"expiresAt":2}}')).toEqual({
      type: 'user-epoch',
      epoch: { userId: 'u', epoch: 1, expiresAt: 2 },
    })
  })

  it('drops anything malformed', () => {
    for (const payload of [
      'not json',
      'null',
      '[]',
      '{"type":"other"}',
      '{"type":"access-revoked","revocation":{"kind":"all","value":"f","expiresAt":9}}',
      '{"type":"access-revoked","revocation":{"kind":"jti","value":1,"expiresAt":9}}',
      '{"type":"access-revoked","revocation":{"kind":"jti","value":"v","expiresAt":"9"}}',
      '{"type":"user-epoch","epoch":{"userId":"u","epoch":1.5,"expiresAt":2}}',
      '{"type":"user-epoch"}',
    ]) {
      expect(parseChangeEvent(payload), payload).toBeNull()
    }
  })
})

describe('parseRevocationSnapshot', () => {
  it('reads every well-formed entry and drops malformed ones', () => {
    const snapshot = {
      revocations: [{ kind: 'jti', value: 'j', expiresAt: 5 }, { kind: 'nope' }],
      epochs: [{ userId: 'u', epoch: 1, expiresAt: 2 }, 'junk'],
    }
    expect(parseRevocationSnapshot(JSON.stringify(snapshot))).toEqual([
      { type: 'access-revoked', revocation: { kind: 'jti', value: 'j', expiresAt: 5 } },
      { type: 'user-epoch', epoch: { userId: 'u', epoch: 1, expiresAt: 2 } },
    ])
  })

  it('refuses a message that is no snapshot at all', () => {
    for (const payload of ['not json', '{}', '{"revocations":[]}', '{"revocations":{},"epochs":[]}', '[]']) {
      expect(parseRevocationSnapshot(payload), payload).toBeNull()
    }
  })
})
