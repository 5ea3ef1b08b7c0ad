/**
 * `/account` and its forms, each a same-origin post to a page route under `/account/` (the pipeline's CSRF
 * rule) that redirects back with a notice: end one device, end all others, log out everywhere, change (or set
 * a first) password, unlink a provider, remove an app's access. Linking starts at `/auth/social/:provider/link` (`social-routes.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SessionAuthentication } from '../../auth.js'
import { isAuthError } from '../../core/errors.js'
import type { Messages } from '../messages/index.js'
import { setCookie } from '../reply-cookies.js'
import { clientContextOf } from '../sign-in.js'
import { readStringFields } from '../request-fields.js'
import { accountView } from './account-view.js'
import { signInAgainPath } from './continuation.js'
import { requestContext } from './language.js'
import { PAGE, type PageContext } from './context.js'
import { type FormErrors, formErrorsOf, isFormError } from './form-errors.js'
import { type Notice, type NoticeKey, noticeOf, readNotice } from './notices.js'

export function accountPages(app: FastifyInstance, pages: PageContext): void {
  const { auth, providers } = pages

  async function renderAccount(
    request: FastifyRequest,
    reply: FastifyReply,
    session: SessionAuthentication,
    messages: Messages,
    extra: { status?: number; notice: Notice | null; passwordErrors?: FormErrors },
  ): Promise<FastifyReply> {
    const [identities, devices, apps, secondFactors] = await Promise.all([
      auth.federation.identities(session.user.id),
      auth.devices.list(session.principal),
      auth.authorization?.listApps(session.user.id) ?? [],
      auth.secondFactors.status(session.user.id),
    ])
    return pages.render(request, reply, {
      ...(extra.status !== undefined && { status: extra.status }),
      title: messages.account.title,
      signedInAs: session.user.email,
      path: '/account',
      body: accountView(messages, {
        session,
        devices,
        identities,
        apps,
        providers,
        notice: extra.notice,
        passwordErrors: extra.passwordErrors ?? {},
        secondFactors,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    })
  }

  app.get('/account', PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    const { messages } = pages.speak(request)
    return renderAccount(request, reply, session, messages, { notice: readNotice(request.query, messages) })
  })

  /** Back to the account page with a notice; a refusal the page can explain is not an error page. */
  async function accountAction(
    request: FastifyRequest,
    reply: FastifyReply,
    action: (session: SessionAuthentication) => Promise<NoticeKey>,
  ): Promise<FastifyReply> {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    let notice: NoticeKey
    try {
      notice = await action(session)
    } catch (error) {
      if (isAuthError(error, 'step_up_required')) return reply.redirect(signInAgainPath('/account'), 303)
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

  app.post<{ Params: { id: string } }>('/account/devices/:id/end', PAGE, async (request, reply) => {
    const session = pages.session(request)
    // This device has no button of its own ("Log out" is that), but its id ends it the same way.
    if (session?.principal.sessionId === request.params.id) {
      await auth.devices.end(session.principal, request.params.id, clientContextOf(request))
      setCookie(reply, auth.blankSessionCookie())
      return reply.redirect('/login?notice=signed_out', 303)
    }
    return accountAction(request, reply, async ({ principal }) =>
      (await auth.devices.end(principal, request.params.id, clientContextOf(request)))
        ? 'device_ended'
        : 'device_not_found',
    )
  })

  app.post<{ Params: { clientId: string } }>('/account/apps/:clientId/remove', PAGE, async (request, reply) =>
    accountAction(request, reply, async ({ user }) =>
      (await auth.authorization?.removeApp(user.id, request.params.clientId))
        ? 'app_removed'
        : 'app_not_found',
    ),
  )

  app.post('/account/devices/end-others', PAGE, async (request, reply) =>
    accountAction(request, reply, async ({ principal }) => {
      await auth.devices.endOthers(principal, clientContextOf(request))
      return 'others_ended'
    }),
  )

  app.post('/account/logout-everywhere', PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (session) await auth.devices.endAll(session.principal, clientContextOf(request))
    setCookie(reply, auth.blankSessionCookie())
    return reply.redirect('/login?notice=signed_out_everywhere', 303)
  })

  // Changes the password, or sets the first one of an account made through a provider (no current one).
  app.post('/account/password', PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    const { messages } = pages.speak(request)
    const { current_password: currentPassword = '', new_password: newPassword = '' } = readStringFields(
      request.body,
      ['current_password', 'new_password'],
    )
    const hasPassword = session.user.hasPassword
    const missing: FormErrors = {}
    if (hasPassword && currentPassword === '')
      missing.current_password = messages.errors.currentPasswordRequired
    if (newPassword === '') missing.new_password = messages.errors.passwordRequired
    if (Object.keys(missing).length > 0) {
      return renderAccount(request, reply, session, messages, {
        status: 400,
        notice: null,
        passwordErrors: missing,
      })
    }
    try {
      await auth.changePassword(session.principal, {
        currentPassword: hasPassword ? currentPassword : undefined,
        newPassword,
        ...clientContextOf(request),
      })
    } catch (error) {
      if (isAuthError(error, 'step_up_required')) return reply.redirect(signInAgainPath('/account'), 303)
      if (!isFormError(error)) throw error
      const passwordErrors = formErrorsOf(error, messages, {
        passwordField: 'new_password',
        credentialsField: 'current_password',
      })
      return renderAccount(request, reply, session, messages, {
        status: error.status,
        notice: null,
        passwordErrors,
      })
    }
    return reply.redirect(`/account?notice=${hasPassword ? 'password_changed' : 'password_set'}`, 303)
  })

  app.post('/account/verify-email', PAGE, async (request, reply) =>
    accountAction(request, reply, async ({ principal }) => {
      const { sent } = await auth.accounts.requestEmailVerification(principal, requestContext(request))
      return sent ? 'verification_sent' : 'already_verified'
    }),
  )

  app.post('/account/email', PAGE, async (request, reply) =>
    accountAction(request, reply, async ({ principal }) => {
      const { new_email: newEmail = '', current_password: currentPassword } = readStringFields(request.body, [
        'new_email',
        'current_password',
      ])
      try {
        await auth.accounts.requestEmailChange(
          principal,
          { newEmail, currentPassword },
          requestContext(request),
        )
      } catch (error) {
        // The notices speak of the form's fields in words; the engine's codes are shared with other forms.
        if (isAuthError(error, 'invalid_credentials')) return 'wrong_password'
        if (isAuthError(error, 'invalid_request')) return 'email_invalid'
        throw error
      }
      return 'email_change_sent'
    }),
  )

  app.post('/account/delete', PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    const { current_password: currentPassword } = readStringFields(request.body, ['current_password'])
    try {
      await auth.accounts.deleteAccount(session.principal, { currentPassword }, requestContext(request))
    } catch (error) {
      if (isAuthError(error, 'step_up_required')) return reply.redirect(signInAgainPath('/account'), 303)
      if (!isAuthError(error) || error.status >= 500) throw error
      const notice = isAuthError(error, 'invalid_credentials') || isAuthError(error, 'invalid_request')
      return reply.redirect(`/account?notice=${notice ? 'wrong_password' : noticeOf(error)}`, 303)
    }
    setCookie(reply, auth.blankSessionCookie())
    return reply.redirect('/?notice=account_deleted', 303)
  })
}
