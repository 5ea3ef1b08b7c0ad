/**
 * The web pages: sign up, log in, account, log out. Plain HTML forms posting to the same origin, with no
 * script; every page is served with a strict Content-Security-Policy and `Cache-Control: no-store`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, RequestAuthentication, SessionAuthentication } from '../../auth.js'
import { isAuthError } from '../../core/errors.js'
import { authenticationOf } from '../pipeline.js'
import { appendSetCookies, setCookie } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'
import { dropsSecureCookie, insecureCookieAdvice } from '../secure-context.js'
import { clientContextOf, signInFromRequest } from '../sign-in.js'
import { type Html, html } from './html.js'
import { layout } from './layout.js'
import { ICON_SVG, STYLESHEET } from './style.js'

export interface PageRoutesOptions {
  auth: Auth
}

/** Pages read the session cookie; an ended one counts as signed out (`pipeline.ts`). */
const PAGE = { config: { auth: 'page' } } as const

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}

/** Registers `/`, `/signup`, `/login`, `/account`, `/logout` and the two `/assets/`. */
export async function pageRoutes(app: FastifyInstance, { auth }: PageRoutesOptions): Promise<void> {
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
    return page(reply, 200, 'Sign up', null, signUpForm('', cookieProblem(request)))
  })

  app.post('/signup', async (request, reply) => {
    const { email = '', password = '' } = readStringFields(request.body, ['email', 'password'])
    const problem = cookieProblem(request) // refused before the account exists: it could not be signed in to
    if (problem) return page(reply, 400, 'Sign up', null, signUpForm(email, problem))
    try {
      const user = await auth.signUp({ email, password, ip: request.ip })
      await auth.signOut(request.headers.cookie) // a session this browser already had is replaced, not kept
      const { cookie } = await auth.createSession(user, clientContextOf(request))
      setCookie(reply, cookie)
      return reply.redirect('/account', 303)
    } catch (error) {
      if (isAuthError(error, 'invalid_request') || isAuthError(error, 'email_taken')) {
        return page(reply, error.status, 'Sign up', null, signUpForm(email, error.message))
      }
      throw error
    }
  })

  app.get('/login', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (session) return reply.redirect('/account', 303)
    return page(reply, 200, 'Log in', null, logInForm('', cookieProblem(request)))
  })

  app.post('/login', async (request, reply) => {
    const { email = '', password = '' } = readStringFields(request.body, ['email', 'password'])
    const problem = cookieProblem(request)
    if (problem) return page(reply, 400, 'Log in', null, logInForm(email, problem))
    try {
      const result = await signInFromRequest(auth, request, { email, password })
      appendSetCookies(reply, [result.setCookie])
      return reply.redirect('/account', 303)
    } catch (error) {
      if (isAuthError(error, 'invalid_request') || isAuthError(error, 'invalid_credentials')) {
        return page(reply, error.status, 'Log in', null, logInForm(email, error.message))
      }
      throw error
    }
  })

  app.get('/account', PAGE, async (request, reply) => {
    const session = currentSession(request)
    if (!session) return reply.redirect('/login', 303)
    return page(reply, 200, 'Account', session.user.email, accountView(session))
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

function signUpForm(email: string, error: string | null): Html {
  return html`<h1>Create your account</h1>
    ${errorBox(error)}
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

function logInForm(email: string, error: string | null): Html {
  return html`<h1>Log in</h1>
    ${errorBox(error)}
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

function accountView({ user, principal }: SessionAuthentication): Html {
  const time = (seconds: number): string =>
    new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
  return html`<h1>Your account</h1>
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
    <form method="post" action="/logout"><button type="submit" class="secondary">Log out</button></form>`
}
