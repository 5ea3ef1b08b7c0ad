/**
 * The Redis key layout, written once for both sides: TypeScript builds the keys a command names up front, and
 * the Lua scripts build the keys they only learn from stored data (a session's user index from its `userId`,
 * a family's token keys from its token set). Both come from the tables below, so they cannot drift apart.
 *
 * The `{...}` in a name is a Redis Cluster hash tag: keys with the same tag land in the same slot. An owner's
 * keys share its tag (`user:{id}`, `user:{id}:sessions`, ...), so the keys of one user or one family stay
 * together on any shard layout. See the header of `index.ts` for what Cluster needs beyond that.
 */

/** Per-record keys: `${prefix}${before}${id}${after}`. */
const RECORD_KEYS = {
  /** Hash: the user record. No TTL: an account is not session state. */
  user: ['user:{', '}'],
  /** String: normalised email, exactly -> user id. No TTL. */
  userEmail: ['user-email:{', '}'],
  /**
   * String: email key (`emailKey`, NFKC + case fold) -> user id; the uniqueness guard, with `userEmail`. No TTL.
   * Absent for an account whose key an older one holds (see `migrations.ts`).
   */
  userEmailKey: ['user-email-key:{', '}'],
  /**
   * Hash: a federated identity, by `${provider}:${subject}` (a provider id holds no colon, see
   * `store/identities.ts`, so the pair reads back one way). No TTL: an identity belongs to the account.
   */
  identity: ['identity:{', '}'],
  /** Hash: the user's federated identities, provider -> subject (one per provider). No TTL. */
  userIdentities: ['user:{', '}:identities'],
  /**
   * Hash: the user's sign-in factors, lookup key -> the factor, packed (`records.ts`). Every factor lookup names
   * its user, so the user's own key is the whole index: no lookup key is indexed across users (the Cluster store
   * keeps it in the user's home group). No TTL: a factor belongs to the account.
   */
  userFactors: ['user:{', '}:factors'],
  /** Sorted set: the user's session token hashes, scored by `expiresAt`. */
  userSessions: ['user:{', '}:sessions'],
  /** Sorted set: the user's refresh family ids, scored by absolute expiry. */
  userFamilies: ['user:{', '}:families'],
  /** String: the user's revocation epoch, expiring with the epoch record. */
  userEpoch: ['user:{', '}:epoch'],
  /**
   * String: a session, packed (`records.ts`), by token hash. Sesame 0.1 wrote hashes here; layout version 2
   * (`migrations.ts`) converts them, and the live scripts treat one they still meet as no session.
   */
  session: ['session:{', '}'],
  /**
   * String: a User-Agent text, by its reference (`agentRef` in `records.ts`); shared by every session with that
   * text, and expiring with the last of them to reach absolute expiry.
   */
  userAgent: ['agent:{', '}'],
  /** Hash: a refresh family, by id. */
  family: ['family:{', '}'],
  /** Set: every token hash ever issued in the family, so a purge can delete them all. */
  familyTokens: ['family:{', '}:tokens'],
  /** String: `${generation}:${familyId}` for one refresh token, by token hash. */
  refreshToken: ['refresh:{', '}'],
  /** String: a named server secret. No TTL. */
  secret: ['secret:{', '}'],
  /**
   * String: one rate-limit counter, by slot id (`${key}:${windowSeconds}:${window}`, see `rate-window.ts`),
   * expiring at the end of its window. No hash tag: it is only ever touched on its own.
   */
  rateLimit: ['rate:', ''],
  /** String: a single-use claim, by its key: the second the claim ends, which is also its expiry (EXAT). */
  claim: ['claim:{', '}'],
  /** Hash: a one-time token, by token hash, expiring at its `expiresAt` (EXAT). */
  oneTimeToken: ['ott:{', '}'],
  /**
   * Hash: the user's one-time tokens, purpose -> token hash (one per purpose: a put replaces the last), expiring
   * with the longest-lived of them.
   */
  userOneTimeTokens: ['user:{', '}:ott'],
  /** Hash: an OAuth client, by id. No TTL: a registration is not session state. */
  client: ['client:{', '}'],
  /**
   * Set: the ids of the users with a consent to the client, so deleting the client finds their consents without
   * a scan. No TTL.
   */
  clientConsenters: ['client:{', '}:consenters'],
  /** Hash: the user's consents, client id -> JSON of the scopes and `grantedAt` (`records.ts`). No TTL. */
  userConsents: ['user:{', '}:consents'],
  /**
   * String: `<Redis ms> <user id>`, the user holding an email key, in the key's own group: the Cluster store's
   * (`sharded.ts`) uniqueness guard and lookup, where the user's records live in another group. No TTL.
   */
  emailHome: ['email-home:{', '}'],
  /** String: as `emailHome`, for a federated identity, by `${provider}:${subject}`. No TTL. */
  identityHome: ['identity-home:{', '}'],
} as const satisfies Record<string, readonly [string, string]>

