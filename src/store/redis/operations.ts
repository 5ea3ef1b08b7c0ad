/**
 * The Redis store's operations on the keys under one prefix, on a connection and change feed the caller owns:
 * what `createRedisStore` (index.ts, which documents the key layout) returns, and what the Cluster store
 * (`sharded.ts`) runs in each of its groups. Internal: the package exports the two factories only.
 */
import type { Cluster, Redis } from 'ioredis'
import {
  type AccessRevocationKind,
  type AccessRevocationRecord,
  CLIENT_TAKEN,
  DEVICE_LIMIT_REACHED,
  type DeviceCreation,
  type DeviceLimit,
  EMAIL_TAKEN,
  FACTOR_TAKEN,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  PROVIDER_LINKED,
  type Store,
  type UserEpochRecord,
} from '../types.js'
import { emailKey } from '../../core/email.js'
import { byCodeUnits, copyClient } from '../clients.js'
import { byCreation, checkReplacement } from '../factors.js'
import { byLinkTime, checkIdentity, PROVIDER_ID_PATTERN } from '../identities.js'
import { isUsable } from '../one-time-tokens.js'
import { rateLimitSlot } from '../rate-window.js'
import { announcingWrites } from '../local-announcements.js'
import type { RedisChangeFeed } from './change-feed.js'
import type { CommandGuard } from './connection.js'
import { createRedisKeys } from './keys.js'
import {
  decodeClient,
  decodeConsent,
  decodeFamily,
  decodeIdentity,
  decodeOneTimeToken,
  decodeSigningKey,
  decodeUser,
  encodeConsent,
  encodeSigningKey,
  fieldsFromList,
  type HashFields,
  toFieldList,
  packedCount,
  packedTime,
  packFactor,
  packSession,
  unpackFactor,
  unpackSession,
  agentRef,
} from './records.js'
import { defineScripts, type RevocationConfirmation } from './scripts.js'

/** Session and family purges delete at most this many records per script, so no call blocks Redis for long. */
const PURGE_BATCH = 500

/** What the email-keyed scripts answer when the user's email is no longer the one the caller read. */
const EMAIL_MOVED = -2
/**
 * Reads and scripts `withStoredEmail` tries before it gives up: each miss means another change of that user's
 * email committed in between, so a run of misses this long is not a race but a fault.
 */
const EMAIL_ATTEMPTS = 5

/** WAIT for `replicas` after each revoking script, within the command timeout (so WAIT's own answer arrives). */
export function revocationConfirmation(replicas: number, timeoutMs: number): RevocationConfirmation {
  return { replicas, timeoutMs: Math.max(1, Math.floor(timeoutMs * 0.75)) }
}

/** What {@link redisStoreOn} builds a store on: connection, guard and feed are the caller's to close. */
export interface RedisStoreBase {
  client: Redis | Cluster
  guard: CommandGuard
  /** The feed the store announces its writes on locally, and hands out as `changes` and `sessionFeeds`. */
  changes: RedisChangeFeed
  keyPrefix: string
  confirm: RevocationConfirmation
}

/**
 * The store's operations on keys under `base.keyPrefix`, on a connection and feed the caller owns: what
 * {@link createRedisStore} returns, and what the Cluster store (`sharded.ts`) runs in each of its groups.
 * Its `close()` closes nothing.
 */
