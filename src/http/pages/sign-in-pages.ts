/**
 * Sign up, log in and log out: plain forms posting to the same origin. A refusal the person can act on (a
 * weak password, a taken email, a wrong password) shows the form again, with the words next to the field;
 * success goes on to the account page, with a welcome after a sign-up, and a sign-out ends on the login page
 * saying so.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isSecondFactorRequired } from '../../auth.js'
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/password-policy.js'
import { PASSWORD_ONLY } from '../../core/sign-in-methods.js'
import type { Messages } from '../messages/index.js'
import { appendSetCookies, setCookie } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'
import { clientContextOf, signInFromRequest } from '../sign-in.js'
import {
  type ProviderButton,
  usernameField,
  firstInvalid,
  formErrorBox,
  noticeBox,
  passwordField,
  providerButtons,
  submitButton,
} from './components.js'
import { PAGE, type PageContext } from './context.js'
import { type FormErrors, formErrorsOf, isFormError } from './form-errors.js'
import { type Html, html } from './html.js'
import { type Notice, readNotice } from './notices.js'
import { continuationDetails, continuationOf, withContinuation } from './continuation.js'
import { SECOND_FACTOR_PAGE } from './second-factor-pages.js'

export function signInPages(app: FastifyInstance, pages: PageContext): void {
  const { auth, providers } = pages

  app.get('/signup', PAGE, async (request, reply) => {
    const returnTo = continuationOf(queryOf(request)['return_to'])
    if (pages.session(request)) return reply.redirect(returnTo ?? '/account', 303)
    const { messages } = pages.speak(request)
    const problem = pages.cookieProblem(request, messages)
    return renderContinuing(request, reply, returnTo, {
      title: messages.signUp.title,
      body: signUpView(messages, providers, '', problem ? { form: problem } : {}, returnTo),
    })
  })

  app.post('/signup', async (request, reply) => {
    const { language, messages } = pages.speak(request)
    const fields = readStringFields(request.body, ['email', 'password', 'return_to'])
    const { email = '', password = '' } = fields
    const returnTo = continuationOf(fields.return_to)
    const refuse = (status: number, errors: FormErrors) =>
      renderContinuing(request, reply, returnTo, {
        status,
        title: messages.signUp.title,
        body: signUpView(messages, providers, email, errors, returnTo),
      })
    // Refused before the account exists: no sign-in could stick.
    const unusable = unusableForm(request, messages, email, password)
    if (unusable) return refuse(400, unusable)
    try {
      const user = await auth.signUp({ email, password, ...clientContextOf(request), language })
      await auth.signOut(request.headers.cookie) // a session this browser already had is replaced, not kept
      // Sign-in waits for the verification link, so the new account is not signed in yet either.
      if (auth.config.accounts.requireEmailVerification) {
        setCookie(reply, auth.blankSessionCookie())
        return reply.redirect('/login?notice=verify_to_continue', 303)
      }
      const { cookie } = await auth.createSession(user, clientContextOf(request), PASSWORD_ONLY)
      setCookie(reply, cookie)
      return reply.redirect(returnTo ?? '/account?notice=welcome', 303)
    } catch (error) {
      if (!isFormError(error)) throw error
      return refuse(error.status, formErrorsOf(error, messages))
    }
  })

  app.get('/login', PAGE, async (request, reply) => {
    const query = queryOf(request)
    const returnTo = continuationOf(query['return_to'])
    // `reauth`: the person must sign in again although signed in (an app asked for a fresh sign-in).
    if (pages.session(request) && query['reauth'] !== '1') return reply.redirect(returnTo ?? '/account', 303)
    const { messages } = pages.speak(request)
    const problem = pages.cookieProblem(request, messages)
    const { loginHint } = await continuationDetails(auth.authorization, returnTo)
    return renderContinuing(request, reply, returnTo, {
      title: messages.logIn.title,
      body: logInView(
        messages,
        providers,
        loginHint,
        problem ? { form: problem } : {},
        readNotice(request.query, messages),
        returnTo,
      ),
    })
  })

  app.post('/login', async (request, reply) => {
    const { messages } = pages.speak(request)
    const fields = readStringFields(request.body, ['email', 'password', 'return_to'])
    const { email = '', password = '' } = fields
    const returnTo = continuationOf(fields.return_to)
    const refuse = (status: number, errors: FormErrors) =>
      renderContinuing(request, reply, returnTo, {
        status,
        title: messages.logIn.title,
        body: logInView(messages, providers, email, errors, null, returnTo),
      })
    const unusable = unusableForm(request, messages, email, password)
    if (unusable) return refuse(400, unusable)
    try {
      const result = await signInFromRequest(auth, request, { email, password })
      appendSetCookies(reply, [result.setCookie])
      if (isSecondFactorRequired(result))
        return reply.redirect(withContinuation(SECOND_FACTOR_PAGE, returnTo), 303)
      return reply.redirect(returnTo ?? '/account', 303)
    } catch (error) {
      if (!isFormError(error)) throw error
      return refuse(error.status, formErrorsOf(error, messages))
    }
  })

  /**
   * A sign-in or sign-up page, signed out; when it continues an authorization request, its forms may end at
   * that request's client (`continuation.ts`).
   */
  async function renderContinuing(
    request: FastifyRequest,
    reply: FastifyReply,
    returnTo: string | null,
    page: { status?: number; title: string; body: Html },
  ): Promise<FastifyReply> {
    const { formTargets } = await continuationDetails(auth.authorization, returnTo)
    return pages.render(request, reply, { ...page, signedInAs: null, formTargets })
  }

  /** Why a posted sign-in or sign-up form cannot be used (a cookie the browser drops, an empty field), or null. */
  function unusableForm(
    request: FastifyRequest,
    messages: Messages,
    email: string,
    password: string,
  ): FormErrors | null {
    const problem = pages.cookieProblem(request, messages)
    return problem ? { form: problem } : missingFields(email, password, messages)
  }

  app.post('/logout', async (request, reply) => {
    const { cookie } = await auth.signOut(request.headers.cookie, clientContextOf(request))
    setCookie(reply, cookie)
    return reply.redirect('/login?notice=signed_out', 303)
  })
}

