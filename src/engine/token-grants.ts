/**
 * The token endpoint's grants (RFC 6749): `authorization_code` (§4.1, with PKCE) and `password` start a refresh
 * family, `refresh_token` rotates it. Every grant is made to an authenticated client (`clients.ts`), whose id
 * the family keeps and the access token carries (`client_id`, RFC 9068). A refresh grant, from the route down: {@link grantRefresh} (throttle) → {@link redeemRefreshToken} (look the
 * token up, judge it with `core/refresh-rules.ts`, check the user, rotate the family with one compare-and-set
 * in the store) → {@link issueGrant} (sign the access token with the key that signs now).
 */
import { type AccessTokenClaims, signAccessToken } from '../core/access-token.js'
import { PASSWORD_ONLY } from '../core/sign-in-methods.js'
import { principalOfClaims } from '../core/bearer.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import { accessTokenHash, signIdToken } from '../core/id-token.js'
import { formatScope, parseScope, requireScopesWithin } from '../core/oauth-scope.js'
import type { Principal } from '../core/principal.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../core/random.js'
import { decideRefresh, startFamilyTimes } from '../core/refresh-rules.js'
import { openSuccessor, sealSuccessor } from '../core/successor-seal.js'
import type { OAuthClientRecord, RefreshFamilyRecord, UserRecord } from '../store/types.js'
import type { AuthorizationCodes, CodeGrant } from './authorization-codes.js'
import { BUILT_IN_CLIENT_ID } from './clients.js'
import type { CredentialChecker } from './credentials.js'
import type { EventReporter } from './events.js'
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
  /** Null when the client may not have one (a third-party client that did not ask for `offline_access`). */
  refreshToken: string | null
  /** The granted scopes, space-separated; empty when none were asked for. */
  scope: string
  /** An OpenID Connect ID token, when the code grant's scope held `openid`. */
  idToken?: string
  user: UserRecord
  principal: Principal
}

export interface GrantContext extends TokenContext {
  checkCredentials: CredentialChecker
  /** The per-user session limit, checked by the store as it creates the family. */
  limit: DeviceLimitGate | undefined
  codes: AuthorizationCodes
  /** Whether first-party clients may use the password grant (`SESAME_PASSWORD_GRANT`). */
  passwordGrant: boolean
  events: EventReporter
}

/** A grant that always comes with a refresh token (password, refresh). */
export type RefreshingGrant = TokenGrant & { refreshToken: string }

/** Whom a grant is for: the authenticated client, and where the request came from. */
export interface GrantClient {
  client: OAuthClientRecord
  userAgent?: string | undefined
  ip?: string | undefined
}

/**
 * `grant_type=password`: checks credentials and starts a refresh family. For first-party clients only (RFC 9700
 * §2.4: it hands the password to the client), unless turned off. Throws `invalid_grant`, `unauthorized_client`,
 * `invalid_scope`.
 */
export async function grantPassword(
  ctx: GrantContext,
  input: GrantClient & { username: unknown; password: unknown; scope?: string | undefined },
): Promise<RefreshingGrant> {
  if (!input.client.firstParty || !ctx.passwordGrant) {
    throw new AuthError('unauthorized_client', 'The password grant is not available to this client.', {
      reason: ctx.passwordGrant ? 'third_party_client' : 'password_grant_off',
    })
  }
  const scopes = parseScope(input.scope)
  requireScopesWithin(scopes, input.client.scopes, 'This client')
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
  const family = newFamily(
    ctx,
    generatePublicId(routeOf(ctx, user.id)),
    user.id,
    input,
    scopes,
    now,
    PASSWORD_ONLY,
  )
  const refreshToken = await startFamily(ctx, family, now)
  return { ...issueGrant(ctx, { user, family, refreshToken, now }), refreshToken }
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): redeems a code for the client it was
 * issued to, with its redirect URI and PKCE verifier. A code redeemed twice revokes the family the first
 * redemption started (its tokens were issued to whoever used the code first, perhaps a thief). Throws
 * `invalid_grant`.
 */
