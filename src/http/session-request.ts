/**
 * Authenticates a Fastify request through the engine, and writes what the engine asks (a renewed cookie; a
 * cleared one when the session is gone). Shared by the JSON API and the web pages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, ClientContext, RequestAuthentication, SessionAuthentication } from '../auth.js'
import { isAuthError } from '../core/errors.js'
import { setCookie } from './reply-cookies.js'

/** The cookie session of this request, or null without a session cookie (pages use cookies only). */
export async function authenticateSessionRequest(
  auth: Auth,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<SessionAuthentication | null> {
  return clearDeadCookie(auth, reply, async () => {
    const result = await auth.authenticateSession(request.headers.cookie)
    if (result?.cookie) setCookie(reply, result.cookie)
    return result
  })
}

/** The request's bearer token (judged alone if present) or session cookie; null when it has neither. */
export async function authenticateAnyRequest(
  auth: Auth,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<RequestAuthentication | null> {
  return clearDeadCookie(auth, reply, async () => {
    const result = await auth.authenticate({
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
    })
    if (result?.cookie) setCookie(reply, result.cookie)
    return result
  })
}

async function clearDeadCookie<T>(
  auth: Auth,
  reply: FastifyReply,
  authenticate: () => Promise<T>,
): Promise<T> {
  try {
    return await authenticate()
  } catch (error) {
    // A dead or malformed session cookie is useless to the browser: tell it to drop it.
    if (isAuthError(error, 'invalid_session') || isAuthError(error, 'invalid_cookie')) {
      setCookie(reply, auth.blankSessionCookie())
    }
    throw error
  }
}

/** The client details recorded on a new session. */
export function clientContext(request: FastifyRequest): ClientContext {
  return { userAgent: request.headers['user-agent'], ip: request.ip }
}
