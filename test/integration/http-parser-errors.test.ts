/** Requests Node's HTTP parser refuses still get the JSON error shape (over a real socket: inject skips the parser). */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/server.js'

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text))
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

describe('HTTP parser errors', () => {
  let server: TestServer
  let port: number
  beforeAll(async () => {
    server = await startTestServer({ env: { SESAME_STORE: 'memory' } })
    await server.app.listen({ port: 0, host: '127.0.0.1' })
    port = (server.app.server.address() as { port: number }).port
  })
  afterAll(() => server.close())

  it('answers oversized headers with 431 headers_too_large', async () => {
    const answer = await rawRequest(
      port,
      `GET /auth/me HTTP/1.1\r\nHost: x\r\nCookie: a=${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expect(answer).toMatch(/^HTTP\/1\.1 431 /)
    expect(answer.slice(answer.indexOf('\r\n\r\n') + 4)).toBe(
      JSON.stringify({ error: 'headers_too_large', error_description: 'The request headers are too large.' }),
    )
  })

  it('answers a request that is not HTTP with 400 invalid_request', async () => {
    const answer = await rawRequest(port, 'GARBAGE\r\n\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).toContain('"error":"invalid_request"')
  })
})
