/**
 * The Store contract: everything Sesame keeps. Every adapter (memory, sqlite, postgres, redis, and the split
 * of two) implements it and passes the one conformance suite in `test/contract/`.
 *
 * Conventions, for every method:
 * - Times are whole Unix seconds (so a round trip through any database compares equal).
 * - "Not found" is `null` (or `false` for deletes), never an exception.
 * - Session records are keyed by `tokenHash` (SHA-256 of the secret cookie value); the secret itself is never
 *   given to a store. `id` is a separate public identifier, safe to show in device lists.
 * - A record whose `expiresAt` is at or before "now" may still be returned: expiry is the engine's decision,
 *   and `deleteExpiredSessions` purges what is left.
 * - Failures to reach the backing service throw `AuthError('store_unavailable')`; nothing is half-written
 *   (each method is one atomic change). Engine operations that take several calls order them so that a
 *   failure part-way fails safe and a retry completes them (see `revokeFamily` in `engine/tokens.ts`).
 */
import type { AccessRevocation, ChangeEvent, RevocationKind, UserEpoch } from '../core/change-event.js'

/** A registered account. */
export interface UserRecord {
  /** Public id, 22 base64url characters. */
  id: string
  /**
   * Normalised email (see `core/email.ts`), as the user typed it; unique across users, and so is its
   * `emailKey` (see {@link Store.createUser}).
   */
  email: string
  /**
   * argon2id PHC string; null for an account created through a sign-in provider that has not set a password
   * yet (it cannot sign in with one).
   */
  passwordHash: string | null
  roles: readonly string[]
  createdAt: number
  /** Set when an operator disables the account; a disabled user cannot sign in. */
  disabledAt: number | null
  /**
   * When the account's email was proven to belong to its owner (today: a sign-in provider that vouched for
   * it at sign-up); null while unproven. Accounts stored before this field existed read as null.
   */
  emailVerifiedAt: number | null
}

/**
 * An account's identity at an external sign-in provider (social login): the provider's id for the person,
 * linked to one local user. A user has at most one identity per provider.
 */
export interface FederatedIdentityRecord {
  /** The provider's id in Sesame's configuration: `google`, `github`, `corp`, … (`[a-z][a-z0-9_-]*`). */
  provider: string
  /** The provider's stable id for the person (`sub`; GitHub's and Kakao's numeric ids as text); ≤ 255 chars. */
  subject: string
  userId: string
  /** The email the provider gave when the identity was linked, shown on the account page; null if none. */
  email: string | null
  createdAt: number
}

/** A cookie session, as stored. */
export interface SessionRecord {
  /** Public id, 22 base64url characters; used in device lists and `DELETE /auth/sessions/{id}`. */
  id: string
  /** SHA-256 (base64url) of the secret the cookie carries. The lookup key. */
  tokenHash: string
  userId: string
  createdAt: number
  lastSeenAt: number
  /** min(lastSeenAt + idle timeout, absoluteExpiresAt). */
  expiresAt: number
  absoluteExpiresAt: number
  /** User-Agent at sign-in, truncated by the engine; null when absent. */
  userAgent: string | null
  /** Client IP at sign-in; null when unknown. */
  ip: string | null
  /**
   * How the user signed in (RFC 8176 method references, see `core/sign-in-methods.ts`), in the order given;
   * `createdAt` is when. Empty for sessions stored before methods were recorded: they count as the weakest.
   */
  amr: readonly string[]
}

/** A session and the user it belongs to, as {@link Store.findSessionWithUser} reads them together. */
export interface SessionWithUser {
  session: SessionRecord
  user: UserRecord | null
}

/**
 * A JWS signing key, as stored. Private key material never leaves the server: the store is the server's own
 * (a 0600 SQLite file, or a database only Sesame reads).
 */
