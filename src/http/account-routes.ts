/**
 * The account lifecycle over JSON (docs/api.md "Account lifecycle"): email verification, password reset,
 * email change, account deletion. Links in the mails open pages (`/verify-email?token=…`); those pages, and
 * apps, confirm with the POSTs here. A confirmation carries its proof in the token, not in a cookie, so it
 * is refused only when it proves another origin; a signed-in change by cookie must prove its own origin.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth, PublicUser } from '../auth.js'
import { principalOf } from './guard.js'
import { setCookie } from './reply-cookies.js'
import { readRequiredStringFields, readStringFields } from './request-fields.js'
import { requestContext } from './pages/language.js'

export interface AccountRoutesOptions {
  auth: Auth
}

const SIGNED_IN = { auth: 'required', csrf: 'by-credential' } as const
const BY_TOKEN = { csrf: 'refuse-cross-origin' } as const

export async function accountRoutes(app: FastifyInstance, { auth }: AccountRoutesOptions): Promise<void> {
  app.post('/auth/email-verification', { config: SIGNED_IN }, async (request, reply) => {
    const { sent } = await auth.accounts.requestEmailVerification(
      principalOf(request)!,
      requestContext(request),
    )
    return reply.code(202).header('cache-control', 'no-store').send({ sent })
  })

  app.post('/auth/email-verification/confirm', { config: BY_TOKEN }, async (request, reply) => {
    const { token } = readRequiredStringFields(request.body, ['token'])
    const user = await auth.accounts.confirmEmailVerification(token, requestContext(request))
    return reply.header('cache-control', 'no-store').send({ user: userJSON(user) })
  })

  app.post('/auth/password-reset', { config: BY_TOKEN }, async (request, reply) => {
    const { email } = readRequiredStringFields(request.body, ['email'])
    await auth.accounts.requestPasswordReset(email, requestContext(request))
    // The same answer for every address: whether it has an account is never told.
    return reply.code(202).header('cache-control', 'no-store').send({ status: 'accepted' })
  })

  app.post('/auth/password-reset/confirm', { config: BY_TOKEN }, async (request, reply) => {
    const { token, new_password } = readRequiredStringFields(request.body, ['token', 'new_password'])
    await auth.accounts.confirmPasswordReset(token, new_password, requestContext(request))
    return reply.code(204).header('cache-control', 'no-store').send()
  })

  app.post('/auth/email', { config: SIGNED_IN }, async (request, reply) => {
    const { new_email } = readRequiredStringFields(request.body, ['new_email'])
    const { current_password } = readStringFields(request.body, ['current_password'])
    await auth.accounts.requestEmailChange(
      principalOf(request)!,
      { newEmail: new_email, currentPassword: current_password },
      requestContext(request),
    )
    return reply.code(202).header('cache-control', 'no-store').send({ status: 'confirmation_sent' })
  })

  app.post('/auth/email/confirm', { config: BY_TOKEN }, async (request, reply) => {
    const { token } = readRequiredStringFields(request.body, ['token'])
    const user = await auth.accounts.confirmEmailChange(token, requestContext(request))
    return reply.header('cache-control', 'no-store').send({ user: userJSON(user) })
  })

  app.delete('/auth/account', { config: SIGNED_IN }, async (request, reply) => {
    const principal = principalOf(request)!
    const { current_password } = readStringFields(request.body ?? {}, ['current_password'])
    await auth.accounts.deleteAccount(
      principal,
      { currentPassword: current_password },
      requestContext(request),
    )
    if (principal.method === 'cookie') setCookie(reply, auth.blankSessionCookie())
    return reply.code(204).send()
  })
}

function userJSON(user: PublicUser): { id: string; email: string; email_verified: boolean } {
  return { id: user.id, email: user.email, email_verified: user.emailVerified }
}
