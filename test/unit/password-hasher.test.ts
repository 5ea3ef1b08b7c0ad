import { describe, expect, it } from 'vitest'
import {
  type Argon2Params,
  DEFAULT_ARGON2_PARAMS,
  createArgon2Hasher,
} from '../../src/core/password-hasher.js'

// Small parameters keep the suite fast; production uses DEFAULT_ARGON2_PARAMS.
const SMALL: Argon2Params = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

// Made once with @node-rs/argon2: argon2i (not argon2id) with the SMALL parameters.
const ARGON2I_HASH =
  '$argon2i$v=19$m=1024,t=1,p=1$y5IXrA6LfDu0MOpWchDHtw$R8ylxuqQF+cg9LKru9yqUi7p4N20VTA9VPBipTNXjf4'

const GARBAGE_HASHES = [
  '',
  'garbage',
  '$argon2id$',
  '$argon2id$v=19$m=1024,t=1,p=1$not-base64!$also-not',
  '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', // bcrypt
]

const BUSY: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'server_busy',
  message: 'Too many sign-ins are in progress; retry shortly.',
  retryAfterSeconds: 1,
})

describe('createArgon2Hasher', () => {
  const hasher = createArgon2Hasher({ params: SMALL })

  it('hashes to an argon2id PHC string carrying its parameters, salted afresh each time', async () => {
    const first = await hasher.hash('correct horse battery staple')
    const second = await hasher.hash('correct horse battery staple')
    expect(first).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/)
    expect(first).not.toBe(second)
    expect(first).not.toContain('correct horse')
  })

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hasher.hash('correct horse battery staple')
    await expect(hasher.verify(stored, 'correct horse battery staple')).resolves.toBe(true)
    await expect(hasher.verify(stored, 'correct horse battery stapler')).resolves.toBe(false)
    await expect(hasher.verify(stored, 'Correct horse battery staple')).resolves.toBe(false)
    await expect(hasher.verify(stored, '')).resolves.toBe(false)
  })

  it('round-trips non-ASCII passwords', async () => {
    const stored = await hasher.hash('pässwörd 🔑')
    await expect(hasher.verify(stored, 'pässwörd 🔑')).resolves.toBe(true)
    await expect(hasher.verify(stored, 'passwörd 🔑')).resolves.toBe(false)
  })

  it.each(GARBAGE_HASHES)('resolves false (does not throw) for the unreadable hash %j', async (stored) => {
    await expect(hasher.verify(stored, 'anything')).resolves.toBe(false)
  })

  it('verifies a hash made with other parameters, so old hashes keep working', async () => {
    const old = await createArgon2Hasher({ params: { ...SMALL, timeCost: 2 } }).hash('pw-under-old-params')
    await expect(hasher.verify(old, 'pw-under-old-params')).resolves.toBe(true)
    expect(hasher.needsRehash(old)).toBe(true)
  })

  describe('needsRehash', () => {
    it('is false for a hash made with the same parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false)
    })

    it.each([
      ['memoryCost', { ...SMALL, memoryCost: 2048 }],
      ['timeCost', { ...SMALL, timeCost: 2 }],
      ['parallelism', { ...SMALL, parallelism: 2 }],
    ])('is true when %s differs', async (_label, params) => {
      const other = await createArgon2Hasher({ params }).hash('pw')
      expect(hasher.needsRehash(other)).toBe(true)
    })

    it('is true for another argon2 variant with the same parameters', () => {
      expect(hasher.needsRehash(ARGON2I_HASH)).toBe(true)
    })

    it.each(GARBAGE_HASHES)('is true for the unreadable hash %j', (stored) => {
      expect(hasher.needsRehash(stored)).toBe(true)
    })
  })

  describe('verifyDummy', () => {
    it('resolves false, repeatedly, even for the dummy password itself', async () => {
      await expect(hasher.verifyDummy('anything')).resolves.toBe(false)
      await expect(hasher.verifyDummy('sesame-dummy-password')).resolves.toBe(false)
      await expect(hasher.verifyDummy('')).resolves.toBe(false)
    })

    it('recovers after being refused while the server was busy', async () => {
      const busy = createArgon2Hasher({ params: SMALL, maxConcurrent: 1, maxQueued: 0 })
      const inFlight = busy.hash('holds the only slot')
      await expect(busy.verifyDummy('first')).rejects.toEqual(BUSY)
      await inFlight
      // The overload is over: an unknown-account login must behave normally again.
      await expect(busy.verifyDummy('second')).resolves.toBe(false)
    })
  })

  describe('under load', () => {
    it('verify rejects with server_busy instead of reporting a wrong password', async () => {
      const busy = createArgon2Hasher({ params: SMALL, maxConcurrent: 1, maxQueued: 0 })
      const stored = await busy.hash('pw')
      const inFlight = busy.hash('holds the only slot')
      await expect(busy.verify(stored, 'pw')).rejects.toEqual(BUSY)
      await inFlight
      await expect(busy.verify(stored, 'pw')).resolves.toBe(true)
    })

    it('hash rejects with server_busy when the queue is full', async () => {
      const busy = createArgon2Hasher({ params: SMALL, maxConcurrent: 1, maxQueued: 1 })
      const running = busy.hash('one')
      const queued = busy.hash('two')
      await expect(busy.hash('three')).rejects.toEqual(BUSY)
      await expect(Promise.all([running, queued])).resolves.toHaveLength(2)
    })
  })

  describe('options', () => {
    it.each([
      ['memoryCost', 0],
      ['memoryCost', -1024],
      ['timeCost', 0],
      ['timeCost', 1.5],
      ['parallelism', Number.NaN],
      ['parallelism', '1'],
    ])('refuses %s = %s with a TypeError', (key, value) => {
      expect(() => createArgon2Hasher({ params: { ...SMALL, [key]: value } })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: `Argon2 parameter "${key}" must be a positive integer.`,
        }),
      )
    })

    it('refuses a missing parameter with a TypeError', () => {
      const params = { memoryCost: 1024, parallelism: 1 } as Argon2Params
      expect(() => createArgon2Hasher({ params })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: 'Argon2 parameter "timeCost" must be a positive integer.',
        }),
      )
    })

    it('refuses, at construction, a memoryCost argon2 cannot use (below 8 KiB per lane)', () => {
      expect(() => createArgon2Hasher({ params: { memoryCost: 7, timeCost: 1, parallelism: 1 } })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: expect.stringMatching(/^Argon2 parameter "memoryCost" must be /) as unknown,
        }),
      )
    })

    it.each([
      [{ maxConcurrent: 0 }, 'maxConcurrent'],
      [{ maxQueued: -1 }, 'maxQueued'],
    ])('refuses limiter options %j with a TypeError', (options, key) => {
      expect(() => createArgon2Hasher({ params: SMALL, ...options })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: `Semaphore option "${key}" must be a non-negative integer (maxConcurrent >= 1).`,
        }),
      )
    })
  })

  describe('with the default parameters', () => {
    it('uses OWASP argon2id m=19456, t=2, p=1 and round-trips', async () => {
      expect(DEFAULT_ARGON2_PARAMS).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
      const standard = createArgon2Hasher()
      const stored = await standard.hash('pw')
      expect(stored.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true)
      await expect(standard.verify(stored, 'pw')).resolves.toBe(true)
      expect(standard.needsRehash(stored)).toBe(false)
      expect(hasher.needsRehash(stored)).toBe(true)
    })
  })
})