export interface SigningKeyRecord {
  /** JWK thumbprint (RFC 7638) of the public key; for HS256, a PRF of the secret. */
  kid: string
  alg: string
  /** The private (or secret) key as JWK JSON text. */
  privateJwk: string
  createdAt: number
  /**
   * When the key may start signing. A rotated-in key is published (and verifies) at once but signs only from
   * here, once every JWKS cached before the rotation has expired (see `core/key-ring.ts`). Keys stored before
   * this field existed read as active since their creation.
   */
  activatesAt: number
  /**
   * When a newer key takes over signing, possibly ahead (the activation of the key that replaces it); the key
   * still verifies until its last tokens expire.
   */
  retiredAt: number | null
}

/**
 * A refresh-token family: one per token sign-in, its id doubles as the `sid` of every access token issued in
 * it. Each refresh rotates the family to the next generation; only the current generation's token is live.
 */
export interface RefreshFamilyRecord {
  /** Public id, 22 base64url characters (the `sid`). */
  id: string
  userId: string
  createdAt: number
  lastUsedAt: number
  /** min(lastUsedAt + idle timeout, absoluteExpiresAt). */
  expiresAt: number
  absoluteExpiresAt: number
  /** Generation of the live refresh token, from 0. */
  generation: number
  /** When generation - 1 was rotated out: the start of its grace window. Null before the first rotation. */
  rotatedAt: number | null
  /** Set when the family is revoked (sign-out, theft detected); no token of it works again. */
  revokedAt: number | null
  /**
   * The live token sealed under a key derived from the token it replaced (see `core/successor-seal.ts`), so a
   * retry with the just-rotated token inside the grace window gets the same successor without the store ever
   * holding a usable token. Null before the first rotation. Opaque to stores.
   */
  successorSeal: string | null
  userAgent: string | null
  ip: string | null
  /**
   * The OAuth client the family was issued to (`clients.ts` in the engine); null for families from before
   * clients existed and for the built-in first-party client. A refresh grant must come from this client.
   */
  clientId: string | null
  /** The scope granted to the family (space-separated, RFC 6749 §3.3); null when none was asked for. */
  scope: string | null
  /** How the user signed in to start the family, as {@link SessionRecord.amr}; `createdAt` is when. */
  amr: readonly string[]
}

/**
 * Revocations are stored in the shape they travel in (`core/change-event.ts`, shared with the engine and the
 * verifier): what an access-token revocation targets (`jti` or `sid`), the revocation itself (dropped after
 * `expiresAt`, when the revoked tokens expire anyway), a user's epoch ("log out everywhere"), and the change
 * feed's event.
 */
export type AccessRevocationKind = RevocationKind
export type AccessRevocationRecord = AccessRevocation
export type UserEpochRecord = UserEpoch
export type { ChangeEvent }

/**
 * The store's change feed (Redis pub/sub, PostgreSQL LISTEN/NOTIFY; in-process for memory and SQLite). It
 * carries revocations to every instance's in-memory lists, so access-token checks stay free of I/O.
 * Delivery is best effort: the store itself stays the source of truth, and `onResync` tells the subscriber to
 * reload it whenever messages may have been missed.
 */
export interface ChangeFeed {
  /** Sends `event` to every subscriber, in this process and others. */
  publish(event: ChangeEvent): Promise<void>
  /**
   * Calls `onEvent` for each event and `onResync` when the subscription (re)connects, since events may have
   * been missed while it was down. Resolves once subscribed; returns the function that unsubscribes.
   */
  subscribe(
    onEvent: (event: ChangeEvent) => void,
    onResync: () => void,
    /** Called when the subscription's connection drops (before the resync that follows its return). */
    onInterrupt?: () => void,
  ): Promise<() => Promise<void>>
}

/**
 * A feed whose store writes a numbered `sessions-changed` notice, in the same atomic step, for every change that
 * ends a session or changes a user (Redis, PostgreSQL; not memory or SQLite): what a session cache follows.
 */
