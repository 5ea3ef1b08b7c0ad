/**
 * The authorization endpoint's request (RFC 6749 §4.1.1 with PKCE, RFC 7636; OpenID Connect Core §3.1.2.1)
 * and what to do with it. Reading happens in two stages, because who may see an error differs:
 * 1. `client_id` and `redirect_uri` ({@link readAuthorizationTarget}): until both are known good, an error is
 *    shown to the person and never sent anywhere (an unchecked redirect is an open redirector);
 * 2. everything else ({@link readAuthorizationParameters}): errors go back to the client's redirect URI, with
 *    `state` and `iss`.
 * Only the code flow exists, and PKCE with S256 is required of every client (OAuth 2.1).
 */
import { parseScope } from './oauth-scope.js'

export type Prompt = 'none' | 'login' | 'consent'

export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  scopes: string[]
  state: string | undefined
  nonce: string | undefined
  /** S256 of the client's code verifier, base64url (43 characters). */
  codeChallenge: string
  prompts: Prompt[]
  /** Seconds since the last sign-in beyond which the person must sign in again. */
  maxAge: number | undefined
  loginHint: string | undefined
}

/** An error for the client, sent to its redirect URI (RFC 6749 §4.1.2.1). */
export interface AuthorizationError {
  error:
    | 'invalid_request'
    | 'unsupported_response_type'
    | 'invalid_scope'
    | 'login_required'
    | 'consent_required'
    | 'access_denied'
  description: string
}

type Query = Record<string, unknown>

/**
 * Longest request read, all parameters together: real ones are a few hundred characters, and a request
 * waiting for a sign-in travels sealed in the login page's `return_to`, which must stay under its 2048.
 */
const MAX_REQUEST_LENGTH = 1200

/** Why a request cannot be answered on its redirect URI, for the page that says so instead. */
export type UntrustedRequest = 'no_client' | 'no_redirect_uri' | 'unknown_client' | 'redirect_uri_mismatch'

/** `client_id` and `redirect_uri`, or the problem to show the person (nothing is redirected). */
export function readAuthorizationTarget(
  query: Query,
): { clientId: string; redirectUri: string } | { problem: UntrustedRequest } {
  const clientId = single(query, 'client_id')
  const redirectUri = single(query, 'redirect_uri')
  if (typeof clientId !== 'string' || clientId === '') return { problem: 'no_client' }
  if (typeof redirectUri !== 'string' || redirectUri === '') return { problem: 'no_redirect_uri' }
  return { clientId, redirectUri }
}

/** The request, or the error to send back to the (already checked) redirect URI. */
export function readAuthorizationParameters(
  query: Query,
  target: { clientId: string; redirectUri: string },
): AuthorizationRequest | AuthorizationError {
  let length = 0
  for (const [name, value] of Object.entries(query)) {
    // RFC 6749 §3.1: no parameter may be sent twice; guessing which one counts is how mix-ups start.
    if (Array.isArray(value)) return invalid(`The "${name}" parameter is sent more than once.`)
    length += name.length + (typeof value === 'string' ? value.length : 0) + 2
  }
  if (length > MAX_REQUEST_LENGTH) return invalid('The request is too long.')
  const text = (name: string): string | undefined => {
    const value = query[name]
    return typeof value === 'string' && value !== '' ? value : undefined
  }
  if (query['request'] !== undefined || query['request_uri'] !== undefined) {
    return invalid('Request objects are not supported.')
  }
  const responseType = text('response_type')
  if (responseType === undefined) return invalid('The "response_type" parameter is required.')
  if (responseType !== 'code') {
    return { error: 'unsupported_response_type', description: 'Only the code flow ("code") is supported.' }
  }
  const responseMode = text('response_mode')
  if (responseMode !== undefined && responseMode !== 'query') {
    return invalid('Only the "query" response mode is supported.')
  }
  const codeChallenge = text('code_challenge')
  const method = text('code_challenge_method')
  if (codeChallenge === undefined) return invalid('PKCE is required: send "code_challenge" (S256).')
  if (method !== 'S256') return invalid('The "code_challenge_method" must be "S256".')
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    return invalid('The "code_challenge" must be the base64url SHA-256 of the code verifier.')
  }
  let scopes: string[]
  try {
    scopes = parseScope(text('scope'))
  } catch {
    return { error: 'invalid_scope', description: 'The "scope" parameter is malformed.' }
  }
  const prompts = (text('prompt') ?? '').split(' ').filter(Boolean)
  if (!prompts.every((prompt): prompt is Prompt => ['none', 'login', 'consent'].includes(prompt))) {
    return invalid('The "prompt" may hold only "none", "login" and "consent".')
  }
  if (prompts.includes('none') && prompts.length > 1) {
    return invalid('The prompt "none" cannot be combined with another.')
  }
  const maxAgeText = text('max_age')
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) {
    return invalid('The "max_age" must be a whole number of seconds.')
  }
  return {
    ...target,
    scopes,
    state: text('state'),
    nonce: text('nonce'),
    codeChallenge,
    prompts,
    maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
    loginHint: text('login_hint'),
  }
}

