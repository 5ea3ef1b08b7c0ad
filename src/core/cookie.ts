/**
 * Cookies as plain descriptions (name, value, attributes); the HTTP layer serialises them. Secure defaults
 * are built in: HttpOnly (scripts cannot read the session id), Secure, SameSite=Lax, Path=/, no Domain, and
 * the `__Host-` prefix, which makes browsers refuse the cookie unless it is Secure, Path=/ and host-only
 * (RFC 6265bis §4.1.3.2), so a sibling subdomain cannot plant or overwrite it.
 *
 * Also here, as pure string functions: reading one cookie out of a `Cookie` header (noticing duplicates, which
 * a normal browser never sends for a `__Host-` cookie) and serialising a description into `Set-Cookie`.
 */
import { SesameOptionError } from './errors.js'
import { checkOptionObject } from './option-checks.js'

export type SameSite = 'lax' | 'strict'

/** A cookie to set (or, with `maxAgeSeconds: 0`, to clear). */
export interface CookieDescription {
  name: string
  value: string
  httpOnly: true
  secure: boolean
  sameSite: SameSite
  path: string
  /** Lifetime in seconds from now; 0 deletes the cookie. */
  maxAgeSeconds: number
}

/** How the session cookie is named and scoped. */
export interface SessionCookieOptions {
  /** Default `__Host-sesame`. */
  name: string
  /** Default true. Only for plain-HTTP development on hosts browsers do not treat as secure. */
  secure: boolean
  /** Default `lax`, so a link from another site still arrives signed in; `strict` trades that away. */
  sameSite: SameSite
}

/** RFC 6265 §4.1.1 token: what a cookie name may be. */
export const COOKIE_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export const SESSION_COOKIE_DEFAULTS: Readonly<SessionCookieOptions> = Object.freeze({
  name: '__Host-sesame',
  secure: true,
  sameSite: 'lax',
})

/**
 * Resolves and checks the cookie options; throws {@link SesameOptionError} naming the bad option
 * (`cookie.<key>`). The result is frozen.
 */
export function resolveSessionCookieOptions(
  input: Partial<SessionCookieOptions> = {},
): Readonly<SessionCookieOptions> {
  checkOptionObject('cookie', input, Object.keys(SESSION_COOKIE_DEFAULTS))
  // Only `undefined` means the default: a `null` is a mistake, refused below.
  const options = { ...SESSION_COOKIE_DEFAULTS }
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) Object.assign(options, { [key]: value })
  }
  if (typeof options.name !== 'string' || !COOKIE_NAME_PATTERN.test(options.name)) {
    throw new SesameOptionError(
      'cookie.name',
      'Cookie option "name" must be an RFC 6265 token (letters, digits, and !#$%&\'*+-.^_`|~).',
    )
  }
  if (typeof options.secure !== 'boolean') {
    throw new SesameOptionError('cookie.secure', 'Cookie option "secure" must be true or false.')
  }
  if (options.name.toLowerCase().startsWith('__host-') && !options.secure) {
    throw new SesameOptionError(
      'cookie.secure',
      'Cookie option "secure" must be true for a "__Host-" cookie name (RFC 6265bis §4.1.3.2).',
    )
  }
  if (options.name.toLowerCase().startsWith('__secure-') && !options.secure) {
    throw new SesameOptionError(
      'cookie.secure',
      'Cookie option "secure" must be true for a "__Secure-" cookie name (RFC 6265bis §4.1.3.1).',
    )
  }
  if (options.sameSite !== 'lax' && options.sameSite !== 'strict') {
    throw new SesameOptionError('cookie.sameSite', 'Cookie option "sameSite" must be "lax" or "strict".')
  }
  return Object.freeze(options)
}

/** The cookie that carries a session token for `maxAgeSeconds`. */
export function createSessionCookie(
  options: SessionCookieOptions,
  token: string,
  maxAgeSeconds: number,
): CookieDescription {
  return {
    name: options.name,
    value: token,
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite,
    path: '/',
    maxAgeSeconds: Math.max(0, maxAgeSeconds),
  }
}

/** The cookie that tells the browser to forget the session cookie. */
export function createBlankSessionCookie(options: SessionCookieOptions): CookieDescription {
  return createSessionCookie(options, '', 0)
}