export interface SessionChangeFeed extends ChangeFeed {
  /**
   * The number of the last notice the store wrote (0 before the first), read from the store itself: how an
   * instance's session cache tells that it missed one.
   */
  lastSessionChange(): Promise<number>
}

/** What a one-time token (a link in a mail) is for. */
export type OneTimeTokenPurpose = 'verify-email' | 'reset-password' | 'change-email'

/**
 * A one-time token, as stored: only its hash. A user has at most one per purpose (a new one replaces the
 * previous, so only the newest link works); taking it deletes it (single use).
 */
export interface OneTimeTokenRecord {
  /** SHA-256 (base64url) of the token the mail carries. The lookup key. */
  tokenHash: string
  userId: string
  purpose: OneTimeTokenPurpose
  createdAt: number
  expiresAt: number
  /** The email the token was sent to: a verification proves that address only; an email change moves to it. */
  email: string
}

/** Whether an OAuth client can keep a secret (a server) or not (a browser app, a native app): RFC 6749 §2.1. */
export type ClientType = 'public' | 'confidential'

/**
 * A registered OAuth client (RFC 6749 §2). Redirect URIs are compared exactly, character for character
 * (RFC 9700 §4.1.3); the secret is kept only as a hash.
 */
export interface OAuthClientRecord {
  /** `[A-Za-z0-9._~-]`, 1 to 64 characters. */
  id: string
  /** What the consent screen calls it; up to 100 characters. */
  name: string
  type: ClientType
  redirectUris: readonly string[]
  /** Where RP-initiated logout may send the browser afterwards. */
  postLogoutRedirectUris: readonly string[]
  /** Web origins whose pages may call the token, userinfo and revocation endpoints (CORS). */
  origins: readonly string[]
  /** First-party clients (the operator's own apps) are not asked for consent and may use the password grant. */
  firstParty: boolean
  /** The scopes the client may ask for. */
  scopes: readonly string[]
  /** SHA-256 (base64url) of a confidential client's secret; null for a public client. */
  secretHash: string | null
  createdAt: number
}

/** Result of {@link Store.createClient} when the id is taken. */
export const CLIENT_TAKEN = Symbol('client_taken')

/** What a person allowed a third-party client: the scopes, remembered so the consent screen is shown once. */
export interface ConsentRecord {
  userId: string
  clientId: string
  scopes: readonly string[]
  grantedAt: number
}

/**
 * What a sign-in factor beyond the password is: a passkey (a WebAuthn credential), an authenticator app's TOTP
 * secret (at most one per user), or one of the user's single-use recovery codes.
 */
export type FactorKind = 'passkey' | 'totp' | 'recovery-code'

/**
 * A sign-in factor of a user. Every lookup names the user (a passkey sign-in learns it from the credential's
 * user handle), so a factor lives with its user, and `lookupKey` is unique among that user's factors only.
 */
export interface FactorRecord {
  /** Public id, 22 base64url characters: what the account page and the API name a factor by. */
  id: string
  userId: string
  kind: FactorKind
  /**
   * How the factor is found when it is used: a passkey's credential id (base64url, at most 1,366 characters);
   * `totp` for the one TOTP secret; a recovery code's SHA-256 (base64url). Unique per user.
   */
  lookupKey: string
  /** What the user calls it (a passkey's name, up to 64 characters); empty when it has none. */
  name: string
  /**
   * What the engine needs to verify a use: a passkey's public key and transports, a TOTP secret sealed under
   * the server's key. Opaque to stores; never a usable secret in the clear.
   */
  data: string
  /**
   * Only ever moves forward ({@link Store.advanceFactor}): a passkey's signature counter, the last TOTP time
   * step accepted (so a code is accepted once). 0 when unused.
   */
  counter: number
  createdAt: number
  lastUsedAt: number | null
}

/** Result of {@link Store.addFactor} when the user has a factor with that lookup key. */
export const FACTOR_TAKEN = Symbol('factor_taken')

