/**
 * The engine: core rules composed with one store, behind a framework-free API. Inputs are plain values and
 * header strings; outputs are results plus the cookies to set. The HTTP layer translates, nothing more.
 *
 * Two ways in, one `Principal` out:
 * - cookie sessions for browsers (`engine/cookie-sessions.ts`): state in the store, read once and then served
 *   from this instance's session cache where the store announces its changes (`engine/session-cache.ts`);
 * - access + refresh tokens for apps and services (`engine/tokens.ts`): access tokens verify with no I/O.
 * A request with an `Authorization` header is judged by it alone, never by a cookie beside it.
 */
import { type Clock, systemClock } from './core/clock.js'
import type { CookieDescription, SessionCookieOptions } from './core/cookie.js'
import { resolveSessionCookieOptions } from './core/cookie.js'
import { canonicalizeEmail, normalizeEmail } from './core/email.js'
import { AuthError } from './core/errors.js'
import { type PasswordHasher, createArgon2Hasher } from './core/password-hasher.js'
import { checkNewPassword } from './core/password-policy.js'
import type { Principal } from './core/principal.js'
import { generatePublicId } from './core/random.js'
import { type SessionPolicy, resolveSessionPolicy } from './core/session-policy.js'
import { type TokenPolicy, type TokenPolicyInput, resolveTokenPolicy } from './core/token-policy.js'
import { requireRecentSignIn, requireStrongRecentSignIn } from './core/step-up.js'
import { type CookieSessions, createCookieSessions } from './engine/cookie-sessions.js'
import {
  type SessionCacheLimits,
  type SessionCacheStats,
  resolveSessionCacheLimits,
  createSessionCache,
} from './engine/session-cache.js'
import { type AccountPolicy, resolveAccountPolicy } from './core/account-policy.js'
import { type Accounts, type Mailer, createAccounts } from './engine/accounts.js'
import { type CredentialChecker, createCredentialChecker } from './engine/credentials.js'
import { type Federation, createFederation } from './engine/federation.js'
import { type DeviceLimitGate, type Devices, type SessionLimit, createDevices } from './engine/devices.js'
import { createThrottle } from './engine/throttle.js'
import { openPendingSignIns } from './engine/pending-sign-ins.js'
import {
  type SecondFactorRequired,
  type SignInOutcome,
  createSecondFactorSignIn,
  isSecondFactorRequired,
} from './engine/second-factor-sign-in.js'
import { type SecondFactors, createSecondFactors } from './engine/second-factors.js'
import { type Passkeys, type RelyingParty, createPasskeys } from './engine/passkeys.js'
import { type RateLimitPolicy, resolveRateLimitPolicy } from './core/rate-limit-policy.js'
import { SesameOptionError } from './core/errors.js'
import { SUPPORTED_ALGORITHMS } from './core/jws/algorithms.js'
import {
  checkFunction,
  checkMethods,
  checkOneOf,
  checkOptionObject,
  checkWholeNumber,
} from './core/option-checks.js'
import { SESSION_LIMIT_POLICIES, SESSION_LIMIT_RANGE } from './core/session-policy.js'
import { TOKEN_POLICY_DEFAULTS } from './core/token-policy.js'
import { type Authorization, createAuthorization } from './engine/authorization.js'
import { type ClientRegistry, createClientRegistry } from './engine/clients.js'
import { type SigningOptions, type TokenEngine, createTokenEngine } from './engine/tokens.js'
import {
  type AuthEventFields,
  type AuthEventSink,
  type EventReporter,
  createEventReporter,
} from './engine/events.js'
import { type ClientContext, type PublicUser, type SignInResult, toPublicUser } from './engine/types.js'
import { EMAIL_TAKEN, type Store, type UserRecord } from './store/types.js'

export type { ClientContext, PublicUser, SessionAuthentication, SignInResult } from './engine/types.js'
export type { RefreshingGrant, RotationOptions, TokenEngine, TokenGrant } from './engine/tokens.js'
export { BUILT_IN_CLIENT_ID, type ClientRegistration, type ClientRegistry } from './engine/clients.js'
export type { Device, Devices, SessionLimit } from './engine/devices.js'
export type { SessionCacheLimits, SessionCacheStats } from './engine/session-cache.js'
export { AUTH_EVENT_NAMES, type AuthEvent, type AuthEventName, type AuthEventSink } from './engine/events.js'
export type { Federation, LinkedIdentity } from './engine/federation.js'
export {
  type SecondFactorMethod,
  type SecondFactorProof,
  type SecondFactorRequired,
  type SignInOutcome,
  isPendingSignInGone,
  isSecondFactorRequired,
} from './engine/second-factor-sign-in.js'
export type {
  FactorSummary,
  SecondFactorStatus,
  SecondFactors,
  TotpEnrolment,
} from './engine/second-factors.js'
export type { Accounts, Mailer, MailRequest, RequestContext } from './engine/accounts.js'
export type { AccountPolicy } from './core/account-policy.js'
export type { ProviderProfile } from './core/federation.js'
export type { Principal } from './core/principal.js'
export type { OAuthClientRecord, Store, UserRecord } from './store/types.js'
// Apps that seed accounts themselves (an operator's first admin, say) hash passwords the engine's way.
export { createArgon2Hasher, type PasswordHasher } from './core/password-hasher.js'
export { AuthError, type ErrorCode, SesameOptionError, type OptionErrorCode } from './core/errors.js'
// A Store keeps emails unique, and finds them, by this key (see `Store.createUser`).
export { emailKey } from './core/email.js'

