/**
 * The web pages: sign up, log in, account, log out. Plain HTML forms posting to the same origin, with no
 * script; every page is served with a strict Content-Security-Policy and `Cache-Control: no-store`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, LinkedIdentity, RequestAuthentication, SessionAuthentication } from '../../auth.js'
import { isAuthError } from '../../core/errors.js'
import { authenticationOf } from '../pipeline.js'
import { appendSetCookies, setCookie } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'
import { dropsSecureCookie, insecureCookieAdvice } from '../secure-context.js'
import { clientContextOf, signInFromRequest } from '../sign-in.js'
import { type Html, html } from './html.js'
import { layout } from './layout.js'
import { type NoticeKey, noticeOf, readNotice } from './notices.js'
import { ICON_SVG, STYLESHEET } from './style.js'

/** A sign-in provider as the pages offer it. */
export interface ProviderButton {
  id: string
  displayName: string
  /** Where its sign-in page is: a link form posts here through a redirect, which the CSP must allow. */
  authorizationOrigin: string
}

export interface PageRoutesOptions {
  auth: Auth
  /** Sign-in providers, in the order their buttons appear; none by default. */
  providers?: readonly ProviderButton[]
}

/** Pages read the session cookie; an ended one counts as signed out (`pipeline.ts`). */
const PAGE = { config: { auth: 'page' } } as const

/**
 * The headers of every page. `form-action` applies to a form's redirects too, so it names the providers'
 * sign-in origins, where the account page's "Link" forms end up.
 */
function pageHeaders(providers: readonly ProviderButton[]): Record<string, string> {
  const formTargets = ["'self'", ...new Set(providers.map((provider) => provider.authorizationOrigin))]
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  }
}

/**
 * Registers `/`, `/signup`, `/login`, `/account` (with its forms: unlink a provider, set a first password),
 * `/logout` and the two `/assets/`.
 */