/** Singleton keys (and the change-feed channel): `${prefix}${name}`. */
const SHARED_KEYS = {
  /**
   * Sorted set: every user with sessions, scored by the earliest expiry in their sessions index; what
   * `deleteExpiredSessions` walks. One entry per user, not per session.
   */
  sessionOwners: 'session-owners-by-expiry',
  /**
   * Sorted set: token hashes of sessions in 0.1's hash layout, scored by `expiresAt`. Only the layout-2
   * migration reads it (and deletes it); nothing live writes or reads it any more.
   */
  sessionExpiry: 'sessions-by-expiry',
  /** Sorted set: every family id, scored by `expiresAt`; what `deleteExpiredRefreshFamilies` walks. */
  familyExpiry: 'families-by-expiry',
  /** Sorted set: `${kind}:${value}` scored by `expiresAt`. A member is the whole revocation record. */
  revocations: 'revocations',
  /** Sorted set: user ids with an epoch, scored by the epoch's `expiresAt`. */
  epochs: 'epochs',
  /** Sorted set: claim keys, scored by the claim's `expiresAt`; what `deleteExpiredClaims` walks. */
  claimExpiry: 'claims-by-expiry',
  /** Sorted set: one-time token hashes, scored by `expiresAt`; what `deleteExpiredOneTimeTokens` walks. */
  oneTimeTokenExpiry: 'otts-by-expiry',
  /** Sorted set: every client id, all scored 0, so that ZRANGE lists them by id (byte order). No TTL. */
  clients: 'clients',
  /** Hash: kid -> JSON of the key's fixed fields. No TTL. */
  signingKeys: '{keys}',
  /** Hash: kid -> retiredAt, for retired keys only. No TTL. Shares the `{keys}` tag with the hash above. */
  retiredKeys: '{keys}:retired',
  /** String: the layout version `migrations.ts` brought this prefix to; absent before the first. No TTL. */
  layoutVersion: 'layout-version',
  /** Pub/sub channel of the change feed (a channel, not a key). */
  changes: 'changes',
  /**
   * String: how many `sessions-changed` notices the scripts have published (the last one's number). No TTL: a
   * count that restarted would look like no change to an instance that heard the old numbers.
   */
  sessionChangeCount: 'session-changes',
} as const

type RecordKeyName = keyof typeof RECORD_KEYS
type SharedKeyName = keyof typeof SHARED_KEYS

export type RedisKeys = { readonly [K in RecordKeyName]: (id: string) => string } & {
  readonly [K in SharedKeyName]: string
}

/** The key names under `prefix`. */
export function createRedisKeys(prefix: string): RedisKeys {
  const keys: Record<string, unknown> = {}
  for (const [name, [before, after]] of Object.entries(RECORD_KEYS)) {
    keys[name] = (id: string) => `${prefix}${before}${id}${after}`
  }
  for (const [name, suffix] of Object.entries(SHARED_KEYS)) keys[name] = `${prefix}${suffix}`
  return keys as RedisKeys
}

/**
 * The same layout as Lua: a function per record key and an upper-case local per shared key, built from `P`
 * (the prefix, which every script receives as `ARGV[1]`).
 */
export const LUA_KEY_LAYOUT: string = [
  ...Object.entries(RECORD_KEYS).map(
    ([name, [before, after]]) =>
      `local function ${luaName(name)}(id) return P .. '${before}' .. id .. '${after}' end`,
  ),
  ...Object.entries(SHARED_KEYS).map(
    ([name, suffix]) => `local ${luaName(name).toUpperCase()} = P .. '${suffix}'`,
  ),
].join('\n')

/** `userSessions` -> `user_sessions`. */
export function luaName(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}

/**
 * Whether every key under `prefix` falls in one Redis Cluster slot: Redis hashes only the text between the
 * first `{` and the next `}`, when that text is not empty.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{')
  const close = open === -1 ? -1 : prefix.indexOf('}', open + 1)
  return close > open + 1
}
