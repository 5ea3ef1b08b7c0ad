/**
 * The error registry: every failure Sesame reports has a stable snake_case `code`, an HTTP status and a
 * one-line "how to fix". The HTTP layer maps errors to responses from this table alone, and
 * `docs/errors.md` is checked against it by a test, so the three never drift apart.
 *
 * Messages name the failing field in quotes; they never contain a token, cookie value, secret or password.
 * A retired code is never reused.
 */

/** Every wire code, with its HTTP status, meaning and remedy. Grouped by area. */
export const ERROR_REGISTRY = {
  // Request shape
  invalid_request: {
    status: 400,
    description: 'A field is missing, has the wrong type, or has an invalid value.',
    fix: 'Send the fields the endpoint documents, with valid values.',
  },
  malformed_json: {
    status: 400,
    description: 'The body is not valid JSON (or is empty, or tries prototype poisoning).',
    fix: 'Send a body that is one valid JSON object.',
  },
  unsupported_media_type: {
    status: 415,
    description: 'The body has a content type Sesame does not accept.',
    fix: 'Send `application/json` or `application/x-www-form-urlencoded`.',
  },
  payload_too_large: {
    status: 413,
    description: 'The body is larger than `SESAME_BODY_LIMIT_BYTES`.',
    fix: 'Send a smaller body.',
  },
  headers_too_large: {
    status: 431,
    description: "The request headers (often the cookies) exceed Node's limit (16 KiB by default).",
    fix: 'Send fewer or smaller headers; clear stale cookies for this site.',
  },
  not_found: {
    status: 404,
    description: 'No route matches this path.',
    fix: 'Check the path against docs/api.md.',
  },
  method_not_allowed: {
    status: 405,
    description: 'The path exists, but not with this method; `Allow` lists the methods it answers.',
    fix: 'Use one of the methods in `Allow` (see docs/api.md).',
  },

  // Accounts
  email_taken: {
    status: 409,
    description: 'An account with this email already exists.',
    fix: 'Sign in instead, or sign up with another email.',
  },
  invalid_credentials: {
    status: 401,
    description: 'The email and password do not match an active account (deliberately not saying which).',
    fix: 'Check the email and password and try again.',
  },

  // Links sent by mail (email verification, password reset, email change)
  invalid_link: {
    status: 400,
    description:
      'The link is unknown, expired, already used, or replaced by a newer one (one answer for every cause).',
    fix: 'Ask for a new link and use the newest mail.',
  },
  email_not_verified: {
    status: 403,
    description:
      'The account must verify its email before it can sign in (`SESAME_REQUIRE_EMAIL_VERIFICATION`); a new verification mail was sent.',
    fix: 'Open the link in the verification mail, then sign in again.',
  },
  mail_unavailable: {
    status: 503,
    description:
      'The mail could not be sent (the mail server refused it or did not answer in time); nothing changed.',
    fix: 'Try again shortly; operators should check `SESAME_SMTP_URL` and the mail server.',
  },

  // Sign-in through a provider (social login)
  unknown_provider: {
    status: 404,
    description: 'No sign-in provider with this id is configured (`SESAME_SOCIAL_PROVIDERS`).',
    fix: 'Use one of the provider ids the login page offers.',
  },
  social_sign_in_failed: {
    status: 400,
    description:
      'A sign-in through a provider did not complete: cancelled there, expired, replayed, forged, or an answer that failed validation.',
    fix: 'Start the sign-in again from the login page.',
  },
  social_email_missing: {
    status: 400,
    description: 'The provider shared no usable email address, which a new account needs.',
    fix: "Allow Sesame to read the email in the provider's consent screen, or sign up with a password.",
  },
  email_exists_unlinked: {
    status: 409,
    description:
      "An account with the provider's email exists and is not linked to this provider account; it is linked at sign-in only when both the provider and the account have verified the address.",
    fix: 'Sign in with the password, then link the provider from the account page.',
  },
  identity_taken: {
    status: 409,
    description: 'This provider account is already linked to another Sesame account.',
    fix: 'Unlink it there first, or link a different provider account.',
  },
  provider_already_linked: {
    status: 409,
    description: 'The account is already linked to an account at this provider.',
    fix: 'Unlink the current one first.',
  },
  last_sign_in_method: {
    status: 409,
    description:
      'The change would leave the account no way to sign in (no password, no provider and no passkey).',
    fix: 'Set a password, link a provider or add a passkey first.',
  },
  provider_unavailable: {
    status: 502,
    description: 'The sign-in provider could not be reached or answered with an error.',
    fix: 'Try again shortly; operators should check the provider settings and its status.',
  },

  // Second factors
  invalid_second_factor: {
    status: 401,
    description:
      'The code is wrong, was already used, or is not from the current time; or the enrolment it confirms has expired.',
    fix: 'Type the code the authenticator app shows now (or an unused recovery code); codes are accepted once.',
  },
  second_factor_required: {
    status: 401,
    description:
      'The password was right, and the account also asks for a second factor: no session has started yet.',
    fix: 'Ask for the code from the authenticator app (or a recovery code) and finish the sign-in with it.',
  },
  step_up_required: {
    status: 401,
    description:
      'The change needs a recent sign-in in the browser (within 15 minutes, and with the second factor when the account has one); this request has none (an older session, one without the second factor, or an access token).',
    fix: 'Sign in again (the login page with `reauth=1`), then make the change.',
  },
  invalid_passkey: {
    status: 401,
    description:
      'The passkey answer did not verify (another site, an unknown or removed passkey, a counter that went backwards, no user verification), or its request expired or was used.',
    fix: 'Start again: ask for new options and let the browser sign with a passkey registered here.',
  },
  factor_exists: {
    status: 409,
    description: 'The account already has an authenticator app set up, or that passkey registered.',
    fix: 'Remove the current app first (with a code from it); a passkey registered once needs no second registration.',
  },

  // Cookie sessions
  unauthenticated: {
    status: 401,
    description: 'The request carries no credentials.',
    fix: 'Sign in first and send the session cookie.',
  },
  invalid_session: {
    status: 401,
    description: 'The session cookie names a session that has expired or was ended.',
    fix: 'Sign in again.',
  },
  invalid_cookie: {
    status: 401,
    description: 'The session cookie is malformed or was sent more than once.',
    fix: 'Clear the cookies for this site and sign in again.',
  },
  session_limit_reached: {
    status: 403,
    description:
      'The account is signed in on as many devices as `SESAME_MAX_SESSIONS_PER_USER` allows (policy `deny`).',
    fix: 'Sign out on another device (see `GET /auth/sessions`), then sign in again.',
  },
  csrf_rejected: {
    status: 403,
    description: 'A state-changing request came from another site (by `Origin` or `Sec-Fetch-Site`).',
    fix: 'Send state-changing requests from the same origin as the server.',
  },
  origin_not_allowed: {
    status: 403,
    description:
      'A browser asked (CORS preflight) whether a page on another origin may call this route; that origin is not in `SESAME_TRUSTED_ORIGINS` (nor, for the token, revocation and userinfo endpoints, registered by a client).',
    fix: "Add the page's origin to `SESAME_TRUSTED_ORIGINS`, or serve the page from Sesame's origin.",
  },

  // Authorization (middleware in embedding apps)
  forbidden: {
    status: 403,
    description: 'The signed-in user lacks the role or permission this route requires.',
    fix: 'Sign in as a user with the required role, or ask an administrator for it.',
  },
  insufficient_scope: {
    status: 403,
    description:
      "The access token is valid but does not grant this route (RFC 6750 §3.1): its user lacks the role or permission, its scope lacks what the route needs, or it is a third-party app's token on Sesame's own account API.",
    fix: 'Use a token of a user with the required role, with the needed scope, or of a first-party app.',
  },

  // Tokens (OAuth 2.0 wire codes: RFC 6749 §5.2, RFC 6750 §3.1)
  invalid_token: {
    status: 401,
    description:
      'The bearer token is malformed, expired, revoked, or not signed by this server (one answer for every cause).',
    fix: 'Refresh the access token, or sign in again.',
  },
  invalid_grant: {
    status: 400,
    description:
      'The credentials or refresh token given to the token endpoint are invalid, expired, revoked, or reused.',
    fix: 'Sign in again with the password grant.',
  },
  unsupported_grant_type: {
    status: 400,
    description: 'The token endpoint does not support this `grant_type`.',
    fix: 'Use `authorization_code`, `refresh_token` or (first-party clients) `password`.',
  },

  // OAuth clients (RFC 6749 §5.2)
  invalid_client: {
    status: 401,
    description:
      'Client authentication failed: an unknown client, a wrong secret, or a confidential client that did not authenticate.',
    fix: 'Send the registered `client_id` and, for a confidential client, its secret (HTTP Basic or the body).',
  },
  unauthorized_client: {
    status: 400,
    description:
      'This client may not use this grant (the password grant is for first-party clients, and can be turned off).',
    fix: 'Use the authorization code flow with PKCE (docs/guides/oauth-clients.md).',
  },
  invalid_scope: {
    status: 400,
    description:
      'A scope asked for is malformed, unknown, not allowed for this client, or wider than the grant.',
    fix: 'Ask only for scopes the client is registered for (`sesame clients list`).',
  },
  client_exists: {
    status: 409,
    description: 'A client with this id is registered already.',
    fix: 'Choose another id, or remove the existing client first.',
  },

  // Operations
  rate_limited: {
    status: 429,
    description:
      'Too many attempts from this address or against this account; the limit resets when its window ends.',
    fix: 'Wait the number of seconds in `Retry-After`, then try again.',
  },
  server_busy: {
    status: 503,
    description: 'Too many password checks are queued; the request was shed to protect memory.',
    fix: 'Retry after the number of seconds in `Retry-After`.',
  },
  store_unavailable: {
    status: 503,
    description: 'The store cannot be reached or could not complete the operation.',
    fix: 'Retry shortly; operators should check the store (see `/readyz`).',
  },
  internal_error: {
    status: 500,
    description: 'An unexpected error; it is logged with the request id.',
    fix: 'Retry; if it persists, report it with the time of the request.',
  },
} as const satisfies Record<string, { status: number; description: string; fix: string }>