export interface AuthOptions {
  store: Store
  /** Default: argon2id at m=19456 KiB, t=2, p=1, 4 at a time. */
  passwordHasher?: PasswordHasher
  session?: Partial<SessionPolicy>
  cookie?: Partial<SessionCookieOptions>
  /**
   * Access and refresh tokens; omit for a cookie-only engine. `issuer` and `audience` are required.
   * `passwordGrant: false` turns the password grant off (first-party clients only in any case; default on).
   */
  tokens?: TokenPolicyInput & { signing?: Partial<SigningOptions>; passwordGrant?: boolean }
  /** Throttling of sign-ins and sign-ups; a rule given in part keeps the rest of its default. */
  rateLimits?: Partial<RateLimitPolicy>
  /** Waits for the soft delay of repeated failed sign-ins; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>
  /** Devices (sessions + token families) a user may have at once. Default: no limit. */
  sessionLimit?: SessionLimit
  /** Lifetimes of the links Sesame mails, and whether sign-in waits for a verified email. */
  accounts?: Partial<AccountPolicy>
  /**
   * Mail for the account lifecycle (verification, password reset, email change): the mailer, and the base URL
   * the links point to (the server's public origin). Omit for an engine without those flows.
   */
  mail?: { mailer: Mailer; linkBase: string }
  /** Told about background failures (change-feed resyncs), which must not crash the process. */
  onBackgroundError?: (error: unknown) => void
  /**
   * Told of every security-relevant action, success or failure (sign-ins, sign-outs, password and email
   * changes, refresh token reuse, key rotations…; `engine/events.ts`), synchronously: for an audit log or
   * metrics. Events carry ids, addresses and error codes, never a secret.
   */
  onEvent?: AuthEventSink
  /** Default: the system clock. Tests pass their own to reach expiry edges exactly. */
  clock?: Clock
  /**
   * Second factors (authenticator apps, recovery codes). `issuerName` is what authenticator apps show above
   * the code (default: the token issuer's host, else "Sesame"). `factorKeys` (32 bytes each, kept outside the
   * store) seal app secrets at rest: the first seals, all open (list the new key first to rotate). Without them
   * the secrets are sealed with a key kept in the store, which a dump of the store also holds.
   */
  secondFactors?: { issuerName?: string; factorKeys?: readonly Uint8Array[] }
  /**
   * Where passkeys are valid: `rpId` (the host, or a parent domain of it), `rpName` (shown by the browser) and
   * `origin` (the pages' origin). Default: from the token issuer (its host, "Sesame", its origin); an engine
   * without tokens and without this has no passkeys (they throw `TypeError` on use).
   */
  passkeys?: { rpId: string; rpName?: string; origin: string }
  /**
   * Holds active cookie sessions in this process, kept true by the store's change feed, so a cookie request
   * reads no store (`engine/session-cache.ts`). Default on, for stores whose feed numbers its notices (Redis,
   * PostgreSQL, a split of the two); `false` turns it off. Limits given in part keep the rest of their
   * defaults (100,000 sessions, 128 MiB, a store check every 500 ms).
   */
  sessionCache?: boolean | Partial<SessionCacheLimits>
}

/** A request authenticated by either method. */
export interface RequestAuthentication {
  principal: Principal
  /** Loaded for cookie sessions (read with the session, or from the session cache); null for bearer tokens. */
  user: PublicUser | null
  /** A renewed session cookie to send, if any. */
  cookie: CookieDescription | null
}