/** Result of {@link Store.createUser} when the email is taken. */
export const EMAIL_TAKEN = Symbol('email_taken')

/** Result of linking an identity that is linked already (to this user or another). */
export const IDENTITY_TAKEN = Symbol('identity_taken')

/** Result of {@link Store.linkIdentity} when the user has an identity at that provider already. */
export const PROVIDER_LINKED = Symbol('provider_linked')

/** Result of {@link Store.unlinkIdentity} when the identity is the user's last way to sign in. */
export const LAST_SIGN_IN_METHOD = Symbol('last_sign_in_method')

/**
 * The per-user device limit, given to {@link Store.createSession} and {@link Store.createRefreshFamily} so the
 * store checks it in the same atomic step as the create: a count made in a separate call lets parallel
 * sign-ins (on any instance) all see room and all get in.
 */
export interface DeviceLimit {
  /** Live devices (sessions plus families) a user may have, the new one included; at least 1. */
  max: number
  /** What "live" is judged against: a session or family whose `expiresAt` is after it. */
  now: number
  /** At the limit, `deny` creates nothing; `evict-oldest` ends the oldest devices first. */
  policy: 'deny' | 'evict-oldest'
}

/** Result of a create under a {@link DeviceLimit} with the `deny` policy when the user is at the limit. */
export const DEVICE_LIMIT_REACHED = Symbol('device_limit_reached')

/**
 * Result of a create: {@link DEVICE_LIMIT_REACHED} (nothing created), or the ids of the families it revoked
 * (`revokedAt = limit.now`) to make room, so the engine can revoke their access tokens by `sid`. Evicted
 * sessions are deleted and need nothing more. Without a limit, always `{ evictedFamilies: [] }`.
 */
export type DeviceCreation = typeof DEVICE_LIMIT_REACHED | { evictedFamilies: string[] }

export interface Store {
  /** Adapter name, for logs and `/readyz`. */
  readonly kind: string

  /**
   * Creates a user, unless a user has the same email or the same email key (`emailKey` in `core/email.ts`:
   * NFKC plus case folding, so `ｖictim@…` or `straße@…` is taken when `victim@…` or `strasse@…` exists): then
   * returns {@link EMAIL_TAKEN}. Atomic with that check: of two concurrent calls with one key, exactly one
   * succeeds. The adapter computes and indexes the key itself.
   */
  createUser(user: UserRecord): Promise<UserRecord | typeof EMAIL_TAKEN>
  /**
   * The user with exactly this normalised email, else the user whose email key is `emailKey(email)`, else
   * null. The exact match comes first only for accounts that share a key from before keys existed: the
   * migration that added them left the key to the oldest and none to the others (see `docs/api.md`).
   */
  findUserByEmail(email: string): Promise<UserRecord | null>
  /** The user with this id, or null. */
  findUserById(id: string): Promise<UserRecord | null>
  /** Replaces a user's password hash (rehash on login, password change). False if the user does not exist. */
  updatePasswordHash(userId: string, passwordHash: string): Promise<boolean>
  /** Sets or clears (`null`) a user's `disabledAt`. False if the user does not exist. */
  setUserDisabled(userId: string, disabledAt: number | null): Promise<boolean>

  /**
   * Marks the user's email verified at `verifiedAt`, if the user's email is still `email` (a verification
   * mailed before an email change proves nothing about the new address). False otherwise or if no such user.
   */
  setEmailVerified(userId: string, email: string, verifiedAt: number): Promise<boolean>
  /**
   * Moves a user to a new email (and its email key), verified at `verifiedAt` (it was proven by the mail), unless
   * another user has that email or key ({@link EMAIL_TAKEN}); atomic with that check. False if no such user.
   */
  changeUserEmail(userId: string, email: string, verifiedAt: number): Promise<boolean | typeof EMAIL_TAKEN>
  /**
   * Deletes a user and everything of it this store keeps on the users' side: identities, factors, one-time
   * tokens, consents, and,
   * where they live here too, its sessions and refresh families (deleted, with their tokens: the engine has
   * already ended them, with the user's epoch, through {@link Store.endUserDevices}). Revocations and epochs
   * stay until they expire. One atomic change. False if no such user.
   */
  deleteUser(userId: string): Promise<boolean>

