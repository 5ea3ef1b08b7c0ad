/**
 * The Redis Cluster store: users spread over the shards of a Cluster, for a key prefix without a hash tag. (A
 * tagged prefix keeps the single-slot layout of `index.ts`: every key on one shard.)
 *
 * Layout: {@link GROUP_COUNT} groups (`groups.ts`), each the store of `index.ts` under its own tagged prefix
 * `P{tag}:`, so each group's keys share a slot and its scripts run unchanged; the groups' slots are spread
 * evenly, so the shards share them. Where each record lives:
 * - A user and everything of it (sessions, refresh families and their tokens, one-time tokens, epoch,
 *   identities, sign-in factors, consents, the sessions-changed count its writes bump) in its home group,
 *   `groupOf(user id)`. Every factor lookup names its user, so factors need no home entry of their own.
 *   Bearer secrets and family ids carry that group as their route (`core/secret-route.ts`, `secretRoute`), so a
 *   cookie, refresh token, mailed link or family id leads to its group before the user is known; one the store
 *   cannot route (made before routes, or forged) finds nothing. Cookie reads stay one script in one group.
 * - Each group keeps its own expiry indexes, revocations and epochs; purges and the lists read at start walk
 *   every group. Claims, rate limits and access revocations live in the group of their key.
 * - Clients, signing keys and secrets live in group 0.
 * - What a sign-in looks up before it knows the user (an email key, a provider's subject) has a home entry in
 *   its own group (`emailHome`, `identityHome` in `keys.ts`) naming the user. Those changes span two groups,
 *   so they run in steps, ordered so that a crash between two leaves only an entry readers skip: the home entry
 *   is claimed first, the user's records change second, an old entry is dropped last. Readers trust an entry
 *   only if the user it names still has that email or identity; a sign-up or email change finding an entry
 *   whose user does not is free to take it once the entry is {@link HOME_GRACE_MS} old (younger, it may be a
 *   change still between its steps). Every claim writes its call's own stamp, so a call settles or drops only
 *   its own claim, and a takeover (a compare-and-set on the entry read) loses to any claim made since. With
 *   `revocationReplicas`, home entries are confirmed on replicas like revocations: the user's change is, on
 *   another shard.
 * - Consents: the client's consenters (group 0) are enrolled before the consent is written in the user's
 *   group; deleting a client deletes the consents it finds that way. A consent given before its client's
 *   registration is not a consent to it (`grantedAt < createdAt`): so one a crash or race left behind never
 *   passes to a client registered again under the id.
 *
 * Change feed: a channel per group, all heard through one pattern subscription; `sessionFeeds` has one feed
 * per group, each with its own notice count, so the session cache checks every group's.
 */
import type { Cluster } from 'ioredis'
import {
  type ConsentRecord,
  EMAIL_TAKEN,
  type FederatedIdentityRecord,
  IDENTITY_TAKEN,
  type OAuthClientRecord,
  type Store,
  type UserRecord,
} from '../types.js'
import { emailKey } from '../../core/email.js'
import { generatePublicId } from '../../core/random.js'
import { routeOf } from '../../core/secret-route.js'
import { checkIdentity, PROVIDER_ID_PATTERN } from '../identities.js'
import { createGroupedChangeFeeds } from './change-feed.js'
import {
  createCommandGuard,
  DEFAULT_REDIS_TIMEOUT_MS,
  openRedisConnection,
  quitConnection,
  type RedisClusterOptions,
} from './connection.js'
import { GROUP_COUNT, groupOf, groupOfRoute, groupPrefix } from './groups.js'
import { createRedisKeys } from './keys.js'
import { encodeConsent } from './records.js'
import { defineScripts, type ScriptName } from './scripts.js'
import { redisStoreOn, revocationConfirmation } from './operations.js'