export interface Auth extends CookieSessions {
  /**
   * A user's second factors: set up an authenticator app, recovery codes, rename and remove (the account
   * page's calls). Sign-ins ask for them through {@link CookieSessions.signIn} and `completeSignIn`.
   */
  readonly secondFactors: SecondFactors
  /** Registering passkeys (for a signed-in user) and signing in with one. */
  readonly passkeys: Passkeys
  /**
   * The passkey request for the second step of the pending sign-in in `cookieHeader` (its user's passkeys),
   * answered through `completeSignIn` with `{ passkey: { ceremony, response } }`. Throws `invalid_second_factor`.
   */
  secondFactorPasskeyOptions(cookieHeader: string | undefined): ReturnType<Passkeys['beginSignIn']>
  /**
   * Signs in with a passkey alone (the ceremony from `passkeys.beginSignIn`, and the browser's answer), ending
   * the session the browser had. Throws `invalid_passkey`, `invalid_credentials` (a disabled account),
   * `email_not_verified`, `session_limit_reached`.
   */
  signInWithPasskey(
    input: { ceremony: string; response: unknown; cookieHeader?: string | undefined } & ClientContext,
  ): Promise<SignInResult>
  /** The resolved, frozen options, for logs and debugging. */
  readonly config: Readonly<{
    session: Readonly<SessionPolicy>
    cookie: Readonly<SessionCookieOptions>
    tokens: Readonly<TokenPolicy> | null
    accounts: Readonly<AccountPolicy>
    /** Whether first-party clients may use the password grant (`tokens.passwordGrant`). */
    passwordGrant: boolean
  }>
  /** Access and refresh tokens; throws `TypeError` on use when the engine was built without `tokens`. */
  readonly tokens: TokenEngine
  /** The OAuth clients that may ask for tokens: register, list, remove, authenticate. */
  readonly clients: ClientRegistry
  /** The OAuth authorization endpoint's decisions; null without `tokens`. */
  readonly authorization: Authorization | null
  /** A user's cookie sessions and token families: list, end one, end others, end all. */
  readonly devices: Devices
  /** Accounts through external sign-in providers: sign in or sign up, link, unlink. */
  readonly federation: Federation
  /**
   * Email verification, password reset, email change, account deletion; throws `TypeError` on use when the
   * engine was built without `mail`.
   */
  readonly accounts: Accounts
  /**
   * Registers an account, and (with `mail`) mails it a verification link in the background, in `language`.
   * Throws `invalid_request`, `email_taken` or `rate_limited` (per `ip`).
   */
  signUp(input: {
    email: unknown
    password: unknown
    ip?: string | undefined
    userAgent?: string | undefined
    language?: string | undefined
  }): Promise<PublicUser>
  /**
   * An operator's account creation (CLI, seeding): the sign-up rules without the throttle, and with `roles`.
   * Throws `invalid_request` or `email_taken`.
   */
  createUser(input: { email: unknown; password: unknown; roles?: readonly string[] }): Promise<PublicUser>
  /** Disables the account with this email and ends every device and access token of it. False if none. */
  disableUser(email: string): Promise<boolean>
  /**
   * Changes the caller's password after checking the current one (throttled like a sign-in), and ends every
   * other session and token family of the user, with their access tokens; the caller's own stays. An account
   * created through a provider has no password yet: it sets its first with no current one (and must not send
   * one). Throws `invalid_credentials`, `invalid_request` (a weak new password) or `rate_limited`. Returns
   * how many ended.
   */
  changePassword(
    principal: Principal,
    input: {
      currentPassword: unknown
      newPassword: unknown
      ip?: string | undefined
      userAgent?: string | undefined
    },
  ): Promise<number>
  /** The user with this id, or null. */
  findUser(userId: string): Promise<PublicUser | null>
  /**
   * Throws `step_up_required` unless `principal` is a cookie session signed in within the last 15 minutes: for
   * changes that could lock the owner out (setting up an authenticator app), which a session alone must not make.
   */
  requireRecentSignIn(principal: Pick<Principal, 'issuedAt' | 'method'>): void
  /**
   * The step-up of a change that adds or removes a way in (a passkey): a recent cookie sign-in, with the second
   * factor when the account has one. Throws `step_up_required`.
   */
  requireStepUp(principal: Principal): Promise<void>
  /**
   * Authenticates a request: by its `Authorization` header if it has one (and then by that alone), else by
   * its session cookie. Null when it carries neither. Throws `invalid_token`, `invalid_session` or
   * `invalid_cookie`.
   */
  authenticate(headers: {
    authorization?: string | undefined
    cookie?: string | undefined
  }): Promise<RequestAuthentication | null>
  /** Purges everything expired (sessions, refresh families, revocations, retired keys). Run periodically. */
  sweep(): Promise<void>
  /** The cookie-session cache's counters, or null when there is none (turned off, or a store without it). */
  readonly sessionCache: { stats(): SessionCacheStats } | null
  /** Stops background work (the change-feed subscription). The store is the caller's to close. */
  close(): Promise<void>
}

