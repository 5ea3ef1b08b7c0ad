/**
 * The client SDK in cookie mode against the real server for an account with an authenticator app: `signIn`
 * answers `second-factor-required` without signing the client in, and `completeSignIn` finishes with a code.
 * Node's fetch keeps no cookies and sends no Origin, so the test's fetch does both, as a browser would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSesameClient } from '../../src/client/index.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'client two step pw'
let server: TestServer
let base = ''
let key: Uint8Array

beforeAll(async () => {
  server = await startTestServer()
  await server.app.listen({ port: 0, host: '127.0.0.1' })
  const address = server.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address')
  base = `http://localhost:${address.port}`
  const user = await server.auth.signUp({ email: 'sdk@example.com', password: PASSWORD })
  const enrolment = await server.auth.secondFactors.beginTotp(user)
  key = parseTotpKey(enrolment.secret)!
  await server.auth.secondFactors.confirmTotp(
    user.id,
    enrolment.enrolment,
    totpCode(key, totpStep(Date.now() / 1000)),
  )
})

afterAll(async () => {
  await server?.close()
})

/** A fetch that keeps cookies like a browser on one origin and names that origin. */
function browserLikeFetch(): typeof fetch {
  const jar = new Map<string, string>()
  return async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set('origin', base)
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '))
    const response = await fetch(input, { ...init, headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      if (/max-age=0/i.test(line)) jar.delete(pair!.slice(0, eq))
      else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
    return response
  }
}

describe('client SDK, cookie mode, with a second factor', () => {
  it('waits at the second step, then signs in with the code', async () => {
    const client = createSesameClient({ baseUrl: base, mode: 'cookie', fetch: browserLikeFetch() })
    const step = await client.signIn('sdk@example.com', PASSWORD)
    expect(step).toEqual({ status: 'second-factor-required', methods: ['totp', 'recovery_code'] })
    expect(client.state).toMatchObject({ status: 'signed-out' })
    expect((await client.fetch(`${base}/auth/me`)).status).toBe(401)

    await expect(client.completeSignIn({ code: 'x' })).rejects.toMatchObject({
      code: 'invalid_second_factor',
    })
    await client.completeSignIn({ code: totpCode(key, totpStep(Date.now() / 1000) + 1) })
    expect(client.state).toMatchObject({ status: 'signed-in' })
    const me = await client.fetch(`${base}/auth/me`)
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ session: { amr: ['pwd', 'otp', 'mfa'] } })
  })
})