/** The union of every stable wire code. */
export type ErrorCode = keyof typeof ERROR_REGISTRY

/** Options for {@link AuthError}: structured detail safe to log, and the underlying error. */
export interface AuthErrorOptions {
  /** Finer internal reason, logged but not sent (e.g. `session_idle_timeout`). */
  reason?: string
  /** Seconds the client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number
  cause?: unknown
}

/**
 * The one error class Sesame throws for runtime outcomes. Switch on `code`.
 * Programmer errors (bad options) are {@link SesameOptionError}s (a `TypeError`) thrown at construction instead.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  readonly code: ErrorCode
  readonly status: number
  readonly reason: string | undefined
  readonly retryAfterSeconds: number | undefined

  constructor(code: ErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = ERROR_REGISTRY[code].status
    this.reason = options.reason
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/** True when `value` is an {@link AuthError}, optionally of one code. */
export function isAuthError(value: unknown, code?: ErrorCode): value is AuthError {
  return value instanceof AuthError && (code === undefined || value.code === code)
}

/**
 * Codes of errors thrown at construction for bad options (programmer errors). They are not wire codes: no
 * client ever sees one, so they stay out of {@link ERROR_REGISTRY}, whose codes the HTTP layer maps to
 * statuses. docs/errors.md lists them in a section of their own, generated from this table.
 */
export const OPTION_ERROR_CODES = {
  invalid_option: {
    description:
      'An option given to `createAuth` is missing, unknown, of the wrong type or out of range; `option` names it (e.g. `rateLimits.signupsPerAddress.limit`).',
    fix: 'Fix that option; docs/options.md gives each default and range.',
  },
} as const satisfies Record<string, { description: string; fix: string }>

export type OptionErrorCode = keyof typeof OPTION_ERROR_CODES

/**
 * A bad option, thrown when the object is created (never at a request). A `TypeError`, as before codes
 * existed, so `instanceof TypeError` keeps working; switch on `code` and read `option`, the option's path.
 */
export class SesameOptionError extends TypeError {
  override readonly name = 'SesameOptionError'
  readonly code: OptionErrorCode = 'invalid_option'
  /** The option's path from the options object, e.g. `tokens.accessTtlSeconds`. */
  readonly option: string

  constructor(option: string, message: string) {
    super(message)
    this.option = option
  }
}