/**
 * Creates the engine, loading keys when tokens are configured. Every option is checked before any work: a bad
 * one throws {@link SesameOptionError} (a `TypeError` with `code: 'invalid_option'` and the option's path).
 */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const limit = checkAuthOptions(options)
  const cacheLimits = resolveSessionCacheLimits(options.sessionCache ?? true)
  const feeds = options.store.sessionFeeds
  const sessionCache =
    cacheLimits && feeds
      ? createSessionCache({
          feeds,
          limits: cacheLimits,
          reportBackgroundError: options.onBackgroundError ?? (() => {}),
        })
      : null
  const { store } = options
  const events = createEventReporter(options.onEvent, options.onBackgroundError ?? (() => {}))
  const clock = options.clock ?? systemClock
  const hasher = options.passwordHasher ?? createArgon2Hasher()
  const session = resolveSessionPolicy(options.session)
  const cookie = resolveSessionCookieOptions(options.cookie)
  const tokenPolicy = options.tokens ? resolveTokenPolicy(options.tokens) : null
  const throttle = createThrottle({
    store,
    clock,
    policy: resolveRateLimitPolicy(options.rateLimits),
    ...(options.sleep && { sleep: options.sleep }),
  })
  const accountPolicy = resolveAccountPolicy(options.accounts)
  // Proves a password; sign-ins (cookie and token) go through `checkSignIn`, which may also demand a
  // verified email, while a signed-in user's own password checks (change, delete) need the password only.
  const checkPassword = createCredentialChecker(store, hasher, throttle)
  const checkSignIn: CredentialChecker = async (email, password, ip) => {
    const user = await checkPassword(email, password, ip)
    requireVerifiedEmail(user, { ip })
    return user
  }
  /** With `requireEmailVerification`, refuses an unverified user's sign-in and mails a new link. */
  function requireVerifiedEmail(user: UserRecord, context: { ip?: string | undefined }): void {
    if (!accountPolicy.requireEmailVerification || user.emailVerifiedAt !== null) return
    accounts?.queueEmailVerification(user, context)
    throw new AuthError('email_not_verified', 'Verify your email first: we sent you a new link.')
  }
  // The dummy hash for unknown emails is made now, not at the first such sign-in, which would take twice as long.
  await hasher.verifyDummy('')
  // Devices needs the token engine and the engines need devices' limit: bind it late.
  const sessionLimit: DeviceLimitGate = {
    at: (now) => devices.limit.at(now),
    settle: (userId, created) => devices.limit.settle(userId, created),
  }
  const secondFactors = await createSecondFactors({
    store,
    clock,
    throttle,
    issuerName: options.secondFactors?.issuerName ?? defaultIssuerName(tokenPolicy),
    ...(options.secondFactors?.factorKeys && { factorKeys: options.secondFactors.factorKeys }),
  })
  const relyingParty = relyingPartyOf(options.passkeys, tokenPolicy)
  const passkeys = relyingParty
    ? await createPasskeys({ store, clock, relyingParty })
    : passkeysNotConfigured()
  const secondStep = createSecondFactorSignIn({
    store,
    clock,
    pending: await openPendingSignIns({ store, clock }),
    factors: secondFactors,
    passkeys,
    cookie,
  })
  const cookieSessions = createCookieSessions({
    store,
    clock,
    policy: session,
    cookie,
    checkCredentials: checkSignIn,
    limit: sessionLimit,
    ...(sessionCache && { cache: sessionCache }),
    secondFactor: secondStep,
  })
  /**
   * The step-up of a sensitive change of `user`, already read by the caller (`core/step-up.ts`): for a user
   * with a second factor, a recent sign-in with it.
   */
  const stepUp = async (principal: Principal, user: Pick<UserRecord, 'passwordHash'>): Promise<void> =>
    requireStrongRecentSignIn(principal, clock.nowSeconds(), {
      hasSecondFactor: await secondFactors.requiresSecondFactor(principal.userId),
      hasPassword: user.passwordHash !== null,
    })
  // The password grant has no second step: an account with a second factor signs in through the browser
  // (the authorization code flow), where it is asked for.
  const checkGrantSignIn: CredentialChecker = async (email, password, ip) => {
    const user = await checkSignIn(email, password, ip)
    if (await secondFactors.requiresSecondFactor(user.id)) {
      throw new AuthError(
        'invalid_grant',
        'This account has a second factor: sign in through the browser (the authorization code flow).',
        { reason: 'second_factor_required' },
      )
    }
    return user
  }
  const tokenEngine = tokenPolicy
    ? await createTokenEngine({
        store,
        clock,
        policy: tokenPolicy,
        signing: { algorithm: 'ES256', ...options.tokens?.signing },
        checkCredentials: checkGrantSignIn,
        limit: sessionLimit,
        throttle,
        ...(options.onBackgroundError && { onBackgroundError: options.onBackgroundError }),
        passwordGrant: options.tokens?.passwordGrant ?? true,
        events,
      })
    : null
  const tokens = tokenEngine ?? tokensNotConfigured()
  const clients = createClientRegistry({ store, clock })
  const authorization =
    tokenEngine && tokenPolicy
      ? createAuthorization({
          store,
          clock,
          clients,
          tokens: tokenEngine,
          issuer: tokenPolicy.issuer,
          // Clients verify ID tokens with the public JWKS: a shared HMAC key cannot be published.
          openIdAvailable: (options.tokens?.signing?.algorithm ?? 'ES256') !== 'HS256',
        })
      : null
  const devices: Devices = createDevices({ store, clock, tokens: tokenEngine, limit })
  const accounts: Accounts | null = options.mail
    ? createAccounts({
        store,
        clock,
        policy: accountPolicy,
        mailer: options.mail.mailer,
        linkBase: options.mail.linkBase,
        hasher,
        checkCredentials: checkPassword,
        devices,
        throttle,
        onBackgroundError: options.onBackgroundError ?? (() => {}),
        events,
        stepUp,
      })
    : null
  const federation = createFederation({
    store,
    clock,
    sessions: cookieSessions,
    throttle,
    admit: requireVerifiedEmail,
  })

  /** A passkey is a first and second factor at once: its sign-in asks for nothing more. */
  async function signInWithPasskey(
    input: Parameters<Auth['signInWithPasskey']>[0],
    seen: AuthEventFields,
  ): Promise<SignInResult> {
    const { userId, amr } = await passkeys.finishSignIn(input.ceremony, input.response)
    seen.userId = userId
    const user = await store.findUserById(userId)
    if (!user || user.disabledAt !== null) {
      throw new AuthError('invalid_credentials', 'This account is disabled.', { reason: 'user_disabled' })
    }
    requireVerifiedEmail(user, input)
    return cookieSessions.replaceSession(toPublicUser(user), input, amr)
  }

  async function createUser(input: {
    email: unknown
    password: unknown
    roles?: readonly string[]
  }): Promise<PublicUser> {
    const email = normalizeEmail(input.email)
    const password = checkNewPassword(input.password, { email })
    const roles = input.roles ?? []
    if (
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string' && /^[\w:.-]{1,64}$/.test(role))
    ) {
      throw new AuthError('invalid_request', 'Each role must be 1 to 64 letters, digits or "_:.-".')
    }
    const user: UserRecord = {
      id: generatePublicId(),
      email,
      passwordHash: await hasher.hash(password),
      roles: [...new Set(roles)],
      createdAt: clock.nowSeconds(),
      disabledAt: null,
      emailVerifiedAt: null,
    }
    const created = await store.createUser(user)
    if (created === EMAIL_TAKEN)
      throw new AuthError('email_taken', 'An account with this email already exists.')
    return toPublicUser(created)
  }

  async function changePassword(
    principal: Principal,
    input: Parameters<Auth['changePassword']>[1],
  ): Promise<number> {
    const user = await store.findUserById(principal.userId)
    if (!user) throw new AuthError('invalid_credentials', 'The email or password is incorrect.')
    await stepUp(principal, user)
    if (user.passwordHash !== null) {
      if (input.currentPassword === undefined) {
        throw new AuthError('invalid_request', 'The "current_password" field is required.')
      }
      await checkPassword(user.email, input.currentPassword, input.ip)
    } else if (input.currentPassword !== undefined && input.currentPassword !== '') {
      throw new AuthError('invalid_request', 'This account has no password yet: send only the new one.')
    }
    const password = checkNewPassword(input.newPassword, { email: user.email })
    const passwordHash = await hasher.hash(password)
    // Two changes, possibly in two stores (the hash with the users, devices with the session state), so
    // they cannot be one transaction. Other devices end first (atomically), then the hash changes:
    // - A failure in between leaves the old password valid and the other devices signed out: no worse than
    //   before the request (whoever had the old password could sign in anyway), and the same request retried
    //   (its current password still right) ends nothing more and changes the hash.
    // - The reverse order would leave, on a failure in between, the new password set with the other
    //   devices (maybe an intruder's) still signed in, and the retried request refused: its "current"
    //   password would be the old one.
    const ended = await devices.endOthers(principal)
    await store.updatePasswordHash(user.id, passwordHash)
    return ended
  }

  /**
   * Runs a first-factor sign-in and reports it: a failure, or a success once it started a session. Halfway (the
   * account has a second factor) is not signed in: the second step reports the sign-in (`via: second_factor`).
   */
  async function reportSignIn<Result extends { user: PublicUser }, Outcome extends SignInOutcome<Result>>(
    fields: AuthEventFields,
    run: () => Promise<Outcome>,
    after?: (result: Exclude<Outcome, SecondFactorRequired>, seen: AuthEventFields) => void,
  ): Promise<Outcome> {
    let outcome: Outcome
    try {
      outcome = await run()
    } catch (error) {
      events.report('sign_in', 'failure', fields, error)
      throw error
    }
    if (isSecondFactorRequired(outcome)) return outcome
    const result = outcome as Exclude<Outcome, SecondFactorRequired>
    const seen = { ...fields, userId: result.user.id }
    events.report('sign_in', 'success', seen)
    after?.(result, seen)
    return outcome
  }

  await sessionCache?.start()
  return {
    ...cookieSessions,
    signIn: (input) =>
      reportSignIn({ ...clientFields(input), via: 'cookie' }, () => cookieSessions.signIn(input)),
    completeSignIn: (input) =>
      events.observe('sign_in', { ...clientFields(input), via: 'second_factor' }, (seen) =>
        // Whose sign-in it is, known once the pending note opens: a refused code is then on the user's record.
        cookieSessions.completeSignIn(input, (userId) => (seen.userId = userId)),
      ),
    secondFactors,
    passkeys,
    secondFactorPasskeyOptions: (cookieHeader) => secondStep.passkeyOptions(cookieHeader),
    signInWithPasskey: (input) =>
      events.observe('sign_in', { ...clientFields(input), via: 'passkey' }, (seen) =>
        signInWithPasskey(input, seen),
      ),
    async signOut(cookieHeader, context = {}) {
      const fields = { ...clientFields(context), via: 'cookie' }
      let result
      try {
        result = await cookieSessions.signOut(cookieHeader)
      } catch (error) {
        events.report('sign_out', 'failure', fields, error)
        throw error
      }
      // Reported only when a session ended: pages sign out whatever the browser had before a sign-in.
      if (result.userId !== null) events.report('sign_out', 'success', { ...fields, userId: result.userId })
      return result
    },
    config: Object.freeze({
      session,
      cookie,
      tokens: tokenPolicy,
      accounts: accountPolicy,
      passwordGrant: tokenPolicy !== null && (options.tokens?.passwordGrant ?? true),
    }),
    tokens,
    clients: observedClients(clients, events),
    authorization,
    devices: observedDevices(devices, events),
    federation: {
      ...federation,
      signIn: (profile, input) =>
        reportSignIn(
          { ...clientFields(input), via: 'social', provider: profile.provider },
          () => federation.signIn(profile, input),
          (result, seen) => {
            if (result.created) events.report('sign_up', 'success', seen)
          },
        ),
    },
    accounts: accounts ?? accountsNotConfigured(),

    signUp: (input) =>
      events.observe('sign_up', { ...clientFields(input), via: 'password' }, async (seen) => {
        // Checked before the throttle counts: a rejected password is not a sign-up.
        checkNewPassword(input.password, { email: normalizeEmail(input.email) })
        await throttle.checkSignUp(input.ip)
        // Only these two: a sign-up never chooses its own roles, whatever else the caller's object holds.
        const user = await createUser({ email: input.email, password: input.password })
        seen.userId = user.id
        accounts?.queueEmailVerification(user, { ip: input.ip, language: input.language })
        return user
      }),

    createUser: (input) =>
      events.observe('sign_up', { via: 'operator' }, async (seen) => {
        const user = await createUser(input)
        seen.userId = user.id
        return user
      }),

    disableUser: (email) =>
      events.observe(
        'account_disable',
        { via: 'operator' },
        async (seen) => {
          const user = await store.findUserByEmail(canonicalizeEmail(email))
          seen.userId = user?.id
          // Two changes, possibly in two stores (users, session state), so they cannot be one transaction.
          // Disabled first: from then on no sign-in, cookie session or refresh grant of the user is accepted, so
          // a failure before the devices end leaves nothing usable but access tokens (until they expire), and a
          // retry (setUserDisabled succeeds again) ends the devices atomically.
          if (!user || !(await store.setUserDisabled(user.id, clock.nowSeconds()))) return false
          await devices.endAllForUser(user.id)
          return true
        },
        (disabled) =>
          disabled ? null : new AuthError('not_found', 'No such account.', { reason: 'unknown_user' }),
      ),

    changePassword: (principal, input) =>
      events.observe('password_change', { ...clientFields(input), userId: principal.userId }, () =>
        changePassword(principal, input),
      ),

    requireRecentSignIn: (principal) => requireRecentSignIn(principal, clock.nowSeconds()),
    async requireStepUp(principal) {
      // A recent sign-in always (it adds or removes a way in), with the second factor when there is one.
      requireRecentSignIn(principal, clock.nowSeconds())
      const user = await store.findUserById(principal.userId)
      if (!user)
        throw new AuthError('invalid_session', 'The session has ended.', { reason: 'user_unavailable' })
      await stepUp(principal, user)
    },

    async findUser(userId) {
      const user = await store.findUserById(userId)
      return user && user.disabledAt === null ? toPublicUser(user) : null
    },

    async authenticate(headers) {
      if (headers.authorization !== undefined) {
        const { principal } = tokens.authenticateBearer(headers.authorization)
        return { principal, user: null, cookie: null }
      }
      const result = await cookieSessions.authenticateSession(headers.cookie)
      return result && { principal: result.principal, user: result.user, cookie: result.cookie }
    },

    async sweep() {
      await cookieSessions.deleteExpiredSessions()
      await store.deleteExpiredClaims(clock.nowSeconds())
      await store.deleteExpiredOneTimeTokens(clock.nowSeconds())
      await tokenEngine?.sweep()
    },

    sessionCache,

    async close() {
      await accounts?.drain()
      await tokenEngine?.close()
      await sessionCache?.close()
    },
  }
}