export async function pageRoutes(
  app: FastifyInstance,
  { auth, providers = [] }: PageRoutesOptions,
): Promise<void> {
  const PAGE_HEADERS = pageHeaders(providers)
  /** The cookie session of a page request, or null (pages are for browsers: a bearer token is not a session). */
  function currentSession(request: FastifyRequest): SessionAuthentication | null {
    const found = authenticationOf<RequestAuthentication>(request)
    return found?.principal.method === 'cookie' && found.user
      ? { principal: found.principal, user: found.user, cookie: found.cookie }
      : null
  }

  const cookieIsSecure = auth.config.cookie.secure !== false
  const issuerIsHttps = (auth.config.tokens?.issuer ?? '').startsWith('https:')
  /**
   * Why the browser will refuse the session cookie on this request, or null. A form post names the browser's
   * origin in `Origin`, which is exact, so a sign-in or sign-up is refused on it before anything is written. A
   * navigation names no origin: the page warns only when nothing suggests HTTPS (an https issuer, a TLS proxy's
   * `X-Forwarded-Proto` or `Forwarded`), since a false warning would tell a person their working sign-in is
   * broken.
   */
  function cookieProblem(request: FastifyRequest): string | null {
    if (!cookieIsSecure) return null
    const origin = request.method === 'POST' ? request.headers.origin : navigationOrigin(request)
    return origin !== undefined && dropsSecureCookie(origin) ? insecureCookieAdvice(origin) : null
  }

  function navigationOrigin(request: FastifyRequest): string | undefined {
    if (issuerIsHttps || request.protocol !== 'http') return undefined
    if (request.headers['x-forwarded-proto'] !== undefined || request.headers.forwarded !== undefined) {
      return undefined
    }
    return `http://${request.host}`
  }

  function page(
    reply: FastifyReply,
    status: number,
    title: string,
    signedInAs: string | null,
    body: Html,
  ): FastifyReply {
    return reply.code(status).headers(PAGE_HEADERS).send(layout({ title, signedInAs, body }))
  }

  for (const [path, type, body] of [
    ['/assets/style.css', 'text/css; charset=utf-8', STYLESHEET],
    ['/assets/icon.svg', 'image/svg+xml', ICON_SVG],
  ] as const) {
    app.get(path, async (_request, reply) =>
      reply
        .type(type)
        .header('cache-control', 'public, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    )
  }

  app.get('/', PAGE, async (request, reply) => {
    const session = currentSession(request)
    return reply.redirect(session ? '/account' : '/login', 303)
  })

  app.get('/signup', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (session) return reply.redirect('/account', 303)
    return page(reply, 200, 'Sign up', null, signUpForm('', cookieProblem(request), providers))
  })

  app.post('/signup', async (request, reply) => {
    const { email = '', password = '' } = readStringFields(request.body, ['email', 'password'])
    const problem = cookieProblem(request) // refused before the account exists: it could not be signed in to
    if (problem) return page(reply, 400, 'Sign up', null, signUpForm(email, problem, providers))
    try {
      const user = await auth.signUp({ email, password, ip: request.ip })
      await auth.signOut(request.headers.cookie) // a session this browser already had is replaced, not kept
      const { cookie } = await auth.createSession(user, clientContextOf(request))
      setCookie(reply, cookie)
      return reply.redirect('/account', 303)
    } catch (error) {
      if (isAuthError(error, 'invalid_request') || isAuthError(error, 'email_taken')) {
        return page(reply, error.status, 'Sign up', null, signUpForm(email, error.message, providers))
      }
      throw error
    }
  })

  app.get('/login', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (session) return reply.redirect('/account', 303)
    const notice = readNotice(request.query)
    const problem = cookieProblem(request) ?? (notice?.kind === 'error' ? notice.text : null)
    return page(reply, 200, 'Log in', null, logInForm('', problem, providers))
  })

  app.post('/login', async (request, reply) => {
    const { email = '', password = '' } = readStringFields(request.body, ['email', 'password'])
    const problem = cookieProblem(request)
    if (problem) return page(reply, 400, 'Log in', null, logInForm(email, problem, providers))
    try {
      const result = await signInFromRequest(auth, request, { email, password })
      appendSetCookies(reply, [result.setCookie])
      return reply.redirect('/account', 303)
    } catch (error) {
      if (isAuthError(error, 'invalid_request') || isAuthError(error, 'invalid_credentials')) {
        return page(reply, error.status, 'Log in', null, logInForm(email, error.message, providers))
      }
      throw error
    }
  })

  app.get('/account', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (!session) return reply.redirect('/login', 303)
    const identities = await auth.federation.identities(session.user.id)
    const notice = readNotice(request.query)
    return page(
      reply,
      200,
      'Account',
      session.user.email,
      accountView(session, { identities, providers, notice }),
    )
  })

  /** Back to the account page with a notice; a refusal the page can explain is not an error page. */
  async function accountAction(
    request: FastifyRequest,
    reply: FastifyReply,
    action: (session: SessionAuthentication) => Promise<NoticeKey>,
  ): Promise<FastifyReply> {
    const session = currentSession(request)
    if (!session) return reply.redirect('/login', 303)
    let notice: NoticeKey
    try {
      notice = await action(session)
    } catch (error) {
      if (!isAuthError(error) || error.status >= 500) throw error
      notice = noticeOf(error)
    }
    return reply.redirect(`/account?notice=${notice}`, 303)
  }

  app.post<{ Params: { provider: string } }>(
    '/account/identities/:provider/unlink',
    PAGE,
    async (request, reply) =>
      accountAction(request, reply, async (session) => {
        await auth.federation.unlink(session.user.id, request.params.provider)
        return 'unlinked'
      }),
  )

  // An account made through a provider sets its first password here; changing one is `POST /auth/password`.
  app.post('/account/password', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (!session) return reply.redirect('/login', 303)
    const { new_password: newPassword = '' } = readStringFields(request.body, ['new_password'])
    try {
      await auth.changePassword(session.principal, {
        currentPassword: undefined,
        newPassword,
        ip: request.ip,
      })
    } catch (error) {
      if (!isAuthError(error, 'invalid_request') && !isAuthError(error, 'invalid_credentials')) throw error
      const identities = await auth.federation.identities(session.user.id)
      const notice = { kind: 'error', text: error.message } as const
      return page(
        reply,
        error.status,
        'Account',
        session.user.email,
        accountView(session, { identities, providers, notice }),
      )
    }
    return reply.redirect('/account?notice=password_set', 303)
  })

  app.post('/logout', async (request, reply) => {
    const { cookie } = await auth.signOut(request.headers.cookie)
    setCookie(reply, cookie)
    return reply.redirect('/login', 303)
  })
}

function errorBox(message: string | null): Html | null {
  return message ? html`<p class="error" role="alert">${message}</p>` : null
}

