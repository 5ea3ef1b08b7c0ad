/**
 * The account lifecycle over HTTP on every store, with real mail: Sesame sends over SMTP (nodemailer) to a
 * capture server on loopback (`smtp-server`), and the tests follow the links in the mails it received.
 * Verification, password reset (ending every device), email change, deletion, a mail server that refuses
 * mail, and sign-in held back until the email is verified.
 */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'
import { buildServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { EVERY_STORE, useEveryStore } from '../helpers/every-store.js'
import { type MailCapture, linkToken, startMailCapture } from '../helpers/mail-capture.js'
import { type TestServer, makeTempDir } from '../helpers/server.js'

const ISSUER = 'http://localhost:3997'
const SAME_ORIGIN = { origin: ISSUER, host: 'localhost:3997' }
const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'an entirely new passphrase'

let capture: MailCapture
let accounts = 0

beforeAll(async () => {
  capture = await startMailCapture()
})

afterAll(async () => {
  await capture?.close()
})

interface Me {
  user: { id: string; email: string; email_verified: boolean }
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SESAME_ISSUER: ISSUER,
    SESAME_COOKIE_NAME: 'sesame',
    SESAME_COOKIE_SECURE: 'false',
    SESAME_SMTP_URL: capture.url,
    SESAME_MAIL_FROM: 'Sesame <no-reply@example.test>',
    ...extra,
  }
}

function freshEmail(store: string): string {
  return `user${++accounts}-${store}@example.test`
}

async function post(server: TestServer, url: string, payload: object, headers: Record<string, string> = {}) {
  return server.app.inject({ method: 'POST', url, headers: { ...SAME_ORIGIN, ...headers }, payload })
}

async function signUp(server: TestServer, email: string) {
  const response = await post(server, '/auth/signup', { email, password: PASSWORD })
  expect(response.statusCode).toBe(201)
  return response.json<Me>().user
}

/** A cookie session for `email`; returns the `Cookie` header. */
async function signIn(server: TestServer, email: string, password = PASSWORD): Promise<string> {
  const response = await post(server, '/auth/session', { email, password })
  expect(response.statusCode).toBe(200)
  return String(response.headers['set-cookie']).split(';')[0]!
}

async function me(server: TestServer, headers: Record<string, string>) {
  return server.app.inject({ method: 'GET', url: '/auth/me', headers })
}

