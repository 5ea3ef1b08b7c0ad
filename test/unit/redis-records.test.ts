import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { agentRef, LUA_SESSION_LAYOUT, packSession, unpackSession } from '../../src/store/redis/records.js'
import type { SessionRecord } from '../../src/store/types.js'

const SESSION: SessionRecord = {
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  tokenHash: 'tttttttttttttttttttttttttttttttttttttttttttt',
  userId: 'UUUUUUUUUUUUUUUUUUUUUU',
  createdAt: 1_800_000_000,
  lastSeenAt: 1_800_000_060,
  expiresAt: 1_800_001_860,
  absoluteExpiresAt: 1_800_043_200,
  userAgent: 'Mozilla/5.0 Ünïcode 😀',
  ip: '203.0.113.7',
  amr: [],
}

/** What a script hands back: the packed string and the text its reference names. */
function roundTrip(session: SessionRecord): SessionRecord {
  const ref = session.userAgent === null ? '' : agentRef(session.userAgent)
  return unpackSession(packSession(session, ref), session.userAgent, session.tokenHash)
}

describe('packed Redis sessions', () => {
  it('packs the fields in the documented order, with the agent reference and the IP last', () => {
    expect(packSession(SESSION, 'rrrrrrrrrrrrrrrr')).toBe(
      'AAAAAAAAAAAAAAAAAAAAAA|UUUUUUUUUUUUUUUUUUUUUU|1800000000|1800000060|1800001860|1800043200|rrrrrrrrrrrrrrrr|203.0.113.7',
    )
    expect(packSession({ ...SESSION, ip: null }, '')).toBe(
      'AAAAAAAAAAAAAAAAAAAAAA|UUUUUUUUUUUUUUUUUUUUUU|1800000000|1800000060|1800001860|1800043200|',
    )
  })

  it.each<[string, Partial<SessionRecord>]>([
    ['every field set', {}],
    ['no User-Agent and no IP', { userAgent: null, ip: null }],
    ['an empty User-Agent and an empty IP, distinct from none', { userAgent: '', ip: '' }],
    ['an IP holding the separator', { ip: '2001:db8::1|x|y' }],
    ['an IPv6 address', { ip: '2001:db8:85a3::8a2e:370:7334' }],
    ['sign-in methods', { amr: ['pwd', 'otp', 'mfa'] }],
    [
      'sign-in methods, no User-Agent and an IP holding the separator',
      { amr: ['fed'], userAgent: null, ip: 'a|b' },
    ],
  ])('reads back a session with %s', (_name, overrides) => {
    const session = { ...SESSION, ...overrides }
    expect(roundTrip(session)).toEqual(session)
  })

  it('reads a User-Agent whose agent key is gone as null, never as another text', () => {
    const ref = agentRef(SESSION.userAgent!)
    expect(unpackSession(packSession(SESSION, ref), null, SESSION.tokenHash).userAgent).toBeNull()
  })

  it('refuses to pack an id holding the separator rather than store it ambiguously', () => {
    expect(() => packSession({ ...SESSION, id: 'a|b' }, '')).toThrow(TypeError)
    expect(() => packSession({ ...SESSION, userId: 'a|b' }, '')).toThrow(TypeError)
  })

  it.each([
    ['too few fields', 'AAAA|UUUU|1800000000|1800000060|1800001860'],
    ['a time that is not digits', 'AAAA|UUUU|1800000000|soon|1800001860|1800043200|'],
    ['an empty time', 'AAAA|UUUU||1800000060|1800001860|1800043200|'],
    ['an empty string', ''],
  ])('refuses a stored value with %s', (_name, packed) => {
    expect(() => unpackSession(packed, null, SESSION.tokenHash)).toThrow(/Redis session/)
  })

  it('names a User-Agent by 96 bits of its SHA-256, the same on every instance', () => {
    const text = SESSION.userAgent!
    const ref = agentRef(text)
    expect(ref).toBe(createHash('sha256').update(text).digest('base64url').slice(0, 16))
    expect(ref).toMatch(/^[A-Za-z0-9_-]{16}$/)
    expect(agentRef('')).not.toBe(agentRef(' '))
  })

  it('gives the scripts accessors generated from the same table, fields in the packed order', () => {
    const fields = ['id', 'user_id', 'created_at', 'last_seen_at', 'expires_at', 'absolute_expires_at']
    // The agent reference and the methods share the seventh field (the methods after a space, when any).
    expect(LUA_SESSION_LAYOUT).toContain(
      `local ${fields.join(', ')}, agent_ref, amr, rest = string.match(packed,`,
    )
    expect(LUA_SESSION_LAYOUT).toContain(
      `table.concat({${fields.map((name) => `f.${name}`).join(', ')}, f.agent_ref .. (f.amr ~= '' and ' ' .. f.amr or '')}, '|')`,
    )
    // The live scripts parse through these accessors only; no other reader of the layout by position.
    expect(LUA_SESSION_LAYOUT.match(/\(\[\^\|\]\*\)/g)).toHaveLength(fields.length + 1)
    expect(LUA_SESSION_LAYOUT.match(/\(\[\^\| \]\*\)/g)).toHaveLength(1)
  })
})