  /**
   * Stores a one-time token, replacing the user's previous token of the same purpose (only the newest is valid);
   * atomic.
   */
  putOneTimeToken(token: OneTimeTokenRecord): Promise<void>
  /**
   * Takes (deletes and returns) the token with this hash and purpose if it has not expired at `now`; null
   * otherwise (unknown, expired, already taken, superseded, or another purpose, which stays untouched).
   * Atomic: of concurrent takes of one token exactly one gets it.
   */
  takeOneTimeToken(
    purpose: OneTimeTokenPurpose,
    tokenHash: string,
    now: number,
  ): Promise<OneTimeTokenRecord | null>
  /** The token with this hash and purpose if it has not expired at `now`, without taking it; else null. */
  findOneTimeToken(
    purpose: OneTimeTokenPurpose,
    tokenHash: string,
    now: number,
  ): Promise<OneTimeTokenRecord | null>
  /** Deletes one-time tokens whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredOneTimeTokens(now: number): Promise<number>

  /**
   * Creates a user together with its first identity (a sign-up through a provider), as one atomic step:
   * {@link EMAIL_TAKEN} as for {@link Store.createUser}, or {@link IDENTITY_TAKEN} when `(provider, subject)` is
   * linked already; either way nothing is stored. `identity.userId` is `user.id`.
   */
  createUserWithIdentity(
    user: UserRecord,
    identity: FederatedIdentityRecord,
  ): Promise<UserRecord | typeof EMAIL_TAKEN | typeof IDENTITY_TAKEN>
  /**
   * Links an identity to an existing user, unless `(provider, subject)` is linked already
   * ({@link IDENTITY_TAKEN}) or the user has an identity at `provider` ({@link PROVIDER_LINKED}); atomic with
   * those checks. False when the user does not exist.
   */
  linkIdentity(
    identity: FederatedIdentityRecord,
  ): Promise<boolean | typeof IDENTITY_TAKEN | typeof PROVIDER_LINKED>
  /** The identity `(provider, subject)`, or null. */
  findIdentity(provider: string, subject: string): Promise<FederatedIdentityRecord | null>
  /** A user's identities, oldest first (then by provider). */
  listUserIdentities(userId: string): Promise<FederatedIdentityRecord[]>
  /**
   * Removes the user's identity at `provider`, unless it is the user's last way to sign in (no password, no
   * other identity and no passkey): then returns {@link LAST_SIGN_IN_METHOD} and removes nothing. Atomic with
   * that check, so two concurrent unlinks cannot leave an account no one can enter. False when there is no such identity.
   */
  unlinkIdentity(userId: string, provider: string): Promise<boolean | typeof LAST_SIGN_IN_METHOD>
  /**
   * Removes a user's password (`passwordHash` becomes null: a passkey-only account), unless the user would be
   * left with no way to sign in (no identity and no passkey): then {@link LAST_SIGN_IN_METHOD}, nothing
   * changed. Atomic with that check. False when no such user; true also when it had no password.
   */
  removePassword(userId: string): Promise<boolean | typeof LAST_SIGN_IN_METHOD>

