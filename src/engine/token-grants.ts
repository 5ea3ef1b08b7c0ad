/**
 * The token endpoint's grants (RFC 6749): `password` starts a refresh family, `refresh_token` rotates it. A
 * refresh grant, from the route down: {@link grantRefresh} (throttle) → {@link redeemRefreshToken} (look the
 * token up, judge it with `core/refresh-rules.ts`, check the user, rotate the family with one compare-and-set
 * in the store) → {@link issueGrant} (sign the access token with the key that signs now).
 */
import { type AccessTokenClaims, signAccessToken } from '../core/access-token.js'
import { principalOfClaims } from '../core/bearer.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import type { Principal } from '../core/principal.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../core/random.js'
import { decideRefresh, startFamilyTimes } from '../core/refresh-rules.js'
import { openSuccessor, sealSuccessor } from '../core/successor-seal.js'
import type { RefreshFamilyRecord, UserRecord } from '../store/types.js'
import type { CredentialChecker } from './credentials.js'
import type { DeviceLimitGate } from './types.js'
import type { TokenContext } from './token-context.js'
import { revokeFamily } from './token-revocation.js'
import { storedUserAgent } from './types.js'

/** A token response (RFC 6749 §5.1), plus who it is for. */
export interface TokenGrant {
  accessToken: string
  tokenType: 'Bearer'
  /** Seconds until the access token expires. */
  expiresIn: number
  refreshToken: string
  user: UserRecord
  principal: Principal
}

export interface GrantContext extends TokenContext {
  checkCredentials: CredentialChecker
  /** The per-user session limit, checked by the store as it creates the family. */
  limit: DeviceLimitGate | undefined
}

/** `grant_type=password`: checks credentials and starts a refresh family. Throws `invalid_grant`. */
export async function grantPassword(
  ctx: GrantContext,
  input: { username: unknown; password: unknown; userAgent?: string | undefined; ip?: string | undefined },
): Promise<TokenGrant> {
  let user: UserRecord
  try {
    user = await ctx.checkCredentials(input.username, input.password, input.ip)
  } catch (error) {
    if (error instanceof AuthError && error.code === 'invalid_credentials') {
      throw new AuthError('invalid_grant', 'The username or password is incorrect.', {
        reason: error.reason,
        cause: error,
      })
    }
    throw error
  }
  const now = ctx.clock.nowSeconds()
  const refreshToken = generateSecretToken()
  const family: RefreshFamilyRecord = {
    id: generatePublicId(),
    userId: user.id,
    ...startFamilyTimes(now, ctx.policy),
    generation: 0,
    rotatedAt: null,
    revokedAt: null,
    successorSeal: null,
    userAgent: storedUserAgent(input.userAgent),
    ip: input.ip ?? null,
  }
  const created = await ctx.store.createRefreshFamily(family, hashSecret(refreshToken), ctx.limit?.at(now))
  await ctx.limit?.settle(user.id, created)
  return issueGrant(ctx, user, family.id, refreshToken, now)
}

/** `grant_type=refresh_token`: rotates the family and returns a new pair. Throws `invalid_grant`. */
export async function grantRefresh(
  ctx: GrantContext,
  refreshToken: string,
  ip: string | undefined,
): Promise<TokenGrant> {
  // Failed refresh grants count against the address like failed sign-ins: guessing is hopeless (256-bit
  // tokens), but a flood of them is still work for the store.
  await ctx.throttle?.checkAddress(ip)
  try {
    return await redeemRefreshToken(ctx, refreshToken)
  } catch (error) {
    if (error instanceof AuthError && error.code === 'invalid_grant')
      await ctx.throttle?.recordAddressFailure(ip)
    throw error
  }
}

async function redeemRefreshToken(ctx: GrantContext, refreshToken: string): Promise<TokenGrant> {
  const { store, policy } = ctx
  if (!isSecretTokenShape(refreshToken)) throw invalidGrant('malformed_refresh_token')
  const found = await store.findRefreshToken(hashSecret(refreshToken))
  if (!found) throw invalidGrant('unknown_refresh_token')
  const now = ctx.clock.nowSeconds()
  let { family } = found
  let decision = decideRefresh(family, found.generation, now, policy)
  if (decision.action === 'reject') throw invalidGrant(decision.reason)
  if (decision.action === 'revoke') {
    await revokeFamily(ctx, family.id, now)
    throw invalidGrant(decision.reason)
  }
  // The user is checked before the rotation uses the token up: if the user store is down, the client can
  // retry with the same token instead of looking like a thief after the grace window.
  const user = await store.findUserById(family.userId)
  if (!user || user.disabledAt !== null) {
    await revokeFamily(ctx, family.id, now)
    throw invalidGrant('user_unavailable')
  }
  let successor: string | null
  if (decision.action === 'rotate') {
    successor = generateSecretToken()
    const seal = sealSuccessor(refreshToken, successor, family.id)
    const won = await store.rotateRefreshFamily(
      family.id,
      found.generation,
      hashSecret(successor),
      now,
      decision.expiresAt,
      seal,
    )
    if (!won) {
      // A concurrent refresh with the same token rotated first: judge again against the family as it is now.
      family = (await store.findRefreshFamily(family.id)) ?? family
      decision = decideRefresh(family, found.generation, now, policy)
      if (decision.action === 'reject') throw invalidGrant(decision.reason)
      if (decision.action !== 'replay') throw invalidGrant('rotation_conflict')
      successor = openSuccessor(refreshToken, family.successorSeal, family.id)
    }
  } else {
    successor = openSuccessor(refreshToken, family.successorSeal, family.id)
  }
  if (successor === null) throw invalidGrant('successor_unavailable')
  return issueGrant(ctx, user, family.id, successor, now)
}

/** The token response: a new access token for `user` in the family, with the family's live refresh token. */
function issueGrant(
  ctx: TokenContext,
  user: UserRecord,
  familyId: string,
  refreshToken: string,
  now: number,
): TokenGrant {
  const { policy } = ctx
  const claims: AccessTokenClaims = {
    iss: policy.issuer,
    sub: user.id,
    aud: policy.audience,
    exp: now + policy.accessTtlSeconds,
    iat: now,
    jti: generatePublicId(),
    sid: familyId,
    roles: [...user.roles],
  }
  // The key that signs at `now` by the injected clock: a staged rotation's key takes over at its activation
  // time on every instance, with no event.
  const signer = ctx.keys.source.current.signerAt(now)
  return {
    accessToken: signAccessToken(claims, signer.key, signer.header),
    tokenType: 'Bearer',
    expiresIn: policy.accessTtlSeconds,
    refreshToken,
    user,
    principal: principalOfClaims(claims),
  }
}

function invalidGrant(reason: string): AuthError {
  return new AuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { reason })
}