describe.each(EVERY_STORE)('account lifecycle on $name', (target) => {
  const stores = useEveryStore(target)

  it('verifies the email with the link mailed at sign-up; the link works once', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    await signUp(server, email)
    const mail = await capture.next(email, /confirm your email/i)
    expect(mail.html).toContain('<a href="http://localhost:3997/verify-email?token=')
    const { path, token } = linkToken(mail)
    expect(path).toBe('/verify-email')

    const cookie = await signIn(server, email)
    expect((await me(server, { cookie })).json<Me>().user.email_verified).toBe(false)
    const confirmed = await post(server, '/auth/email-verification/confirm', { token })
    expect(confirmed.statusCode).toBe(200)
    expect(confirmed.json<Me>().user).toMatchObject({ email, email_verified: true })
    expect((await me(server, { cookie })).json<Me>().user.email_verified).toBe(true)

    const again = await post(server, '/auth/email-verification/confirm', { token })
    expect(again.statusCode).toBe(400)
    expect(again.json<{ error: string }>().error).toBe('invalid_link')
  })

  it('sends a new verification link on request; only the newest works, and a failed mail changes nothing', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    await signUp(server, email)
    const first = linkToken(await capture.next(email))
    const cookie = await signIn(server, email)

    // The mail server refuses: the request fails, and the link already sent keeps working.
    capture.refuse = true
    let refused
    try {
      refused = await post(server, '/auth/email-verification', {}, { cookie })
    } finally {
      capture.refuse = false
    }
    expect(refused.statusCode).toBe(503)
    expect(refused.json<{ error: string }>().error).toBe('mail_unavailable')

    const resent = await post(server, '/auth/email-verification', {}, { cookie })
    expect(resent.statusCode).toBe(202)
    expect(resent.json()).toEqual({ sent: true })
    const second = linkToken(await capture.next(email))
    expect(second.token).not.toBe(first.token)
    const stale = await post(server, '/auth/email-verification/confirm', { token: first.token })
    expect(stale.json<{ error: string }>().error).toBe('invalid_link')
    expect((await post(server, '/auth/email-verification/confirm', { token: second.token })).statusCode).toBe(
      200,
    )

    // Verified: asking again sends nothing.
    const done = await post(server, '/auth/email-verification', {}, { cookie })
    expect(done.json()).toEqual({ sent: false })
  })

  it('resets a forgotten password: every device and token ends, the email counts as verified', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    await signUp(server, email)
    const cookie = await signIn(server, email)
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password: PASSWORD },
    })
    expect(grant.statusCode).toBe(200)
    const { access_token, refresh_token } = grant.json<{ access_token: string; refresh_token: string }>()

    const asked = await post(server, '/auth/password-reset', { email })
    expect(asked.statusCode).toBe(202)
    const { path, token } = linkToken(await capture.next(email, /reset/i))
    expect(path).toBe('/reset-password')
    // The link is mailed first and stored after, so a failed mail leaves the last link working: a test reads
    // the mail faster than a person could, and waits for the store.
    await vi.waitFor(async () => {
      const stored = await server.store.findOneTimeToken(
        'reset-password',
        hashSecret(token),
        Math.floor(Date.now() / 1000),
      )
      expect(stored).not.toBeNull()
    })

    // A weak password is refused and leaves the link usable.
    const weak = await post(server, '/auth/password-reset/confirm', { token, new_password: 'password' })
    expect(weak.statusCode).toBe(400)
    expect(weak.json<{ error: string }>().error).toBe('invalid_request')
    const reset = await post(server, '/auth/password-reset/confirm', { token, new_password: NEW_PASSWORD })
    expect(reset.statusCode).toBe(204)

    expect((await me(server, { cookie })).statusCode).toBe(401)
    expect((await me(server, { authorization: `Bearer ${access_token}` })).statusCode).toBe(401)
    const refreshed = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'refresh_token', refresh_token },
    })
    expect(refreshed.json<{ error: string }>().error).toBe('invalid_grant')
    expect((await post(server, '/auth/session', { email, password: PASSWORD })).statusCode).toBe(401)
    const fresh = await signIn(server, email, NEW_PASSWORD)
    expect((await me(server, { cookie: fresh })).json<Me>().user.email_verified).toBe(true)

    const reused = await post(server, '/auth/password-reset/confirm', {
      token,
      new_password: 'yet another passphrase',
    })
    expect(reused.json<{ error: string }>().error).toBe('invalid_link')
  })

  it('answers a reset request for an unknown address exactly as for a known one, and mails nobody', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    await signUp(server, email)
    await capture.next(email) // the verification mail
    const known = await post(server, '/auth/password-reset', { email })
    const unknown = await post(server, '/auth/password-reset', { email: `nobody-${email}` })
    expect(unknown.statusCode).toBe(known.statusCode)
    expect(unknown.body).toBe(known.body)
    const comparable = (headers: Record<string, unknown>) => {
      const { date: _date, ...rest } = headers
      return rest
    }
    expect(comparable(unknown.headers)).toEqual(comparable(known.headers))
    await capture.next(email, /reset/i)
    await server.auth.accounts.drain()
    expect(capture.mails.some((mail) => mail.to === `nobody-${email}`)).toBe(false)
  })

  it('takes as long for an unknown address as for a known one (medians of 30 interleaved requests)', async () => {
    // The limits off, so that 30 requests for one address are all answered rather than throttled.
    const server = await stores.start({
      env: env({ SESAME_MAILS_PER_ACCOUNT: '0', SESAME_MAILS_PER_IP: '0' }),
    })
    const email = freshEmail(target.name)
    await signUp(server, email)
    const durations = { known: [] as number[], unknown: [] as number[] }
    for (let round = 0; round < 30; round++) {
      for (const [kind, address] of [
        ['known', email],
        ['unknown', `nobody-${round}-${email}`],
      ] as const) {
        const started = process.hrtime.bigint()
        const response = await post(server, '/auth/password-reset', { email: address })
        durations[kind].push(Number(process.hrtime.bigint() - started))
        expect(response.statusCode).toBe(202)
      }
    }
    await server.auth.accounts.drain()
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    // Everything that depends on the account happens after the answer, so the two differ by noise only; the
    // bound is wide because a shared two-core machine is noisy, and a lookup-dependent path would exceed it.
    const ratio = median(durations.known) / median(durations.unknown)
    expect(ratio).toBeGreaterThan(1 / 3)
    expect(ratio).toBeLessThan(3)
  })

  it('changes the email only once the new address confirms, and tells the old one', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    const newEmail = `moved-${email}`
    const other = freshEmail(target.name)
    await signUp(server, email)
    await signUp(server, other)
    const cookie = await signIn(server, email)

    const wrong = await post(
      server,
      '/auth/email',
      { new_email: newEmail, current_password: 'wrong password!' },
      { cookie },
    )
    expect(wrong.json<{ error: string }>().error).toBe('invalid_credentials')
    const taken = await post(
      server,
      '/auth/email',
      { new_email: other, current_password: PASSWORD },
      { cookie },
    )
    expect(taken.json<{ error: string }>().error).toBe('email_taken')

    const asked = await post(
      server,
      '/auth/email',
      { new_email: newEmail, current_password: PASSWORD },
      { cookie },
    )
    expect(asked.statusCode).toBe(202)
    const notice = await capture.next(email, /being changed/i)
    expect(notice.text).toContain(newEmail)
    const { path, token } = linkToken(await capture.next(newEmail))
    expect(path).toBe('/confirm-email')
    expect((await me(server, { cookie })).json<Me>().user.email).toBe(email)

    const confirmed = await post(server, '/auth/email/confirm', { token })
    expect(confirmed.statusCode).toBe(200)
    expect(confirmed.json<Me>().user).toMatchObject({ email: newEmail, email_verified: true })
    expect((await post(server, '/auth/session', { email, password: PASSWORD })).statusCode).toBe(401)
    await signIn(server, newEmail)
  })

  it('deletes the account with its password: sessions and tokens end, and the email is free again', async () => {
    const server = await stores.start({ env: env() })
    const email = freshEmail(target.name)
    await signUp(server, email)
    const cookie = await signIn(server, email)
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password: PASSWORD },
    })
    const { access_token } = grant.json<{ access_token: string }>()

    const refused = await server.app.inject({
      method: 'DELETE',
      url: '/auth/account',
      headers: { ...SAME_ORIGIN, cookie },
      payload: { current_password: 'not the password' },
    })
    expect(refused.statusCode).toBe(401)
    const deleted = await server.app.inject({
      method: 'DELETE',
      url: '/auth/account',
      headers: { ...SAME_ORIGIN, cookie },
      payload: { current_password: PASSWORD },
    })
    expect(deleted.statusCode).toBe(204)
    expect(String(deleted.headers['set-cookie'])).toMatch(/Max-Age=0/i)
    expect((await me(server, { cookie })).statusCode).toBe(401)
    expect((await me(server, { authorization: `Bearer ${access_token}` })).statusCode).toBe(401)
    expect((await post(server, '/auth/session', { email, password: PASSWORD })).statusCode).toBe(401)
    await signUp(server, email)
  })

  it('holds sign-in back until the email is verified when that is required', async () => {
    const server = await stores.start({ env: env({ SESAME_REQUIRE_EMAIL_VERIFICATION: 'true' }) })
    const email = freshEmail(target.name)
    await signUp(server, email)
    await capture.next(email)
    const held = await post(server, '/auth/session', { email, password: PASSWORD })
    expect(held.statusCode).toBe(403)
    expect(held.json<{ error: string }>().error).toBe('email_not_verified')
    const grant = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password: PASSWORD },
    })
    expect(grant.json<{ error: string }>().error).toBe('email_not_verified')
    // Each refusal mailed a new link, the last replacing the first; a wrong password gets no such mail (and no
    // hint). The queue is drained so the last link is stored before it is used.
    await capture.next(email)
    const { token } = linkToken(await capture.next(email))
    await server.auth.accounts.drain()
    expect((await post(server, '/auth/session', { email, password: 'wrong password!' })).statusCode).toBe(401)
    expect((await post(server, '/auth/email-verification/confirm', { token })).statusCode).toBe(200)
    await signIn(server, email)
  })
})