export async function grantAuthorizationCode(
  ctx: GrantContext,
  input: GrantClient & {
    code: string
    redirectUri: string | undefined
    codeVerifier: string | undefined
  },
): Promise<TokenGrant> {
  const { client } = input
  const grant = await ctx.codes.open(input.code, {
    clientId: client.id,
    redirectUri: input.redirectUri,
    codeVerifier: input.codeVerifier,
  })
  const now = ctx.clock.nowSeconds()
  await requireStillAllowed(ctx, grant, client, now)
  const used = `authorization-code:${grant.id}`
  const replayed = `authorization-code-replayed:${grant.id}`
  // Claimed last, once everything else holds: a request that fails a check above does not use the code up.
  if (!(await ctx.store.claimOnce(hashSecret(used), grant.expiresAt, now))) {
    // A replay: whoever redeemed the code first may be a thief. Its family is revoked, and a mark is left in
    // case the first redemption has not stored that family yet (it looks for the mark once it has).
    await ctx.store.claimOnce(hashSecret(replayed), grant.expiresAt, now)
    await revokeFamily(ctx, grant.familyId, now)
    throw invalidCode('code_reused')
  }
  const user = await ctx.store.findUserById(grant.userId)
  if (!user || user.disabledAt !== null) throw invalidGrant('user_unavailable')
  // Third-party clients hold a refresh token only when the person allowed offline access (OpenID Connect
  // Core §11). Without one the family is only the device the access token belongs to: it lives as long as
  // that token, so silent sign-ins do not pile up devices (each counts against the limit while it lives).
  const offline = client.firstParty || grant.scopes.includes('offline_access')
  const family = newFamily(ctx, grant.familyId, user.id, input, grant.scopes, now, grant.amr)
  if (!offline) family.expiresAt = family.absoluteExpiresAt = now + ctx.policy.accessTtlSeconds
  const refreshToken = await startFamily(ctx, family, now)
  if (!(await ctx.store.claimOnce(hashSecret(replayed), grant.expiresAt, now))) {
    await revokeFamily(ctx, family.id, now)
    throw invalidCode('code_reused')
  }
  const issued = issueGrant(ctx, { user, family, refreshToken: offline ? refreshToken : null, now })
  if (grant.scopes.includes('openid')) {
    const signer = ctx.keys.source.current.signerAt(now)
    const email = grant.scopes.includes('email')
    issued.idToken = signIdToken(
      {
        iss: ctx.policy.issuer,
        sub: user.id,
        aud: client.id,
        exp: now + ctx.policy.accessTtlSeconds,
        iat: now,
        auth_time: grant.authTime,
        ...(grant.amr.length > 0 && { amr: [...grant.amr] }),
        ...(grant.nonce !== undefined && { nonce: grant.nonce }),
        at_hash: accessTokenHash(issued.accessToken, signer.key.alg),
        sid: grant.sessionId,
        ...(email && { email: user.email, email_verified: user.emailVerifiedAt !== null }),
      },
      signer.key,
    )
  }
  return issued
}

/** The route the store wants on the secrets and family ids of `userId` (`core/secret-route.ts`), if any. */
function routeOf(ctx: GrantContext, userId: string): string | null {
  return ctx.store.secretRoute?.(userId) ?? null
}

function newFamily(
  ctx: GrantContext,
  id: string,
  userId: string,
  from: GrantClient,
  scopes: readonly string[],
  now: number,
  amr: readonly string[],
): RefreshFamilyRecord {
  return {
    id,
    userId,
    ...startFamilyTimes(now, ctx.policy),
    generation: 0,
    rotatedAt: null,
    revokedAt: null,
    successorSeal: null,
    userAgent: storedUserAgent(from.userAgent),
    ip: from.ip ?? null,
    clientId: from.client.id,
    scope: scopes.length === 0 ? null : formatScope(scopes),
    amr,
  }
}

/** Stores the family with its first refresh token (within the device limit) and returns that token. */
async function startFamily(ctx: GrantContext, family: RefreshFamilyRecord, now: number): Promise<string> {
  const refreshToken = generateSecretToken(routeOf(ctx, family.userId))
  const created = await ctx.store.createRefreshFamily(family, hashSecret(refreshToken), ctx.limit?.at(now))
  await ctx.limit?.settle(family.userId, created)
  return refreshToken
}

/**
 * A code outlives nothing the person did since it was issued: the browser session that authorized it must
 * still be live (not signed out, not ended everywhere), and a third-party app must still hold the consent
 * (not removed on the account page). Throws `invalid_grant`.
 */
async function requireStillAllowed(
  ctx: GrantContext,
  grant: CodeGrant,
  client: OAuthClientRecord,
  now: number,
): Promise<void> {
  const sessions = await ctx.store.listUserSessions(grant.userId)
  if (!sessions.some((session) => session.id === grant.sessionId && session.expiresAt > now)) {
    throw invalidCode('session_ended')
  }
  if (client.firstParty) return
  const consent = await ctx.store.findConsent(grant.userId, client.id)
  if (!consent || !grant.scopes.every((scope) => consent.scopes.includes(scope))) {
    throw invalidCode('consent_withdrawn')
  }
}