/** Where a request came from, as events record it. */
/** Where passkeys are valid: as given, else the token issuer's host and origin; null when neither is there. */
function relyingPartyOf(
  given: AuthOptions['passkeys'],
  tokens: Readonly<TokenPolicy> | null,
): RelyingParty | null {
  if (given) return { id: given.rpId, name: given.rpName ?? 'Sesame', origin: given.origin }
  if (!tokens) return null
  const issuer = new URL(tokens.issuer)
  return { id: issuer.hostname, name: 'Sesame', origin: issuer.origin }
}

function passkeysNotConfigured(): Passkeys {
  const fail = (): never => {
    throw new TypeError('Passkeys need the "passkeys" option (or "tokens", whose issuer names the site).')
  }
  return { beginRegistration: fail, finishRegistration: fail, beginSignIn: fail, finishSignIn: fail }
}

/** What authenticator apps show above a code when no name is given: the token issuer's host, or "Sesame". */
function defaultIssuerName(tokens: Readonly<TokenPolicy> | null): string {
  return tokens ? new URL(tokens.issuer).host : 'Sesame'
}

function clientFields(context: { ip?: string | undefined; userAgent?: string | undefined }): AuthEventFields {
  return { ip: context.ip, userAgent: context.userAgent }
}

/** The devices API as callers use it, reporting each ending; the engine's own calls go to `devices` itself. */
function observedDevices(devices: Devices, events: EventReporter): Devices {
  return {
    ...devices,
    end: (principal, deviceId, context = {}) =>
      events.observe(
        'device_end',
        { ...clientFields(context), userId: principal.userId },
        () => devices.end(principal, deviceId),
        (ended) =>
          ended ? null : new AuthError('not_found', 'No such device.', { reason: 'unknown_device' }),
      ),
    endOthers: (principal, context = {}) =>
      events.observe('sign_out_others', { ...clientFields(context), userId: principal.userId }, () =>
        devices.endOthers(principal),
      ),
    endAll: (principal, context = {}) =>
      events.observe('sign_out_everywhere', { ...clientFields(context), userId: principal.userId }, () =>
        devices.endAll(principal),
      ),
    endAllForUser: (userId) =>
      events.observe('sign_out_everywhere', { userId, via: 'operator' }, () => devices.endAllForUser(userId)),
  }
}