export function redisStoreOn(base: RedisStoreBase): Store {
  const { client, guard, changes, keyPrefix } = base
  const keys = createRedisKeys(keyPrefix)
  const script = defineScripts(client, keyPrefix, base.confirm)
  const { run } = guard

  let warned = false
  /**
   * A session Sesame 0.1 wrote as a hash, which layout version 2 converts (`migrations.ts`): no session here
   * (fail closed: the cookie gets 401 and signs in again), and one SESAME_W005 warning per store.
   */
  function unconverted(): null {
    if (!warned) {
      warned = true
      process.emitWarning(
        `The Redis prefix "${keyPrefix}" holds sessions in the 0.1 hash layout, which this release treats as signed out. Run \`sesame migrate\` (or start with SESAME_MIGRATE_ON_START=true) to convert them.`,
        { type: 'SesameWarning', code: 'SESAME_W005' },
      )
    }
    return null
  }

  /**
   * Runs `attempt` (an email-keyed script) with the user's email as read just before; 0 (the scripts' "no such
   * user") when there is none. Lua cannot compute an email key, so the script gets the key of the email read
   * here and answers {@link EMAIL_MOVED}, changing nothing, if the user's email changed in between: then both
   * steps are repeated.
   */
  async function withStoredEmail(
    userId: string,
    attempt: (email: string) => Promise<unknown>,
  ): Promise<unknown> {
    for (let tries = 0; tries < EMAIL_ATTEMPTS; tries++) {
      const email = await client.hget(keys.user(userId), 'email')
      if (email === null) return 0
      const answer = await attempt(email)
      if (answer !== EMAIL_MOVED) return answer
    }
    throw new Error(`The email of user ${userId} kept changing while it was being read.`)
  }

  async function purgeInBatches(
    name: 'purgeSessions' | 'purgeFamilies' | 'purgeClaims' | 'purgeOneTimeTokens',
    indexes: readonly string[],
    now: number,
  ): Promise<number> {
    let deleted = 0
    for (;;) {
      const [count, examined] = (await script(name, indexes, [now, PURGE_BATCH])) as [number, number]
      deleted += count
      if (examined < PURGE_BATCH) return deleted
    }
  }

  return announcingWrites(changes, {
    kind: 'redis',

    createUser: (user) =>
      run(async () => {
        const created = await script(
          'createUser',
          [keys.userEmail(user.email), keys.userEmailKey(emailKey(user.email)), keys.user(user.id)],
          [user.id, ...toFieldList(user)],
        )
        return created === 1 ? { ...user, roles: [...user.roles] } : EMAIL_TAKEN
      }),
    findUserByEmail: (email) =>
      run(async () => {
        const list = (await script(
          'findUserByEmail',
          [keys.userEmail(email), keys.userEmailKey(emailKey(email))],
          [],
        )) as string[]
        return list.length === 0 ? null : decodeUser(fieldsFromList(list))
      }),
    findUserById: (id) =>
      run(async () => {
        const fields = await client.hgetall(keys.user(id))
        return isEmpty(fields) ? null : decodeUser(fields)
      }),
    updatePasswordHash: (userId, passwordHash) =>
      run(
        async () =>
          (await script('updateUser', [keys.user(userId)], [userId, 1, 'passwordHash', passwordHash])) === 1,
      ),
    setUserDisabled: (userId, disabledAt) =>
      run(async () => {
        const change = disabledAt === null ? [0, 'disabledAt'] : [1, 'disabledAt', disabledAt]
        return (await script('updateUser', [keys.user(userId)], [userId, ...change])) === 1
      }),
    setEmailVerified: (userId, email, verifiedAt) =>
      run(
        async () =>
          (await script('setEmailVerified', [keys.user(userId)], [email, verifiedAt, userId])) === 1,
      ),
    changeUserEmail: (userId, email, verifiedAt) =>
      run(async () => {
        const changed = await withStoredEmail(userId, (current) =>
          script(
            'changeUserEmail',
            [
              keys.user(userId),
              keys.userEmail(current),
              keys.userEmailKey(emailKey(current)),
              keys.userEmail(email),
              keys.userEmailKey(emailKey(email)),
            ],
            [userId, current, email, verifiedAt],
          ),
        )
        return changed === -1 ? EMAIL_TAKEN : changed === 1
      }),
    deleteUser: (userId) =>
      run(async () => {
        const deleted = await withStoredEmail(userId, (current) =>
          script(
            'deleteUser',
            [
              keys.user(userId),
              keys.userEmail(current),
              keys.userEmailKey(emailKey(current)),
              keys.userIdentities(userId),
              keys.userOneTimeTokens(userId),
              keys.userSessions(userId),
              keys.userFamilies(userId),
              keys.userConsents(userId),
              keys.userFactors(userId),
            ],
            [userId, current],
          ),
        )
        return deleted === 1
      }),

    putOneTimeToken: (token) =>
      run(async () => {
        await script(
          'putOneTimeToken',
          [keys.oneTimeToken(token.tokenHash), keys.userOneTimeTokens(token.userId), keys.oneTimeTokenExpiry],
          [token.purpose, token.tokenHash, token.expiresAt, ...toFieldList(token)],
        )
      }),
    takeOneTimeToken: (purpose, tokenHash, now) =>
      run(async () => {
        const list = (await script(
          'takeOneTimeToken',
          [keys.oneTimeToken(tokenHash)],
          [tokenHash, purpose, now],
        )) as string[]
        return list.length === 0 ? null : decodeOneTimeToken(fieldsFromList(list))
      }),
    findOneTimeToken: (purpose, tokenHash, now) =>
      run(async () => {
        const fields = await client.hgetall(keys.oneTimeToken(tokenHash))
        if (isEmpty(fields)) return null
        const token = decodeOneTimeToken(fields)
        return isUsable(token, purpose, now) ? token : null
      }),
    deleteExpiredOneTimeTokens: (now) =>
      run(() => purgeInBatches('purgeOneTimeTokens', [keys.oneTimeTokenExpiry], now)),

    // Checked before `run`, so a caller's mistake stays a TypeError rather than store_unavailable.
    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      const userFields = toFieldList(user)
      return run(async () => {
        const created = await script(
          'createUserWithIdentity',
          [
            keys.userEmail(user.email),
            keys.userEmailKey(emailKey(user.email)),
            keys.user(user.id),
            keys.identity(identityId(identity.provider, identity.subject)),
            keys.userIdentities(user.id),
          ],
          [
            user.id,
            identity.provider,
            identity.subject,
            userFields.length / 2,
            ...userFields,
            ...toFieldList(identity),
          ],
        )
        if (created === -1) return IDENTITY_TAKEN
        return created === 1 ? { ...user, roles: [...user.roles] } : EMAIL_TAKEN
      })
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      return run(async () => {
        const linked = await script(
          'linkIdentity',
          [
            keys.user(identity.userId),
            keys.identity(identityId(identity.provider, identity.subject)),
            keys.userIdentities(identity.userId),
          ],
          [identity.provider, identity.subject, ...toFieldList(identity)],
        )
        if (linked === -1) return IDENTITY_TAKEN
        if (linked === -2) return PROVIDER_LINKED
        return linked === 1
      })
    },
    findIdentity: (provider, subject) =>
      run(async () => {
        // A provider id outside the pattern is never stored, and its key could name another identity's.
        if (!PROVIDER_ID_PATTERN.test(provider)) return null
        const fields = await client.hgetall(keys.identity(identityId(provider, subject)))
        return isEmpty(fields) ? null : decodeIdentity(fields)
      }),
    listUserIdentities: (userId) =>
      run(async () => {
        const lists = (await script('listUserIdentities', [keys.userIdentities(userId)], [])) as string[][]
        return lists.map((list) => decodeIdentity(fieldsFromList(list))).sort(byLinkTime)
      }),
    unlinkIdentity: (userId, provider) =>
      run(async () => {
        const unlinked = await script(
          'unlinkIdentity',
          [keys.user(userId), keys.userIdentities(userId), keys.userFactors(userId)],
          [provider],
        )
        if (unlinked === -1) return LAST_SIGN_IN_METHOD
        return unlinked === 1
      }),
    removePassword: (userId) =>
      run(async () => {
        const removed = await script(
          'removePassword',
          [keys.user(userId), keys.userIdentities(userId), keys.userFactors(userId)],
          [userId],
        )
        if (removed === -1) return LAST_SIGN_IN_METHOD
        return removed === 1
      }),

    // Packed before `run`, so a caller's mistake (a negative counter, say) stays a TypeError.
    async addFactor(factor) {
      const packed = packFactor(factor)
      return run(async () => {
        const added = await script(
          'addFactor',
          [keys.user(factor.userId), keys.userFactors(factor.userId)],
          [factor.lookupKey, packed],
        )
        if (added === -1) return FACTOR_TAKEN
        return added === 1
      })
    },
    async replaceFactors(userId, kind, factors) {
      checkReplacement(userId, kind, factors)
      const pairs = factors.flatMap((factor) => [factor.lookupKey, packFactor(factor)])
      return run(
        async () =>
          (await script(
            'replaceFactors',
            [keys.user(userId), keys.userFactors(userId)],
            [kind, ...pairs],
          )) === 1,
      )
    },
    listUserFactors: (userId) =>
      run(async () => {
        const stored = await client.hgetall(keys.userFactors(userId))
        return Object.entries(stored)
          .map(([lookupKey, packed]) => unpackFactor(userId, lookupKey, packed))
          .sort(byCreation)
      }),
    findUserFactor: (userId, lookupKey) =>
      run(async () => {
        const packed = await client.hget(keys.userFactors(userId), lookupKey)
        return packed === null ? null : unpackFactor(userId, lookupKey, packed)
      }),
    async advanceFactor(userId, factorId, expectedCounter, counter, now) {
      const set = [packedCount(counter), packedCount(now)]
      return run(
        async () =>
          (await script('advanceFactor', [keys.userFactors(userId)], [factorId, expectedCounter, ...set])) ===
          1,
      )
    },
    takeFactor: (userId, kind, lookupKey) =>
      run(async () => (await script('takeFactor', [keys.userFactors(userId)], [kind, lookupKey])) === 1),
    renameFactor: (userId, factorId, name) =>
      run(async () => (await script('renameFactor', [keys.userFactors(userId)], [factorId, name])) === 1),
    removeFactor: (userId, factorId) =>
      run(async () => {
        const removed = await script(
          'removeFactor',
          [keys.user(userId), keys.userIdentities(userId), keys.userFactors(userId)],
          [factorId],
        )
        if (removed === -1) return LAST_SIGN_IN_METHOD
        return removed === 1
      }),

    createSession: (session, limit) =>
      run(async () => {
        const { userAgent } = session
        const ref = userAgent === null ? '' : agentRef(userAgent)
        const created = await script(
          'createSession',
          [
            keys.session(session.tokenHash),
            keys.userSessions(session.userId),
            keys.sessionOwners,
            keys.userAgent(ref),
          ],
          [
            session.tokenHash,
            session.userId,
            session.expiresAt,
            session.absoluteExpiresAt,
            packSession(session, ref),
            ...limitArgs(limit),
            ...(userAgent === null ? [] : [userAgent]),
          ],
        )
        return toDeviceCreation(created)
      }),
    findSessionByTokenHash: (tokenHash) =>
      run(async () => {
        const found = (await script('findSession', [keys.session(tokenHash)], [])) as ScriptSession | [] | 0
        if (found === 0) return unconverted()
        return found.length === 0 ? null : unpackSession(found[0], found[1], tokenHash)
      }),
    findSessionWithUser: (tokenHash) =>
      run(async () => {
        const found = (await script('findSessionWithUser', [keys.session(tokenHash)], [])) as
          [...ScriptSession, string[]] | [] | 0
        if (found === 0) return unconverted()
        if (found.length === 0) return null
        const [packed, userAgent, user] = found
        return {
          session: unpackSession(packed, userAgent, tokenHash),
          user: user.length === 0 ? null : decodeUser(fieldsFromList(user)),
        }
      }),
    touchSession: (tokenHash, lastSeenAt, expiresAt) =>
      run(async () => {
        const touched = await script(
          'touchSession',
          [keys.session(tokenHash)],
          [tokenHash, packedTime(lastSeenAt), packedTime(expiresAt)],
        )
        if (touched === -1) return unconverted() !== null
        return touched === 1
      }),
    deleteSessionByTokenHash: (tokenHash) =>
      run(async () => (await script('deleteSession', [keys.session(tokenHash)], [tokenHash])) === 1),
    listUserSessions: (userId) =>
      run(async () => {
        const found = (await script('listUserSessions', [keys.userSessions(userId)], [])) as Array<
          [string, ...ScriptSession] | [string]
        >
        return found
          .flatMap((entry) => (entry.length === 1 ? (unconverted() ?? []) : [entry]))
          .map(([tokenHash, packed, userAgent]) => unpackSession(packed, userAgent, tokenHash))
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      }),
    deleteUserSession: (userId, sessionId) =>
      run(
        async () =>
          (await script('deleteUserSession', [keys.userSessions(userId)], [userId, sessionId])) === 1,
      ),
    deleteUserSessions: (userId, exceptSessionId) =>
      run(
        async () =>
          (await script(
            'deleteUserSessions',
            [keys.userSessions(userId)],
            [userId, exceptSessionId ?? ''],
          )) as number,
      ),
    deleteExpiredSessions: (now) => run(() => purgeInBatches('purgeSessions', [keys.sessionOwners], now)),

    listSigningKeys: () =>
      run(async () => {
        const [stored, retired] = (await script(
          'listSigningKeys',
          [keys.signingKeys, keys.retiredKeys],
          [],
        )) as [string[], string[]]
        const retiredAt = fieldsFromList(retired)
        return Object.entries(fieldsFromList(stored))
          .map(([kid, json]) => decodeSigningKey(json, retiredAt[kid]))
          .sort((a, b) => b.createdAt - a.createdAt || b.kid.localeCompare(a.kid))
      }),
    createSigningKey: (key) =>
      run(async () => {
        await script(
          'createSigningKey',
          [keys.signingKeys, keys.retiredKeys],
          [key.kid, encodeSigningKey(key), key.retiredAt ?? ''],
        )
      }),
    createFirstSigningKey: (key) =>
      run(async () => {
        const json = (await script(
          'createFirstSigningKey',
          [keys.signingKeys, keys.retiredKeys],
          [key.kid, encodeSigningKey({ ...key, retiredAt: null }), key.alg],
        )) as string
        // The winner is unretired by construction: its kid is absent from the retired hash.
        return decodeSigningKey(json, undefined)
      }),
    retireSigningKeysExcept: (kid, retiredAt) =>
      run(async () => {
        await script('retireSigningKeys', [keys.signingKeys, keys.retiredKeys], [kid, retiredAt])
      }),
    deleteSigningKey: (kid) =>
      run(async () => (await script('deleteSigningKey', [keys.signingKeys, keys.retiredKeys], [kid])) === 1),

    getOrCreateSecret: (name, value) =>
      run(async () => (await script('getOrCreateSecret', [keys.secret(name)], [value])) as string),

    createRefreshFamily: (family, tokenHash, limit) =>
      run(async () => {
        const created = await script(
          'createFamily',
          [
            keys.family(family.id),
            keys.familyTokens(family.id),
            keys.refreshToken(tokenHash),
            keys.userFamilies(family.userId),
            keys.familyExpiry,
          ],
          [
            family.id,
            tokenHash,
            family.generation,
            family.expiresAt,
            family.absoluteExpiresAt,
            ...limitArgs(limit),
            family.userId,
            ...toFieldList(family),
          ],
        )
        return toDeviceCreation(created)
      }),
    findRefreshToken: (tokenHash) =>
      run(async () => {
        const found = (await script('findRefreshToken', [keys.refreshToken(tokenHash)], [])) as
          [] | [string, string[]]
        if (found.length === 0) return null
        return { family: decodeFamily(fieldsFromList(found[1])), generation: Number(found[0]) }
      }),
    findRefreshFamily: (familyId) =>
      run(async () => {
        const fields = await client.hgetall(keys.family(familyId))
        return isEmpty(fields) ? null : decodeFamily(fields)
      }),
    rotateRefreshFamily: (familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal) =>
      run(async () => {
        const rotated = await script(
          'rotateFamily',
          [
            keys.family(familyId),
            keys.familyTokens(familyId),
            keys.refreshToken(newTokenHash),
            keys.familyExpiry,
          ],
          [familyId, expectedGeneration, newTokenHash, now, expiresAt, successorSeal],
        )
        return rotated === 1
      }),
    revokeRefreshFamily: (familyId, now) =>
      run(async () => (await script('revokeFamily', [keys.family(familyId)], [now])) === 1),
    listUserRefreshFamilies: (userId) =>
      run(async () => {
        const lists = (await script('listUserFamilies', [keys.userFamilies(userId)], [])) as string[][]
        return lists
          .map((list) => decodeFamily(fieldsFromList(list)))
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      }),
    revokeUserRefreshFamilies: (userId, now, exceptFamilyId) =>
      run(
        async () =>
          (await script(
            'revokeUserFamilies',
            [keys.userFamilies(userId)],
            [now, exceptFamilyId ?? ''],
          )) as string[],
      ),
    // One script: Redis runs all of it or none, however the connection fails around it.
    endUserDevices: ({ userId, epoch, exceptSessionId, exceptFamilyId, now }) =>
      run(async () => {
        const [sessionsEnded, familiesRevoked] = (await script(
          'endUserDevices',
          [
            keys.userEpoch(epoch?.userId ?? userId),
            keys.epochs,
            keys.userSessions(userId),
            keys.userFamilies(userId),
          ],
          [
            userId,
            epoch?.epoch ?? '',
            epoch?.userId ?? '',
            epoch?.expiresAt ?? '',
            exceptSessionId ?? '',
            exceptFamilyId ?? '',
            now,
          ],
        )) as [number, string[]]
        return { sessionsEnded, familiesRevoked }
      }),
    deleteExpiredRefreshFamilies: (now) =>
      run(() => purgeInBatches('purgeFamilies', [keys.familyExpiry], now)),

    addAccessRevocation: (revocation) =>
      run(async () => {
        await script(
          'addRevocation',
          [keys.revocations],
          [`${revocation.kind}:${revocation.value}`, revocation.expiresAt],
        )
      }),
    listAccessRevocations: (now) =>
      run(async () => {
        const flat = await client.zrangebyscore(keys.revocations, `(${now}`, '+inf', 'WITHSCORES')
        const revocations: AccessRevocationRecord[] = []
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const member = flat[i]!
          const colon = member.indexOf(':')
          revocations.push({
            kind: member.slice(0, colon) as AccessRevocationKind,
            value: member.slice(colon + 1),
            expiresAt: Number(flat[i + 1]),
          })
        }
        return revocations
      }),
    deleteExpiredAccessRevocations: (now) =>
      run(async () => (await script('purgeRevocations', [keys.revocations, keys.epochs], [now])) as number),
    setUserEpoch: (epoch) =>
      run(async () => {
        await script(
          'setUserEpoch',
          [keys.userEpoch(epoch.userId), keys.epochs],
          [epoch.userId, epoch.epoch, epoch.expiresAt],
        )
      }),
    listUserEpochs: (now) =>
      run(async () => {
        const rows = (await script('listUserEpochs', [keys.epochs], [now])) as Array<[string, string, string]>
        return rows.map(([userId, epoch, expiresAt]): UserEpochRecord => ({
          userId,
          epoch: Number(epoch),
          expiresAt: Number(expiresAt),
        }))
      }),

    hitRateLimit: (key, windowSeconds, now) =>
      run(async () => {
        const slot = rateLimitSlot(key, windowSeconds, now)
        return (await script('hitRateLimit', [keys.rateLimit(slot.id)], [slot.endsAt])) as number
      }),
    countRateLimit: (key, windowSeconds, now) =>
      run(async () =>
        Number((await client.get(keys.rateLimit(rateLimitSlot(key, windowSeconds, now).id))) ?? 0),
      ),
    resetRateLimit: (key, windowSeconds, now) =>
      run(async () => {
        await client.del(keys.rateLimit(rateLimitSlot(key, windowSeconds, now).id))
      }),

    createClient: (c) =>
      run(async () => {
        const created = await script(
          'createClient',
          [keys.client(c.id), keys.clients],
          [c.id, ...toFieldList(c)],
        )
        return created === 1 ? copyClient(c) : CLIENT_TAKEN
      }),
    findClient: (clientId) =>
      run(async () => {
        const fields = await client.hgetall(keys.client(clientId))
        return isEmpty(fields) ? null : decodeClient(fields)
      }),
    listClients: () =>
      run(async () => {
        const lists = (await script('listClients', [keys.clients], [])) as string[][]
        return lists.map((list) => decodeClient(fieldsFromList(list)))
      }),
    deleteClient: (clientId) =>
      run(
        async () =>
          (await script(
            'deleteClient',
            [keys.client(clientId), keys.clientConsenters(clientId), keys.clients],
            [clientId],
          )) === 1,
      ),

    putConsent: (consent) =>
      run(async () => {
        const { userId, clientId } = consent
        await script(
          'putConsent',
          [
            keys.user(userId),
            keys.client(clientId),
            keys.userConsents(userId),
            keys.clientConsenters(clientId),
          ],
          [userId, clientId, encodeConsent(consent)],
        )
      }),
    findConsent: (userId, clientId) =>
      run(async () => {
        const json = await client.hget(keys.userConsents(userId), clientId)
        return json === null ? null : decodeConsent(userId, clientId, json)
      }),
    listUserConsents: (userId) =>
      run(async () => {
        const given = await client.hgetall(keys.userConsents(userId))
        return Object.entries(given)
          .map(([clientId, json]) => decodeConsent(userId, clientId, json))
          .sort((a, b) => byCodeUnits(a.clientId, b.clientId))
      }),
    deleteConsent: (userId, clientId) =>
      run(
        async () =>
          (await script(
            'deleteConsent',
            [keys.userConsents(userId), keys.clientConsenters(clientId)],
            [userId, clientId],
          )) === 1,
      ),

    claimOnce: (key, expiresAt, now) =>
      run(
        async () =>
          (await script('claimOnce', [keys.claim(key), keys.claimExpiry], [key, expiresAt, now])) === 1,
      ),
    deleteExpiredClaims: (now) => run(() => purgeInBatches('purgeClaims', [keys.claimExpiry], now)),

    changes,
    sessionFeeds: [changes],

    ping: () =>
      run(async () => {
        await client.ping()
      }),
    async close() {},
  })
}

/** The id an identity's key is built from: the provider id holds no colon, so this reads back one way. */
function identityId(provider: string, subject: string): string {
  return `${provider}:${subject}`
}

/** A session as the scripts return it: its packed string and the User-Agent text its reference names. */
type ScriptSession = [packed: string, userAgent: string | null]

function isEmpty(fields: HashFields): boolean {
  for (const _ in fields) return false
  return true
}

/** A device limit as the create scripts take it: max (0 for none), now, policy. */
function limitArgs(limit: DeviceLimit | undefined): Array<string | number> {
  return limit ? [limit.max, limit.now, limit.policy] : [0, 0, '']
}

/** A create script's answer: -1 when the limit denied it, else the family ids evicted for it. */
function toDeviceCreation(answer: unknown): DeviceCreation {
  return answer === -1 ? DEVICE_LIMIT_REACHED : { evictedFamilies: answer as string[] }
}