function invalidCode(reason: string): AuthError {
  return new AuthError('invalid_grant', 'The authorization code is invalid, expired or used.', { reason })
}

/**
 * `grant_type=refresh_token`: rotates the family and returns a new pair, to the client the family was issued
 * to; `scope` may narrow the access token's scopes, never widen them (RFC 6749 §6). Throws `invalid_grant`,
 * `invalid_scope`.
 */
export async function grantRefresh(
  ctx: GrantContext,
  input: {
    refreshToken: string
    client: OAuthClientRecord
    scope?: string | undefined
    ip?: string | undefined
    userAgent?: string | undefined
  },
): Promise<RefreshingGrant> {
  const asked = parseScope(input.scope)
  // Failed refresh grants count against the address like failed sign-ins: guessing is hopeless (256-bit
  // tokens), but a flood of them is still work for the store.
  await ctx.throttle?.checkAddress(input.ip)
  try {
    return await redeemRefreshToken(ctx, input.refreshToken, input.client, asked, input)
  } catch (error) {
    if (error instanceof AuthError && error.code === 'invalid_grant')
      await ctx.throttle?.recordAddressFailure(input.ip)
    throw error
  }
}

async function redeemRefreshToken(
  ctx: GrantContext,
  refreshToken: string,
  client: OAuthClientRecord,
  askedScopes: string[],
  from: { ip?: string | undefined; userAgent?: string | undefined },
): Promise<RefreshingGrant> {
  const { store, policy } = ctx
  if (!isSecretTokenShape(refreshToken)) throw invalidGrant('malformed_refresh_token')
  const found = await store.findRefreshToken(hashSecret(refreshToken))
  if (!found) throw invalidGrant('unknown_refresh_token')
  // Checked before anything changes: another client's token is not this client's to use up (RFC 6749 §6).
  if ((found.family.clientId ?? BUILT_IN_CLIENT_ID) !== client.id)
    throw invalidGrant('family_of_another_client')
  const granted = found.family.scope === null ? [] : found.family.scope.split(' ')
  requireScopesWithin(askedScopes, granted, 'The refresh token')
  const now = ctx.clock.nowSeconds()
  let { family } = found
  let decision = decideRefresh(family, found.generation, now, policy)
  if (decision.action === 'reject') throw invalidGrant(decision.reason)
  if (decision.action === 'revoke') {
    // Reported before the revocation, which may fail: a copy of the token is in someone else's hands either way.
    ctx.events.report('refresh_reuse_detected', 'success', {
      userId: family.userId,
      ip: from.ip,
      userAgent: from.userAgent,
      clientId: client.id,
    })
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
    successor = generateSecretToken(routeOf(ctx, family.userId))
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
  const scopes = askedScopes.length > 0 ? askedScopes : granted
  return {
    ...issueGrant(ctx, { user, family, refreshToken: successor, now, scopes }),
    refreshToken: successor,
  }
}

/**
 * The token response: a new access token for `user` in the family (with the family's scopes, or `scopes`
 * narrowed from them), with the family's live refresh token.
 */
function issueGrant(
  ctx: TokenContext,
  input: {
    user: UserRecord
    family: RefreshFamilyRecord
    refreshToken: string | null
    now: number
    scopes?: readonly string[]
  },
): TokenGrant {
  const { policy } = ctx
  const { user, family, now } = input
  const scope = input.scopes ? formatScope(input.scopes) : (family.scope ?? '')
  const claims: AccessTokenClaims = {
    iss: policy.issuer,
    sub: user.id,
    aud: policy.audience,
    exp: now + policy.accessTtlSeconds,
    iat: now,
    jti: generatePublicId(),
    client_id: family.clientId ?? BUILT_IN_CLIENT_ID,
    ...(scope !== '' && { scope }),
    sid: family.id,
    roles: [...user.roles],
    ...(family.amr.length > 0 && { amr: [...family.amr] }),
  }
  // The key that signs at `now` by the injected clock: a staged rotation's key takes over at its activation
  // time on every instance, with no event.
  const signer = ctx.keys.source.current.signerAt(now)
  return {
    accessToken: signAccessToken(claims, signer.key, signer.header),
    tokenType: 'Bearer',
    expiresIn: policy.accessTtlSeconds,
    refreshToken: input.refreshToken,
    scope,
    user,
    principal: principalOfClaims(claims),
  }
}

function invalidGrant(reason: string): AuthError {
  return new AuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { reason })
}
