/**
 * Sesame as an OAuth 2.1 / OpenID Connect provider, driven by the certified relying-party libraries over real
 * HTTP on every store: `openid-client` (discovery, authorization URL with PKCE, the code grant with its state,
 * nonce, `iss` and ID-token checks, userinfo, refresh, introspection, revocation, end-session) and
 * `oauth4webapi` (RFC 9068 access-token validation). The browser between the two is a cookie jar following
 * Sesame's redirects (the Chromium run of the same flow is in test/browser/).
 */
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Auth } from '../../src/auth.js'
import { EVERY_STORE, type StoreRun, openStoreRun } from '../helpers/every-store.js'
import { freePort } from '../helpers/oidc-provider.js'
import type { TestServer } from '../helpers/server.js'

const EMAIL = 'ada@example.com'
const PASSWORD = 'correct horse battery staple'
/** Never contacted: the test reads the redirect Sesame answers with. */
const CALLBACK = 'http://127.0.0.1:7777/callback'
const AFTER_LOGOUT = 'http://127.0.0.1:7777/bye'
/** A web app's redirect (a loopback one is a native app's, which is asked for consent every time). */
const WEB_CALLBACK = 'https://spa.example.com/callback'

/** A browser: cookies kept per name, redirects seen one by one. */
class Browser {
  readonly cookies = new Map<string, string>()
  readonly origin: string

  constructor(origin: string) {
    this.origin = origin
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ status: number; location: string | null; body: string; headers: Headers }> {
    const headers: Record<string, string> = { cookie: this.header() }
    let body: string | undefined
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['origin'] = this.origin // a form post from Sesame's own page
      body = new URLSearchParams(init.form).toString()
    }
    const response = await fetch(new URL(url, this.origin), {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    })
    this.keep(response.headers.getSetCookie())
    const location = response.headers.get('location')
    return {
      status: response.status,
      location: location === null ? null : new URL(location, this.origin).href,
      body: await response.text(),
      headers: response.headers,
    }
  }

  private header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  private keep(lines: string[]): void {
    for (const line of lines) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      if (attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(eq + 1))
    }
  }
}

/** The message of what `failing` rejects with, and of its cause (openid-client wraps the precise one). */
async function causeOf(failing: Promise<unknown>): Promise<string> {
  const error = await failing.then(
    () => {
      throw new Error('expected a rejection')
    },
    (rejection: unknown) => rejection as Error & { cause?: unknown },
  )
  return `${error.message}: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`
}

/** Hidden fields of the first form posting to `action` in `html`. */
function formFields(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`action="${action}"`)
  expect(start).toBeGreaterThan(-1)
  const form = html.slice(start, html.indexOf('</form>', start))
  const fields: Record<string, string> = {}
  for (const match of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1]!] = match[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'")
  }
  return fields
}

