/**
 * The token half of the engine: the password grant, refresh-token rotation, revocation (RFC 7009), and bearer
 * authentication. Bearer authentication is synchronous and does no I/O: the key ring and the revocation list
 * are held in memory and refreshed from the store when they change.
 *
 * This file only composes the parts, one capability each, every one a set of named functions over one shared
 * context (`token-context.ts`): grants (`token-grants.ts`), revocation (`token-revocation.ts`), signing keys
 * (`signing-keys.ts`), and keeping both in step with other instances (`token-sync.ts`).
 */
import type { AccessTokenClaims } from '../core/access-token.js'
import { type BearerContext, authenticateBearer } from '../core/bearer.js'
import type { Clock } from '../core/clock.js'
import { readIdTokenHint } from '../core/id-token.js'
import type { Principal } from '../core/principal.js'
import { type RevocationEntry, RevocationList, type RevocationSnapshot } from '../core/revocation-list.js'
import { type TokenPolicy, accessTokenRules } from '../core/token-policy.js'
import { VerifiedTokenCache } from '../core/verified-token-cache.js'
import type { OAuthClientRecord, Store } from '../store/types.js'
import type { CredentialChecker } from './credentials.js'
import type { DeviceLimitGate } from './types.js'
import {
  type RotationOptions,
  type SigningOptions,
  openSigningKeys,
  rotateSigningKey,
  sweepSigningKeys,
} from './signing-keys.js'
import type { TokenContext } from './token-context.js'
import { type AuthorizationCodes, openAuthorizationCodes } from './authorization-codes.js'
import { BUILT_IN_CLIENT } from './clients.js'
import {
  type GrantContext,
  type RefreshingGrant,
  type TokenGrant,
  grantAuthorizationCode,
  grantPassword,
  grantRefresh,
} from './token-grants.js'
import {
  endFamily,
  endUserDevices,
  endUserFamilies,
  loadRevocations,
  revokeToken,
  startUserEpoch,
  sweepRevocations,
} from './token-revocation.js'
import { type EventReporter, createEventReporter } from './events.js'
import { followChanges, resync } from './token-sync.js'
import type { Throttle } from './throttle.js'
import { type Introspection, introspectToken } from './token-introspection.js'

export type { RotationOptions, SigningOptions } from './signing-keys.js'
export type { RefreshingGrant, TokenGrant } from './token-grants.js'
export type { Introspection } from './token-introspection.js'