/**
 * Where browsers in token mode keep the refresh token: `HttpOnly` (no script can read it, unlike localStorage),
 * `SameSite=Strict`, and sent only under `/auth` (Sesame's own routes), never with the app's API calls. The
 * `__Host-` prefix needs `Path=/`, so this one is `__Secure-`: Secure, but a sibling subdomain could set one
 * too. A planted duplicate is refused (`invalid_request`, never guessed between), so at worst it makes the
 * victim sign in again; a planted token of the attacker's own would sign the victim into the attacker's
 * account. Deployments that do not trust their sibling subdomains should keep Sesame on a host of its own.
 */
export const REFRESH_COOKIE_PATH = '/auth'

/** The refresh-token cookie's name: `__Secure-sesame-refresh`, or `sesame-refresh` when not Secure. */
export function refreshCookieName(options: Pick<SessionCookieOptions, 'secure'>): string {
  return options.secure ? '__Secure-sesame-refresh' : 'sesame-refresh'
}

/** The cookie that carries a refresh token for `maxAgeSeconds` (0 clears it). */
export function createRefreshTokenCookie(
  options: Pick<SessionCookieOptions, 'secure'>,
  token: string,
  maxAgeSeconds: number,
): CookieDescription {
  return {
    name: refreshCookieName(options),
    value: token,
    httpOnly: true,
    secure: options.secure,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    maxAgeSeconds: Math.max(0, maxAgeSeconds),
  }
}

/**
 * The cookie that holds a sign-in halfway (`engine/pending-sign-ins.ts`): the password was right, the second
 * factor is still to come. `__Host-` like the session's (only this host may set it), `SameSite=Strict`
 * (the code is only ever sent from the sign-in page itself), and short-lived: `maxAgeSeconds` (0 clears it).
 */
export function createPendingSignInCookie(
  options: Pick<SessionCookieOptions, 'secure'>,
  sealed: string,
  maxAgeSeconds: number,
): CookieDescription {
  return {
    name: pendingSignInCookieName(options),
    value: sealed,
    httpOnly: true,
    secure: options.secure,
    sameSite: 'strict',
    path: '/',
    maxAgeSeconds: Math.max(0, maxAgeSeconds),
  }
}

/** The pending sign-in cookie's name: `__Host-sesame-pending`, or `sesame-pending` when not Secure. */
export function pendingSignInCookieName(options: Pick<SessionCookieOptions, 'secure'>): string {
  return options.secure ? '__Host-sesame-pending' : 'sesame-pending'
}

/** What a `Cookie` header holds under one name. */
export type CookieLookup =
  | { status: 'absent' }
  /** Sent more than once: a sign of cookie tossing or a confused client; never guess which one is meant. */
  | { status: 'duplicate' }
  | { status: 'present'; value: string }

/** Finds the cookie `name` in a `Cookie` request header (RFC 6265 §5.4: pairs joined by `;`). */
export function readCookie(header: string | undefined, name: string): CookieLookup {
  if (!header) return { status: 'absent' }
  let value: string | undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    if (value !== undefined) return { status: 'duplicate' }
    value = pair.slice(eq + 1).trim()
  }
  return value === undefined ? { status: 'absent' } : { status: 'present', value }
}

const COOKIE_VALUE_PATTERN = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/ // RFC 6265 §4.1.1 cookie-octet

/** Serialises a description as a `Set-Cookie` header value. */
export function serializeCookie(cookie: CookieDescription): string {
  if (!COOKIE_NAME_PATTERN.test(cookie.name) || !COOKIE_VALUE_PATTERN.test(cookie.value)) {
    throw new TypeError(`Cookie "${cookie.name}" has a name or value that cannot be sent in a header.`)
  }
  let header = `${cookie.name}=${cookie.value}; Path=${cookie.path}; Max-Age=${Math.floor(cookie.maxAgeSeconds)}`
  if (cookie.maxAgeSeconds <= 0) header += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
  header += '; HttpOnly'
  if (cookie.secure) header += '; Secure'
  header += cookie.sameSite === 'strict' ? '; SameSite=Strict' : '; SameSite=Lax'
  return header
}