/**
 * The sign-in a request asked for with `prompt=login` or `max_age`: one made from the request's time on, in
 * a new session (a session of the same second that was already there does not count).
 */
export interface FreshSignIn {
  since: number
  /** The session that was signed in when the request came, which the new sign-in replaces; null if none. */
  replacing: string | null
}

/** Whether `session` is the sign-in `fresh` asks for (any session, when it asks for none). */
export function isFreshEnough(
  session: { sessionId: string; authTime: number },
  fresh: FreshSignIn | null,
): boolean {
  return fresh === null || (session.authTime >= fresh.since && session.sessionId !== fresh.replacing)
}

/** What the endpoint does for a valid request, given the browser's session and what the person allowed. */
export type AuthorizationStep =
  /** `fresh`: what the sign-in must be, to seal with the waiting request (null: any will do). */
  | { step: 'sign-in'; fresh: FreshSignIn | null }
  | { step: 'consent' }
  | { step: 'issue' }
  | { step: 'fail'; error: AuthorizationError }

export function decideAuthorization(input: {
  request: AuthorizationRequest
  /** The browser's session: which one, and when its person signed in. Null when signed out. */
  session: { sessionId: string; authTime: number } | null
  now: number
  /**
   * For a request resumed after the sign-in it asked for: what that sign-in must be ({@link FreshSignIn}), or
   * null when any will do. Undefined for a request that was not resumed.
   */
  fresh?: FreshSignIn | null | undefined
  /** First-party clients are the operator's own and are not asked about. */
  firstParty: boolean
  /** Whether a stored consent covers every scope asked for. */
  consented: boolean
  /**
   * Ask the person every time, whatever was allowed before (RFC 8252 §8.6): a public client answered on a
   * loopback port or a private-use scheme could be any program on the device claiming to be that app.
   */
  alwaysAsk: boolean
}): AuthorizationStep {
  const { request, session, now } = input
  const silent = request.prompts.includes('none')
  let stale: boolean
  if (session === null) stale = true
  else if (input.fresh !== undefined) stale = !isFreshEnough(session, input.fresh)
  else {
    stale =
      request.prompts.includes('login') ||
      (request.maxAge !== undefined && now - session.authTime > request.maxAge)
  }
  if (stale) {
    if (silent) {
      return { step: 'fail', error: { error: 'login_required', description: 'The person must sign in.' } }
    }
    const mustBeNew = request.prompts.includes('login') || request.maxAge !== undefined
    const fresh = mustBeNew ? { since: now, replacing: session?.sessionId ?? null } : null
    return { step: 'sign-in', fresh: input.fresh ?? fresh }
  }
  const mustAsk =
    input.alwaysAsk || (!input.firstParty && (!input.consented || request.prompts.includes('consent')))
  if (mustAsk) {
    return silent
      ? { step: 'fail', error: { error: 'consent_required', description: 'The person must consent.' } }
      : { step: 'consent' }
  }
  return { step: 'issue' }
}

function single(query: Query, name: string): unknown {
  const value = query[name]
  return Array.isArray(value) ? undefined : value
}

function invalid(description: string): AuthorizationError {
  return { error: 'invalid_request', description }
}
