/**
 * Cross-site request forgery defence. A browser attaches cookies to requests any site makes, so every
 * cookie-authenticated state change (and sign-in, where there is no cookie yet: login CSRF) must prove it comes
 * from a page of this origin: by `Sec-Fetch-Site: same-origin`, or by an `Origin` naming this host or a trusted
 * origin. A request that proves neither is refused too: browsers send `Origin` on every POST, so only
 * non-browser clients lack it, and those use bearer tokens (Lucia's `verifyRequestOrigin`, the Copenhagen
 * Book's CSRF page, OWASP's Fetch-Metadata guidance). `SameSite=Lax` is the first layer; this is the second.
 * Requests with no ambient credential (the token endpoint, bearer-authenticated calls) are only refused when
 * they prove another origin.
 */
import { AuthError } from '../core/errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What the guard reads of a request, in any framework (Fastify's request fits as it is). */
export interface CsrfRequest {
  method: string
  /** The `Host` the request was sent to, with its port. */
  host: string
  headers: { origin?: string | undefined; 'sec-fetch-site'?: string | string[] | undefined }
}

export interface CsrfGuard {
  /** For cookie-authenticated and sign-in requests: throws `csrf_rejected` unless same-origin is proven. */
  requireSameOrigin(request: CsrfRequest): void
  /** For requests without ambient credentials: throws `csrf_rejected` only when another origin is proven. */
  refuseCrossOrigin(request: CsrfRequest): void
}

/**
 * `trustedOrigins` are full origins (`https://app.example.com`) whose pages may change state here, e.g. a
 * front end on a sibling host. Throws `TypeError` for an entry that is not an http(s) origin.
 */
export function createCsrfGuard(trustedOrigins: readonly string[] = []): CsrfGuard {
  const trusted = new Set(trustedOrigins.map(toOrigin))

  function verdict(request: CsrfRequest): 'same' | 'cross' | 'unknown' {
    const origin = request.headers.origin
    const fetchSite = request.headers['sec-fetch-site']
    if (origin !== undefined) {
      if (isSameHost(origin, request.host) || trusted.has(origin)) return 'same'
      return 'cross' // includes `Origin: null` (sandboxed frames, some redirects)
    }
    if (fetchSite === 'same-origin' || fetchSite === 'none') return 'same'
    if (fetchSite !== undefined) return 'cross'
    return 'unknown'
  }

  return {
    requireSameOrigin(request) {
      if (SAFE_METHODS.has(request.method)) return
      switch (verdict(request)) {
        case 'same':
          return
        case 'cross':
          throw new AuthError('csrf_rejected', 'Cross-origin requests may not change state.', {
            reason: 'cross_origin',
          })
        case 'unknown':
          throw new AuthError(
            'csrf_rejected',
            'The request does not show it comes from this site (no "Origin").',
            {
              reason: 'no_origin',
            },
          )
      }
    },
    refuseCrossOrigin(request) {
      if (!SAFE_METHODS.has(request.method) && verdict(request) === 'cross') {
        throw new AuthError('csrf_rejected', 'Cross-origin requests may not change state.', {
          reason: 'cross_origin',
        })
      }
    },
  }
}

/** The normalised origin of `value`; throws `TypeError` unless it is exactly an http(s) origin. */
function toOrigin(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`Trusted origin "${value}" is not a URL.`)
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value.replace(/\/$/, '')) {
    throw new TypeError(
      `Trusted origin "${value}" must be an http(s) origin such as https://app.example.com.`,
    )
  }
  return url.origin
}

/** True when `origin` names the host the request was sent to (default ports normalised by the origin's scheme). */
function isSameHost(origin: string, host: string): boolean {
  if (!host) return false
  try {
    const originURL = new URL(origin)
    return new URL(`${originURL.protocol}//${host}`).host === originURL.host
  } catch {
    return false // `Origin: null`, or a header that is no URL at all
  }
}
