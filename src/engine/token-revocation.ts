/**
 * Revocation in the token engine: what kills access tokens (a `jti`, a family's `sid`, a user's epoch) and
 * refresh families, written to the store, applied to this instance's list, and published to every other
 * instance. Also RFC 7009 revocation and the device operations built on the same writes.
 *
 * Every operation that takes several writes orders them so that a failure part-way fails safe (access tokens
 * die first) and a retry completes it; every write is idempotent.
 */
import { type AccessTokenClaims, verifyAccessToken } from '../core/access-token.js'
import type { ChangeEvent, RevocationKind } from '../core/change-event.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import { isSecretTokenShape } from '../core/random.js'
import { BUILT_IN_CLIENT_ID } from './clients.js'
import type { TokenContext } from './token-context.js'

type RevocationContext = Pick<TokenContext, 'store' | 'clock' | 'policy' | 'revocations'>

/** Reads every live revocation and user epoch from the store into this instance's list. */
export async function loadRevocations(
  ctx: Pick<TokenContext, 'store' | 'clock' | 'revocations'>,
): Promise<void> {
  const now = ctx.clock.nowSeconds()
  for (const entry of await ctx.store.listAccessRevocations(now))
    ctx.revocations.add(entry.kind, entry.value, entry.expiresAt)
  for (const entry of await ctx.store.listUserEpochs(now))
    ctx.revocations.setEpoch(entry.userId, entry.epoch, entry.expiresAt)
}

/** Records an access-token revocation in the store, here, and on every other instance. */
export async function revokeAccess(
  ctx: RevocationContext,
  kind: RevocationKind,
  value: string,
  expiresAt: number,
): Promise<void> {
  const revocation = { kind, value, expiresAt }
  await ctx.store.addAccessRevocation(revocation)
  ctx.revocations.add(kind, value, expiresAt)
  await ctx.store.changes.publish({ type: 'access-revoked', revocation })
}

/**
 * Revokes a family and its access tokens. The `sid` kill is written (and published) first: if the second
 * write fails, the access tokens are already dead and a retry finds the family still live and finishes.
 * Both writes are idempotent, so callers may repeat this for a family already revoked.
 */
export async function revokeFamily(ctx: RevocationContext, familyId: string, now: number): Promise<void> {
  await revokeFamilyAccess(ctx, familyId, now)
  await ctx.store.revokeRefreshFamily(familyId, now)
}

/** Access tokens of a family die with it: every one of them carries the family id as `sid`. */
function revokeFamilyAccess(ctx: RevocationContext, familyId: string, now: number): Promise<void> {
  return revokeAccess(ctx, 'sid', familyId, now + ctx.policy.accessTtlSeconds + ctx.policy.leewaySeconds)
}

/**
 * RFC 7009: revokes a refresh token's family or an access token, always, when it was issued to `clientId`.
 * Anything unknown, or another client's (§2.1), needs no action and gets the same silence, but counts as a
 * failure against `ip`, so the endpoint is no free oracle or store load generator.
 */
export async function revokeToken(
  ctx: TokenContext,
  token: string,
  ip: string | undefined,
  clientId: string = BUILT_IN_CLIENT_ID,
): Promise<void> {
  const now = ctx.clock.nowSeconds()
  // A real token is always revoked, whatever the address's record: a logout must never be refused.
  const unknown = async (): Promise<void> => {
    await ctx.throttle?.checkAddress(ip)
    await ctx.throttle?.recordAddressFailure(ip)
  }
  if (isSecretTokenShape(token)) {
    const found = await ctx.store.findRefreshToken(hashSecret(token))
    if (found && (found.family.clientId ?? BUILT_IN_CLIENT_ID) === clientId)
      await revokeFamily(ctx, found.family.id, now) // idempotent: also finishes a half-done revocation
    else await unknown()
    return
  }
  let claims: AccessTokenClaims
  try {
    claims = verifyAccessToken(token, ctx.keys.source.resolveKey, ctx.rules, now)
  } catch (error) {
    // RFC 7009 §2.2: an invalid token gets the same answer. An expired one is an honest client tidying up,
    // not a guess.
    if (!(error instanceof AuthError && error.reason === 'token_expired')) await unknown()
    return
  }
  if ((claims.client_id ?? BUILT_IN_CLIENT_ID) !== clientId) return unknown()
  await revokeAccess(ctx, 'jti', claims.jti, claims.exp + ctx.policy.leewaySeconds)
}

/** Revokes `userId`'s family `familyId` and its access tokens. False if it is not theirs or already ended. */
export async function endFamily(ctx: RevocationContext, userId: string, familyId: string): Promise<boolean> {
  const family = await ctx.store.findRefreshFamily(familyId)
  if (!family || family.userId !== userId) return false
  await revokeFamily(ctx, familyId, ctx.clock.nowSeconds()) // repeated for a revoked family: finishes a failed one
  return family.revokedAt === null
}

