/**
 * The engine: core rules composed with one store, behind a framework-free API. Inputs are plain values and
 * header strings; outputs are results plus the cookies to set. The HTTP layer translates, nothing more.
 *
 * Security notes:
 * - A session id presented at sign-in is never adopted: sign-in always mints a new one and deletes the old
 *   (session fixation, OWASP).
 * - Unknown email and wrong password take the same path through a password verification and end in the same
 *   `invalid_credentials` error, so neither the answer nor its timing tells whether an account exists.
 */
import type { Clock } from './core/clock.js'
import { systemClock } from './core/clock.js'
import {
  type CookieDescription,
  type SessionCookieOptions,
  createBlankSessionCookie,
  createSessionCookie,
  readCookie,
  resolveSessionCookieOptions,
} from './core/cookie.js'
import { canonicalizeEmail, normalizeEmail } from './core/email.js'
import { AuthError } from './core/errors.js'
import { hashSecret } from './core/hash.js'
import { type PasswordHasher, createArgon2Hasher } from './core/password-hasher.js'
import { checkNewPassword, readPassword } from './core/password-policy.js'
import type { Principal } from './core/principal.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from './core/random.js'
import { type SessionPolicy, resolveSessionPolicy } from './core/session-policy.js'
import { checkSessionTimes, startSessionTimes } from './core/session-rules.js'
import { EMAIL_TAKEN, type SessionRecord, type Store, type UserRecord } from './store/types.js'

const MAX_USER_AGENT_LENGTH = 512

export interface AuthOptions {
  store: Store
  /** Default: argon2id at m=19456 KiB, t=2, p=1, 4 at a time. */
  passwordHasher?: PasswordHasher
  session?: Partial<SessionPolicy>
  cookie?: Partial<SessionCookieOptions>
  /** Default: the system clock. Tests pass their own to reach expiry edges exactly. */
  clock?: Clock
}

/** A user as shown to clients: no password hash. */
export interface PublicUser {
  id: string
  email: string
  roles: readonly string[]
  createdAt: number
}

/** Where a request came from, recorded on the session for device lists. */
export interface ClientContext {
  userAgent?: string | undefined
  ip?: string | undefined
}

/** A session that was just created, with the cookie that carries it. */
export interface SignInResult {
  user: PublicUser
  principal: Principal
  /** The `Set-Cookie` to send; the response must also be `Cache-Control: no-store`. */
  cookie: CookieDescription
}

/** A request that a valid session cookie authenticated. */
export interface SessionAuthentication {
  user: PublicUser
  principal: Principal
  /** Non-null when sliding renewal moved the expiry: send it so the browser keeps the cookie as long. */
  cookie: CookieDescription | null
}

export interface Auth {
  /** The resolved, frozen options, for logs and debugging. */
  readonly config: Readonly<{ session: Readonly<SessionPolicy>; cookie: Readonly<SessionCookieOptions> }>
  /** Registers an account. Throws `invalid_request` or `email_taken`. */
  signUp(input: { email: unknown; password: unknown }): Promise<PublicUser>
  /**
   * Checks credentials and starts a new cookie session. Throws `invalid_request` for a malformed request and
   * `invalid_credentials` for any wrong email/password pair.
   */
  signIn(
    input: { email: unknown; password: unknown; cookieHeader?: string | undefined } & ClientContext,
  ): Promise<SignInResult>
  /** Starts a session for a user already proven (e.g. right after sign-up). */
  createSession(user: PublicUser, context: ClientContext): Promise<SignInResult>
  /**
   * Authenticates a request by its `Cookie` header. Returns null when it carries no session cookie; throws
   * `invalid_cookie` (malformed or duplicated) or `invalid_session` (unknown, ended or expired).
   */
  authenticateSession(cookieHeader: string | undefined): Promise<SessionAuthentication | null>
  /** Ends the session in the `Cookie` header, if any, and returns the cookie that clears it. Idempotent. */
  signOut(cookieHeader: string | undefined): Promise<{ cookie: CookieDescription }>
  /** The cookie that clears the session cookie, for error responses that invalidate it. */
  blankSessionCookie(): CookieDescription
  /** Purges expired sessions; returns how many. Run periodically. */
  deleteExpiredSessions(): Promise<number>
}

