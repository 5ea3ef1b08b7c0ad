/**
 * Token introspection (RFC 7662): whether a token is active, and what it grants, for the client it was issued
 * to. A client learns nothing about other clients' tokens (they are simply inactive to it), so a leaked token
 * cannot be probed through an unrelated client.
 */
import type { AccessTokenClaims } from '../core/access-token.js'
import { type BearerContext, authenticateBearer } from '../core/bearer.js'
import { hashSecret } from '../core/hash.js'
import { isSecretTokenShape } from '../core/random.js'
import { BUILT_IN_CLIENT_ID } from './clients.js'
import type { TokenContext } from './token-context.js'

/** RFC 7662 §2.2. */
export type Introspection =
  | { active: false }
  | {
      active: true
      token_type: 'Bearer' | 'refresh_token'
      client_id: string
      sub: string
      scope?: string
      exp: number
      iat: number
      iss: string
      /** The refresh family (Sesame's session of the grant). */
      sid: string
      aud?: string
      jti?: string
    }

const INACTIVE: Introspection = Object.freeze({ active: false })

export async function introspectToken(
  ctx: TokenContext,
  bearer: BearerContext,
  token: string,
  clientId: string,
): Promise<Introspection> {
  const now = ctx.clock.nowSeconds()
  if (isSecretTokenShape(token)) {
    const found = await ctx.store.findRefreshToken(hashSecret(token))
    if (!found) return INACTIVE
    const { family } = found
    const live = family.revokedAt === null && family.expiresAt > now && found.generation === family.generation
    if (!live || (family.clientId ?? BUILT_IN_CLIENT_ID) !== clientId) return INACTIVE
    return {
      active: true,
      token_type: 'refresh_token',
      client_id: clientId,
      sub: family.userId,
      ...(family.scope !== null && { scope: family.scope }),
      exp: family.expiresAt,
      iat: family.createdAt,
      iss: ctx.policy.issuer,
      sid: family.id,
    }
  }
  let claims: AccessTokenClaims
  try {
    claims = authenticateBearer(`Bearer ${token}`, bearer, now).claims
  } catch {
    return INACTIVE
  }
  if ((claims.client_id ?? BUILT_IN_CLIENT_ID) !== clientId) return INACTIVE
  return {
    active: true,
    token_type: 'Bearer',
    client_id: clientId,
    sub: claims.sub,
    ...(claims.scope !== undefined && { scope: claims.scope }),
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    sid: claims.sid,
    aud: claims.aud,
    jti: claims.jti,
  }
}