/** Revokes every live family of `userId` except `exceptFamilyId`, with their access tokens; returns how many. */
export async function endUserFamilies(
  ctx: RevocationContext,
  userId: string,
  exceptFamilyId: string | null,
): Promise<number> {
  const now = ctx.clock.nowSeconds()
  // Kill the access tokens of every live family first (as in revokeFamily), then revoke the families.
  const live = (await ctx.store.listUserRefreshFamilies(userId)).filter(
    (family) => family.id !== exceptFamilyId && family.revokedAt === null && family.expiresAt > now,
  )
  for (const family of live) await revokeFamilyAccess(ctx, family.id, now)
  const revoked = await ctx.store.revokeUserRefreshFamilies(userId, now, exceptFamilyId)
  // A family created between the listing and the revocation still needs its sid killed.
  for (const familyId of revoked) {
    if (!live.some((family) => family.id === familyId)) await revokeFamilyAccess(ctx, familyId, now)
  }
  return revoked.length
}

/**
 * Ends every device of `userId` (cookie sessions and refresh families) except the excepted ones, with their
 * access tokens; returns how many ended. The devices end in one atomic store change
 * (`Store.endUserDevices`), so a failure or a stall (a 503) leaves either all of it done or none of it:
 * never sessions gone with families live, and a retry completes it.
 * - With no family kept, the user's epoch goes into that same change, first: it kills every access token of
 *   the user issued before now, so nothing is written before the change.
 * - With a family kept (a token caller ending its other devices), an epoch would kill the caller's own access
 *   token too, so the other live families' access tokens are killed by `sid` before the change instead: the
 *   fail-safe order of {@link revokeFamily}. A failure after that leaves only those access tokens dead (their
 *   devices refresh into tokens that are refused), and a retry completes the rest.
 */
export async function endUserDevices(
  ctx: RevocationContext & Pick<TokenContext, 'reportBackgroundError'>,
  input: { userId: string; exceptSessionId: string | null; exceptFamilyId: string | null },
): Promise<number> {
  const { userId, exceptSessionId, exceptFamilyId } = input
  const now = ctx.clock.nowSeconds()
  const expiresAt = now + ctx.policy.accessTtlSeconds + ctx.policy.leewaySeconds
  const epoch = exceptFamilyId === null ? { userId, epoch: now, expiresAt } : null
  const killed = new Set<string>()
  if (!epoch) {
    for (const family of await ctx.store.listUserRefreshFamilies(userId)) {
      if (family.id === exceptFamilyId || family.revokedAt !== null || family.expiresAt <= now) continue
      await revokeFamilyAccess(ctx, family.id, now)
      killed.add(family.id)
    }
  }
  const ended = await ctx.store.endUserDevices({ userId, epoch, exceptSessionId, exceptFamilyId, now })

  // Committed. What follows spreads the change to this instance's list and to the other instances, and must
  // neither undo nor fail it: a failure is reported, not thrown. Other instances resync from the store (on
  // the feed's reconnect and every PERIODIC_RESYNC_SECONDS), where the epoch already is.
  const events: ChangeEvent[] = []
  if (epoch) {
    ctx.revocations.setEpoch(userId, epoch.epoch, epoch.expiresAt)
    events.push({ type: 'user-epoch', epoch })
  }
  // Families the listing did not see (created meanwhile), and with an epoch every family: an access token
  // issued in the epoch's own second survives the epoch, never its family's `sid`. Applied here first.
  const late = ended.familiesRevoked.filter((familyId) => !killed.has(familyId))
  for (const familyId of late) {
    const revocation = { kind: 'sid' as const, value: familyId, expiresAt }
    ctx.revocations.add(revocation.kind, revocation.value, revocation.expiresAt)
    events.push({ type: 'access-revoked', revocation })
  }
  try {
    for (const familyId of late)
      await ctx.store.addAccessRevocation({ kind: 'sid', value: familyId, expiresAt })
  } catch (error) {
    ctx.reportBackgroundError(error)
  }
  for (const event of events) await ctx.store.changes.publish(event).catch(ctx.reportBackgroundError)
  return ended.sessionsEnded + ended.familiesRevoked.length
}

/** Kills every access token of `userId` issued before now (the per-user epoch), on every instance. */
export async function startUserEpoch(ctx: RevocationContext, userId: string): Promise<void> {
  const now = ctx.clock.nowSeconds()
  const epoch = {
    userId,
    epoch: now,
    expiresAt: now + ctx.policy.accessTtlSeconds + ctx.policy.leewaySeconds,
  }
  await ctx.store.setUserEpoch(epoch)
  ctx.revocations.setEpoch(userId, epoch.epoch, epoch.expiresAt)
  await ctx.store.changes.publish({ type: 'user-epoch', epoch })
}

/** Purges expired families and revocations, from the store and from this instance's list. */
export async function sweepRevocations(ctx: RevocationContext, now: number): Promise<void> {
  await ctx.store.deleteExpiredRefreshFamilies(now)
  await ctx.store.deleteExpiredAccessRevocations(now)
  ctx.revocations.prune(now)
}
