/**
 * Passkeys in Debian's Chromium with its virtual authenticator (Chrome DevTools Protocol `WebAuthn` domain,
 * through playwright-core's CDP session): a signed-in person registers a passkey, signs out, signs in with the
 * passkey alone (`amr`: a key and `mfa`), cannot replay an answer, and a cloned credential whose counter went
 * backwards is refused. The page calls the JSON API with the browser's own WebAuthn JSON helpers
 * (`PublicKeyCredential.parse…OptionsFromJSON`, `toJSON()`).
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { freePort } from '../helpers/oidc-provider.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const PASSWORD = 'passkey test passphrase'
let server: TestServer
let browser: Browser
let base = ''

beforeAll(async () => {
  const port = await freePort()
  // `localhost`: a secure context for WebAuthn and for the Secure cookie; the RP ID is the issuer's host.
  base = `http://localhost:${port}`
  server = await startTestServer({ env: { SESAME_ISSUER: base } })
  await server.app.listen({ port, host: '127.0.0.1' })
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

interface Authenticated {
  context: BrowserContext
  page: Page
  cdp: CDPSession
  authenticatorId: string
}

/** A new browser profile on Sesame's origin with a virtual platform authenticator that verifies its user. */
async function withAuthenticator(): Promise<Authenticated> {
  const context = await browser.newContext()
  const page = await context.newPage()
  // A blank page of Sesame's origin without the pages' CSP (which allows no fetch from inline code): the test
  // plays an app page calling the JSON API.
  await page.route(`${base}/blank`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title>' }),
  )
  await page.goto(`${base}/blank`)
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })
  return { context, page, cdp, authenticatorId }
}

/** A JSON POST from the page (same origin: the browser sends Origin and the cookies). */
function post(
  page: Page,
  path: string,
  body: object,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return page.evaluate(
    async ({ path, body }) => {
      const response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return {
        status: response.status,
        body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
      }
    },
    { path, body },
  )
}

interface CeremonyAnswer {
  /** How many credentials the options named (`allowCredentials`). */
  named: number
  status: number
  body: Record<string, unknown>
  /** What was posted to `finish`: to replay it. */
  sent: object
}

/**
 * One WebAuthn ceremony from the page: the options from `start`, the browser's `create` or `get` through the
 * virtual authenticator, and its answer posted to `finish` (inside `wrap`, when the route nests it).
 */
function ceremony(
  page: Page,
  steps: { start: string; finish: string; create: boolean; extra?: object; wrap?: string },
): Promise<CeremonyAnswer> {
  return page.evaluate(async ({ start, finish, create, extra, wrap }) => {
    const call = (path: string, body: object) =>
      fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const begun = (await (await call(start, {})).json()) as {
      options: { allowCredentials?: unknown[] }
      ceremony: string
    }
    const { PublicKeyCredential: Credential, navigator } = globalThis as unknown as {
      PublicKeyCredential: {
        parseCreationOptionsFromJSON(options: object): object
        parseRequestOptionsFromJSON(options: object): object
      }
      navigator: { credentials: Record<'create' | 'get', (options: object) => Promise<{ toJSON(): object }>> }
    }
    const credential = create
      ? await navigator.credentials.create({
          publicKey: Credential.parseCreationOptionsFromJSON(begun.options),
        })
      : await navigator.credentials.get({ publicKey: Credential.parseRequestOptionsFromJSON(begun.options) })
    const answer = { ceremony: begun.ceremony, response: credential.toJSON(), ...extra }
    const sent = wrap ? { [wrap]: answer } : answer
    const done = await call(finish, sent)
    return {
      named: begun.options.allowCredentials?.length ?? 0,
      status: done.status,
      body: (await done.json()) as Record<string, unknown>,
      sent,
    }
  }, steps)
}

const register = (page: Page) =>
  ceremony(page, {
    start: '/auth/passkeys/options',
    finish: '/auth/passkeys',
    create: true,
    extra: { name: 'Laptop' },
  })

const passkeySignIn = (page: Page) =>
  ceremony(page, { start: '/auth/session/passkey/options', finish: '/auth/session/passkey', create: false })