  /**
   * Adds a factor, unless the user has one with its `lookupKey` ({@link FACTOR_TAKEN}); atomic with that check.
   * False when the user does not exist (nothing stored).
   */
  addFactor(factor: FactorRecord): Promise<boolean | typeof FACTOR_TAKEN>
  /**
   * Replaces every factor of `kind` the user has with `factors` (all of that kind, lookup keys distinct), as
   * one atomic change: new recovery codes, a new TOTP secret. False when the user does not exist.
   */
  replaceFactors(userId: string, kind: FactorKind, factors: readonly FactorRecord[]): Promise<boolean>
  /** A user's factors of every kind, oldest first (then by id). */
  listUserFactors(userId: string): Promise<FactorRecord[]>
  /** The user's factor with this lookup key, or null. */
  findUserFactor(userId: string, lookupKey: string): Promise<FactorRecord | null>
  /**
   * Records a use of a factor, as one compare-and-set: if its counter is still `expectedCounter`, sets it to
   * `counter` and `lastUsedAt` to `now` and returns true; otherwise changes nothing and returns false (a
   * concurrent use won, or the factor is gone). Of concurrent uses read at one counter, exactly one succeeds.
   */
  advanceFactor(
    userId: string,
    factorId: string,
    expectedCounter: number,
    counter: number,
    now: number,
  ): Promise<boolean>
  /**
   * Takes (deletes) the user's factor of `kind` with this lookup key: a recovery code's single use. True for
   * exactly one of concurrent takes; false when there is none (unknown, taken, another kind, which stays).
   */
  takeFactor(userId: string, kind: FactorKind, lookupKey: string): Promise<boolean>
  /** Renames a user's factor. False when the user has no factor with this id. */
  renameFactor(userId: string, factorId: string, name: string): Promise<boolean>
  /**
   * Removes a user's factor, unless it is a passkey that is the user's last way to sign in (no password, no
   * identity, no other passkey): then {@link LAST_SIGN_IN_METHOD}, nothing removed. Atomic with that check.
   * False when the user has no factor with this id.
   */
  removeFactor(userId: string, factorId: string): Promise<boolean | typeof LAST_SIGN_IN_METHOD>

  /**
   * Stores a new session. The `tokenHash` and `id` are fresh random values; collisions are not expected.
   * With `limit`, first counts the user's live sessions and live (unrevoked, unexpired) families and, at
   * `limit.max` or more, denies or evicts the oldest (by `createdAt`, then `id`) down to `max - 1`, all in one
   * atomic step with the insert: of concurrent creates for one user, across instances, at most `max` devices
   * end up live.
   */
  createSession(session: SessionRecord, limit?: DeviceLimit): Promise<DeviceCreation>
  /** The session with this token hash, or null. */
  findSessionByTokenHash(tokenHash: string): Promise<SessionRecord | null>
  /**
   * The session with this token hash and its user, in one read (one round trip, one statement): what every
   * cookie-authenticated request needs. Null when there is no such session; `user` is null if the session's
   * user is gone.
   */
  findSessionWithUser(tokenHash: string): Promise<SessionWithUser | null>
  /**
   * Slides a session forward (sliding renewal). Updates only if the session still exists, so a renewal racing
   * a logout never resurrects it. False if it no longer exists.
   */
  touchSession(tokenHash: string, lastSeenAt: number, expiresAt: number): Promise<boolean>
  /** Deletes the session with this token hash. False if there was none. */
  deleteSessionByTokenHash(tokenHash: string): Promise<boolean>
  /** A user's sessions, oldest first, expired ones included until purged. O(sessions of that user). */
  listUserSessions(userId: string): Promise<SessionRecord[]>
  /** Deletes the session with this public id if it belongs to `userId`. False otherwise (unknown or not theirs). */
  deleteUserSession(userId: string, sessionId: string): Promise<boolean>
  /** Deletes every session of `userId` except `exceptSessionId` (if given); returns how many. */
  deleteUserSessions(userId: string, exceptSessionId: string | null): Promise<number>
  /** Deletes every session whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>

  /** Every stored signing key, newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>
  /** Stores a new signing key. */
  createSigningKey(key: SigningKeyRecord): Promise<void>
  /**
   * A first start's key: stores `key` (unretired) unless the store already holds a key of the same `alg` whose
   * `retiredAt` is null, as one atomic step, so that of instances starting together on an empty store exactly one key is
   * stored and every instance signs with it. Returns the unretired key of that `alg` after the call: `key` when
   * it was stored, else the existing one (the newest, if several).
   */
  createFirstSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord>
  /** Marks every key other than `kid` that is not yet retired as retired at `retiredAt`. */
  retireSigningKeysExcept(kid: string, retiredAt: number): Promise<void>
  /** Deletes a signing key (once no live token can carry it). False if there was none. */
  deleteSigningKey(kid: string): Promise<boolean>