describe.each(EVERY_STORE)('Sesame as an OpenID provider ($name)', (target) => {
  let run: StoreRun
  let server: TestServer
  let issuer: string
  let auth: Auth

  beforeEach(async () => {
    run = openStoreRun(target)
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    server = await run.start({
      env: { SESAME_ISSUER: issuer, SESAME_COOKIE_SECURE: 'false', SESAME_COOKIE_NAME: 'sesame' },
    })
    await server.app.listen({ port, host: '127.0.0.1' })
    auth = server.auth
    await auth.createUser({ email: EMAIL, password: PASSWORD })
  })

  afterEach(async () => {
    await run.cleanup()
  })

  async function register(options: {
    id: string
    confidential?: boolean
    firstParty?: boolean
    redirectUri?: string
  }) {
    return auth.clients.register({
      id: options.id,
      name: `The ${options.id} app`,
      confidential: options.confidential,
      firstParty: options.firstParty,
      redirectUris: [options.redirectUri ?? CALLBACK],
      postLogoutRedirectUris: [AFTER_LOGOUT],
    })
  }

  async function discover(id: string, secret: string | null): Promise<client.Configuration> {
    return client.discovery(
      new URL(issuer),
      id,
      undefined,
      secret === null ? client.None() : client.ClientSecretBasic(secret),
      { execute: [client.allowInsecureRequests] },
    )
  }

  /** Starts an authorization as openid-client builds it; returns the URL and what the callback checks. */
  async function authorizationUrl(config: client.Configuration, extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: extra['redirect_uri'] ?? CALLBACK,
      scope: 'openid email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    })
    return {
      url: url.href,
      checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
    }
  }

  /** Follows Sesame's pages as a person would: log in, allow if asked; returns the redirect to the client. */
  async function signInAndAllow(
    browser: Browser,
    url: string,
    { expectConsent = true, callback = CALLBACK } = {},
  ): Promise<string> {
    let answer = await browser.request(url)
    expect(answer.status).toBe(303)
    if (answer.location!.startsWith(`${issuer}/login`)) {
      const login = await browser.request(answer.location!)
      expect(login.status).toBe(200)
      answer = await browser.request('/login', {
        form: { ...formFields(login.body, '/login'), email: EMAIL, password: PASSWORD },
      })
      expect(answer.status).toBe(303)
      answer = await browser.request(answer.location!)
    }
    if (expectConsent) {
      expect(answer.status).toBe(200)
      expect(answer.body).toContain('wants to use your Sesame account')
      answer = await browser.request('/auth/authorize', {
        form: formFields(answer.body, '/auth/authorize'),
      })
    }
    expect(answer.status).toBe(303)
    expect(answer.location!.startsWith(`${callback}?`)).toBe(true)
    return answer.location!
  }

  it('completes the code flow with a confidential third-party client, end to end', async () => {
    const { secret } = await register({ id: 'backend', confidential: true })
    const config = await discover('backend', secret)
    expect(config.serverMetadata()).toMatchObject({
      issuer,
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    })
    const browser = new Browser(issuer)
    const { url, checks } = await authorizationUrl(config)
    const callback = await signInAndAllow(browser, url)
    expect(new URL(callback).searchParams.get('iss')).toBe(issuer)

    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      ...checks,
      idTokenExpected: true,
    })
    expect(tokens.token_type.toLowerCase()).toBe('bearer')
    expect(tokens.scope).toBe('openid email offline_access')
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const claims = tokens.claims()!
    const user = (await auth.findUser(claims.sub))!
    expect(user.email).toBe(EMAIL)
    expect(claims).toMatchObject({ iss: issuer, aud: 'backend', nonce: checks.expectedNonce, email: EMAIL })
    expect(typeof claims.auth_time).toBe('number')
    expect(typeof claims['at_hash']).toBe('string')
    // The browser signed in with a password: the ID token and the access token both say so (RFC 8176).
    expect(claims.amr).toEqual(['pwd'])
    expect(decodeJwt(tokens.access_token)).toMatchObject({ amr: ['pwd'] })

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    expect(info).toEqual({ sub: claims.sub, email: EMAIL, email_verified: false })

    // RFC 9068: a certified resource-server validation accepts the access token.
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { [oauth.allowInsecureRequests]: true }),
    )
    const apiRequest = new Request(`${issuer}/api`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    const validated = await oauth.validateJwtAccessToken(as, apiRequest, issuer, {
      [oauth.allowInsecureRequests]: true,
    })
    expect(validated).toMatchObject({
      client_id: 'backend',
      sub: claims.sub,
      scope: 'openid email offline_access',
    })

    const introspected = await client.tokenIntrospection(config, tokens.access_token)
    expect(introspected).toMatchObject({ active: true, client_id: 'backend', sub: claims.sub })

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid' })
    expect(refreshed.scope).toBe('openid')
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)

    await client.tokenRevocation(config, refreshed.refresh_token!)
    expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toEqual({ active: false })
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    })

    // RP-initiated logout with the ID token as the hint: the Sesame session ends, the browser goes back.
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'see-you',
    })
    const ended = await browser.request(logout.href)
    expect(ended.status).toBe(303)
    expect(ended.location).toBe(`${AFTER_LOGOUT}?state=see-you`)
    expect(browser.cookies.has('sesame')).toBe(false)
  })

  it('asks for consent once per scope set, and prompt=none answers without a page', async () => {
    const { secret } = await register({ id: 'backend', confidential: true })
    const config = await discover('backend', secret)
    const browser = new Browser(issuer)
    await signInAndAllow(browser, (await authorizationUrl(config)).url)
    // Remembered: the same scopes go straight back, also silently.
    const again = await browser.request((await authorizationUrl(config, { prompt: 'none' })).url)
    expect(again.status).toBe(303)
    expect(new URL(again.location!).searchParams.get('code')).toBeTruthy()
    // A wider request needs consent: silently, that is an error on the redirect URI, with state and iss.
    const wider = await authorizationUrl(config, { prompt: 'none', scope: 'openid email profile' })
    const refused = await browser.request(wider.url)
    const params = new URL(refused.location!).searchParams
    expect(params.get('error')).toBe('consent_required')
    expect(params.get('state')).toBe(wider.checks.expectedState)
    expect(params.get('iss')).toBe(issuer)
    // And signed out, prompt=none is login_required.
    const stranger = await new Browser(issuer).request(
      (await authorizationUrl(config, { prompt: 'none' })).url,
    )
    expect(new URL(stranger.location!).searchParams.get('error')).toBe('login_required')
  })

  it('lets a first-party public client in without a consent screen, with PKCE and no secret', async () => {
    await register({ id: 'spa', firstParty: true, redirectUri: WEB_CALLBACK })
    const config = await discover('spa', null)
    const { url, checks } = await authorizationUrl(config, { redirect_uri: WEB_CALLBACK })
    const callback = await signInAndAllow(new Browser(issuer), url, {
      expectConsent: false,
      callback: WEB_CALLBACK,
    })
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), checks)
    expect(tokens.claims()!.aud).toBe('spa')
    expect(tokens.refresh_token).toBeTruthy()
  })

  it("gives the relying party what it needs to catch a swapped answer: the request's nonce, and iss", async () => {
    const { secret } = await register({ id: 'backend', confidential: true })
    const config = await discover('backend', secret)
    const { url, checks } = await authorizationUrl(config)
    const callback = new URL(await signInAndAllow(new Browser(issuer), url))
    // Mix-up (RFC 9207): an answer claiming another issuer is refused before any code is sent.
    const mixedUp = new URL(callback)
    mixedUp.searchParams.set('iss', 'https://other-provider.example')
    expect(await causeOf(client.authorizationCodeGrant(config, mixedUp, checks))).toMatch(/"iss"/)
    // A code from another sign-in (another nonce) shows in the ID token.
    const swapped = client.authorizationCodeGrant(config, callback, {
      ...checks,
      expectedNonce: client.randomNonce(),
    })
    expect(await causeOf(swapped)).toMatch(/"nonce"/)
  })

  it('revokes what a code issued when the code is replayed', async () => {
    const { secret } = await register({ id: 'backend', confidential: true })
    const config = await discover('backend', secret)
    const { url, checks } = await authorizationUrl(config)
    const callback = new URL(await signInAndAllow(new Browser(issuer), url))
    const first = await client.authorizationCodeGrant(config, callback, checks)
    await expect(client.authorizationCodeGrant(config, callback, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    const me = await fetch(`${issuer}/auth/me`, {
      headers: { authorization: `Bearer ${first.access_token}` },
    })
    expect(me.status).toBe(401)
  })
})
