/**
 * Throttling: failed sign-ins per (account, address) pair with a soft delay first, attempts per account across
 * addresses, failures per address (sign-ins, refresh grants, revocations), sign-ups per address.
 */
import { describe, expect, it } from 'vitest'
import type { ManualClock } from '../helpers/clock.js'
import { EVERY_STORE, storeClock, useEveryStore } from '../helpers/every-store.js'
import { SAME_ORIGIN, type TestServer } from '../helpers/server.js'

const RATE_LIMITED = { error: 'rate_limited', error_description: 'Too many attempts; try again later.' }

/**
 * The counters live in the store, so the limits are the store's to hold: the cases that count (the pair and
 * account limits and their windows, parallel guesses, sign-ups, two instances sharing one store) run on every
 * store; the ones about what is counted run on memory only. The manual clock (`storeClock`) starts at a whole
 * day, a day ahead of real time: windows start at its start, and a later window is a new counter, so no case
 * waits for Redis to expire one (the TTL is the engine's window end, checked in the Redis contract).
 */
describe.each(EVERY_STORE)('throttling on $name', (target) => {
  const stores = useEveryStore(target)
  /** Cases about what is counted, not where: defined once, on memory (not skipped on the others). */
  function memoryOnly(name: string, test: () => Promise<void>): void {
    if (target.name === 'memory') it(name, test)
  }
  let server: TestServer
  let clock: ManualClock
  let delays: number[]

  async function start(env: Record<string, string> = {}): Promise<void> {
    clock = storeClock()
    delays = []
    server = await stores.start({ clock, env, sleep: async (ms) => void delays.push(ms) })
    await server.auth.signUp({ email: 'victim@example.com', password: 'the right password' })
  }

  function logIn(email: string, password: string, ip = '203.0.113.1') {
    return server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      remoteAddress: ip,
      payload: { email, password },
    })
  }

  it('refuses one (account, address) pair after 10 failures with 429 and Retry-After; the owner elsewhere gets in', async () => {
    await start()
    for (let i = 0; i < 10; i++)
      expect((await logIn('victim@example.com', `wrong ${i}`, '198.51.100.1')).statusCode).toBe(401)
    expect(delays).toEqual([250, 500, 750, 1000, 1250, 1500, 1750]) // soft delay from the 4th failure
    clock.advance(100)
    const blocked = await logIn('victim@example.com', 'the right password', '198.51.100.1')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json()).toEqual(RATE_LIMITED)
    expect(blocked.headers['retry-after']).toBe('800')
    // The token endpoint shares the limit.
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      remoteAddress: '198.51.100.1',
      payload: { grant_type: 'password', username: 'victim@example.com', password: 'the right password' },
    })
    expect(grant.statusCode).toBe(429)
    // Someone else's guesses do not lock the owner out: another address signs in at once.
    expect((await logIn('victim@example.com', 'the right password', '192.0.2.50')).statusCode).toBe(200)
    // Temporary by construction: the next window lets the guessing address try again.
    clock.advance(800)
    expect((await logIn('victim@example.com', 'the right password', '198.51.100.1')).statusCode).toBe(200)
  })

  it('caps attempts per account across all addresses, for the rest of the hour', async () => {
    await start({ SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '20' })
    for (let i = 0; i < 20; i++)
      expect((await logIn('victim@example.com', `wrong ${i}`, `198.51.100.${i}`)).statusCode).toBe(401)
    expect(delays).toEqual([]) // each pair failed once: no soft delay
    clock.advance(1000)
    const blocked = await logIn('victim@example.com', 'the right password', '192.0.2.50')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.headers['retry-after']).toBe('2600')
    clock.advance(2600)
    expect((await logIn('victim@example.com', 'the right password', '192.0.2.50')).statusCode).toBe(200)
  })

  memoryOnly(
    'counts every look-alike spelling of an account against its limits, as one account',
    async () => {
      await start()
      // Eleven spellings of victim@example.com, each with other letters fullwidth: one email key.
      const fullwidth = (letter: string) => String.fromCodePoint(letter.codePointAt(0)! + 0xfee0)
      const spelling = (mask: number) =>
        [...'victim'].map((letter, i) => (mask & (1 << i) ? fullwidth(letter) : letter)).join('') +
        '@example.com'
      for (let i = 0; i < 10; i++)
        expect((await logIn(spelling(i + 1), `wrong ${i}`, '198.51.100.1')).statusCode).toBe(401)
      const blocked = await logIn(spelling(11), 'the right password', '198.51.100.1')
      expect(blocked.statusCode).toBe(429)
      // The right password under a look-alike spelling, from elsewhere, is the owner signing in.
      const owner = await logIn(spelling(63), 'the right password', '192.0.2.50')
      expect(owner.statusCode).toBe(200)
      expect(owner.json()).toMatchObject({ user: { email: 'victim@example.com' } })
    },
  )

  it('holds against parallel guesses: the attempt is counted before the password is checked', async () => {
    await start({ SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '15' })
    const statuses = async (ipOf: (i: number) => string, email: string): Promise<number[]> =>
      (
        await Promise.all(Array.from({ length: 30 }, (_, i) => logIn(email, `parallel guess ${i}`, ipOf(i))))
      ).map((answer) => answer.statusCode)
    // One address: the pair limit (10) holds.
    const fromOne = await statuses(() => '198.51.100.1', 'victim@example.com')
    expect(fromOne.filter((status) => status === 401)).toHaveLength(10)
    expect(fromOne.filter((status) => status === 429)).toHaveLength(20)
    // Many addresses: the account cap (15) holds, every attempt counted before its password is checked.
    await server.auth.signUp({ email: 'second@example.com', password: 'the right password' })
    const fromMany = await statuses((i) => `198.51.100.${i}`, 'second@example.com')
    expect(fromMany.filter((status) => status === 401)).toHaveLength(15)
    expect(fromMany.filter((status) => status === 429)).toHaveLength(15)
  })

  memoryOnly('answers an unknown account exactly like a real one', async () => {
    await start()
    for (let i = 0; i < 10; i++) {
      await logIn('victim@example.com', 'wrong', '198.51.100.1')
      await logIn('nobody@example.com', 'wrong', '198.51.100.1')
    }
    const real = await logIn('victim@example.com', 'wrong', '198.51.100.1')
    const unknown = await logIn('nobody@example.com', 'wrong', '198.51.100.1')
    expect(real.statusCode).toBe(429)
    expect(unknown.statusCode).toBe(429)
    expect(unknown.body).toBe(real.body)
  })

  memoryOnly("forgets a pair's failures after a correct password", async () => {
    await start()
    for (let i = 0; i < 9; i++) await logIn('victim@example.com', 'wrong')
    expect((await logIn('victim@example.com', 'the right password')).statusCode).toBe(200)
    for (let i = 0; i < 9; i++) expect((await logIn('victim@example.com', 'wrong')).statusCode).toBe(401)
  })

  memoryOnly('refuses an address that fails against many accounts', async () => {
    await start({ SESAME_LOGIN_FAILURES_PER_IP: '5' })
    for (let i = 0; i < 5; i++)
      expect((await logIn(`user${i}@example.com`, 'wrong', '203.0.113.7')).statusCode).toBe(401)
    expect((await logIn('victim@example.com', 'the right password', '203.0.113.7')).statusCode).toBe(429)
    expect((await logIn('victim@example.com', 'the right password', '203.0.113.8')).statusCode).toBe(200)
  })

  memoryOnly('counts failed refresh grants against the address', async () => {
    await start({ SESAME_LOGIN_FAILURES_PER_IP: '3' })
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      remoteAddress: '203.0.113.20',
      payload: { grant_type: 'password', username: 'victim@example.com', password: 'the right password' },
    })
    const { refresh_token: refreshToken } = grant.json<{ refresh_token: string }>()
    const refresh = (token: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/token',
        remoteAddress: '203.0.113.20',
        payload: { grant_type: 'refresh_token', refresh_token: token },
      })
    for (let i = 0; i < 3; i++) expect((await refresh('A'.repeat(43))).statusCode).toBe(400)
    const blocked = await refresh(refreshToken)
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json()).toEqual(RATE_LIMITED)
  })

  memoryOnly('counts revocations of unknown tokens against the address', async () => {
    await start({ SESAME_LOGIN_FAILURES_PER_IP: '3' })
    const revoke = (token: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/revoke',
        remoteAddress: '203.0.113.21',
        payload: { token },
      })
    expect((await revoke('B'.repeat(43))).statusCode).toBe(200) // unknown refresh-token shape
    expect((await revoke('not.a.token')).statusCode).toBe(200) // invalid access token
    expect((await revoke('C'.repeat(43))).statusCode).toBe(200)
    const blocked = await revoke('D'.repeat(43))
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json()).toEqual(RATE_LIMITED)
    expect(blocked.headers['retry-after']).toBeDefined()
    // A real token is still revoked from that address: a logout is never refused.
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: 'victim@example.com', password: 'the right password' },
    })
    const { refresh_token: refreshToken } = grant.json<{ refresh_token: string }>()
    expect((await revoke(refreshToken)).statusCode).toBe(200)
    const refreshed = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'refresh_token', refresh_token: refreshToken },
    })
    expect(refreshed.statusCode).toBe(400)
  })

  it('limits sign-ups per address', async () => {
    await start({ SESAME_SIGNUPS_PER_IP: '2' })
    const signUp = (n: number) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/signup',
        headers: SAME_ORIGIN,
        remoteAddress: '203.0.113.9',
        payload: { email: `new${n}@example.com`, password: 'pass-word-1234' },
      })
    expect((await signUp(1)).statusCode).toBe(201)
    expect((await signUp(2)).statusCode).toBe(201)
    const third = await signUp(3)
    expect(third.statusCode).toBe(429)
    expect(third.json()).toEqual(RATE_LIMITED)
    expect(await server.store.findUserByEmail('new3@example.com')).toBeNull()
  })

  memoryOnly('turns a limit off with 0', async () => {
    await start({ SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP: '0', SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '0' })
    for (let i = 0; i < 12; i++) expect((await logIn('victim@example.com', 'wrong')).statusCode).toBe(401)
  })

  it('counts failures on one instance against sign-ins on another sharing the store', async () => {
    await start()
    const other = await stores.start({ clock, sleep: async () => {} })
    for (let i = 0; i < 10; i++) {
      const on = i % 2 ? other : server
      const response = await on.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        remoteAddress: '198.51.100.1',
        payload: { email: 'victim@example.com', password: `wrong ${i}` },
      })
      expect(response.statusCode).toBe(401)
    }
    for (const on of [server, other]) {
      const blocked = await on.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: SAME_ORIGIN,
        remoteAddress: '198.51.100.1',
        payload: { email: 'victim@example.com', password: 'the right password' },
      })
      expect(blocked.statusCode).toBe(429)
      expect(blocked.headers['retry-after']).toBe('900')
    }
  })
})
