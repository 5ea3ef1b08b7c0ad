/**
 * Scopes (RFC 6749 §3.3): a space-separated list of case-sensitive tokens. Sesame knows OpenID Connect's four
 * and lets each client be registered for more (an API's own scopes, passed through to its access tokens).
 */
import { AuthError } from './errors.js'

/** `openid` asks for an ID token; `profile` and `email` for claims; `offline_access` for a refresh token. */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** Longest scope parameter read; far above any real list, it bounds the work a request can ask for. */
const MAX_SCOPE_LENGTH = 1024

export function isScopeToken(value: string): boolean {
  return value.length <= 128 && SCOPE_TOKEN.test(value)
}

/**
 * The scopes in a `scope` parameter, each once, in the order given; an absent or empty parameter is none.
 * Throws `invalid_scope` for a malformed one (RFC 6749 §3.3: separated by single spaces).
 */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined || value === '') return []
  if (value.length > MAX_SCOPE_LENGTH) throw invalidScope('The "scope" parameter is too long.')
  const scopes = value.split(' ')
  if (!scopes.every(isScopeToken)) throw invalidScope('The "scope" parameter is malformed.')
  return [...new Set(scopes)]
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ')
}

/** Throws `invalid_scope` unless every scope in `asked` is in `allowed`. */
export function requireScopesWithin(
  asked: readonly string[],
  allowed: readonly string[],
  what: string,
): void {
  const outside = asked.filter((scope) => !allowed.includes(scope))
  if (outside.length > 0) throw invalidScope(`${what} does not allow the scope "${outside[0]}".`)
}

function invalidScope(message: string): AuthError {
  return new AuthError('invalid_scope', message)
}
