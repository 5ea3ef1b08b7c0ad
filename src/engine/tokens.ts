/**
 * The token half of the engine: the password grant, refresh-token rotation, revocation (RFC 7009), and bearer
 * authentication. Bearer authentication is synchronous and does no I/O: the key ring and the revocation list
 * are held in memory and refreshed from the store when they change.
 */
import { type AccessTokenClaims, signAccessToken, verifyAccessToken } from '../core/access-token.js'
import { authenticateBearer, principalOfClaims } from '../core/bearer.js'
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import type { JwsAlgorithm } from '../core/jws/algorithms.js'
import type { JwsHeader } from '../core/jws/compact.js'
import {
  type KeyMaterial,
  type KeyRing,
  buildKeyRing,
  generateKeyMaterial,
  hmacKeyMaterial,
} from '../core/key-ring.js'
import type { Principal } from '../core/principal.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../core/random.js'
import { decideRefresh, startFamilyTimes } from '../core/refresh-rules.js'
import { type RevocationEntry, RevocationList, type RevocationSnapshot } from '../core/revocation-list.js'
import { openSuccessor, sealSuccessor } from '../core/successor-seal.js'
import type { TokenPolicy } from '../core/token-policy.js'
import { VerifiedTokenCache } from '../core/verified-token-cache.js'
import type { ChangeEvent, RefreshFamilyRecord, Store, UserRecord } from '../store/types.js'
import type { CredentialChecker } from './credentials.js'
import type { Throttle } from './throttle.js'
import { storedUserAgent } from './types.js'

const PERIODIC_RESYNC_MS = 30_000
const UNKNOWN_KEY_RELOAD_INTERVAL_MS = 5000

/** How access tokens are signed. */
export interface SigningOptions {
  /** Default ES256. */
  algorithm: JwsAlgorithm
  /** The shared secret; required with HS256 (at least 32 bytes), refused otherwise. */
  hmacSecret?: Buffer | undefined
}

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

export interface TokenEngine {
  /** `grant_type=password`: checks credentials and starts a refresh family. */
  grantPassword(input: {
    username: unknown
    password: unknown
    userAgent?: string | undefined
    ip?: string | undefined
  }): Promise<TokenGrant>
  /** `grant_type=refresh_token`: rotates the family and returns a new pair. Throws `invalid_grant`. */
  grantRefresh(refreshToken: string, ip?: string): Promise<TokenGrant>
  /**
   * RFC 7009: revokes a refresh token's family or an access token, always. Silent for anything unknown, which
   * counts as a failure against `ip` like a failed refresh grant (and throws `rate_limited` past the limit).
   */
  revoke(token: string, ip?: string): Promise<void>
  /** Authenticates an `Authorization` header value. Synchronous, no I/O. Throws `invalid_token`. */
  authenticateBearer(authorization: string): { claims: AccessTokenClaims; principal: Principal }
  /** The published public keys. */
  jwks(): { keys: object[] }
  /** Makes a new key the signing key; the old ones keep verifying until their tokens expire. Returns the new kid. */
  rotateSigningKey(): Promise<string>
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
  /** Called before a new family is created for a user (e.g. to enforce a per-user session limit). */
  beforeNewFamily?: (userId: string) => Promise<void>
  /** Counts failed refresh grants per client address. */
  throttle?: Pick<Throttle, 'checkAddress' | 'recordAddressFailure'>
  /** Told about background failures (feed resyncs), which must not crash the process. */
  onBackgroundError?: (error: unknown) => void
}

