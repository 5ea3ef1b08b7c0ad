/**
 * The pages that links in mails open, and asking for a reset link. A link's page only shows a form: the
 * confirmation is its POST, so a mail scanner that fetches the link changes nothing. The token travels from
 * the link into a hidden field (the page sends no Referer to other sites and loads nothing from them).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isAuthError } from '../../core/errors.js'
import type { Messages } from '../messages/index.js'
import { readStringFields } from '../request-fields.js'
import { usernameField, formErrorBox, noticeBox, newPasswordField, submitButton } from './components.js'
import { PAGE, type PageContext } from './context.js'
import { type FormErrors, formErrorsOf, isFormError } from './form-errors.js'
import { type Html, html } from './html.js'
import { requestContext } from './language.js'

/** The link pages that confirm with one button; the reset page has its own form. */
const CONFIRMATIONS = {
  '/verify-email': { purpose: 'verify', done: 'email_verified' },
  '/confirm-email': { purpose: 'change', done: 'email_changed' },
} as const

export function linkPages(app: FastifyInstance, pages: PageContext): void {
  const { auth } = pages

  function show(request: FastifyRequest, reply: FastifyReply, title: string, body: Html, status = 200) {
    return pages.render(request, reply, {
      status,
      title,
      signedInAs: pages.session(request)?.user.email ?? null,
      body,
    })
  }

  function invalidLink(request: FastifyRequest, reply: FastifyReply, messages: Messages, askAgain: string) {
    const t = messages.links
    return show(
      request,
      reply,
      t.verifyTitle,
      html`<main class="card">
        <h1>${t.verifyHeading}</h1>
        ${formErrorBox({ form: t.invalidLink })}
        <p class="switch"><a href="${askAgain}">${t.askAgain}</a></p>
      </main>`,
      400,
    )
  }

  app.get('/forgot-password', PAGE, async (request, reply) => {
    const { messages } = pages.speak(request)
    return show(
      request,
      reply,
      messages.links.forgotTitle,
      forgotView(messages, '', {}, false, auth.config.accounts.resetPasswordSeconds),
    )
  })

  app.post('/forgot-password', async (request, reply) => {
    const { messages } = pages.speak(request)
    const { email = '' } = readStringFields(request.body, ['email'])
    try {
      await auth.accounts.requestPasswordReset(email, requestContext(request))
    } catch (error) {
      if (!isFormError(error)) throw error
      return show(
        request,
        reply,
        messages.links.forgotTitle,
        forgotView(
          messages,
          email,
          formErrorsOf(error, messages),
          false,
          auth.config.accounts.resetPasswordSeconds,
        ),
        error.status,
      )
    }
    // The same page whether or not the address has an account.
    return show(
      request,
      reply,
      messages.links.forgotTitle,
      forgotView(messages, email, {}, true, auth.config.accounts.resetPasswordSeconds),
    )
  })

  app.get('/reset-password', PAGE, async (request, reply) => {
    const { messages } = pages.speak(request)
    return show(
      request,
      reply,
      messages.links.resetTitle,
      resetView(messages, readStringFields(request.query, ['token']).token ?? '', {}),
    )
  })

  app.post('/reset-password', async (request, reply) => {
    const { messages } = pages.speak(request)
    const { token = '', new_password: newPassword = '' } = readStringFields(request.body, [
      'token',
      'new_password',
    ])
    try {
      await auth.accounts.confirmPasswordReset(token, newPassword, requestContext(request))
    } catch (error) {
      if (isAuthError(error, 'invalid_link')) return invalidLink(request, reply, messages, '/forgot-password')
      if (!isFormError(error)) throw error
      const errors = formErrorsOf(error, messages, { passwordField: 'new_password' })
      return show(request, reply, messages.links.resetTitle, resetView(messages, token, errors), error.status)
    }
    // Every session ended, this browser's too (the login page clears its stale cookie).
    return reply.redirect('/login?notice=password_reset', 303)
  })

  for (const [path, { purpose, done }] of Object.entries(CONFIRMATIONS)) {
    app.get(path, PAGE, async (request, reply) => {
      const { messages } = pages.speak(request)
      const t = messages.links
      const title = purpose === 'verify' ? t.verifyTitle : t.changeTitle
      return show(
        request,
        reply,
        title,
        confirmView(messages, path, purpose, readStringFields(request.query, ['token']).token ?? ''),
      )
    })

    app.post(path, PAGE, async (request, reply) => {
      const { messages } = pages.speak(request)
      const { token = '' } = readStringFields(request.body, ['token'])
      const signedIn = pages.session(request) !== null
      const askAgain = signedIn ? '/account' : '/login'
      try {
        if (purpose === 'verify') await auth.accounts.confirmEmailVerification(token, requestContext(request))
        else await auth.accounts.confirmEmailChange(token, requestContext(request))
      } catch (error) {
        if (isAuthError(error, 'invalid_link')) return invalidLink(request, reply, messages, askAgain)
        if (isAuthError(error, 'email_taken') || isAuthError(error, 'rate_limited')) {
          return reply.redirect(`${askAgain}?notice=${error.code}`, 303)
        }
        throw error
      }
      return reply.redirect(`${signedIn ? '/account' : '/login'}?notice=${done}`, 303)
    })
  }
}

function forgotView(
  messages: Messages,
  email: string,
  errors: FormErrors,
  sent: boolean,
  resetSeconds: number,
): Html {
  const t = messages.links
  const minutes = Math.round(resetSeconds / 60)
  return html`<main class="card">
    <h1>${t.forgotHeading}</h1>
    ${sent ? noticeBox({ kind: 'success', text: t.forgotSent(minutes) }) : html`<p class="lead">${t.forgotLead}</p>`}
    ${formErrorBox(errors)}
    <form method="post" action="/forgot-password" data-busy>
      ${usernameField(messages, email, errors, !sent)} ${submitButton(t.forgotSubmit, t.forgotBusy)}
    </form>
    <p class="switch"><a href="/login">${t.backToLogIn}</a></p>
  </main>`
}

function resetView(messages: Messages, token: string, errors: FormErrors): Html {
  const t = messages.links
  return html`<main class="card">
    <h1>${t.resetHeading}</h1>
    <p class="lead">${t.resetLead}</p>
    ${formErrorBox(errors)}
    <form method="post" action="/reset-password" data-busy>
      <input type="hidden" name="token" value="${token}" />
      ${newPasswordField(messages, { id: 'new-password', errors, autofocus: true })}
      ${submitButton(t.resetSubmit, t.resetBusy)}
    </form>
  </main>`
}

function confirmView(messages: Messages, path: string, purpose: 'verify' | 'change', token: string): Html {
  const t = messages.links
  return html`<main class="card">
    <h1>${purpose === 'verify' ? t.verifyHeading : t.changeHeading}</h1>
    <p class="lead">${purpose === 'verify' ? t.verifyLead : t.changeLead}</p>
    <form method="post" action="${path}" data-busy>
      <input type="hidden" name="token" value="${token}" />
      ${submitButton(purpose === 'verify' ? t.verifySubmit : t.changeSubmit, t.confirmBusy)}
    </form>
  </main>`
}
