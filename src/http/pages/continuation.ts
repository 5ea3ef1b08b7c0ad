/**
 * Where a sign-in continues. A page that interrupts something (an authorization request waiting for the person
 * to sign in) passes its own path as `return_to`; sign-in and sign-up carry it through their forms, links and
 * provider buttons, and go there afterwards instead of the account page. Only same-origin paths are taken
 * (`safeReturnTo`), so it is no open redirect.
 */
import { safeReturnTo } from '../../core/federation.js'
import type { Authorization } from '../../engine/authorization.js'

/** The path in a `return_to` value, or null (go to the default). */
export function continuationOf(value: unknown): string | null {
  const path = safeReturnTo(value, '')
  return path === '' ? null : path
}

/** `path` with the continuation as its `return_to`. */
export function withContinuation(path: string, returnTo: string | null): string {
  if (returnTo === null) return path
  return `${path}${path.includes('?') ? '&' : '?'}return_to=${encodeURIComponent(returnTo)}`
}

/**
 * What a sign-in page continuing `returnTo` takes from an authorization request waiting there (sealed, and
 * checked before it was sealed: `engine/authorization.ts`): the email to fill in (`login_hint`), and the CSP
 * `form-action` source the page needs, since a form posted there is answered with redirects ending at the
 * client's redirect URI and browsers check `form-action` on each redirect.
 */
/**
 * The login page asking a signed-in person to sign in again (step-up: `core/step-up.ts`), and then to go on
 * to `returnTo`.
 */
export function signInAgainPath(returnTo: string): string {
  return withContinuation('/login?reauth=1&notice=confirm_sign_in', returnTo)
}

export async function continuationDetails(
  authorization: Pick<Authorization, 'resume'> | null,
  returnTo: string | null,
): Promise<{ loginHint: string; formTargets: string[] }> {
  const none = { loginHint: '', formTargets: [] }
  if (!authorization || !returnTo?.startsWith('/auth/authorize?')) return none
  const resume = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1)).get('resume')
  const waiting = resume === null ? null : await authorization.resume(resume)
  if (!waiting) return none
  const { login_hint: hint = '', redirect_uri: redirectUri } = waiting.query
  return {
    loginHint: hint.length <= 254 ? hint : '',
    formTargets: redirectUri === undefined ? [] : cspSourceOf(redirectUri),
  }
}

/** A CSP source that admits `uri`: its origin, or for a private-use scheme (a native app), the scheme. */
export function cspSourceOf(uri: string): string[] {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return []
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return [url.origin]
  // Anything else is written into a header: only a plain scheme name may pass.
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? [url.protocol] : []
}