  /**
   * The secret named `name`, creating it as `value` if absent. Atomic: concurrent first calls from several
   * instances all get the one value that was stored first.
   */
  getOrCreateSecret(name: string, value: string): Promise<string>

  /** Stores a new family with its generation-0 token. Atomic. `limit` as for {@link Store.createSession}. */
  createRefreshFamily(
    family: RefreshFamilyRecord,
    tokenHash: string,
    limit?: DeviceLimit,
  ): Promise<DeviceCreation>
  /** The family a refresh token (by hash) belongs to, with that token's generation; null if unknown. */
  findRefreshToken(tokenHash: string): Promise<{ family: RefreshFamilyRecord; generation: number } | null>
  /** The family with this id, or null. */
  findRefreshFamily(familyId: string): Promise<RefreshFamilyRecord | null>
  /**
   * Rotates a family to `expectedGeneration + 1` with a new token, as one compare-and-set: it succeeds only
   * if the family is at `expectedGeneration` and not revoked, so of concurrent rotations exactly one wins.
   * Sets `rotatedAt` and `lastUsedAt` to `now`, `expiresAt`, and `successorSeal`, all in that one atomic
   * change. False when the compare failed (and then nothing changed).
   */
  rotateRefreshFamily(
    familyId: string,
    expectedGeneration: number,
    newTokenHash: string,
    now: number,
    expiresAt: number,
    successorSeal: string,
  ): Promise<boolean>
  /** Revokes a family at `now`. False if it was unknown or already revoked. */
  revokeRefreshFamily(familyId: string, now: number): Promise<boolean>
  /** A user's families, oldest first, revoked and expired ones included until purged. O(families of that user). */
  listUserRefreshFamilies(userId: string): Promise<RefreshFamilyRecord[]>
  /**
   * Revokes every unrevoked family of `userId` except `exceptFamilyId` (if given) at `now`; returns the ids it
   * revoked, so their access tokens can be revoked by `sid`.
   */
  revokeUserRefreshFamilies(userId: string, now: number, exceptFamilyId: string | null): Promise<string[]>
  /** Deletes families (and their tokens) whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredRefreshFamilies(now: number): Promise<number>
  /**
   * Ends a user's devices as ONE atomic change (all of it or nothing, also when the backing service stalls or
   * dies part-way): "log out everywhere", "revoke others", a password change, disabling an account.
   * 1. If `epoch` is given, stores it first, exactly as {@link Store.setUserEpoch} would (a later stored
   *    epoch or expiry is kept).
   * 2. Deletes every cookie session of `userId` except `exceptSessionId`, as {@link Store.deleteUserSessions}.
   * 3. Revokes (`revokedAt = now`) every unrevoked refresh family of `userId` except `exceptFamilyId`, as
   *    {@link Store.revokeUserRefreshFamilies}.
   * An exception that is unknown or another user's spares nothing. Nothing of any other user is touched.
   * Returns how many sessions were deleted and the ids of the families revoked (so the engine can revoke
   * their access tokens by `sid`); a repeat finds nothing left and returns `{ 0, [] }`. On
   * `store_unavailable`, either everything above happened or nothing did (a stalled request may still
   * commit after the caller gave up), so the caller may simply retry.
   */
  endUserDevices(input: {
    userId: string
    epoch: UserEpochRecord | null
    exceptSessionId: string | null
    exceptFamilyId: string | null
    now: number
  }): Promise<{ sessionsEnded: number; familiesRevoked: string[] }>

