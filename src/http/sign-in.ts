/**
 * The password sign-in that every entry point shares (the JSON API, the login page, Express apps): the engine's
 * `signIn` with the cookie the browser already had (its session is ended, never adopted) and the client details
 * the device list shows, and the session cookie serialized for the framework to append. The caller has already
 * proven same origin (login CSRF).
 */
import type { Auth, ClientContext, SignInResult } from '../auth.js'
import { serializeCookie } from '../core/cookie.js'

/** What the sign-in reads of a request, in any framework. */
export interface SignInRequest {
  headers: { cookie?: string | undefined; 'user-agent'?: string | string[] | undefined }
  ip?: string | undefined
}

/** The client details recorded on a new session or token family. */
export function clientContextOf(request: SignInRequest): ClientContext {
  const userAgent = request.headers['user-agent']
  return { userAgent: typeof userAgent === 'string' ? userAgent : undefined, ip: request.ip }
}

/** Signs in; throws the engine's `AuthError`s (`invalid_credentials`, `rate_limited`, …). */
export async function signInFromRequest(
  auth: Pick<Auth, 'signIn'>,
  request: SignInRequest,
  credentials: { email: unknown; password: unknown },
): Promise<SignInResult & { setCookie: string }> {
  const result = await auth.signIn({
    email: credentials.email,
    password: credentials.password,
    cookieHeader: request.headers.cookie,
    ...clientContextOf(request),
  })
  return { ...result, setCookie: serializeCookie(result.cookie) }
}
