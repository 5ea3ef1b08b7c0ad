/**
 * The language of a page: the one chosen with the switch (a cookie), else the browser's `Accept-Language`.
 * The choice is remembered by `POST /language`, a same-origin form post (the pipeline's default CSRF rule),
 * in a cookie that is no credential: HttpOnly, SameSite=Lax, a year.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RequestContext } from '../../auth.js'
import { readCookie } from '../../core/cookie.js'
import { safeReturnTo } from '../../core/federation.js'
import { type Language, isLanguage, negotiateLanguage } from '../messages/index.js'
import { setCookie } from '../reply-cookies.js'
import { readStringFields } from '../request-fields.js'

export const LANGUAGE_COOKIE = 'sesame-lang'
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60

/** The language to render `request` in. */
export function languageOf(request: FastifyRequest): Language {
  const chosen = readCookie(request.headers.cookie, LANGUAGE_COOKIE)
  if (chosen.status === 'present' && isLanguage(chosen.value)) return chosen.value
  return negotiateLanguage(request.headers['accept-language'])
}

/** The client address the engine throttles by, its user agent (for the audit log), and the mails' language. */
export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent']
  return { ip: request.ip, userAgent, language: languageOf(request) }
}

/** Registers `POST /language` (fields `language` and `return_to`, a same-origin path). */
export function languageRoute(app: FastifyInstance, { secureCookies }: { secureCookies: boolean }): void {
  app.post('/language', async (request, reply) => {
    const { language, return_to: returnTo } = readStringFields(request.body, ['language', 'return_to'])
    if (isLanguage(language)) {
      setCookie(reply, {
        name: LANGUAGE_COOKIE,
        value: language,
        httpOnly: true,
        secure: secureCookies,
        sameSite: 'lax',
        path: '/',
        maxAgeSeconds: ONE_YEAR_SECONDS,
      })
    }
    return reply.redirect(safeReturnTo(returnTo, '/'), 303)
  })
}
