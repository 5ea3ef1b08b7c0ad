/**
 * Refresh-token rotation under concurrency, on every store (memory, SQLite, PostgreSQL, Redis, the split):
 * many refreshes with one token at once all get the same single successor and never revoke the family;
 * re-presenting the just-rotated token inside the grace window is idempotent; presenting it after the window,
 * or an older one at any time, is reuse and kills the whole family, its access tokens included. Time is a
 * manual clock (`storeClock`, a day ahead of real time, so Redis's own TTLs never fire during a test: what is
 * checked is the engine's decision); nothing here asserts on elapsed time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { decodeJwt } from 'jose'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import type { ManualClock } from '../helpers/clock.js'
import { EVERY_STORE, storeClock, useEveryStore } from '../helpers/every-store.js'
import type { TestServer } from '../helpers/server.js'

const EMAIL = 'racer@example.com'
const PASSWORD = 'refresh race pw 1'
const CONCURRENCY = 50
const GRACE = 10
const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'The refresh token is invalid, expired or revoked.',
}
const INVALID_TOKEN = { error: 'invalid_token', error_description: 'The access token is invalid.' }

interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  refresh_token: string
}

describe.each(EVERY_STORE)('refresh rotation under concurrency ($name store)', (target) => {
  const stores = useEveryStore(target)
  let server: TestServer
  let clock: ManualClock
  let userId: string

  beforeEach(async () => {
    clock = storeClock()
    server = await stores.start({ clock })
    userId = (await server.auth.signUp({ email: EMAIL, password: PASSWORD })).id
  })

  function token(payload: Record<string, string>) {
    return server.app.inject({ method: 'POST', url: '/auth/token', payload })
  }

  async function passwordGrant(): Promise<TokenResponse> {
    const response = await token({ grant_type: 'password', username: EMAIL, password: PASSWORD })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  function refresh(refreshToken: string) {
    return token({ grant_type: 'refresh_token', refresh_token: refreshToken })
  }

  async function refreshOk(refreshToken: string): Promise<TokenResponse> {
    const response = await refresh(refreshToken)
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  async function expectInvalidGrant(refreshToken: string): Promise<void> {
    const response = await refresh(refreshToken)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual(INVALID_GRANT)
  }

  function me(accessToken: string) {
    return server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: `Bearer ${accessToken}` },
    })
  }

  async function expectAccepted(accessToken: string, sid: string): Promise<void> {
    const response = await me(accessToken)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ user: { id: userId }, session: { id: sid, method: 'token' } })
  }

  async function expectRefused(accessToken: string): Promise<void> {
    const response = await me(accessToken)
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    expect(response.json()).toEqual(INVALID_TOKEN)
  }

  /** The store's view of a refresh token: its generation and its family's. */
  async function stored(refreshToken: string) {
    const found = await server.store.findRefreshToken(hashSecret(refreshToken))
    expect(found).not.toBeNull()
    return found!
  }

  /**
   * Fires `CONCURRENCY` refreshes with one token at once. In-process requests tend to run one after another,
   * so by default (`race`) each request is held right after its store read until all of them have read the
   * token: all then see the same generation and race for the one compare-and-set (the store itself is
   * untouched). `release` lets them go (default: all at once). With `race: false` they interleave as they
   * happen to.
   */
  async function concurrentRefreshes(
    refreshToken: string,
    {
      race = true,
      release = async (held: Array<() => void>) => held.forEach((resume) => resume()),
    }: { race?: boolean; release?: (held: Array<() => void>) => Promise<void> } = {},
  ) {
    const find = server.store.findRefreshToken.bind(server.store)
    const held: Array<() => void> = []
    let everyoneHeld!: () => void
    const allRead = new Promise<void>((resolve) => (everyoneHeld = resolve))
    const reads = vi.spyOn(server.store, 'findRefreshToken')
    if (race) {
      reads.mockImplementation(async (tokenHash) => {
        const found = await find(tokenHash)
        await new Promise<void>((resume) => {
          held.push(resume)
          if (held.length === CONCURRENCY) everyoneHeld()
        })
        return found
      })
    }
    const rotations = vi.spyOn(server.store, 'rotateRefreshFamily')
    try {
      const inFlight = Promise.all(Array.from({ length: CONCURRENCY }, () => refresh(refreshToken)))
      if (race) {
        await allRead
        await release(held)
      }
      const responses = await inFlight
      const outcomes = await Promise.all(
        rotations.mock.results.map((result) => result.value as Promise<boolean>),
      )
      return {
        responses,
        rotationAttempts: outcomes.length,
        rotationsWon: outcomes.filter(Boolean).length,
        rotationTimes: rotations.mock.calls.map((call) => call[3]),
      }
    } finally {
      rotations.mockRestore()
      reads.mockRestore()
    }
  }

  /** Asserts every response is 200 with one and the same successor; returns it and the access tokens. */
  function expectOneSuccessor(responses: Awaited<ReturnType<typeof refresh>>[], previous: string) {
    expect(responses.map((response) => response.statusCode)).toEqual(Array(CONCURRENCY).fill(200))
    const bodies = responses.map((response) => response.json<TokenResponse>())
    const successors = new Set(bodies.map((body) => body.refresh_token))
    expect(successors.size).toBe(1)
    const [successor] = successors
    expect(successor).not.toBe(previous)
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/)
    for (const body of bodies) expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    return { successor: successor!, accessTokens: bodies.map((body) => body.access_token) }
  }

  it('50 concurrent refreshes with R0 all succeed with the same single successor R1; nothing is revoked', async () => {
    const first = await passwordGrant()
    const sid = decodeJwt<{ sid: string }>(first.access_token).sid
    const r0 = first.refresh_token

    const { responses, rotationAttempts, rotationsWon } = await concurrentRefreshes(r0)
    const { successor: r1, accessTokens } = expectOneSuccessor(responses, r0)
    // All fifty raced for the compare-and-set; exactly one won, and the 49 losers replayed its successor.
    expect(rotationAttempts).toBe(CONCURRENCY)
    expect(rotationsWon).toBe(1)

    // One live successor: the family moved one generation, not fifty, and is not revoked.
    const live = await stored(r1)
    expect(live.generation).toBe(1)
    expect(live.family).toMatchObject({ id: sid, userId, generation: 1, revokedAt: null })

    // Every access token is a distinct token of the same family, and each one is accepted.
    const claims = accessTokens.map((accessToken) => decodeJwt<{ sid: string; jti: string }>(accessToken))
    expect(new Set(claims.map((claim) => claim.sid))).toEqual(new Set([sid]))
    expect(new Set(claims.map((claim) => claim.jti)).size).toBe(CONCURRENCY)
    for (const accessToken of accessTokens) await expectAccepted(accessToken, sid)

    // The family lives on: R1 rotates normally.
    const next = await refreshOk(r1)
    expect([r0, r1]).not.toContain(next.refresh_token)
    expect((await stored(next.refresh_token)).family).toMatchObject({ generation: 2, revokedAt: null })
    await expectAccepted(next.access_token, sid)
  })

  it('50 concurrent refreshes left to interleave on their own also yield one successor', async () => {
    const first = await passwordGrant()
    const { responses, rotationsWon } = await concurrentRefreshes(first.refresh_token, { race: false })
    const { successor } = expectOneSuccessor(responses, first.refresh_token)
    expect(rotationsWon).toBe(1)
    expect((await stored(successor)).family).toMatchObject({ generation: 1, revokedAt: null })
    await refreshOk(successor)
  })

  it('after the grace window, presenting R0 again is reuse: the whole family dies, access tokens included', async () => {
    const first = await passwordGrant()
    const sid = decodeJwt<{ sid: string }>(first.access_token).sid
    const r0 = first.refresh_token
    const { responses } = await concurrentRefreshes(r0)
    const { successor: r1, accessTokens } = expectOneSuccessor(responses, r0)
    const second = await refreshOk(r1)
    const r2 = second.refresh_token
    await expectAccepted(second.access_token, sid)

    clock.advance(GRACE + 1)
    await expectInvalidGrant(r0)

    expect((await stored(r2)).family.revokedAt).toBe(clock.nowSeconds())
    await expectInvalidGrant(r2) // the live token of the family
    await expectInvalidGrant(r1)
    await expectRefused(second.access_token) // issued by the R1 refresh
    await expectRefused(first.access_token)
    for (const accessToken of accessTokens.slice(0, 5)) await expectRefused(accessToken)
    // The user can still sign in again, in a new family.
    const fresh = await passwordGrant()
    expect(decodeJwt<{ sid: string }>(fresh.access_token).sid).not.toBe(sid)
    await expectAccepted(fresh.access_token, decodeJwt<{ sid: string }>(fresh.access_token).sid)
  })

  it('the just-rotated token one second past the grace window is reuse too', async () => {
    const first = await passwordGrant()
    const r0 = first.refresh_token
    const second = await refreshOk(r0)
    clock.advance(GRACE + 1)
    await expectInvalidGrant(r0)
    await expectInvalidGrant(second.refresh_token)
    await expectRefused(second.access_token)
  })

  it('inside the grace window, re-presenting the just-rotated token returns the same successor', async () => {
    const first = await passwordGrant()
    const sid = decodeJwt<{ sid: string }>(first.access_token).sid
    const r0 = first.refresh_token
    const second = await refreshOk(r0)
    const r1 = second.refresh_token

    clock.advance(5)
    const replay = await refreshOk(r0)
    expect(replay.refresh_token).toBe(r1)
    expect(replay.access_token).not.toBe(second.access_token)
    await expectAccepted(replay.access_token, sid)

    clock.advance(GRACE - 5) // the last second of the window
    expect((await refreshOk(r0)).refresh_token).toBe(r1)

    expect((await stored(r1)).family).toMatchObject({ generation: 1, revokedAt: null })
    await expectAccepted(second.access_token, sid)
    const third = await refreshOk(r1)
    expect([r0, r1]).not.toContain(third.refresh_token)
    await expectAccepted(third.access_token, sid)
  })

  it('inside the grace window, a token two generations old is reuse: the family is revoked', async () => {
    const first = await passwordGrant()
    const r0 = first.refresh_token
    const second = await refreshOk(r0)
    clock.advance(1)
    const third = await refreshOk(second.refresh_token)
    clock.advance(1)

    await expectInvalidGrant(r0)
    expect((await stored(third.refresh_token)).family.revokedAt).toBe(clock.nowSeconds())
    await expectInvalidGrant(third.refresh_token)
    await expectInvalidGrant(second.refresh_token)
    await expectRefused(third.access_token)
    await expectRefused(second.access_token)
    await expectRefused(first.access_token)
  })

  it('50 concurrent refreshes while the clock moves, then past the window: no spurious revocation', async () => {
    const first = await passwordGrant()
    const sid = decodeJwt<{ sid: string }>(first.access_token).sid
    const r0 = first.refresh_token
    const start = clock.nowSeconds()

    // The racers are let go a few at a time, the clock moving a second between groups (8 s in all, inside
    // the window): the winner rotates at the start, later losers judge the race seconds after it.
    const { responses, rotationAttempts, rotationsWon, rotationTimes } = await concurrentRefreshes(r0, {
      release: async (held) => {
        for (const [index, resume] of held.entries()) {
          resume()
          await nextTurn()
          if (index % 6 === 5) clock.advance(1)
        }
      },
    })
    expect(clock.nowSeconds()).toBe(start + 8)
    expect(rotationAttempts).toBe(CONCURRENCY)
    expect(Math.min(...rotationTimes)).toBe(start)
    expect(Math.max(...rotationTimes)).toBe(start + 8)
    const { successor: r1, accessTokens } = expectOneSuccessor(responses, r0)
    expect(rotationsWon).toBe(1)
    expect((await stored(r1)).family).toMatchObject({ generation: 1, revokedAt: null })

    // Well past the grace window the family is still alive: the losers of the race left nothing behind.
    clock.advance(GRACE + 1)
    const last = await refreshOk(r1)
    expect((await stored(last.refresh_token)).family).toMatchObject({ generation: 2, revokedAt: null })
    for (const accessToken of accessTokens) await expectAccepted(accessToken, sid)
    await expectAccepted(last.access_token, sid)

    // A second burst with R0 (now two generations old) is reuse: every request refused, the family revoked.
    const { responses: late } = await concurrentRefreshes(r0)
    for (const response of late) {
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual(INVALID_GRANT)
    }
    await expectInvalidGrant(last.refresh_token)
    await expectRefused(last.access_token)
  })

  it('50 concurrent refreshes over real HTTP get one successor too', async () => {
    await server.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = server.app.server.address() as { port: number }
    const first = await passwordGrant()
    const r0 = first.refresh_token
    const responses = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        fetch(`http://127.0.0.1:${port}/auth/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r0 }),
        }),
      ),
    )
    expect(responses.map((response) => response.status)).toEqual(Array(CONCURRENCY).fill(200))
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as TokenResponse[]
    const successors = new Set(bodies.map((body) => body.refresh_token))
    expect(successors.size).toBe(1)
    const [r1] = successors
    expect((await stored(r1!)).family).toMatchObject({ generation: 1, revokedAt: null })
    await refreshOk(r1!)
  })
})