  /** Records an access-token revocation (idempotent; a later expiry wins). */
  addAccessRevocation(revocation: AccessRevocationRecord): Promise<void>
  /** Every revocation whose `expiresAt` is after `now`. */
  listAccessRevocations(now: number): Promise<AccessRevocationRecord[]>
  /** Deletes revocations and user epochs whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredAccessRevocations(now: number): Promise<number>
  /** Records a user's epoch; an existing later epoch (or later expiry) is kept. */
  setUserEpoch(epoch: UserEpochRecord): Promise<void>
  /** Every user epoch whose `expiresAt` is after `now`. */
  listUserEpochs(now: number): Promise<UserEpochRecord[]>

  /**
   * Rate-limit counters, in fixed windows of `windowSeconds` aligned to multiples of it (the window holding
   * `now` is `floor(now / windowSeconds)`). Shared by every instance; each counter expires with its window.
   * `key` is an opaque string chosen by the engine (no PII: it hashes emails).
   */
  /** Adds one to `key`'s counter in the current window and returns the new count. Atomic. */
  hitRateLimit(key: string, windowSeconds: number, now: number): Promise<number>
  /** `key`'s count in the current window (0 when none). */
  countRateLimit(key: string, windowSeconds: number, now: number): Promise<number>
  /** Clears `key`'s counter in the current window (e.g. after a successful sign-in). */
  resetRateLimit(key: string, windowSeconds: number, now: number): Promise<void>

  /** Registers a client, unless one has its id: then {@link CLIENT_TAKEN} and nothing changes. Atomic. */
  createClient(client: OAuthClientRecord): Promise<OAuthClientRecord | typeof CLIENT_TAKEN>
  /** The client with this id, or null. */
  findClient(clientId: string): Promise<OAuthClientRecord | null>
  /** Every registered client, ordered by id. */
  listClients(): Promise<OAuthClientRecord[]>
  /** Removes a client and every consent given to it. False if there was none. */
  deleteClient(clientId: string): Promise<boolean>

  /**
   * Records (replacing any earlier one) what `userId` allowed `clientId`. Stores nothing when the user or the
   * client does not exist (a delete that raced the consent).
   */
  putConsent(consent: ConsentRecord): Promise<void>
  /** What `userId` allowed `clientId`, or null. */
  findConsent(userId: string, clientId: string): Promise<ConsentRecord | null>
  /** A user's consents, ordered by client id. */
  listUserConsents(userId: string): Promise<ConsentRecord[]>
  /** Withdraws `userId`'s consent to `clientId`. False if there was none. */
  deleteConsent(userId: string, clientId: string): Promise<boolean>

  /**
   * Single-use claims (a sign-in flow's `state`, an authorization code): records `key` as used until
   * `expiresAt` and returns true, unless it is recorded already with an `expiresAt` after `now`: then false
   * and nothing changes. Atomic: of concurrent claims of one key, across instances, exactly one gets true.
   * `key` is opaque (the engine passes a hash, never the secret itself).
   */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>
  /** Deletes claims whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredClaims(now: number): Promise<number>

  /**
   * The route (`core/secret-route.ts`) the bearer secrets and refresh family ids of `userId` must carry for
   * this store to find them: a store that spreads users over shards names the user's home shard. Absent for
   * stores that find every record without one.
   */
  secretRoute?(userId: string): string

  /** The change feed that carries revocations between instances. */
  readonly changes: ChangeFeed
  /**
   * Every feed that announces changes to this store's sessions and users (the one `changes` feed, or both of a
   * split store's parts); absent when some part announces none. A session cache needs them all.
   */
  readonly sessionFeeds?: readonly SessionChangeFeed[]

  /** Resolves when the backing service answers; throws `store_unavailable` otherwise. */
  ping(): Promise<void>
  /** Releases connections and file handles. The store is unusable afterwards. */
  close(): Promise<void>
}
