/**
 * Sign-in through providers (docs/api.md "Sign-in providers"): the browser's trip there and back, and the
 * linked identities of a signed-in user. The callback never answers with an error page or a 500: every
 * outcome ends on a page of this server (the login page, or the account page for a link), with a notice.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Auth, type RequestAuthentication, isSecondFactorRequired } from '../auth.js'
import { isAuthError } from '../core/errors.js'
import { safeReturnTo } from '../core/federation.js'
import type { SocialLogin } from '../social/social-login.js'
import type { FlowState } from '../social/flow-state.js'
import { principalOf } from './guard.js'
import { withContinuation } from './pages/continuation.js'
import { escapeHtml } from './pages/html.js'
import { SECOND_FACTOR_PAGE } from './pages/second-factor-pages.js'
import { type NoticeKey, noticeOf } from './pages/notices.js'
import { authenticationOf } from './pipeline.js'
import { setCookie } from './reply-cookies.js'
import { clientContextOf } from './sign-in.js'

export interface SocialRoutesOptions {
  auth: Auth
  social: SocialLogin
}

type ProviderRequest = FastifyRequest<{ Params: { provider: string } }>

/** Where a signed-in browser lands by default. */
const DEFAULT_RETURN_TO = '/account'

export async function socialRoutes(
  app: FastifyInstance,
  { auth, social }: SocialRoutesOptions,
): Promise<void> {
  const strictCookies = auth.config.cookie.sameSite === 'strict'

  /** Ends a browser flow on a page of ours, with the notice for `error`; logged without any secret. */
  function fail(request: FastifyRequest, reply: FastifyReply, page: string, error: unknown): FastifyReply {
    const notice = noticeOf(error)
    const detail = isAuthError(error) ? { code: error.code, reason: error.reason } : { err: error }
    if (isAuthError(error)) request.log.info(detail, 'sign-in through a provider did not complete')
    else request.log.error(detail, 'sign-in through a provider failed unexpectedly')
    return reply.redirect(`${page}?notice=${notice}`, 303)
  }

  /**
   * Sends the browser on to `path`. A SameSite=Strict session cookie set in this answer is withheld by the
   * browser on a redirect that began at the provider's site, so then a page of ours navigates instead.
   */
  function land(reply: FastifyReply, path: string, options: { sameSiteHop?: boolean } = {}): FastifyReply {
    if (!strictCookies && !options.sameSiteHop) return reply.redirect(path, 303)
    const target = escapeHtml(path)
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
      .header('referrer-policy', 'same-origin')
      .send(
        `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}"><title>Signed in · Sesame</title><p><a href="${target}">Continue</a></p>`,
      )
  }

  app.get('/auth/social/:provider', async (request: ProviderRequest, reply) => {
    const query = request.query as Record<string, unknown>
    try {
      const { location, cookie } = await social.start(request.params.provider, {
        returnTo: safeReturnTo(query['return_to'], DEFAULT_RETURN_TO),
        link: null,
      })
      setCookie(reply, cookie)
      return reply.redirect(location, 303)
    } catch (error) {
      return fail(request, reply, '/login', error)
    }
  })

  // A link starts with a same-origin POST (the pipeline's default for a state change): a link another site
  // could start would tie the victim's account to the attacker's provider account.
  app.post(
    '/auth/social/:provider/link',
    { config: { auth: 'page' } },
    async (request: ProviderRequest, reply) => {
      const found = authenticationOf<RequestAuthentication>(request)
      if (found?.principal.method !== 'cookie') return reply.redirect('/login', 303)
      // Refused again at the callback (the engine's rule); said here before a needless trip to the provider.
      if (!found.user?.emailVerified) return reply.redirect('/account?notice=verify_before_link', 303)
      try {
        const { location, cookie } = await social.start(request.params.provider, {
          returnTo: DEFAULT_RETURN_TO,
          link: { userId: found.principal.userId, sessionId: found.principal.sessionId },
        })
        setCookie(reply, cookie)
        return reply.redirect(location, 303)
      } catch (error) {
        return fail(request, reply, '/account', error)
      }
    },
  )

  app.get('/auth/social/:provider/callback', async (request: ProviderRequest, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''
    let flow: FlowState | null = null
    // The flow state is single use: whatever happens next, the browser forgets it.
    setCookie(reply, social.blankFlowCookie)
    try {
      flow = await social.claimFlow(request.params.provider, { query, cookieHeader: request.headers.cookie })
      const profile = await social.finish(flow, query)
      if (flow.link) {
        await auth.federation.link(flow.link, profile)
        return reply.redirect(`/account?notice=${'linked' satisfies NoticeKey}`, 303)
      }
      const result = await auth.federation.signIn(profile, {
        cookieHeader: request.headers.cookie,
        ...clientContextOf(request),
      })
      if (isSecondFactorRequired(result)) {
        setCookie(reply, result.pendingCookie)
        // The pending cookie is SameSite=Strict: the page that asks for the code must be reached by a same-site
        // navigation (the landing page), or the browser would hold it back on the code's form post.
        return land(reply, withContinuation(SECOND_FACTOR_PAGE, flow.returnTo), { sameSiteHop: true })
      }
      setCookie(reply, result.cookie)
      return land(reply, flow.returnTo)
    } catch (error) {
      return fail(request, reply, flow?.link ? '/account' : '/login', error)
    }
  })
}

/** Registers `GET /auth/identities` and `DELETE /auth/identities/{provider}`, with or without providers. */
export async function identityRoutes(app: FastifyInstance, { auth }: { auth: Auth }): Promise<void> {
  app.get('/auth/identities', { config: { auth: 'required' } }, async (request, reply) => {
    const principal = principalOf(request)!
    const identities = await auth.federation.identities(principal.userId)
    return reply.header('cache-control', 'no-store').send({
      identities: identities.map((identity) => ({
        provider: identity.provider,
        email: identity.email,
        linked_at: new Date(identity.linkedAt * 1000).toISOString(),
      })),
    })
  })

  app.delete(
    '/auth/identities/:provider',
    { config: { auth: 'required', csrf: 'by-credential' } },
    async (request: ProviderRequest, reply) => {
      const principal = principalOf(request)!
      await auth.federation.unlink(principal.userId, request.params.provider)
      return reply.code(204).send()
    },
  )
}