export interface TokenEngine {
  /**
   * `grant_type=password`: checks credentials and starts a refresh family. `client` defaults to the built-in
   * first-party client. Throws `invalid_grant`, `unauthorized_client`, `invalid_scope`.
   */
  grantPassword(input: {
    username: unknown
    password: unknown
    userAgent?: string | undefined
    ip?: string | undefined
    client?: OAuthClientRecord | undefined
    scope?: string | undefined
  }): Promise<RefreshingGrant>
  /**
   * `grant_type=refresh_token`: rotates the family and returns a new pair, to the client it was issued to
   * (default: the built-in one); `scope` may narrow the access token's. Throws `invalid_grant`, `invalid_scope`.
   */
  grantRefresh(
    refreshToken: string,
    options?: {
      ip?: string | undefined
      userAgent?: string | undefined
      client?: OAuthClientRecord | undefined
      scope?: string | undefined
    },
  ): Promise<RefreshingGrant>
  /** `grant_type=authorization_code` with PKCE. Throws `invalid_grant`. */
  grantAuthorizationCode(input: {
    client: OAuthClientRecord
    code: string
    redirectUri: string | undefined
    codeVerifier: string | undefined
    userAgent?: string | undefined
    ip?: string | undefined
  }): Promise<TokenGrant>
  /** An authorization code for an approved request (the authorization endpoint's answer). */
  issueAuthorizationCode(grant: Parameters<AuthorizationCodes['issue']>[0]): Promise<string>
  /**
   * RFC 7009: revokes a refresh token's family or an access token issued to `client` (default: the built-in
   * one), always. Silent for anything unknown or another client's, which
   * counts as a failure against `ip` like a failed refresh grant (and throws `rate_limited` past the limit).
   */
  revoke(token: string, ip?: string, client?: OAuthClientRecord): Promise<void>
  /** RFC 7662: whether `token` is active for `client`, and what it grants; other clients' tokens are inactive. */
  introspect(token: string, client: OAuthClientRecord): Promise<Introspection>
  /** The subject, client and session of an ID token this server signed (expired or not), else null. */
  readIdTokenHint(token: string): { sub: string; aud: string; sid: string | undefined } | null
  /** Authenticates an `Authorization` header value. Synchronous, no I/O. Throws `invalid_token`. */
  authenticateBearer(authorization: string): { claims: AccessTokenClaims; principal: Principal }
  /** The published public keys. */
  jwks(): { keys: object[] }
  /**
   * Adds a new signing key and returns its kid. Staged: it is published now and signs from the policy's
   * `keyActivationDelaySeconds` later, when the current key retires (it verifies until its tokens expire).
   * `{ immediate: true }` is for a leaked key: the new key signs at once and every other key is deleted, so
   * their tokens are refused (see `docs/guides/rotate-keys.md`).
   */
  rotateSigningKey(options?: RotationOptions): Promise<string>
  /** Re-reads keys and revocations from the store (after another instance changed them). */
  reload(): Promise<void>
  /** Purges expired families, revocations and keys. */
  sweep(): Promise<void>
  /** Revokes `userId`'s family `familyId` and its access tokens. False if it is not theirs or already ended. */
  endFamily(userId: string, familyId: string): Promise<boolean>
  /** Revokes every live family of `userId` except `exceptFamilyId`, with their access tokens; returns how many. */
  endUserFamilies(userId: string, exceptFamilyId: string | null): Promise<number>
  /** Kills every access token of `userId` issued before now (the per-user epoch), on every instance. */
  startUserEpoch(userId: string): Promise<void>
  /**
   * Ends every cookie session and refresh family of `userId` but the excepted ones, with their access tokens
   * (by the user's epoch when no family is kept), as one atomic store change: on `store_unavailable`, all of
   * it or none of it happened, and a retry completes it. Returns how many devices ended.
   */
  endUserDevices(input: {
    userId: string
    exceptSessionId: string | null
    exceptFamilyId: string | null
  }): Promise<number>
  /**
   * The revocations this instance enforces, for verifiers in other processes: everything live now, and every
   * change from now on (local, from the change feed, or from a resync).
   */
  readonly revocations: {
    snapshot(): RevocationSnapshot
    watch(listener: (entry: RevocationEntry) => void): () => void
  }
  /** Stops listening to the change feed. */
  close(): Promise<void>
}

export interface TokenEngineOptions {
  store: Store
  clock: Clock
  policy: Readonly<TokenPolicy>
  signing: SigningOptions
  checkCredentials: CredentialChecker
  /** The per-user session limit, checked by the store as it creates a family. */
  limit?: DeviceLimitGate
  /** Counts failed refresh grants per client address. */
  throttle?: Pick<Throttle, 'checkAddress' | 'recordAddressFailure'>
  /** Told about background failures (feed resyncs), which must not crash the process. */
  onBackgroundError?: (error: unknown) => void
  /** Whether first-party clients may use the password grant; default true. */
  passwordGrant?: boolean
  /** Told of sign-ins, refreshes (and reuse found by them), revocations and key rotations. */
  events?: EventReporter
}