/** The client registry, reporting registrations and removals. */
function observedClients(clients: ClientRegistry, events: EventReporter): ClientRegistry {
  return {
    ...clients,
    register: (registration) =>
      events.observe('client_registration', { via: 'operator' }, async (seen) => {
        const registered = await clients.register(registration)
        seen.clientId = registered.client.id
        return registered
      }),
    remove: (clientId) =>
      events.observe(
        'client_removal',
        { via: 'operator', clientId },
        () => clients.remove(clientId),
        (removed) =>
          removed ? null : new AuthError('not_found', 'No such client.', { reason: 'unknown_client' }),
      ),
  }
}

/** A stand-in whose every method explains that mail was not configured. */
function accountsNotConfigured(): Accounts {
  const fail = (): never => {
    throw new TypeError('Mail is not configured: pass the "mail" option to createAuth.')
  }
  return {
    requestEmailVerification: fail,
    confirmEmailVerification: fail,
    requestPasswordReset: fail,
    confirmPasswordReset: fail,
    requestEmailChange: fail,
    confirmEmailChange: fail,
    deleteAccount: fail,
    queueEmailVerification: () => {},
    drain: async () => {},
  }
}

/** A stand-in whose every method explains that tokens were not configured. */
function tokensNotConfigured(): TokenEngine {
  const fail = (): never => {
    throw new TypeError('Tokens are not configured: pass the "tokens" option to createAuth.')
  }
  return {
    grantPassword: fail,
    grantRefresh: fail,
    grantAuthorizationCode: fail,
    issueAuthorizationCode: fail,
    introspect: fail,
    readIdTokenHint: () => null,
    revoke: fail,
    authenticateBearer: () => {
      throw new AuthError('invalid_token', 'The access token is invalid.', {
        reason: 'tokens_not_configured',
      })
    },
    jwks: () => ({ keys: [] }),
    rotateSigningKey: fail,
    reload: fail,
    sweep: fail,
    endFamily: fail,
    endUserFamilies: fail,
    startUserEpoch: fail,
    endUserDevices: fail,
    revocations: { snapshot: () => ({ revocations: [], epochs: [] }), watch: () => () => {} },
    close: async () => {},
  }
}