/** Creates the engine. Options are checked here, once; bad ones throw `TypeError`. */
export function createAuth(options: AuthOptions): Auth {
  const { store } = options
  const clock = options.clock ?? systemClock
  const hasher = options.passwordHasher ?? createArgon2Hasher()
  const policy = resolveSessionPolicy(options.session)
  const cookieOptions = resolveSessionCookieOptions(options.cookie)
  const config = Object.freeze({ session: policy, cookie: cookieOptions })

  /** The session token in `cookieHeader`; null when absent; throws `invalid_cookie` when malformed. */
  function readSessionToken(cookieHeader: string | undefined): string | null {
    const lookup = readCookie(cookieHeader, cookieOptions.name)
    if (lookup.status === 'absent') return null
    if (lookup.status === 'duplicate') {
      throw new AuthError('invalid_cookie', `The "${cookieOptions.name}" cookie was sent more than once.`, {
        reason: 'duplicate_session_cookie',
      })
    }
    if (!isSecretTokenShape(lookup.value)) {
      throw new AuthError('invalid_cookie', `The "${cookieOptions.name}" cookie is malformed.`, {
        reason: 'malformed_session_cookie',
      })
    }
    return lookup.value
  }

  /** Like readSessionToken, but a malformed cookie counts as none: for flows that replace or end it anyway. */
  function readSessionTokenLeniently(cookieHeader: string | undefined): string | null {
    try {
      return readSessionToken(cookieHeader)
    } catch {
      return null
    }
  }

  async function createSession(user: PublicUser, context: ClientContext): Promise<SignInResult> {
    const token = generateSecretToken()
    const times = startSessionTimes(clock.nowSeconds(), policy)
    const session: SessionRecord = {
      id: generatePublicId(),
      tokenHash: hashSecret(token),
      userId: user.id,
      ...times,
      userAgent: context.userAgent ? context.userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      ip: context.ip ?? null,
    }
    await store.createSession(session)
    return {
      user,
      principal: toPrincipal(session, user),
      cookie: createSessionCookie(cookieOptions, token, session.expiresAt - times.createdAt),
    }
  }

  return {
    config,

    async signUp(input) {
      const email = normalizeEmail(input.email)
      const password = checkNewPassword(input.password)
      const user: UserRecord = {
        id: generatePublicId(),
        email,
        passwordHash: await hasher.hash(password),
        roles: [],
        createdAt: clock.nowSeconds(),
        disabledAt: null,
      }
      const created = await store.createUser(user)
      if (created === EMAIL_TAKEN) {
        throw new AuthError('email_taken', 'An account with this email already exists.')
      }
      return toPublicUser(created)
    },

    async signIn(input) {
      if (typeof input.email !== 'string') {
        throw new AuthError('invalid_request', 'The "email" field must be a string.')
      }
      const password = readPassword(input.password)
      // No format check here: an address that could never have signed up simply finds no account.
      const user = await store.findUserByEmail(canonicalizeEmail(input.email))
      const valid = user
        ? await hasher.verify(user.passwordHash, password)
        : await hasher.verifyDummy(password)
      if (!user || !valid || user.disabledAt !== null) {
        throw new AuthError('invalid_credentials', 'The email or password is incorrect.', {
          reason: !user ? 'unknown_email' : !valid ? 'wrong_password' : 'user_disabled',
        })
      }
      if (hasher.needsRehash(user.passwordHash)) {
        await store.updatePasswordHash(user.id, await hasher.hash(password))
      }
      // Never adopt a presented session id; end it, since this browser is getting a new one.
      const previous = readSessionTokenLeniently(input.cookieHeader)
      if (previous) await store.deleteSessionByTokenHash(hashSecret(previous))
      return createSession(toPublicUser(user), input)
    },

    createSession,

    async authenticateSession(cookieHeader) {
      const token = readSessionToken(cookieHeader)
      if (token === null) return null
      const tokenHash = hashSecret(token)
      const session = await store.findSessionByTokenHash(tokenHash)
      if (!session)
        throw new AuthError('invalid_session', 'The session has ended.', { reason: 'unknown_session' })
      const now = clock.nowSeconds()
      const check = checkSessionTimes(session, now, policy)
      if (check.status === 'expired') {
        await store.deleteSessionByTokenHash(tokenHash)
        throw new AuthError('invalid_session', 'The session has expired.', { reason: check.reason })
      }
      const user = await store.findUserById(session.userId)
      if (!user || user.disabledAt !== null) {
        await store.deleteSessionByTokenHash(tokenHash)
        throw new AuthError('invalid_session', 'The session has ended.', { reason: 'user_unavailable' })
      }
      let cookie: CookieDescription | null = null
      if (check.renewal) {
        const renewed = await store.touchSession(tokenHash, check.renewal.lastSeenAt, check.renewal.expiresAt)
        if (!renewed)
          throw new AuthError('invalid_session', 'The session has ended.', { reason: 'ended_concurrently' })
        Object.assign(session, check.renewal)
        cookie = createSessionCookie(cookieOptions, token, session.expiresAt - now)
      }
      const publicUser = toPublicUser(user)
      return { user: publicUser, principal: toPrincipal(session, publicUser), cookie }
    },

    async signOut(cookieHeader) {
      const token = readSessionTokenLeniently(cookieHeader)
      if (token) await store.deleteSessionByTokenHash(hashSecret(token))
      return { cookie: createBlankSessionCookie(cookieOptions) }
    },

    blankSessionCookie: () => createBlankSessionCookie(cookieOptions),

    deleteExpiredSessions: () => store.deleteExpiredSessions(clock.nowSeconds()),
  }
}

function toPublicUser(user: UserRecord): PublicUser {
  return { id: user.id, email: user.email, roles: user.roles, createdAt: user.createdAt }
}

function toPrincipal(session: SessionRecord, user: PublicUser): Principal {
  return {
    userId: user.id,
    sessionId: session.id,
    roles: user.roles,
    method: 'cookie',
    issuedAt: session.createdAt,
    expiresAt: session.expiresAt,
  }
}