describe('mail with no SMTP server configured (the embedded default)', () => {
  it('writes each mail to the outbox folder and logs its link, so a developer can follow it', async () => {
    const dataDir = makeTempDir('sesame-outbox-')
    const lines: string[] = []
    const { app } = await buildServer({
      config: loadConfig({ SESAME_STORE: 'memory', SESAME_DATA_DIR: dataDir, SESAME_ISSUER: ISSUER }),
      logStream: { write: (line) => lines.push(line) },
      sleep: async () => {},
    })
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/auth/signup',
        headers: SAME_ORIGIN,
        payload: { email: 'outbox@example.test', password: PASSWORD },
      })
      expect(response.statusCode).toBe(201)
      await app.close() // drains the mail queue
      const files = readdirSync(join(dataDir, 'outbox'))
      expect(files).toHaveLength(1)
      const file = join(dataDir, 'outbox', files[0]!)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const message = readFileSync(file, 'utf8')
      expect(message).toMatch(/^To: outbox@example\.test$/m)
      const logged = lines.map((line) => JSON.parse(line) as { msg: string; link?: string; file?: string })
      const entry = logged.find((line) => line.msg.startsWith('mail written to the outbox'))
      expect(entry?.file).toBe(file)
      expect(entry?.link).toMatch(/^http:\/\/localhost:3997\/verify-email\?token=[\w-]{43}$/)
    } finally {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
