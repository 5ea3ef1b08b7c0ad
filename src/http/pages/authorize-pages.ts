/**
 * The authorization endpoint and RP-initiated logout as the person sees them (OpenID Connect Core §3.1.2): a request the engine cannot
 * trust gets a page saying so (never a redirect); a signed-out person goes to the login page and comes back;
 * a third-party client gets the consent screen; everything else goes back to the client at once, with a code
 * or an error. The decisions are the engine's (`engine/authorization.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type FreshSignIn, type UntrustedRequest, isFreshEnough } from '../../core/authorization-request.js'
import type { Authorization, AuthorizationRequest, AuthorizingSession } from '../../engine/authorization.js'
import type { OAuthClientRecord } from '../../store/types.js'
import type { Messages } from '../messages/index.js'
import { setCookie } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'
import { submitButton } from './components.js'
import { PAGE, type PageContext } from './context.js'
import { cspSourceOf, withContinuation } from './continuation.js'
import { type Html, html } from './html.js'
import { clientContextOf } from '../sign-in.js'

/** A person's answer to a page here (consent, logout) is a state change by cookie: same origin only. */
const ANSWER = { config: { auth: 'page' } } as const

export function authorizePages(app: FastifyInstance, pages: PageContext, authorization: Authorization): void {
  app.get('/auth/authorize', PAGE, async (request, reply) => {
    let query = (request.query ?? {}) as Record<string, unknown>
    // Back from the login page: the request as it was sealed before the person was sent there.
    let fresh: FreshSignIn | null | undefined
    if (query['resume'] !== undefined) {
      const resumed = typeof query['resume'] === 'string' ? await authorization.resume(query['resume']) : null
      if (!resumed) return untrusted(request, reply, 'request_expired')
      query = resumed.query
      fresh = resumed.fresh
    }
    const check = await authorization.check(query)
    if (check.status === 'page-error') return untrusted(request, reply, check.problem)
    if (check.status === 'redirect-error') {
      return reply.redirect(authorization.refuse(check.redirectUri, check.state, check.error), 303)
    }
    const { client, request: asked } = check
    const session = authorizingSession(pages, request)
    const next = await authorization.decide(client, asked, session, fresh)
    switch (next.step) {
      case 'sign-in': {
        // Sealed with the request: `prompt=login` and `max_age` cannot be dropped on the way back.
        const resume = await authorization.suspend(query, next.fresh)
        const login = session === null ? '/login' : '/login?reauth=1'
        return reply.redirect(withContinuation(login, `/auth/authorize?resume=${resume}`), 303)
      }
      case 'consent':
        return consentPage(request, reply, client, asked, await authorization.suspend(query, fresh ?? null))
      case 'fail':
        return reply.redirect(authorization.refuse(asked.redirectUri, asked.state, next.error), 303)
      case 'issue':
        return reply.redirect(await authorization.approve(asked, session!), 303)
    }
  })

  app.post('/auth/authorize', ANSWER, async (request, reply) => {
    const { decision, resume } = readStringFields(request.body, ['decision', 'resume'])
    const resumed = resume === undefined ? null : await authorization.resume(resume)
    if (!resumed) return untrusted(request, reply, 'request_expired')
    const check = await authorization.check(resumed.query)
    if (check.status === 'page-error') return untrusted(request, reply, check.problem)
    if (check.status === 'redirect-error') {
      return reply.redirect(authorization.refuse(check.redirectUri, check.state, check.error), 303)
    }
    const { client, request: asked } = check
    const session = authorizingSession(pages, request)
    // The sign-in the request asked for must still be the one answering (not a session swapped in since).
    if (!session || !isFreshEnough(session, resumed.fresh)) {
      return untrusted(request, reply, 'signed_out')
    }
    if (decision !== 'allow') {
      const denied = { error: 'access_denied', description: 'The person did not allow access.' } as const
      return reply.redirect(authorization.refuse(asked.redirectUri, asked.state, denied), 303)
    }
    await authorization.consent(session, client, asked)
    return reply.redirect(await authorization.approve(asked, session), 303)
  })

  // RP-initiated logout. With a hint naming the signed-in person, the client's word is enough; otherwise the
  // person confirms (a link on any site could otherwise log them out).
  app.get('/auth/end-session', PAGE, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>
    const check = await authorization.checkLogout(query)
    if (check.status === 'page-error') return untrusted(request, reply, check.problem)
    const session = pages.session(request)
    const hinted =
      check.hinted?.userId === session?.user.id && check.hinted?.sessionId === session?.principal.sessionId
    if (session && !hinted) return logoutPage(request, reply, query, check.redirect)
    return signOutAndLeave(request, reply, check.redirect)
  })

  app.post('/auth/end-session', ANSWER, async (request, reply) => {
    const check = await authorization.checkLogout((request.body ?? {}) as Record<string, unknown>)
    if (check.status === 'page-error') return untrusted(request, reply, check.problem)
    return signOutAndLeave(request, reply, check.redirect)
  })

  async function signOutAndLeave(
    request: FastifyRequest,
    reply: FastifyReply,
    redirect: string | null,
  ): Promise<FastifyReply> {
    const { cookie } = await pages.auth.signOut(request.headers.cookie, clientContextOf(request))
    setCookie(reply, cookie)
    return reply.redirect(redirect ?? '/login?notice=signed_out', 303)
  }

  function logoutPage(
    request: FastifyRequest,
    reply: FastifyReply,
    query: Record<string, unknown>,
    redirect: string | null,
  ): FastifyReply {
    const { messages } = pages.speak(request)
    const t = messages.authorize
    return pages.render(request, reply, {
      title: t.logoutTitle,
      signedInAs: pages.session(request)?.user.email ?? null,
      body: html`<main class="card">
        <h1>${t.logoutHeading}</h1>
        <p class="lead">${t.logoutLead}</p>
        <form method="post" action="/auth/end-session" data-busy>
          ${hiddenFields(query)} ${submitButton(t.logoutConfirm, t.logoutBusy)}
        </form>
      </main>`,
      path: '/auth/end-session',
      formTargets: redirect === null ? [] : cspSourceOf(redirect),
    })
  }

  function untrusted(
    request: FastifyRequest,
    reply: FastifyReply,
    problem:
      UntrustedRequest | 'signed_out' | 'request_expired' | 'invalid_hint' | 'logout_redirect_mismatch',
  ): FastifyReply {
    const { messages } = pages.speak(request)
    const t = messages.authorize
    return pages.render(request, reply, {
      status: 400,
      title: t.errorTitle,
      signedInAs: pages.session(request)?.user.email ?? null,
      body: html`<main class="card">
        <h1>${t.errorHeading}</h1>
        <p class="notice error" role="alert">${t.problems[problem]}</p>
        <p>${t.errorHelp}</p>
      </main>`,
      path: '/auth/authorize',
    })
  }

  function consentPage(
    request: FastifyRequest,
    reply: FastifyReply,
    client: OAuthClientRecord,
    asked: AuthorizationRequest,
    resume: string,
  ): FastifyReply {
    const { messages } = pages.speak(request)
    return pages.render(request, reply, {
      title: messages.authorize.consentTitle,
      signedInAs: pages.session(request)?.user.email ?? null,
      body: consentView(messages, client, asked, resume, pages.session(request)?.user.email ?? ''),
      path: '/auth/authorize',
      // The answer is redirected to the client: the forms' redirects must be allowed to end there.
      formTargets: cspSourceOf(asked.redirectUri),
    })
  }
}