function providerButtons(providers: readonly ProviderButton[], verb: string): Html | null {
  if (providers.length === 0) return null
  return html`<div class="providers">
      ${providers.map(
        (provider) =>
          html`<a class="provider" href="/auth/social/${provider.id}">${verb} ${provider.displayName}</a>`,
      )}
    </div>
    <p class="or">or</p>`
}

function signUpForm(email: string, error: string | null, providers: readonly ProviderButton[]): Html {
  return html`<h1>Create your account</h1>
    ${errorBox(error)} ${providerButtons(providers, 'Continue with')}
    <form method="post" action="/signup">
      <label
        >Email <input type="email" name="email" value="${email}" autocomplete="username" required
      /></label>
      <label
        >Password
        <input
          type="password"
          name="password"
          minlength="8"
          maxlength="256"
          autocomplete="new-password"
          required
      /></label>
      <p class="hint">At least 8 characters. Long passphrases are welcome.</p>
      <button type="submit">Sign up</button>
    </form>
    <p class="hint">Already have an account? <a href="/login">Log in</a></p>`
}

function logInForm(email: string, error: string | null, providers: readonly ProviderButton[]): Html {
  return html`<h1>Log in</h1>
    ${errorBox(error)} ${providerButtons(providers, 'Continue with')}
    <form method="post" action="/login">
      <label
        >Email <input type="email" name="email" value="${email}" autocomplete="username" required
      /></label>
      <label
        >Password <input type="password" name="password" autocomplete="current-password" required
      /></label>
      <button type="submit">Log in</button>
    </form>
    <p class="hint">New here? <a href="/signup">Create an account</a></p>`
}

function noticeBox(notice: { kind: 'error' | 'success'; text: string } | null): Html | null {
  if (!notice) return null
  return notice.kind === 'error'
    ? html`<p class="error" role="alert">${notice.text}</p>`
    : html`<p class="success" role="status">${notice.text}</p>`
}

function accountView(
  { user, principal }: SessionAuthentication,
  extra: {
    identities: readonly LinkedIdentity[]
    providers: readonly ProviderButton[]
    notice: { kind: 'error' | 'success'; text: string } | null
  },
): Html {
  const time = (seconds: number): string =>
    new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
  const nameOf = (id: string): string =>
    extra.providers.find((provider) => provider.id === id)?.displayName ?? id
  const linked = new Set(extra.identities.map((identity) => identity.provider))
  const linkable = extra.providers.filter((provider) => !linked.has(provider.id))
  return html`<h1>Your account</h1>
    ${noticeBox(extra.notice)}
    <dl>
      <dt>Signed in as</dt>
      <dd id="account-email">${user.email}</dd>
      <dt>User id</dt>
      <dd>${user.id}</dd>
      <dt>Signed in at</dt>
      <dd>${time(principal.issuedAt)}</dd>
      <dt>Session expires</dt>
      <dd id="session-expires">${time(principal.expiresAt)}</dd>
    </dl>
    <p class="hint">The session is extended while you are active, up to its absolute limit.</p>
    ${
      extra.providers.length > 0 || extra.identities.length > 0
        ? html`<h2>Sign-in providers</h2>
            <ul class="identities" id="identities">
              ${extra.identities.map(
                (identity) =>
                  html`<li>
                    <span
                      >${nameOf(identity.provider)}${identity.email ? html` <span class="hint">(${identity.email})</span>` : null}</span
                    >
                    <form method="post" action="/account/identities/${identity.provider}/unlink">
                      <button type="submit" class="secondary">Unlink</button>
                    </form>
                  </li>`,
              )}
              ${linkable.map(
                (provider) =>
                  html`<li>
                    <span>${provider.displayName}</span>
                    <form method="post" action="/auth/social/${provider.id}/link">
                      <button type="submit" class="secondary">Link</button>
                    </form>
                  </li>`,
              )}
            </ul>`
        : null
    }
    ${
      user.hasPassword
        ? null
        : html`<h2>Set a password</h2>
            <p class="hint">Your account has no password yet: you sign in through a provider.</p>
            <form method="post" action="/account/password">
              <input type="email" name="email" value="${user.email}" autocomplete="username" hidden />
              <label
                >New password
                <input
                  type="password"
                  name="new_password"
                  minlength="8"
                  maxlength="256"
                  autocomplete="new-password"
                  required
              /></label>
              <button type="submit">Set password</button>
            </form>`
    }
    <form method="post" action="/logout"><button type="submit" class="secondary">Log out</button></form>`
}
