/**
 * The second step of a sign-in on the pages: after the password (or a provider), an account with a second
 * factor lands here with a pending sign-in in its cookie and types a code from its authenticator app, or one
 * of its recovery codes. A wrong code shows the form again; a pending sign-in that lapsed or was used sends
 * the person back to the login page to start over.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { pendingSignInCookieName, readCookie } from '../../core/cookie.js'
import { isAuthError } from '../../core/errors.js'
import { isPendingSignInGone } from '../../auth.js'
import type { Messages } from '../messages/index.js'
import { appendSetCookies } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'
import { completeSignInFromRequest } from '../sign-in.js'
import { codeField, formErrorBox, submitButton } from './components.js'
import { PAGE, type PageContext } from './context.js'
import { continuationDetails, continuationOf, withContinuation } from './continuation.js'
import { type FormErrors, formErrorsOf, isFormError } from './form-errors.js'
import { type Html, html } from './html.js'

/** Where the login page sends an account with a second factor. */
export const SECOND_FACTOR_PAGE = '/login/second-factor'

type Method = 'totp' | 'recovery_code'

export function secondFactorPages(app: FastifyInstance, pages: PageContext): void {
  const { auth } = pages
  const pendingCookie = pendingSignInCookieName(auth.config.cookie)

  app.get(SECOND_FACTOR_PAGE, PAGE, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>
    const returnTo = continuationOf(query['return_to'])
    // Nothing pending (a bookmark, a second tab after the first finished): the sign-in starts at its beginning.
    if (readCookie(request.headers.cookie, pendingCookie).status !== 'present') {
      return reply.redirect(withContinuation('/login?notice=sign_in_expired', returnTo), 303)
    }
    const method: Method = query['method'] === 'recovery_code' ? 'recovery_code' : 'totp'
    return render(request, reply, { method, returnTo, errors: {} })
  })

  app.post(SECOND_FACTOR_PAGE, async (request, reply) => {
    const fields = readStringFields(request.body, ['code', 'recovery_code', 'return_to'])
    const returnTo = continuationOf(fields.return_to)
    const method: Method = fields.recovery_code !== undefined ? 'recovery_code' : 'totp'
    const { messages } = pages.speak(request)
    try {
      const proof =
        method === 'recovery_code' ? { recoveryCode: fields.recovery_code! } : { code: fields.code ?? '' }
      const result = await completeSignInFromRequest(auth, request, proof)
      appendSetCookies(reply, result.setCookies)
      return reply.redirect(returnTo ?? '/account', 303)
    } catch (error) {
      if (isPendingSignInGone(error)) {
        return reply.redirect(withContinuation('/login?notice=sign_in_expired', returnTo), 303)
      }
      if (isAuthError(error, 'invalid_second_factor')) {
        const field = method === 'recovery_code' ? 'recovery_code' : 'code'
        const text =
          method === 'recovery_code' ? messages.errors.wrongRecoveryCode : messages.errors.wrongCode
        return render(request, reply, { method, returnTo, errors: { [field]: text }, status: 401 })
      }
      if (isAuthError(error, 'invalid_credentials')) {
        return reply.redirect(withContinuation('/login?notice=invalid_credentials', returnTo), 303)
      }
      if (!isFormError(error)) throw error
      return render(request, reply, {
        method,
        returnTo,
        errors: formErrorsOf(error, messages),
        status: error.status,
      })
    }
  })

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    page: { method: Method; returnTo: string | null; errors: FormErrors; status?: number },
  ): Promise<FastifyReply> {
    const { messages } = pages.speak(request)
    const { formTargets } = await continuationDetails(auth.authorization, page.returnTo)
    return pages.render(request, reply, {
      ...(page.status !== undefined && { status: page.status }),
      title: messages.secondFactor.title,
      body: secondFactorView(messages, page.method, page.errors, page.returnTo),
      signedInAs: null,
      formTargets,
    })
  }
}

function secondFactorView(
  messages: Messages,
  method: Method,
  errors: FormErrors,
  returnTo: string | null,
): Html {
  const t = messages.secondFactor
  const recovery = method === 'recovery_code'
  const otherMethod = withContinuation(
    recovery ? SECOND_FACTOR_PAGE : `${SECOND_FACTOR_PAGE}?method=recovery_code`,
    returnTo,
  )
  return html`<main class="card">
    <h1>${t.heading}</h1>
    <p class="lead">${recovery ? t.recoveryLead : t.lead}</p>
    ${formErrorBox(errors)}
    <form method="post" action="${SECOND_FACTOR_PAGE}" data-busy>
      ${returnTo === null ? null : html`<input type="hidden" name="return_to" value="${returnTo}" />`}
      ${codeField({
        id: recovery ? 'recovery_code' : 'code',
        name: recovery ? 'recovery_code' : 'code',
        label: recovery ? t.recoveryLabel : t.codeLabel,
        autocomplete: recovery ? 'off' : 'one-time-code',
        numeric: !recovery,
        errors,
        autofocus: true,
      })}
      ${submitButton(t.submit, t.busy)}
    </form>
    <p class="switch"><a href="${otherMethod}">${recovery ? t.useApp : t.useRecoveryCode}</a></p>
    <p class="switch"><a href="${withContinuation('/login', returnTo)}">${t.startOver}</a></p>
  </main>`
}
