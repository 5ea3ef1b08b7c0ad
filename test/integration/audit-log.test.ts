/**
 * The audit log over HTTP, with real mail: one line per security-relevant action, each with its stable event
 * name, user, client address, user-agent summary and outcome, written even at `SESAME_LOG_LEVEL=warn`; and in
 * the whole captured log not one of the run's passwords, cookies, tokens or mailed link tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, type SesameServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { type AuditLine, auditLinesOf } from '../helpers/audit.js'
import { type MailCapture, linkToken, startMailCapture } from '../helpers/mail-capture.js'
import { makeTempDir } from '../helpers/server.js'

const ISSUER = 'http://localhost:3996'
const PAGE = { origin: ISSUER, host: 'localhost:3996' }
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15'
const PASSWORD = 'audited passphrase one'
const NEW_PASSWORD = 'audited passphrase two'
const RESET_PASSWORD = 'audited passphrase three'

describe('audit log', () => {
  let capture: MailCapture
  let server: SesameServer
  const lines: string[] = []
  /** Everything secret the run handled; none may appear in any log line. */
  const secrets: string[] = [PASSWORD, NEW_PASSWORD, RESET_PASSWORD]

  beforeAll(async () => {
    capture = await startMailCapture()
    server = await buildServer({
      config: loadConfig({
        SESAME_STORE: 'memory',
        SESAME_DATA_DIR: makeTempDir('sesame-audit-'),
        SESAME_ISSUER: ISSUER,
        SESAME_COOKIE_NAME: 'sesame',
        SESAME_COOKIE_SECURE: 'false',
        SESAME_SMTP_URL: capture.url,
        SESAME_REFRESH_GRACE_SECONDS: '0',
        // Audit lines do not depend on the level that hides the server's other `info` lines.
        SESAME_LOG_LEVEL: 'warn',
      }),
      logStream: { write: (line) => void lines.push(line) },
      sleep: async () => {},
    })
  })
  afterAll(async () => {
    await server.app.close()
    await capture.close()
  })

  /** A request from a page of this origin (`app` false: from an app, which sends no Origin). */
  const inject = (
    method: string,
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
    from: 'page' | 'app' = 'page',
  ) =>
    server.app.inject({
      method: method as 'POST',
      url,
      headers: { ...(from === 'page' && PAGE), 'user-agent': BROWSER, ...headers },
      ...(payload && { payload }),
    })

  /** The audit lines written since `from` (an index into the captured lines). */
  const auditSince = (from: number): AuditLine[] => auditLinesOf(lines.slice(from))

  it('writes one line per action, with the user, address, agent summary and outcome', async () => {
    const email = 'audited@example.test'
    let mark = lines.length
    const signUp = await inject('POST', '/auth/signup', { email, password: PASSWORD })
    expect(signUp.statusCode).toBe(201)
    const userId = signUp.json<{ user: { id: string } }>().user.id
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({
        audit: 'sign_up',
        outcome: 'success',
        userId,
        ip: '127.0.0.1',
        userAgent: 'Safari on macOS',
        via: 'password',
        level: 30,
      }),
    ])
    const verification = linkToken(await capture.next(email))
    secrets.push(verification.token)

    mark = lines.length
    expect((await inject('POST', '/auth/signup', { email, password: PASSWORD })).statusCode).toBe(409)
    expect((await inject('POST', '/auth/session', { email, password: 'not the password' })).statusCode).toBe(
      401,
    )
    secrets.push('not the password')
    const signIn = await inject('POST', '/auth/session', { email, password: PASSWORD })
    expect(signIn.statusCode).toBe(200)
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!
    secrets.push(cookie.split('=')[1]!)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({ audit: 'sign_up', outcome: 'failure', error: 'email_taken', userId: null }),
      expect.objectContaining({
        audit: 'sign_in',
        outcome: 'failure',
        error: 'invalid_credentials',
        reason: 'wrong_password',
        via: 'cookie',
      }),
      expect.objectContaining({ audit: 'sign_in', outcome: 'success', userId, via: 'cookie' }),
    ])

    // Tokens: a password grant, a refresh, then the first refresh token again (reuse: the family dies).
    mark = lines.length
    const grant = await inject(
      'POST',
      '/auth/token',
      { grant_type: 'password', username: email, password: PASSWORD },
      {},
      'app',
    )
    expect(grant.statusCode).toBe(200)
    const first = grant.json<{ access_token: string; refresh_token: string }>()
    const refresh = async (refreshToken: string) => {
      const response = await inject('POST', '/auth/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      })
      expect(response.statusCode).toBe(200)
      const pair = response.json<{ access_token: string; refresh_token: string }>()
      secrets.push(pair.access_token, pair.refresh_token)
      return pair
    }
    secrets.push(first.access_token, first.refresh_token)
    // Two rotations: the first token is then older than the grace window's "previous" one, so it is reuse.
    const second = await refresh((await refresh(first.refresh_token)).refresh_token)
    const reused = await inject('POST', '/auth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    })
    expect(reused.statusCode).toBe(400)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({ audit: 'sign_in', outcome: 'success', userId, via: 'password_grant' }),
      // The successful refresh is counted by the metrics, not written; the reuse and the refused refresh are.
      expect.objectContaining({ audit: 'refresh_reuse_detected', outcome: 'success', userId, level: 40 }),
      expect.objectContaining({
        audit: 'refresh',
        outcome: 'failure',
        error: 'invalid_grant',
        reason: 'refresh_token_reuse',
      }),
    ])

    mark = lines.length
    const revoked = await inject('POST', '/auth/revoke', { token: second.refresh_token })
    expect(revoked.statusCode).toBe(200)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({ audit: 'token_revocation', outcome: 'success' }),
    ])

    // Password change (with the cookie), then email change and its confirmation through the mailed link.
    mark = lines.length
    const changed = await inject(
      'POST',
      '/auth/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD },
      { cookie },
    )
    expect(changed.statusCode).toBe(200)
    const newEmail = 'audited-new@example.test'
    const asked = await inject(
      'POST',
      '/auth/email',
      { new_email: newEmail, current_password: NEW_PASSWORD },
      { cookie },
    )
    expect(asked.statusCode).toBe(202)
    const change = linkToken(await capture.next(newEmail))
    secrets.push(change.token)
    expect((await inject('POST', '/auth/email/confirm', { token: change.token })).statusCode).toBe(200)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({
        audit: 'password_change',
        outcome: 'success',
        userId,
        userAgent: 'Safari on macOS',
      }),
      expect.objectContaining({ audit: 'email_change', outcome: 'success', userId }),
    ])

    // Password reset through the mailed link.
    mark = lines.length
    expect((await inject('POST', '/auth/password-reset', { email: newEmail })).statusCode).toBe(202)
    const reset = linkToken(await capture.next(newEmail, /reset/i))
    secrets.push(reset.token)
    expect(
      (
        await inject('POST', '/auth/password-reset/confirm', {
          token: reset.token,
          new_password: RESET_PASSWORD,
        })
      ).statusCode,
    ).toBe(204)
    expect(
      (
        await inject('POST', '/auth/password-reset/confirm', {
          token: reset.token,
          new_password: RESET_PASSWORD,
        })
      ).statusCode,
    ).toBe(400)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({ audit: 'password_reset', outcome: 'success', userId }),
      expect.objectContaining({
        audit: 'password_reset',
        outcome: 'failure',
        error: 'invalid_link',
        userId: null,
      }),
    ])

    // Devices: two sessions, one ended by id, then sign-out, then sign-out everywhere, then deletion.
    mark = lines.length
    const sessionOf = async () => {
      const response = await inject('POST', '/auth/session', { email: newEmail, password: RESET_PASSWORD })
      const pair = String(response.headers['set-cookie']).split(';')[0]!
      secrets.push(pair.split('=')[1]!)
      return pair
    }
    const a = await sessionOf()
    const b = await sessionOf()
    const listed = await inject('GET', '/auth/sessions', undefined, { cookie: a })
    const other = listed
      .json<{ sessions: { id: string; current: boolean }[] }>()
      .sessions.find((s) => !s.current)!
    expect((await inject('DELETE', `/auth/sessions/${other.id}`, undefined, { cookie: a })).statusCode).toBe(
      204,
    )
    expect(
      (await inject('DELETE', '/auth/sessions/no-such-device-id', undefined, { cookie: a })).statusCode,
    ).toBe(404)
    expect((await inject('DELETE', '/auth/session', undefined, { cookie: a })).statusCode).toBe(204)
    const c = await sessionOf()
    expect((await inject('POST', '/auth/logout-everywhere', undefined, { cookie: c })).statusCode).toBe(204)
    const d = await sessionOf()
    expect(
      (await inject('DELETE', '/auth/account', { current_password: RESET_PASSWORD }, { cookie: d }))
        .statusCode,
    ).toBe(204)
    expect(b).not.toBe(a)
    expect(auditSince(mark).map((line) => [line.audit, line.outcome, line.error ?? null])).toEqual([
      ['sign_in', 'success', null],
      ['sign_in', 'success', null],
      ['device_end', 'success', null],
      ['device_end', 'failure', 'not_found'],
      ['sign_out', 'success', null],
      ['sign_in', 'success', null],
      ['sign_out_everywhere', 'success', null],
      ['sign_in', 'success', null],
      ['account_delete', 'success', null],
    ])
    // Every one of them says whose, from where, with what.
    for (const line of auditSince(mark)) {
      expect(line, line.audit).toMatchObject({ userId, ip: '127.0.0.1', userAgent: 'Safari on macOS' })
    }
  })

  it("audits an operator's changes made through the engine: keys, clients, disabling", async () => {
    const mark = lines.length
    const kid = await server.auth.tokens.rotateSigningKey()
    const { client } = await server.auth.clients.register({
      id: 'audited-app',
      name: 'Audited',
      redirectUris: ['https://app.example.com/cb'],
    })
    const operated = await server.auth.createUser({ email: 'operated@example.test', password: PASSWORD })
    expect(await server.auth.disableUser('operated@example.test')).toBe(true)
    expect(await server.auth.disableUser('nobody@example.test')).toBe(false)
    await server.auth.devices.endAllForUser(operated.id)
    expect(auditSince(mark)).toEqual([
      expect.objectContaining({ audit: 'key_rotation', outcome: 'success', kid, via: 'staged' }),
      expect.objectContaining({ audit: 'client_registration', outcome: 'success', clientId: client.id }),
      expect.objectContaining({ audit: 'sign_up', outcome: 'success', userId: operated.id, via: 'operator' }),
      expect.objectContaining({ audit: 'account_disable', outcome: 'success', userId: operated.id }),
      expect.objectContaining({
        audit: 'account_disable',
        outcome: 'failure',
        error: 'not_found',
        userId: null,
      }),
      expect.objectContaining({
        audit: 'sign_out_everywhere',
        outcome: 'success',
        userId: operated.id,
        via: 'operator',
      }),
    ])
  })

  it('holds none of the passwords, cookies, tokens or link tokens the run handled', () => {
    expect(auditLinesOf(lines).length).toBeGreaterThan(20)
    const log = lines.join('')
    for (const secret of secrets) expect(log).not.toContain(secret)
    // Nor any email: events name users by id.
    expect(log).not.toMatch(/@example\.test/)
  })

  it.each([{ SESAME_AUDIT_LOG: 'false' }, { SESAME_LOG_LEVEL: 'silent' }])(
    'writes nothing with %o',
    async (setting) => {
      const quiet: string[] = []
      const off = await buildServer({
        config: loadConfig({ SESAME_STORE: 'memory', SESAME_LOG_LEVEL: 'info', ...setting }),
        logStream: { write: (line) => void quiet.push(line) },
      })
      try {
        const response = await off.app.inject({
          method: 'POST',
          url: '/auth/signup',
          headers: { origin: 'http://localhost:3000', host: 'localhost:3000' },
          payload: { email: 'quiet@example.test', password: PASSWORD },
        })
        expect(response.statusCode).toBe(201)
        expect(auditLinesOf(quiet)).toEqual([])
      } finally {
        await off.app.close()
      }
    },
  )
})