/** Creates the token engine, loading (or, on a first start, creating) its keys and the revocations from the store. */
export async function createTokenEngine(options: TokenEngineOptions): Promise<TokenEngine> {
  const { store, clock, policy, signing, checkCredentials } = options
  checkSigningOptions(signing)
  // A retired key verifies for as long as a token it signed can live.
  const keyRetentionSeconds = policy.accessTtlSeconds + policy.leewaySeconds
  const revocations = new RevocationList()
  const verified = new VerifiedTokenCache()
  const reportBackgroundError = options.onBackgroundError ?? ((): void => {})
  // Reloads may overlap (feed events, resyncs, unknown kids); a slower, older load must not replace a newer ring.
  let keyLoadsStarted = 0
  let keyLoadApplied = 0
  let lastUnknownKeyReload = 0
  let ring: KeyRing = await loadKeyRing()
  await loadRevocations()
  const unsubscribe = await store.changes.subscribe(applyChange, () => {
    reloadAll().catch(reportBackgroundError)
  })
  // The feed is best effort (a silently dead connection can take minutes to notice), so revocations are also
  // re-read on a timer: a missed message can keep a revoked token alive for at most this long.
  const resyncTimer = setInterval(() => {
    loadRevocations().catch(reportBackgroundError)
  }, PERIODIC_RESYNC_MS)
  resyncTimer.unref()

  // Built once, not per request: the resolver reads the current ring, which reloads replace.
  const bearer = {
    resolveKey: (header: JwsHeader) => ring.resolveKey(header),
    rules: policy,
    revocations,
    verified,
    onUnknownKey: reloadForUnknownKey,
  }

  /** Applies a revocation another instance (or this one) published. */
  function applyChange(event: ChangeEvent): void {
    switch (event.type) {
      case 'access-revoked':
        revocations.add(event.revocation.kind, event.revocation.value, event.revocation.expiresAt)
        break
      case 'user-epoch':
        revocations.setEpoch(event.epoch.userId, event.epoch.epoch, event.epoch.expiresAt)
        break
      case 'keys-changed':
        reloadAll().catch(reportBackgroundError)
        break
    }
  }

  async function reloadAll(): Promise<void> {
    await reloadKeys()
    await loadRevocations()
  }

  async function reloadKeys(): Promise<void> {
    const load = ++keyLoadsStarted
    const next = await loadKeyRing()
    if (load < keyLoadApplied) return
    keyLoadApplied = load
    ring = next
    verified.clear() // a key may have left the ring
  }

  async function loadKeyRing(): Promise<KeyRing> {
    const now = clock.nowSeconds()
    if (signing.algorithm === 'HS256') {
      return buildKeyRing([hmacKeyMaterial(signing.hmacSecret!, now)], now, keyRetentionSeconds)
    }
    let materials: KeyMaterial[] = await store.listSigningKeys()
    if (!materials.some((m) => m.retiredAt === null && m.alg === signing.algorithm)) {
      // First start with this algorithm: add a key but retire nothing. Instances starting together may each add
      // one; all of them verify everywhere, and every instance signs with the same newest one. Retiring is left
      // to an explicit rotation, so a reload can never rotate.
      await addSigningKey(now, { retireOthers: false })
      materials = await store.listSigningKeys()
    }
    return buildKeyRing(materials, now, keyRetentionSeconds, signing.algorithm)
  }

  async function addSigningKey(now: number, { retireOthers }: { retireOthers: boolean }): Promise<string> {
    const material = await generateKeyMaterial(signing.algorithm as Exclude<JwsAlgorithm, 'HS256'>, now)
    await store.createSigningKey(material)
    if (retireOthers) await store.retireSigningKeysExcept(material.kid, now)
    // Other instances must learn the new key before tokens it signs reach them.
    await store.changes.publish({ type: 'keys-changed' })
    return material.kid
  }

  // A token signed by a key this instance has not loaded yet (another instance just created or rotated one,
  // and its feed message is still on the way) triggers a reload in the background, at most every few seconds;
  // the request itself still does no I/O and is refused.
  function reloadForUnknownKey(): void {
    const nowMs = Date.now()
    if (nowMs - lastUnknownKeyReload < UNKNOWN_KEY_RELOAD_INTERVAL_MS) return
    lastUnknownKeyReload = nowMs
    reloadKeys().catch(reportBackgroundError)
  }

  async function loadRevocations(): Promise<void> {
    const now = clock.nowSeconds()
    for (const entry of await store.listAccessRevocations(now))
      revocations.add(entry.kind, entry.value, entry.expiresAt)
    for (const entry of await store.listUserEpochs(now))
      revocations.setEpoch(entry.userId, entry.epoch, entry.expiresAt)
  }

  /** Records an access-token revocation in the store, here, and on every other instance. */
  async function revokeAccess(kind: 'jti' | 'sid', value: string, expiresAt: number): Promise<void> {
    const revocation = { kind, value, expiresAt }
    await store.addAccessRevocation(revocation)
    revocations.add(kind, value, expiresAt)
    await store.changes.publish({ type: 'access-revoked', revocation })
  }

  function issueAccessToken(
    user: UserRecord,
    familyId: string,
    now: number,
  ): { token: string; claims: AccessTokenClaims } {
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
    return { token: signAccessToken(claims, ring.signingKey, ring.signingHeader), claims }
  }

  function grant(user: UserRecord, familyId: string, refreshToken: string, now: number): TokenGrant {
    const { token, claims } = issueAccessToken(user, familyId, now)
    return {
      accessToken: token,
      tokenType: 'Bearer',
      expiresIn: policy.accessTtlSeconds,
      refreshToken,
      user,
      principal: principalOfClaims(claims),
    }
  }

  /**
   * Revokes a family and its access tokens. The `sid` kill is written (and published) first: if the second
   * write fails, the access tokens are already dead and a retry finds the family still live and finishes.
   * Both writes are idempotent, so callers may repeat this for a family already revoked.
   */
  async function revokeFamily(familyId: string, now: number): Promise<void> {
    await revokeFamilyAccess(familyId, now)
    await store.revokeRefreshFamily(familyId, now)
  }

  /** Access tokens of a family die with it: every one of them carries the family id as `sid`. */
  function revokeFamilyAccess(familyId: string, now: number): Promise<void> {
    return revokeAccess('sid', familyId, now + policy.accessTtlSeconds + policy.leewaySeconds)
  }

  function invalidGrant(reason: string): AuthError {
    return new AuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { reason })
  }

  async function redeemRefreshToken(refreshToken: string): Promise<TokenGrant> {
    if (!isSecretTokenShape(refreshToken)) throw invalidGrant('malformed_refresh_token')
    const found = await store.findRefreshToken(hashSecret(refreshToken))
    if (!found) throw invalidGrant('unknown_refresh_token')
    const now = clock.nowSeconds()
    let { family } = found
    let decision = decideRefresh(family, found.generation, now, policy)
    if (decision.action === 'reject') throw invalidGrant(decision.reason)
    if (decision.action === 'revoke') {
      await revokeFamily(family.id, now)
      throw invalidGrant(decision.reason)
    }
    // The user is checked before the rotation uses the token up: if the user store is down, the client can
    // retry with the same token instead of looking like a thief after the grace window.
    const user = await store.findUserById(family.userId)
    if (!user || user.disabledAt !== null) {
      await revokeFamily(family.id, now)
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
    return grant(user, family.id, successor, now)
  }

  return {
    async grantPassword(input) {
      let user: UserRecord
      try {
        user = await checkCredentials(input.username, input.password, input.ip)
      } catch (error) {
        if (error instanceof AuthError && error.code === 'invalid_credentials') {
          throw new AuthError('invalid_grant', 'The username or password is incorrect.', {
            reason: error.reason,
            cause: error,
          })
        }
        throw error
      }
      await options.beforeNewFamily?.(user.id)
      const now = clock.nowSeconds()
      const refreshToken = generateSecretToken()
      const family: RefreshFamilyRecord = {
        id: generatePublicId(),
        userId: user.id,
        ...startFamilyTimes(now, policy),
        generation: 0,
        rotatedAt: null,
        revokedAt: null,
        successorSeal: null,
        userAgent: storedUserAgent(input.userAgent),
        ip: input.ip ?? null,
      }
      await store.createRefreshFamily(family, hashSecret(refreshToken))
      return grant(user, family.id, refreshToken, now)
    },

    async grantRefresh(refreshToken, ip) {
      // Failed refresh grants count against the address like failed sign-ins: guessing is hopeless (256-bit
      // tokens), but a flood of them is still work for the store.
      await options.throttle?.checkAddress(ip)
      try {
        return await redeemRefreshToken(refreshToken)
      } catch (error) {
        if (error instanceof AuthError && error.code === 'invalid_grant')
          await options.throttle?.recordAddressFailure(ip)
        throw error
      }
    },

    async revoke(token, ip) {
      const now = clock.nowSeconds()
      // A real token is always revoked, whatever the address's record: a logout must never be refused. Only
      // unknown tokens count against the address, so the endpoint is no free oracle or store load generator.
      const unknown = async (): Promise<void> => {
        await options.throttle?.checkAddress(ip)
        await options.throttle?.recordAddressFailure(ip)
      }
      if (isSecretTokenShape(token)) {
        const found = await store.findRefreshToken(hashSecret(token))
        if (found)
          await revokeFamily(found.family.id, now) // idempotent: also finishes a half-done revocation
        else await unknown()
        return
      }
      let claims: AccessTokenClaims
      try {
        claims = verifyAccessToken(token, ring.resolveKey, policy, now)
      } catch (error) {
        // RFC 7009 §2.2: an invalid token needs no action and gets the same answer. An expired one is an
        // honest client tidying up, not a guess.
        if (!(error instanceof AuthError && error.reason === 'token_expired')) await unknown()
        return
      }
      await revokeAccess('jti', claims.jti, claims.exp + policy.leewaySeconds)
    },

    authenticateBearer: (authorization) => authenticateBearer(authorization, bearer, clock.nowSeconds()),

    jwks: () => ring.jwks,

    async rotateSigningKey() {
      if (signing.algorithm === 'HS256')
        throw new TypeError('HS256 keys come from SESAME_JWT_SECRET; rotate the secret instead.')
      const kid = await addSigningKey(clock.nowSeconds(), { retireOthers: true })
      await reloadKeys()
      return kid
    },

    reload: reloadAll,

    async sweep() {
      const now = clock.nowSeconds()
      await store.deleteExpiredRefreshFamilies(now)
      await store.deleteExpiredAccessRevocations(now)
      revocations.prune(now)
      let removedKey = false
      for (const key of await store.listSigningKeys()) {
        if (key.retiredAt !== null && now >= key.retiredAt + keyRetentionSeconds) {
          removedKey = (await store.deleteSigningKey(key.kid)) || removedKey
        }
      }
      if (removedKey) {
        await reloadKeys()
      }
    },

    async endFamily(userId, familyId) {
      const family = await store.findRefreshFamily(familyId)
      if (!family || family.userId !== userId) return false
      await revokeFamily(familyId, clock.nowSeconds()) // repeated for a revoked family: finishes a failed one
      return family.revokedAt === null
    },

    async endUserFamilies(userId, exceptFamilyId) {
      const now = clock.nowSeconds()
      // Kill the access tokens of every live family first (as in revokeFamily), then revoke the families.
      const live = (await store.listUserRefreshFamilies(userId)).filter(
        (family) => family.id !== exceptFamilyId && family.revokedAt === null && family.expiresAt > now,
      )
      for (const family of live) await revokeFamilyAccess(family.id, now)
      const revoked = await store.revokeUserRefreshFamilies(userId, now, exceptFamilyId)
      // A family created between the listing and the revocation still needs its sid killed.
      for (const familyId of revoked) {
        if (!live.some((family) => family.id === familyId)) await revokeFamilyAccess(familyId, now)
      }
      return revoked.length
    },

    async startUserEpoch(userId) {
      const now = clock.nowSeconds()
      const epoch = { userId, epoch: now, expiresAt: now + policy.accessTtlSeconds + policy.leewaySeconds }
      await store.setUserEpoch(epoch)
      revocations.setEpoch(userId, epoch.epoch, epoch.expiresAt)
      await store.changes.publish({ type: 'user-epoch', epoch })
    },

    revocations: {
      snapshot: () => revocations.snapshot(clock.nowSeconds()),
      watch: (listener) => revocations.watch(listener),
    },

    async close() {
      clearInterval(resyncTimer)
      await unsubscribe()
    },
  }
}

function checkSigningOptions(signing: SigningOptions): void {
  if (signing.algorithm === 'HS256') {
    if (!signing.hmacSecret || signing.hmacSecret.length < 32) {
      throw new TypeError('Signing option "hmacSecret" must be at least 32 bytes with HS256.')
    }
  } else if (signing.hmacSecret) {
    throw new TypeError('Signing option "hmacSecret" is only for HS256.')
  }
}
