/**
 * Turning two-step sign-in on and off from the account page. Setting up shows a QR code and asks for a code
 * from the app before anything is stored; the recovery codes are shown once, on the answer to that post
 * (never on a page a reload or the history could show again: `Cache-Control: no-store`). Turning it off, or
 * making new recovery codes, takes a current code: a session alone (a borrowed laptop) cannot weaken the
 * account. Setting up takes a sign-in of the last 15 minutes (`core/step-up.ts`): an app set up by whoever
 * holds an old session would lock the owner out, since a password reset does not remove it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SessionAuthentication } from '../../auth.js'
import { isAuthError } from '../../core/errors.js'
import { readStringFields } from '../request-fields.js'
import { PAGE, type PageContext } from './context.js'
import { signInAgainPath } from './continuation.js'
import { type NoticeKey, noticeOf } from './notices.js'
import { recoveryCodesView, twoStepSetupView } from './two-step-view.js'

const SETUP_PAGE = '/account/two-step/setup'

export function twoStepPages(app: FastifyInstance, pages: PageContext): void {
  const { auth } = pages
  const factors = auth.secondFactors

  const toAccount = (reply: FastifyReply, notice: NoticeKey) =>
    reply.redirect(`/account?notice=${notice}#two-step`, 303)

  function renderCodes(
    request: FastifyRequest,
    reply: FastifyReply,
    session: SessionAuthentication,
    codes: string[],
  ) {
    const { messages } = pages.speak(request)
    return pages.render(request, reply, {
      title: messages.twoStep.codesTitle,
      signedInAs: session.user.email,
      body: recoveryCodesView(messages, codes),
    })
  }

  /** Setting up needs a sign-in of moments ago: else the person signs in again and comes back here. */
  const signInAgain = (reply: FastifyReply) => reply.redirect(signInAgainPath(SETUP_PAGE), 303)

  function recent(session: SessionAuthentication): boolean {
    try {
      auth.requireRecentSignIn(session.principal)
      return true
    } catch (error) {
      if (isAuthError(error, 'step_up_required')) return false
      throw error
    }
  }

  app.get(SETUP_PAGE, PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    if (!recent(session)) return signInAgain(reply)
    const status = await factors.status(session.user.id)
    if (status.factors.some((factor) => factor.kind === 'totp')) return toAccount(reply, 'two_step_on')
    const { messages } = pages.speak(request)
    return pages.render(request, reply, {
      title: messages.twoStep.setupTitle,
      signedInAs: session.user.email,
      body: twoStepSetupView(messages, await factors.beginTotp(session.user), {}),
    })
  })

  app.post(SETUP_PAGE, PAGE, async (request, reply) => {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    if (!recent(session)) return signInAgain(reply)
    const { enrolment = '', code = '' } = readStringFields(request.body, ['enrolment', 'code'])
    try {
      const { recoveryCodes } = await factors.confirmTotp(session.user.id, enrolment, code)
      return recoveryCodes
        ? renderCodes(request, reply, session, recoveryCodes)
        : toAccount(reply, 'two_step_on')
    } catch (error) {
      if (isAuthError(error, 'factor_exists')) return toAccount(reply, 'two_step_on')
      if (!isAuthError(error, 'invalid_second_factor') && !isAuthError(error, 'rate_limited')) throw error
      // An enrolment that lapsed (or is not this user's) does not reopen: the person starts again.
      const again = await factors.reopenTotp(session.user, enrolment)
      if (!again) return toAccount(reply, 'setup_expired')
      const { messages } = pages.speak(request)
      const text = isAuthError(error, 'rate_limited')
        ? messages.errors.rateLimited
        : messages.errors.wrongCode
      return pages.render(request, reply, {
        status: error.status,
        title: messages.twoStep.setupTitle,
        signedInAs: session.user.email,
        body: twoStepSetupView(messages, again, { code: text }),
      })
    }
  })

  /**
   * A sensitive change behind a current code: `target` first checks there is something to change (so a code is
   * not spent on nothing), then the code, then `change`. Every refusal ends on the account page, saying why.
   */
  async function withCode(
    request: FastifyRequest,
    reply: FastifyReply,
    change: (session: SessionAuthentication) => Promise<FastifyReply>,
    target: (session: SessionAuthentication) => Promise<boolean> = async () => true,
  ): Promise<FastifyReply> {
    const session = pages.session(request)
    if (!session) return reply.redirect('/login', 303)
    const { code = '' } = readStringFields(request.body, ['code'])
    try {
      if (!(await target(session))) return toAccount(reply, 'not_found')
      await factors.confirmWithCode(session.user.id, code)
      return await change(session)
    } catch (error) {
      if (isAuthError(error, 'invalid_second_factor')) return toAccount(reply, 'wrong_code')
      if (!isAuthError(error) || error.status >= 500) throw error
      return toAccount(reply, noticeOf(error))
    }
  }

  app.post('/account/two-step/recovery-codes', PAGE, async (request, reply) =>
    withCode(request, reply, async (session) =>
      renderCodes(request, reply, session, await factors.regenerateRecoveryCodes(session.user.id)),
    ),
  )

  app.post<{ Params: { id: string } }>('/account/two-step/:id/remove', PAGE, async (request, reply) =>
    withCode(
      request,
      reply,
      async (session) => {
        await factors.remove(session.user.id, request.params.id)
        return toAccount(reply, 'two_step_off')
      },
      async (session) =>
        (await factors.status(session.user.id)).factors.some((factor) => factor.id === request.params.id),
    ),
  )
}
