/**
 * The password sign-in that every entry point shares (the JSON API, the login page, Express apps), and its
 * second step for accounts with a second factor: the engine's calls with the cookie the browser already had
 * (its session is ended, never adopted) and the client details the device list shows, and the cookies
 * serialized for the framework to append. The caller has already proven same origin (login CSRF).
 */
import {
  type Auth,
  type ClientContext,
  type SecondFactorProof,
  type SecondFactorRequired,
  type SignInResult,
  isSecondFactorRequired,
} from '../auth.js'
import { serializeCookie } from '../core/cookie.js'
import { AuthError } from '../core/errors.js'

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

/** What a password sign-in answers, with the cookie to set: the session's, or the pending sign-in's. */
export type SignInReply =
  (SignInResult & { setCookie: string }) | (SecondFactorRequired & { setCookie: string })

/**
 * Signs in, or (an account with a second factor) starts the pending sign-in; throws the engine's `AuthError`s
 * (`invalid_credentials`, `rate_limited`, …).
 */
export async function signInFromRequest(
  auth: Pick<Auth, 'signIn'>,
  request: SignInRequest,
  credentials: { email: unknown; password: unknown },
): Promise<SignInReply> {
  const result = await auth.signIn({
    email: credentials.email,
    password: credentials.password,
    cookieHeader: request.headers.cookie,
    ...clientContextOf(request),
  })
  return isSecondFactorRequired(result)
    ? { ...result, setCookie: serializeCookie(result.pendingCookie) }
    : { ...result, setCookie: serializeCookie(result.cookie) }
}

/**
 * The proof an app passed, checked: exactly one of a `code` or a `recoveryCode` (text), or a `passkey`
 * (`{ ceremony, response }`). Throws `invalid_request` for anything else (a caller's JSON, not a type the
 * compiler saw).
 */
export function checkSecondFactorProof(proof: unknown): SecondFactorProof {
  const fields = typeof proof === 'object' && proof !== null ? (proof as Record<string, unknown>) : {}
  const given = (['code', 'recoveryCode', 'passkey'] as const).filter((name) => fields[name] !== undefined)
  const [kind] = given
  if (given.length === 1 && kind !== 'passkey' && typeof fields[kind!] === 'string') {
    return kind === 'code' ? { code: fields[kind] as string } : { recoveryCode: fields[kind!] as string }
  }
  if (given.length === 1 && kind === 'passkey') {
    const { ceremony, response } = (fields['passkey'] ?? {}) as Record<string, unknown>
    if (
      typeof ceremony === 'string' &&
      typeof response === 'object' &&
      response !== null &&
      !Array.isArray(response)
    ) {
      return { passkey: { ceremony, response } }
    }
  }
  throw new AuthError(
    'invalid_request',
    'Send exactly one of "code" and "recovery_code" (text) or "passkey" ({ "ceremony", "response" }).',
  )
}

/**
 * Finishes a pending sign-in with its second factor; `setCookies` start the session and clear the pending
 * cookie. Throws `invalid_second_factor`, `rate_limited`, ….
 */
export async function completeSignInFromRequest(
  auth: Pick<Auth, 'completeSignIn'>,
  request: SignInRequest,
  proof: SecondFactorProof,
): Promise<SignInResult & { setCookies: string[] }> {
  const result = await auth.completeSignIn({
    proof,
    cookieHeader: request.headers.cookie,
    ...clientContextOf(request),
  })
  return { ...result, setCookies: [serializeCookie(result.cookie), serializeCookie(result.pendingCookie)] }
}