const OPTION_NAMES = [
  'store',
  'passwordHasher',
  'session',
  'cookie',
  'tokens',
  'rateLimits',
  'sleep',
  'sessionLimit',
  'accounts',
  'mail',
  'onBackgroundError',
  'onEvent',
  'clock',
  'sessionCache',
  'secondFactors',
  'passkeys',
] as const satisfies ReadonlyArray<keyof AuthOptions>

/**
 * Checks the options the policy resolvers do not (those check their own members, with the same error), and
 * returns the resolved session limit. Unknown names are refused: a typo must not leave a default in force.
 */
function checkAuthOptions(options: AuthOptions): SessionLimit {
  if (typeof options !== 'object' || options === null) {
    throw new SesameOptionError('', 'createAuth needs an options object with at least "store".')
  }
  checkOptionObject('', options, OPTION_NAMES)
  checkMethods('store', options.store, ['createUser', 'findUserById', 'findUserByEmail'], 'a Store')
  if (options.passwordHasher !== undefined) {
    checkMethods(
      'passwordHasher',
      options.passwordHasher,
      ['hash', 'verify', 'verifyDummy', 'needsRehash'],
      'a PasswordHasher (hash, verify, verifyDummy, needsRehash)',
    )
  }
  if (options.clock !== undefined)
    checkMethods('clock', options.clock, ['nowSeconds'], 'a Clock (nowSeconds)')
  checkFunction('sleep', options.sleep)
  checkFunction('onBackgroundError', options.onBackgroundError)
  checkFunction('onEvent', options.onEvent)
  const tokens = checkOptionObject('tokens', options.tokens, [
    'issuer',
    'audience',
    ...Object.keys(TOKEN_POLICY_DEFAULTS),
    'signing',
    'passwordGrant',
  ])
  if (tokens?.['passwordGrant'] !== undefined && typeof tokens['passwordGrant'] !== 'boolean') {
    throw new SesameOptionError(
      'tokens.passwordGrant',
      'Option "tokens.passwordGrant" must be true or false.',
    )
  }
  const signing = checkOptionObject('tokens.signing', tokens?.['signing'], ['algorithm', 'hmacSecret'])
  if (signing) {
    const algorithm = checkOneOf(
      'tokens.signing.algorithm',
      signing['algorithm'] ?? 'ES256',
      SUPPORTED_ALGORITHMS,
    )
    const secret = signing['hmacSecret']
    if (algorithm === 'HS256' && !(secret instanceof Uint8Array && secret.length >= 32)) {
      throw new SesameOptionError(
        'tokens.signing.hmacSecret',
        'Option "tokens.signing.hmacSecret" must be a Buffer of at least 32 bytes with HS256.',
      )
    }
    if (algorithm !== 'HS256' && secret !== undefined) {
      throw new SesameOptionError(
        'tokens.signing.hmacSecret',
        'Option "tokens.signing.hmacSecret" is only for HS256.',
      )
    }
  }
  const passkeys = checkOptionObject('passkeys', options.passkeys, ['rpId', 'rpName', 'origin'])
  if (passkeys) {
    const origin = passkeys['origin']
    let host: string | null = null
    try {
      if (typeof origin === 'string' && new URL(origin).origin === origin) host = new URL(origin).hostname
    } catch {
      host = null
    }
    if (host === null) {
      throw new SesameOptionError(
        'passkeys.origin',
        'Option "passkeys.origin" must be an origin, like https://auth.example.com.',
      )
    }
    const rpId = passkeys['rpId']
    // The RP ID is the origin's host or a parent domain of it (WebAuthn §5.1.3): anything else no browser accepts.
    if (typeof rpId !== 'string' || !(host === rpId || host.endsWith(`.${rpId}`))) {
      throw new SesameOptionError(
        'passkeys.rpId',
        'Option "passkeys.rpId" must be the origin\'s host or a parent domain of it.',
      )
    }
    const rpName = passkeys['rpName']
    if (rpName !== undefined && !(typeof rpName === 'string' && rpName.length >= 1 && rpName.length <= 64)) {
      throw new SesameOptionError('passkeys.rpName', 'Option "passkeys.rpName" must be 1 to 64 characters.')
    }
  }
  const factors = checkOptionObject('secondFactors', options.secondFactors, ['issuerName', 'factorKeys'])
  const issuerName = factors?.['issuerName']
  if (
    issuerName !== undefined &&
    !(typeof issuerName === 'string' && /^[^:\p{Cc}]{1,64}$/u.test(issuerName))
  ) {
    throw new SesameOptionError(
      'secondFactors.issuerName',
      'Option "secondFactors.issuerName" must be 1 to 64 characters, without ":" or control characters.',
    )
  }
  const factorKeys = factors?.['factorKeys']
  if (
    factorKeys !== undefined &&
    !(
      Array.isArray(factorKeys) &&
      factorKeys.length > 0 &&
      factorKeys.every((key) => key instanceof Uint8Array && key.length === 32)
    )
  ) {
    throw new SesameOptionError(
      'secondFactors.factorKeys',
      'Option "secondFactors.factorKeys" must be a non-empty list of Buffers of exactly 32 bytes.',
    )
  }
  const limit = {
    max: 0,
    policy: 'evict-oldest',
    ...checkOptionObject('sessionLimit', options.sessionLimit, ['max', 'policy']),
  }
  return Object.freeze({
    max: checkWholeNumber('sessionLimit.max', limit.max, SESSION_LIMIT_RANGE),
    policy: checkOneOf('sessionLimit.policy', limit.policy, SESSION_LIMIT_POLICIES),
  })
}