/** The errors for fields left empty (the browser's `required` normally stops that first), or null. */
function missingFields(email: string, password: string, messages: Messages): FormErrors | null {
  const errors: FormErrors = {}
  if (email.trim() === '') errors.email = messages.errors.emailRequired
  if (password === '') errors.password = messages.errors.passwordRequired
  return errors.email || errors.password ? errors : null
}

function signUpView(
  messages: Messages,
  providers: readonly ProviderButton[],
  email: string,
  errors: FormErrors,
  returnTo: string | null,
): Html {
  const t = messages.signUp
  const focus = firstInvalid(errors, ['email', 'password'])
  return html`<main class="card">
    <h1>${t.heading}</h1>
    <p class="lead">${t.lead}</p>
    ${formErrorBox(errors)} ${providerButtons(providers, messages, returnTo)}
    <form method="post" action="/signup" data-busy>
      ${continuationField(returnTo)} ${usernameField(messages, email, errors, focus === 'email')}
      ${passwordField({
        id: 'password',
        name: 'password',
        label: messages.form.password,
        autocomplete: 'new-password',
        minLength: MIN_PASSWORD_LENGTH,
        maxLength: MAX_PASSWORD_LENGTH,
        hint: t.passwordHint(MIN_PASSWORD_LENGTH),
        errors,
        messages,
        autofocus: focus === 'password',
      })}
      ${submitButton(t.submit, t.busy)}
    </form>
    <p class="switch">${t.haveAccount} <a href="${withContinuation('/login', returnTo)}">${t.logIn}</a></p>
  </main>`
}

function logInView(
  messages: Messages,
  providers: readonly ProviderButton[],
  email: string,
  errors: FormErrors,
  notice: Notice | null,
  returnTo: string | null,
): Html {
  const t = messages.logIn
  const focus = firstInvalid(errors, ['email', 'password'])
  return html`<main class="card">
    <h1>${t.heading}</h1>
    <p class="lead">${t.lead}</p>
    ${noticeBox(notice)} ${formErrorBox(errors)} ${providerButtons(providers, messages, returnTo)}
    <form method="post" action="/login" data-busy>
      ${continuationField(returnTo)} ${usernameField(messages, email, errors, focus === 'email')}
      ${passwordField({
        id: 'password',
        name: 'password',
        label: messages.form.password,
        autocomplete: 'current-password',
        aside: html`<a href="/forgot-password">${t.forgot}</a>`,
        errors,
        messages,
        autofocus: focus === 'password',
      })}
      ${submitButton(t.submit, t.busy)}
    </form>
    <p class="switch">${t.newHere} <a href="${withContinuation('/signup', returnTo)}">${t.signUp}</a></p>
  </main>`
}

/** The hidden field that carries the continuation through a form post. */
function continuationField(returnTo: string | null): Html | null {
  return returnTo === null ? null : html`<input type="hidden" name="return_to" value="${returnTo}" />`
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>
}