describe('passkeys in Chromium (virtual authenticator)', { timeout: 120_000 }, () => {
  it('registers a passkey, signs in with it alone, refuses a replay and a clone whose counter went back', async () => {
    const email = 'passkey-person@example.com'
    await server.auth.signUp({ email, password: PASSWORD })
    const first = await withAuthenticator()
    try {
      expect((await post(first.page, '/auth/session', { email, password: PASSWORD })).status).toBe(200)
      const registered = await register(first.page)
      expect(registered.status).toBe(201)
      expect(registered.body).toMatchObject({ passkey: { name: 'Laptop' } })
      const user = (await server.store.findUserByEmail(email))!
      expect((await server.auth.secondFactors.status(user.id)).factors).toMatchObject([
        { kind: 'passkey', name: 'Laptop' },
      ])

      // Signed out, the passkey alone signs in: a key and a verified user, two factors in one.
      expect(
        await first.page.evaluate(() => fetch('/auth/session', { method: 'DELETE' }).then((r) => r.status)),
      ).toBe(204)
      const signedIn = await passkeySignIn(first.page)
      expect(signedIn.status).toBe(200)
      expect(signedIn.body).toMatchObject({ user: { email }, session: { method: 'cookie' } })
      const amr = (signedIn.body['session'] as { amr: string[] }).amr
      expect(amr).toContain('mfa')
      expect(amr.some((method) => method === 'hwk' || method === 'swk')).toBe(true)

      // The password alone now stops at the second step, which the passkey finishes.
      expect(
        await first.page.evaluate(() => fetch('/auth/session', { method: 'DELETE' }).then((r) => r.status)),
      ).toBe(204)
      const halfway = await post(first.page, '/auth/session', { email, password: PASSWORD })
      expect(halfway.body).toMatchObject({ second_factor_required: true, methods: ['passkey'] })
      const second = await ceremony(first.page, {
        start: '/auth/session/second-factor/passkey/options',
        finish: '/auth/session/second-factor',
        create: false,
        wrap: 'passkey',
      })
      expect(second.named).toBe(1)
      expect(second.status).toBe(200)
      const twoStep = (second.body['session'] as { amr: string[] }).amr
      expect(twoStep[0]).toBe('pwd')
      expect(twoStep).toContain('mfa')

      // The same answer again: its challenge was used.
      const replayed = await post(first.page, '/auth/session/passkey', signedIn.sent)
      expect(replayed.status).toBe(401)
      expect(replayed.body).toMatchObject({ error: 'invalid_passkey' })

      // A second sign-in moves the counter on; a copy of the key with its counter back at 0 is refused.
      expect((await passkeySignIn(first.page)).status).toBe(200)
      const { credentials } = await first.cdp.send('WebAuthn.getCredentials', {
        authenticatorId: first.authenticatorId,
      })
      expect(credentials).toHaveLength(1)
      expect(credentials[0]!.signCount).toBeGreaterThan(0)
      const clone = await withAuthenticator()
      try {
        await clone.cdp.send('WebAuthn.addCredential', {
          authenticatorId: clone.authenticatorId,
          credential: { ...credentials[0]!, signCount: 0 },
        })
        const cloned = await passkeySignIn(clone.page)
        expect(cloned.status).toBe(401)
        expect(cloned.body).toMatchObject({ error: 'invalid_passkey' })
      } finally {
        await clone.context.close()
      }

      // Removed from a fresh sign-in with it, the password signs in alone again.
      const [passkey] = (await server.auth.secondFactors.status(user.id)).factors
      const removed = await first.page.evaluate(
        (id) => fetch(`/auth/passkeys/${id}`, { method: 'DELETE' }).then((r) => r.status),
        passkey!.id,
      )
      expect(removed).toBe(204)
      expect((await post(first.page, '/auth/session', { email, password: PASSWORD })).body).toMatchObject({
        user: { email },
      })
    } finally {
      await first.context.close()
    }
  })

  // The step-up (an old session, an access token, a session without the second factor) is tested over HTTP
  // in test/integration/passkey-api.test.ts; here, that a browser with no session gets no options at all.
  it('gives a browser without a session no registration options', async () => {
    const page = (await withAuthenticator()).page
    try {
      const anonymous = await post(page, '/auth/passkeys/options', {})
      expect(anonymous.status).toBe(401)
    } finally {
      await page.context().close()
    }
  })
})
