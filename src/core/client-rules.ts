/**
 * What a registered OAuth client may look like, and how a redirect URI in a request is matched against its
 * registration: exactly, character for character (RFC 9700 §4.1.3), except that a loopback redirect of a
 * native app may use any port (RFC 8252 §7.3: the port is picked when the app starts listening).
 */

/** Client ids are URL- and log-safe: unreserved characters only. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/

const MAX_URI_LENGTH = 2000

/** The problem with `value` as a redirect URI to register, or null when it is acceptable. */
export function redirectUriProblem(value: string): string | null {
  if (value.length > MAX_URI_LENGTH) return 'is too long'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.hash !== '' || value.includes('#')) return 'must not have a fragment (RFC 6749 §3.1.2)'
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:') {
    return isLoopbackRedirectHost(url.hostname) || url.hostname === 'localhost'
      ? null
      : 'must use https (plain http only for a loopback address, RFC 8252 §7.3)'
  }
  // A native app's private-use scheme is a reversed domain name it controls (RFC 8252 §7.1): `com.example.app:`.
  const scheme = url.protocol.slice(0, -1)
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)
    ? null
    : 'must use https, http on a loopback address, or a reversed-domain scheme like com.example.app:'
}

/** The problem with `value` as a web origin (for CORS), or null. */
export function originProblem(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an origin'
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value) {
    return 'must be an origin like https://app.example.com (scheme, host and port only)'
  }
  return null
}

/** Whether `asked` (from an authorization or token request) names one of the `registered` redirect URIs. */
export function redirectUriMatches(registered: readonly string[], asked: string): boolean {
  if (registered.includes(asked)) return true
  const askedUrl = loopbackUrl(asked)
  if (!askedUrl) return false
  return registered.some((uri) => {
    const url = loopbackUrl(uri)
    return (
      url !== null &&
      url.hostname === askedUrl.hostname &&
      url.pathname === askedUrl.pathname &&
      url.search === askedUrl.search
    )
  })
}

/**
 * Whether `uri` hands the answer to a program on the person's own device (RFC 8252: a loopback listener or a
 * private-use scheme), where any program could be listening, rather than to a web origin.
 */
export function isDeviceRedirect(uri: string): boolean {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return false
  }
  if (url.protocol === 'https:') return false
  return url.protocol !== 'http:' || isLoopbackRedirectHost(url.hostname) || url.hostname === 'localhost'
}

/** `value` parsed when it is an http URL on a loopback IP literal (the only redirects whose port may vary). */
function loopbackUrl(value: string): URL | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  return url.protocol === 'http:' && isLoopbackRedirectHost(url.hostname) && !value.includes('#') ? url : null
}

/** RFC 8252 §7.3 names the IP literals; `localhost` may resolve elsewhere, so its port is not relaxed. */
function isLoopbackRedirectHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]'
}