export interface RedisClusterStoreOptions {
  /** The Cluster's seed nodes and access; or `client`. */
  cluster?: RedisClusterOptions
  /**
   * An existing ioredis Cluster client instead of `cluster`. The caller owns it: `close()` leaves it open.
   * Create it with `redisClientOptions` so that an outage fails fast, without ioredis's own `keyPrefix`.
   */
  client?: Cluster
  /** Prepended to every key and channel, e.g. `sesame:`; without a `{hash tag}` (see the module header). */
  keyPrefix: string
  /** As for `createRedisStore`: replicas that must hold each revocation before it is answered. */
  revocationReplicas?: number
  /** As for `createRedisStore`. Default 1000. */
  timeoutMs?: number
}

/**
 * How old a home entry whose user no longer holds it must be before another user may take it: a sign-up or
 * email change between its first and last step holds it that long at most (each step times out in seconds).
 */
export const HOME_GRACE_MS = 60_000

/** A home entry: its group, its key name there, and whether a user holds what it names now. */
interface Home {
  group: number
  name: (group: number) => string
  isHeld: (userId: string) => Promise<boolean>
}

/** A claim this call made on a home entry, under its own stamp. */
interface Claim {
  home: Home
  stamp: string
}

/** Opens the Cluster store. Returns at once, like `createRedisStore`. */
export function createRedisClusterStore(options: RedisClusterStoreOptions): Store {
  const { keyPrefix } = options
  if (/[{}]/.test(keyPrefix)) {
    throw new TypeError(
      `The Redis Cluster store puts its own {hash tags} after the key prefix; "${keyPrefix}" holds a brace, which would move every key (a prefix with a {hash tag} keeps all of them in one slot: use createRedisStore for that).`,
    )
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  const ownsClient = options.client === undefined
  if (!options.client && !options.cluster)
    throw new TypeError('Give the Redis Cluster store `cluster` or `client`.')
  const client = options.client ?? (openRedisConnection({ cluster: options.cluster! }, timeoutMs) as Cluster)
  const guard = createCommandGuard(client, timeoutMs)
  const { run } = guard
  const confirm = revocationConfirmation(options.revocationReplicas ?? 0, timeoutMs)
  const prefixes = Array.from({ length: GROUP_COUNT }, (_, group) => groupPrefix(keyPrefix, group))
  const keys = prefixes.map(createRedisKeys)
  const scripts = prefixes.map((prefix) => defineScripts(client, prefix, confirm))
  const feeds = createGroupedChangeFeeds(
    client,
    guard,
    {
      pattern: `${escapeGlob(keyPrefix)}{*}:changes`,
      channels: keys.map((k) => k.changes),
      countKeys: keys.map((k) => k.sessionChangeCount),
    },
    timeoutMs,
  )
  const groups = prefixes.map((prefix, group) =>
    redisStoreOn({ client, guard, changes: feeds.groups[group]!, keyPrefix: prefix, confirm }),
  )
  const global = groups[0]!

  const ofUser = (userId: string): Store => groups[groupOf(userId)]!
  /** The group a routed secret or family id leads to; null when it carries no route this store made. */
  const ofRouted = (text: string): Store | null => {
    const group = groupOfRoute(routeOf(text))
    return group === null ? null : groups[group]!
  }
  /** Throws unless `text` (a new secret's hash, a new family id) carries the route of `userId`'s group. */
  function requireRoute(text: string, userId: string, what: string): Store {
    const group = groupOfRoute(routeOf(text))
    if (group !== groupOf(userId)) {
      throw new TypeError(
        `A ${what} for the Redis Cluster store must carry its user's route (Store.secretRoute).`,
      )
    }
    return groups[group]!
  }

  async function sum(each: (store: Store) => Promise<number>): Promise<number> {
    let total = 0
    for (const count of await Promise.all(groups.map(each))) total += count
    return total
  }

  // Home entries: where each lives, and whether a user holds what it names.
  const emailHome = (key: string): Home => ({
    group: groupOf(`email:${key}`),
    name: (g) => keys[g]!.emailHome(key),
    isHeld: async (userId) => {
      const user = await ofUser(userId).findUserById(userId)
      return user !== null && emailKey(user.email) === key
    },
  })
  const identityHome = (provider: string, subject: string): Home => {
    const id = `${provider}:${subject}`
    return {
      group: groupOf(`identity:${id}`),
      name: (g) => keys[g]!.identityHome(id),
      isHeld: async (userId) => (await ofUser(userId).findIdentity(provider, subject))?.userId === userId,
    }
  }
  const homeScript = (home: Home, name: ScriptName, args: string[]) =>
    run(() => scripts[home.group]!(name, [home.name(home.group)], args))

  /** The user a home entry names, or null. */
  async function holderOf(home: Home): Promise<string | null> {
    const entry = await run(() => client.get(home.name(home.group)))
    return entry === null ? null : parseHome(entry).userId
  }

  /**
   * Claims `home` for `userId` under a fresh stamp, taking it from a user that no longer holds it once the
   * entry is old enough (see the module header); null when another user holds it.
   */
  async function claimHome(home: Home, userId: string): Promise<Claim | null> {
    const stamp = generatePublicId()
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = (await homeScript(home, 'claimHome', [userId, stamp])) as [0 | 1] | [2, string, string]
      if (answer[0] !== 2) return { home, stamp }
      const [, entry, redisNowMs] = answer
      const held = parseHome(entry)
      if (await home.isHeld(held.userId)) return null
      if (Number(redisNowMs) - held.at < HOME_GRACE_MS) return null
      if ((await homeScript(home, 'swapHome', [entry, userId, stamp])) === 1) return { home, stamp }
      // Another claim took it between the read and the swap: look again.
    }
    return null
  }

  /**
   * Ends this call's claims: settled when its change is done, or when the user holds the home anyway (a
   * concurrent call of theirs got there first); else dropped. A claim the user's other call has stamped since
   * is that call's to end.
   */
  async function endClaims(userId: string, done: boolean, claims: readonly Claim[]): Promise<void> {
    for (const { home, stamp } of claims) {
      const settle = done || (await home.isHeld(userId))
      await homeScript(home, 'endHomeClaim', [userId, stamp, settle ? 'settle' : 'drop'])
    }
  }

  /**
   * Drops `userId`'s entry for `home` once the user no longer holds it (after an email change, an unlink, a
   * deletion). Compare-and-delete on the entry read: one a concurrent change of the user claims again stays.
   */
  async function releaseHome(home: Home, userId: string): Promise<void> {
    const entry = await run(() => client.get(home.name(home.group)))
    if (entry === null || parseHome(entry).userId !== userId || (await home.isHeld(userId))) return
    await homeScript(home, 'swapHome', [entry, '', ''])
  }

  /** Whether a consent is one to the client registered now under its id (see the module header). */
  async function stillGiven(consent: ConsentRecord, clients: Map<string, OAuthClientRecord | null>) {
    if (!clients.has(consent.clientId))
      clients.set(consent.clientId, await global.findClient(consent.clientId))
    const client = clients.get(consent.clientId)
    return client != null && consent.grantedAt >= client.createdAt
  }

  async function createAccount(
    user: UserRecord,
    identity: FederatedIdentityRecord | null,
  ): Promise<UserRecord | typeof EMAIL_TAKEN | typeof IDENTITY_TAKEN> {
    const claims: Claim[] = []
    if (identity) {
      const claim = await claimHome(identityHome(identity.provider, identity.subject), user.id)
      if (claim === null) return IDENTITY_TAKEN
      claims.push(claim)
    }
    const claim = await claimHome(emailHome(emailKey(user.email)), user.id)
    if (claim === null) {
      await endClaims(user.id, false, claims)
      return EMAIL_TAKEN
    }
    claims.push(claim)
    const store = ofUser(user.id)
    const created = identity
      ? await store.createUserWithIdentity(user, identity)
      : await store.createUser(user)
    await endClaims(user.id, created !== EMAIL_TAKEN && created !== IDENTITY_TAKEN, claims)
    return created
  }

  return {
    kind: 'redis-cluster',

    secretRoute: (userId) => String(groupOf(userId)),

    createUser: (user) => createAccount(user, null) as Promise<UserRecord | typeof EMAIL_TAKEN>,
    async findUserByEmail(email) {
      const key = emailKey(email)
      const holder = await holderOf(emailHome(key))
      if (holder === null) return null
      const user = await ofUser(holder).findUserById(holder)
      return user !== null && emailKey(user.email) === key ? user : null
    },
    findUserById: (id) => ofUser(id).findUserById(id),
    updatePasswordHash: (userId, hash) => ofUser(userId).updatePasswordHash(userId, hash),
    setUserDisabled: (userId, at) => ofUser(userId).setUserDisabled(userId, at),
    setEmailVerified: (userId, email, at) => ofUser(userId).setEmailVerified(userId, email, at),
    async changeUserEmail(userId, email, verifiedAt) {
      const store = ofUser(userId)
      const user = await store.findUserById(userId)
      if (!user) return false
      const key = emailKey(email)
      const claim = await claimHome(emailHome(key), userId)
      if (claim === null) return EMAIL_TAKEN
      const changed = await store.changeUserEmail(userId, email, verifiedAt)
      await endClaims(userId, changed === true, [claim])
      if (changed !== true) return changed
      const previous = emailKey(user.email)
      if (previous !== key) await releaseHome(emailHome(previous), userId)
      return true
    },
    async deleteUser(userId) {
      const store = ofUser(userId)
      const user = await store.findUserById(userId)
      if (!user) return false
      const identities = await store.listUserIdentities(userId)
      if (!(await store.deleteUser(userId))) return false
      await releaseHome(emailHome(emailKey(user.email)), userId)
      for (const identity of identities)
        await releaseHome(identityHome(identity.provider, identity.subject), userId)
      return true
    },

    putOneTimeToken: async (token) =>
      requireRoute(token.tokenHash, token.userId, 'one-time token').putOneTimeToken(token),
    takeOneTimeToken: async (purpose, hash, now) =>
      (await ofRouted(hash)?.takeOneTimeToken(purpose, hash, now)) ?? null,
    findOneTimeToken: async (purpose, hash, now) =>
      (await ofRouted(hash)?.findOneTimeToken(purpose, hash, now)) ?? null,
    deleteExpiredOneTimeTokens: (now) => sum((store) => store.deleteExpiredOneTimeTokens(now)),

    async createUserWithIdentity(user, identity) {
      checkIdentity(identity, user.id)
      return createAccount(user, identity)
    },
    async linkIdentity(identity) {
      checkIdentity(identity)
      const claim = await claimHome(identityHome(identity.provider, identity.subject), identity.userId)
      if (claim === null) return IDENTITY_TAKEN
      const linked = await ofUser(identity.userId).linkIdentity(identity)
      await endClaims(identity.userId, linked === true, [claim])
      return linked
    },
    async findIdentity(provider, subject) {
      // A provider id outside the pattern is never stored.
      if (!PROVIDER_ID_PATTERN.test(provider)) return null
      const holder = await holderOf(identityHome(provider, subject))
      if (holder === null) return null
      const identity = await ofUser(holder).findIdentity(provider, subject)
      return identity?.userId === holder ? identity : null
    },
    listUserIdentities: (userId) => ofUser(userId).listUserIdentities(userId),
    async unlinkIdentity(userId, provider) {
      const store = ofUser(userId)
      const linked = (await store.listUserIdentities(userId)).find(
        (identity) => identity.provider === provider,
      )
      const unlinked = await store.unlinkIdentity(userId, provider)
      if (unlinked === true && linked) await releaseHome(identityHome(provider, linked.subject), userId)
      return unlinked
    },
    removePassword: (userId) => ofUser(userId).removePassword(userId),

    // Every factor lookup names its user, so a factor lives with the user's other records, in its home group;
    // the last-way-in checks read the user, identities and passkeys there, in one script.
    addFactor: (factor) => ofUser(factor.userId).addFactor(factor),
    replaceFactors: (userId, kind, factors) => ofUser(userId).replaceFactors(userId, kind, factors),
    listUserFactors: (userId) => ofUser(userId).listUserFactors(userId),
    findUserFactor: (userId, lookupKey) => ofUser(userId).findUserFactor(userId, lookupKey),
    advanceFactor: (userId, factorId, expected, counter, now) =>
      ofUser(userId).advanceFactor(userId, factorId, expected, counter, now),
    takeFactor: (userId, kind, lookupKey) => ofUser(userId).takeFactor(userId, kind, lookupKey),
    renameFactor: (userId, factorId, name) => ofUser(userId).renameFactor(userId, factorId, name),
    removeFactor: (userId, factorId) => ofUser(userId).removeFactor(userId, factorId),

    createSession: async (session, limit) =>
      requireRoute(session.tokenHash, session.userId, 'session token hash').createSession(session, limit),
    findSessionByTokenHash: async (hash) => (await ofRouted(hash)?.findSessionByTokenHash(hash)) ?? null,
    findSessionWithUser: async (hash) => (await ofRouted(hash)?.findSessionWithUser(hash)) ?? null,
    touchSession: async (hash, lastSeenAt, expiresAt) =>
      (await ofRouted(hash)?.touchSession(hash, lastSeenAt, expiresAt)) ?? false,
    deleteSessionByTokenHash: async (hash) => (await ofRouted(hash)?.deleteSessionByTokenHash(hash)) ?? false,
    listUserSessions: (userId) => ofUser(userId).listUserSessions(userId),
    deleteUserSession: (userId, sessionId) => ofUser(userId).deleteUserSession(userId, sessionId),
    deleteUserSessions: (userId, except) => ofUser(userId).deleteUserSessions(userId, except),
    deleteExpiredSessions: (now) => sum((store) => store.deleteExpiredSessions(now)),

    async createRefreshFamily(family, hash, limit) {
      requireRoute(family.id, family.userId, 'refresh family id')
      return requireRoute(hash, family.userId, 'refresh token hash').createRefreshFamily(family, hash, limit)
    },
    findRefreshToken: async (hash) => (await ofRouted(hash)?.findRefreshToken(hash)) ?? null,
    findRefreshFamily: async (id) => (await ofRouted(id)?.findRefreshFamily(id)) ?? null,
    async rotateRefreshFamily(id, generation, hash, now, expiresAt, seal) {
      const store = ofRouted(id)
      if (store === null) return false
      if (ofRouted(hash) !== store) throw new TypeError('A successor token must carry its family’s route.')
      return store.rotateRefreshFamily(id, generation, hash, now, expiresAt, seal)
    },
    revokeRefreshFamily: async (id, now) => (await ofRouted(id)?.revokeRefreshFamily(id, now)) ?? false,
    listUserRefreshFamilies: (userId) => ofUser(userId).listUserRefreshFamilies(userId),
    revokeUserRefreshFamilies: (userId, now, except) =>
      ofUser(userId).revokeUserRefreshFamilies(userId, now, except),
    endUserDevices: (input) => ofUser(input.userId).endUserDevices(input),
    deleteExpiredRefreshFamilies: (now) => sum((store) => store.deleteExpiredRefreshFamilies(now)),

    addAccessRevocation: (revocation) =>
      groups[groupOf(`${revocation.kind}:${revocation.value}`)]!.addAccessRevocation(revocation),
    listAccessRevocations: async (now) =>
      (await Promise.all(groups.map((store) => store.listAccessRevocations(now)))).flat(),
    deleteExpiredAccessRevocations: (now) => sum((store) => store.deleteExpiredAccessRevocations(now)),
    setUserEpoch: (epoch) => ofUser(epoch.userId).setUserEpoch(epoch),
    listUserEpochs: async (now) =>
      (await Promise.all(groups.map((store) => store.listUserEpochs(now)))).flat(),

    hitRateLimit: (key, window, now) => groups[groupOf(key)]!.hitRateLimit(key, window, now),
    countRateLimit: (key, window, now) => groups[groupOf(key)]!.countRateLimit(key, window, now),
    resetRateLimit: (key, window, now) => groups[groupOf(key)]!.resetRateLimit(key, window, now),

    createClient: (registration) => global.createClient(registration),
    findClient: (clientId) => global.findClient(clientId),
    listClients: () => global.listClients(),
    async deleteClient(clientId) {
      const consenters = await run(() => client.smembers(keys[0]!.clientConsenters(clientId)))
      if (!(await global.deleteClient(clientId))) return false
      await Promise.all(
        consenters.map((userId) =>
          run(() => client.hdel(keys[groupOf(userId)]!.userConsents(userId), clientId)),
        ),
      )
      return true
    },
    async putConsent(consent) {
      const { userId, clientId } = consent
      const enrolled = await run(() =>
        scripts[0]!(
          'enrolConsenter',
          [keys[0]!.client(clientId), keys[0]!.clientConsenters(clientId)],
          [userId],
        ),
      )
      if (enrolled !== 1) return
      const group = groupOf(userId)
      await run(() =>
        scripts[group]!(
          'putUserConsent',
          [keys[group]!.user(userId), keys[group]!.userConsents(userId)],
          [clientId, encodeConsent(consent)],
        ),
      )
    },
    async findConsent(userId, clientId) {
      const consent = await ofUser(userId).findConsent(userId, clientId)
      return consent && (await stillGiven(consent, new Map())) ? consent : null
    },
    async listUserConsents(userId) {
      const clients = new Map<string, OAuthClientRecord | null>()
      const consents = await ofUser(userId).listUserConsents(userId)
      const given = await Promise.all(consents.map((consent) => stillGiven(consent, clients)))
      return consents.filter((_, i) => given[i])
    },
    async deleteConsent(userId, clientId) {
      const deleted = await ofUser(userId).deleteConsent(userId, clientId)
      // The index entry after the consent: a crash in between leaves an entry that finds nothing to delete.
      await run(() => client.srem(keys[0]!.clientConsenters(clientId), userId))
      return deleted
    },

    claimOnce: (key, expiresAt, now) => groups[groupOf(key)]!.claimOnce(key, expiresAt, now),
    deleteExpiredClaims: (now) => sum((store) => store.deleteExpiredClaims(now)),

    listSigningKeys: () => global.listSigningKeys(),
    createSigningKey: (key) => global.createSigningKey(key),
    createFirstSigningKey: (key) => global.createFirstSigningKey(key),
    retireSigningKeysExcept: (kid, at) => global.retireSigningKeysExcept(kid, at),
    deleteSigningKey: (kid) => global.deleteSigningKey(kid),
    getOrCreateSecret: (name, value) => global.getOrCreateSecret(name, value),

    changes: feeds.all,
    sessionFeeds: feeds.groups,

    ping: () =>
      run(async () => {
        await client.ping()
      }),
    async close() {
      guard.close()
      await feeds.close()
      if (ownsClient) await quitConnection(client)
    },
  }
}

/** A home entry: `<Redis ms, 0 once settled> <stamp> <user id>`. */
function parseHome(entry: string): { at: number; userId: string } {
  const first = entry.indexOf(' ')
  const second = entry.indexOf(' ', first + 1)
  return { at: Number(entry.slice(0, first)), userId: entry.slice(second + 1) }
}

/** `text` with Redis glob's special characters escaped, for a PSUBSCRIBE pattern that matches it literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
