/**
 * Browsers keep a `Secure` cookie only from a secure context: HTTPS, or plain HTTP on a loopback host
 * (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`). Served over plain HTTP on any other host, every sign-in
 * "works" and the browser drops its cookie, so the person lands back on the login page with no reason given.
 * These helpers let the pages say why instead, and the server warn at start.
 */

/** True for the host names and addresses browsers treat as secure over plain HTTP. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (host === '[::1]' || host === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** True when a browser at `origin` (scheme://host[:port]) would refuse a `Secure` cookie from this server. */
export function dropsSecureCookie(origin: string): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false // `null` or garbage: the CSRF rule answers those
  }
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname)
}

/** What the person should do, for a page error. */
export function insecureCookieAdvice(origin: string): string {
  const host = new URL(origin).hostname
  return (
    `This page is served over plain HTTP at ${host}, so your browser refuses the session cookie and you cannot ` +
    'stay signed in. Serve Sesame over HTTPS (and set SESAME_ISSUER to its https URL), or open it at ' +
    'http://localhost. For development on another host only: SESAME_COOKIE_SECURE=false with ' +
    'SESAME_COOKIE_NAME=sesame.'
  )
}
