/**
 * Authenticates a Fastify request by its session cookie through the engine, and writes what the engine asks
 * (a renewed cookie; a cleared one when the session is gone). Shared by the JSON API and the web pages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, ClientContext, SessionAuthentication } from '../auth.js'
import { isAuthError } from '../core/errors.js'
import { setCookie } from './reply-cookies.js'

/** The session of this request, or null without a session cookie; throws `invalid_session`/`invalid_cookie`. */
export async function authenticateRequest(
  auth: Auth,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<SessionAuthentication | null> {
  try {
    const result = await auth.authenticateSession(request.headers.cookie)
    if (result?.cookie) setCookie(reply, result.cookie)
    return result
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
