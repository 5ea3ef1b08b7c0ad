/**
 * Bearer authentication (RFC 6750) as the server and every resource-server verifier do it: read the header,
 * verify the access token (or find it in the verified-token cache, where the time checks still run), then
 * check the revocation list. Synchronous and free of I/O: keys and revocations are already in memory.
 */
import { type AccessTokenClaims, type AccessTokenRules, verifyAccessToken } from './access-token.js'
import { AuthError } from './errors.js'
import type { KeyResolver } from './jws/compact.js'
import type { Principal } from './principal.js'
import type { RevocationList } from './revocation-list.js'
import type { VerifiedTokenCache } from './verified-token-cache.js'

const BEARER_PATTERN = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i // RFC 6750 §2.1 b64token

export interface BearerContext {
  /** The current key ring's resolver (it changes when keys rotate). */
  resolveKey: KeyResolver
  rules: AccessTokenRules
  revocations: RevocationList
  verified: VerifiedTokenCache
  /** Told when a token names a key not in the ring, so the caller can reload keys in the background. */
  onUnknownKey?: () => void
}

/** Authenticates an `Authorization` header value at `now`; throws `invalid_token`. */
export function authenticateBearer(
  authorization: string,
  context: BearerContext,
  now: number,
): { claims: AccessTokenClaims; principal: Principal } {
  // Keyed by the whole header value: a client sends the same one on every request, so a hit skips the syntax
  // check as well as the signature (the header it was stored under passed both).
  let claims = context.verified.get(authorization, now, context.rules.leewaySeconds)
  if (!claims) {
    const match = BEARER_PATTERN.exec(authorization)
    if (!match) {
      throw new AuthError('invalid_token', 'The access token is invalid.', {
        reason: 'malformed_authorization',
      })
    }
    try {
      claims = verifyAccessToken(match[1]!, context.resolveKey, context.rules, now)
    } catch (error) {
      if (error instanceof AuthError && error.reason === 'unknown_key') context.onUnknownKey?.()
      throw error
    }
    context.verified.set(authorization, claims)
  }
  if (context.revocations.isRevoked(claims, now)) {
    throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'revoked' })
  }
  return { claims, principal: principalOfClaims(claims) }
}

const NO_SCOPES: readonly string[] = Object.freeze([])
const NO_METHODS: readonly string[] = Object.freeze([])

/** The principal an access token stands for. */
export function principalOfClaims(claims: AccessTokenClaims): Principal {
  const principal: Principal = {
    userId: claims.sub,
    sessionId: claims.sid,
    roles: claims.roles,
    method: 'token',
    amr: claims.amr ?? NO_METHODS,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    scopes: claims.scope === undefined ? NO_SCOPES : claims.scope.split(' '),
  }
  if (claims.client_id !== undefined) principal.clientId = claims.client_id
  return principal
}
