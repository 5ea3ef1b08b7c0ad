/**
 * Cross-site request forgery defence for cookie-authenticated, state-changing requests: the browser must say
 * the request is same-origin. `SameSite=Lax` already keeps the cookie off cross-site POSTs in current
 * browsers; this check is the second layer (Lucia's `verifyRequestOrigin`, the Copenhagen Book's CSRF page),
 * and it also covers sign-in, where there is no cookie yet (login CSRF).
 *
 * Rule: a request whose `Sec-Fetch-Site` is `cross-site` or `same-site`, or whose `Origin` host differs from
 * its `Host`, is refused.
 */
import type { FastifyRequest } from 'fastify'
import { AuthError } from '../core/errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Throws `csrf_rejected` when an unsafe request comes from another site. */
export function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return
  const fetchSite = request.headers['sec-fetch-site']
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    throw new AuthError('csrf_rejected', 'Cross-site requests may not change state.', {
      reason: 'sec_fetch_site',
    })
  }
  const origin = request.headers.origin
  if (origin === undefined) return
  // `request.host` is the Host header, or X-Forwarded-Host when SESAME_TRUST_PROXY says a proxy sets it.
  if (!isSameHost(origin, request.host)) {
    throw new AuthError('csrf_rejected', 'Cross-origin requests may not change state.', {
      reason: 'origin_mismatch',
    })
  }
}

/** True when `origin` names the host the request was sent to (default ports normalised by the origin's scheme). */
function isSameHost(origin: string, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false
  try {
    const originURL = new URL(origin)
    return new URL(`${originURL.protocol}//${hostHeader}`).host === originURL.host
  } catch {
    return false // `Origin: null`, or a header that is no URL at all
  }
}
