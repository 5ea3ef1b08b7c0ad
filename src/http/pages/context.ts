/**
 * What every page route shares: the engine, the providers, the request's session and language, the secure
 * cookie check, and rendering a page with its headers (a strict Content-Security-Policy and
 * `Cache-Control: no-store` on every page).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, RequestAuthentication, SessionAuthentication } from '../../auth.js'
import { type Language, type Messages, messagesFor } from '../messages/index.js'
import { authenticationOf } from '../pipeline.js'
import { dropsSecureCookie } from '../secure-context.js'
import type { ProviderButton } from './components.js'
import type { Html } from './html.js'
import { languageOf } from './language.js'
import { layout } from './layout.js'

/** Pages read the session cookie; an ended one counts as signed out (`pipeline.ts`). */
export const PAGE = { config: { auth: 'page' } } as const

export interface PageContext {
  auth: Auth
  providers: readonly ProviderButton[]
  /** The cookie session of a page request, or null (pages are for browsers: a bearer token is no session). */
  session(request: FastifyRequest): SessionAuthentication | null
  /** The request's language and its catalogue. */
  speak(request: FastifyRequest): { language: Language; messages: Messages }
  /** Why the browser will refuse the session cookie on this request (in words for a page), or null. */
  cookieProblem(request: FastifyRequest, messages: Messages): string | null
  /** Sends a page. */
  render(request: FastifyRequest, reply: FastifyReply, page: PageView): FastifyReply
}

export interface PageView {
  status?: number
  title: string
  signedInAs: string | null
  body: Html
  /** The page's own path, where the language switch comes back to; default: the request's. */
  path?: string
  /**
   * Where this page's forms may end up besides this origin (CSP `form-action` sources): a sign-in that
   * continues an authorization request ends, after redirects, at the client's redirect URI.
   */
  formTargets?: readonly string[]
}

/**
 * The headers of every page. `form-action` applies to a form's redirects too, so it names the providers'
 * sign-in origins, where the account page's "Link" forms end up.
 */
function pageHeaders(
  providers: readonly ProviderButton[],
  extraFormTargets: readonly string[] = [],
): Record<string, string> {
  const formTargets = [
    "'self'",
    ...new Set([...providers.map((provider) => provider.authorizationOrigin), ...extraFormTargets]),
  ]
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // The language comes from the switch's cookie or Accept-Language.
    vary: 'Accept-Language, Cookie',
  }
}

export function createPageContext(auth: Auth, providers: readonly ProviderButton[]): PageContext {
  const headers = pageHeaders(providers)
  const cookieIsSecure = auth.config.cookie.secure !== false
  const issuerIsHttps = (auth.config.tokens?.issuer ?? '').startsWith('https:')

  /**
   * A navigation names no origin: the page warns only when nothing suggests HTTPS (an https issuer, a TLS
   * proxy's `X-Forwarded-Proto` or `Forwarded`), since a false warning would tell a person their working
   * sign-in is broken.
   */
  function navigationOrigin(request: FastifyRequest): string | undefined {
    if (issuerIsHttps || request.protocol !== 'http') return undefined
    if (request.headers['x-forwarded-proto'] !== undefined || request.headers.forwarded !== undefined) {
      return undefined
    }
    return `http://${request.host}`
  }

  function speak(request: FastifyRequest): { language: Language; messages: Messages } {
    const language = languageOf(request)
    return { language, messages: messagesFor(language) }
  }

  return {
    auth,
    providers,

    session(request) {
      const found = authenticationOf<RequestAuthentication>(request)
      return found?.principal.method === 'cookie' && found.user
        ? { principal: found.principal, user: found.user, cookie: found.cookie }
        : null
    },

    speak,

    /**
     * A form post names the browser's origin in `Origin`, which is exact, so a sign-in or sign-up is refused
     * on it before anything is written.
     */
    cookieProblem(request, messages) {
      if (!cookieIsSecure) return null
      const origin = request.method === 'POST' ? request.headers.origin : navigationOrigin(request)
      if (origin === undefined || !dropsSecureCookie(origin)) return null
      return messages.errors.insecureCookie(new URL(origin).hostname)
    },

    render(request, reply, page) {
      const { status = 200, title, signedInAs, body, path = request.url.split('?')[0]!, formTargets } = page
      const { language, messages } = speak(request)
      return reply
        .code(status)
        .headers(formTargets?.length ? pageHeaders(providers, formTargets) : headers)
        .header('content-language', language)
        .send(layout({ title, signedInAs, language, messages, path, body }))
    },
  }
}