/** Creates the token engine, loading (or, on a first start, creating) its keys and the revocations from the store. */
export async function createTokenEngine(options: TokenEngineOptions): Promise<TokenEngine> {
  const { store, clock, policy } = options
  const reportBackgroundError = options.onBackgroundError ?? ((): void => {})
  const verified = new VerifiedTokenCache()
  const events = options.events ?? createEventReporter(undefined, reportBackgroundError)
  const keys = await openSigningKeys({
    store,
    clock,
    signing: options.signing,
    // A retired key verifies for as long as a token it signed can live.
    retentionSeconds: policy.accessTtlSeconds + policy.leewaySeconds,
    activationDelaySeconds: policy.keyActivationDelaySeconds,
    onReplace: () => verified.clear(), // a key may have left the ring
    onError: reportBackgroundError,
  })
  const ctx: GrantContext = {
    store,
    clock,
    policy,
    rules: accessTokenRules(policy),
    keys,
    revocations: new RevocationList(),
    verified,
    throttle: options.throttle,
    reportBackgroundError,
    checkCredentials: options.checkCredentials,
    limit: options.limit,
    codes: await openAuthorizationCodes({ store, clock }),
    passwordGrant: options.passwordGrant ?? true,
    events,
  }
  await loadRevocations(ctx)
  const stopFollowing = await followChanges(ctx)
  const bearer = bearerContext(ctx) // built once, not per request

  return {
    grantPassword: ({ client = BUILT_IN_CLIENT, ...input }) =>
      events.observe(
        'sign_in',
        { ip: input.ip, userAgent: input.userAgent, via: 'password_grant', clientId: client.id },
        async (seen) => {
          const grant = await grantPassword(ctx, { client, ...input })
          seen.userId = grant.user.id
          return grant
        },
      ),
    grantRefresh: (refreshToken, { client = BUILT_IN_CLIENT, ...options } = {}) =>
      events.observe(
        'refresh',
        { ip: options.ip, userAgent: options.userAgent, clientId: client.id },
        async (seen) => {
          const grant = await grantRefresh(ctx, { refreshToken, client, ...options })
          seen.userId = grant.user.id
          return grant
        },
      ),
    grantAuthorizationCode: (input) => grantAuthorizationCode(ctx, input),
    issueAuthorizationCode: (grant) => ctx.codes.issue(grant),
    revoke: (token, ip, client) =>
      events.observe('token_revocation', { ip, clientId: client?.id ?? BUILT_IN_CLIENT.id }, () =>
        revokeToken(ctx, token, ip, client?.id),
      ),
    introspect: (token, client) => introspectToken(ctx, bearer, token, client.id),
    readIdTokenHint: (token) => readIdTokenHint(token, keys.source.resolveKey, policy.issuer),
    authenticateBearer: (authorization) => authenticateBearer(authorization, bearer, clock.nowSeconds()),
    jwks: () => keys.source.current.jwks,
    rotateSigningKey: (rotation) =>
      events.observe('key_rotation', { via: rotation?.immediate ? 'immediate' : 'staged' }, async (seen) => {
        seen.kid = await rotateSigningKey(keys, rotation)
        return seen.kid
      }),
    reload: () => resync(ctx),
    async sweep() {
      const now = clock.nowSeconds()
      await sweepRevocations(ctx, now)
      await sweepSigningKeys(keys, now)
    },
    endFamily: (userId, familyId) => endFamily(ctx, userId, familyId),
    endUserFamilies: (userId, exceptFamilyId) => endUserFamilies(ctx, userId, exceptFamilyId),
    startUserEpoch: (userId) => startUserEpoch(ctx, userId),
    endUserDevices: (input) => endUserDevices(ctx, input),
    revocations: {
      snapshot: () => ctx.revocations.snapshot(clock.nowSeconds()),
      watch: (listener) => ctx.revocations.watch(listener),
    },
    close: stopFollowing,
  }
}

/** What bearer authentication reads: all in memory, so it stays synchronous and free of I/O. */
function bearerContext(ctx: TokenContext): BearerContext {
  return {
    resolveKey: ctx.keys.source.resolveKey,
    rules: ctx.rules,
    revocations: ctx.revocations,
    verified: ctx.verified,
    onUnknownKey: ctx.keys.source.onUnknownKey,
  }
}