function authorizingSession(pages: PageContext, request: FastifyRequest): AuthorizingSession | null {
  const found = pages.session(request)
  return (
    found && {
      userId: found.principal.userId,
      sessionId: found.principal.sessionId,
      authTime: found.principal.issuedAt,
      amr: found.principal.amr,
    }
  )
}

function consentView(
  messages: Messages,
  client: OAuthClientRecord,
  asked: AuthorizationRequest,
  resume: string,
  email: string,
): Html {
  const t = messages.authorize
  // The request travels sealed (it is checked again from scratch when the answer comes).
  const carried = html`<input type="hidden" name="resume" value="${resume}" />`
  // With no scope at all, the app still learns who the person is (the access token names them).
  const scopes = asked.scopes.length > 0 ? asked.scopes : ['openid']
  const answer = (decision: 'allow' | 'deny', label: string, variant: 'primary' | 'secondary'): Html =>
    html`<form method="post" action="/auth/authorize" data-busy>
      ${carried}<input type="hidden" name="decision" value="${decision}" />
      ${submitButton(label, t.busy, variant)}
    </form>`
  return html`<main class="card consent">
    <h1>${t.consentHeading(client.name)}</h1>
    <p class="hint">${messages.layout.signedInAs} <strong>${email}</strong></p>
    <p class="lead">${t.consentLead}</p>
    <ul class="list scopes">
      ${scopes.map((scope) => html`<li>${t.scopes[scope] ?? t.otherScope(scope)}</li>`)}
    </ul>
    <p class="hint">${t.returnsTo(hostOf(asked.redirectUri))}</p>
    <div class="actions">${answer('allow', t.allow, 'primary')} ${answer('deny', t.deny, 'secondary')}</div>
  </main>`
}

function hostOf(uri: string): string {
  const url = new URL(uri)
  return url.host === '' ? url.protocol.slice(0, -1) : url.host
}

/** A request's parameters as hidden form fields, so a form post carries the request as it came. */
function hiddenFields(query: Record<string, unknown>): Html[] {
  return Object.entries(query)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)
}
