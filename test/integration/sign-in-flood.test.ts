/**
 * A sign-in flood over HTTP: password checks run at most 4 at once with 256 queued (src/core/semaphore.ts);
 * beyond that the server sheds the request at once with `503 server_busy` and a `Retry-After`, instead of
 * queueing memory-hard argon2 work without limit. The real argon2id, the real routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SAME_ORIGIN, startTestServer, type TestServer } from '../helpers/server.js'

const FLOOD = 400

describe('a sign-in flood', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        SESAME_STORE: 'memory',
        // Throttling would answer 429 first; this test is about the queue behind it.
        SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP: '0',
        SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '0',
        SESAME_LOGIN_FAILURES_PER_IP: '0',
      },
    })
  })
  afterAll(() => server.close())

  it(`sheds what the queue cannot hold with 503 server_busy and Retry-After; every other sign-in is answered`, async () => {
    const responses = await Promise.all(
      Array.from({ length: FLOOD }, (_, index) =>
        server.app.inject({
          method: 'POST',
          url: '/auth/session',
          headers: SAME_ORIGIN,
          payload: { email: `flood-${index}@example.com`, password: 'not the password at all' },
        }),
      ),
    )
    const byStatus = new Map<number, number>()
    for (const response of responses)
      byStatus.set(response.statusCode, (byStatus.get(response.statusCode) ?? 0) + 1)
    expect([...byStatus.keys()].sort()).toEqual([401, 503])
    // At most 4 running and 256 waiting: everything past that was shed.
    expect(byStatus.get(401)).toBeLessThanOrEqual(4 + 256)
    for (const response of responses.filter((r) => r.statusCode === 503)) {
      expect(response.json()).toEqual({
        error: 'server_busy',
        error_description: 'Too many sign-ins are in progress; retry shortly.',
      })
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    }
    // The shed requests cost nothing lasting: the server answers normally right after.
    const after = await server.app.inject({
      method: 'POST',
      url: '/auth/session',
      headers: SAME_ORIGIN,
      payload: { email: 'after@example.com', password: 'not the password at all' },
    })
    expect(after.statusCode).toBe(401)
  })
})
