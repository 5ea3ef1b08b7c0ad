/**
 * Cookie sessions: start one (never adopting a presented id: session fixation), authenticate a request by its
 * `Cookie` header with idle/absolute expiry and throttled sliding renewal, end one, purge expired ones.
 */
import type { Clock } from '../core/clock.js'
import {
  type CookieDescription,
  type SessionCookieOptions,
  createBlankSessionCookie,
  createSessionCookie,
  readCookie,
} from '../core/cookie.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import type { Principal } from '../core/principal.js'
import { generatePublicId, generateSecretToken, isSecretTokenShape } from '../core/random.js'
import type { SessionPolicy } from '../core/session-policy.js'
import { checkSessionTimes, startSessionTimes } from '../core/session-rules.js'
import { PASSWORD_ONLY, checkMethodList, sharedMethodList } from '../core/sign-in-methods.js'
import type { SessionRecord, Store } from '../store/types.js'
import type { CredentialChecker } from './credentials.js'
import type { SecondFactorProof, SecondFactorSignIn, SignInOutcome } from './second-factor-sign-in.js'
import type { CachedSession, SessionCache } from './session-cache.js'
import type { DeviceLimitGate } from './types.js'
import {
  type ClientContext,
  type PublicUser,
  type SessionAuthentication,
  type SignInResult,
  storedUserAgent,
  toPublicUser,
} from './types.js'

export interface CookieSessions {
  /**
   * Checks a password and starts a session, ending the one the browser had; or, for an account with a second
   * factor, starts a pending sign-in instead (finished by {@link CookieSessions.completeSignIn}).
   */
  signIn(
    input: { email: unknown; password: unknown; cookieHeader?: string | undefined } & ClientContext,
  ): Promise<SignInOutcome<SignInResult>>
  /**
   * Finishes a pending sign-in with its second factor: the session starts (the browser's previous one ends)
   * and `pendingCookie` clears the pending one; `onUser` learns whose sign-in it is once that is known. Throws
   * `invalid_second_factor`, `invalid_credentials` (disabled meanwhile), `rate_limited`,
   * `session_limit_reached` (the pending sign-in is used by then: the person starts again).
   */
  completeSignIn(
    input: { proof: SecondFactorProof; cookieHeader?: string | undefined } & ClientContext,
    onUser?: (userId: string) => void,
  ): Promise<SignInResult & { pendingCookie: CookieDescription }>
  /**
   * After a first factor (`amr`) proven outside this module (a sign-in provider): a session like
   * {@link CookieSessions.replaceSession}, or the pending sign-in when the account has a second factor.
   */
  startSignIn(
    user: PublicUser,
    input: { cookieHeader?: string | undefined } & ClientContext,
    amr: readonly string[],
  ): Promise<SignInOutcome<SignInResult>>
  /**
   * Starts a session for `user`, who signed in with `amr` (`core/sign-in-methods.ts`). Without `amr`, none is
   * recorded: an application that proved the user itself should say how, or step-up checks count the session
   * as the weakest. It asks for no second factor: an application's own first factor (a magic link, say)
   * goes through {@link CookieSessions.startSignIn}, which does.
   */
  createSession(user: PublicUser, context: ClientContext, amr?: readonly string[]): Promise<SignInResult>
  /**
   * Starts a session for a user already proven some other way (`amr`: a sign-in provider, a second factor),
   * ending the one the browser had, exactly as {@link CookieSessions.signIn} does after checking a password.
   */
  replaceSession(
    user: PublicUser,
    input: { cookieHeader?: string | undefined } & ClientContext,
    amr?: readonly string[],
  ): Promise<SignInResult>
  authenticateSession(cookieHeader: string | undefined): Promise<SessionAuthentication | null>
  /**
   * Ends the cookie's session, if any; `userId` is whose it was (null when there was none). `context` (where
   * the request came from) is for the audit event.
   */
  signOut(
    cookieHeader: string | undefined,
    context?: ClientContext,
  ): Promise<{ cookie: CookieDescription; userId: string | null }>
  blankSessionCookie(): CookieDescription
  deleteExpiredSessions(): Promise<number>
}

export interface CookieSessionOptions {
  store: Store
  clock: Clock
  policy: Readonly<SessionPolicy>
  cookie: Readonly<SessionCookieOptions>
  checkCredentials: CredentialChecker
  /** The per-user session limit, checked by the store as it creates the session. */
  limit?: DeviceLimitGate
  /** Active sessions held in this instance (`session-cache.ts`). */
  cache?: SessionCache
  /** The second step for accounts with a second factor; without it, every sign-in is one step. */
  secondFactor?: SecondFactorSignIn
}

export function createCookieSessions(options: CookieSessionOptions): CookieSessions {
  const { store, clock, policy, cookie: cookieOptions, checkCredentials, cache } = options

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

  /**
   * Deletes a session and drops it from this instance's cache, done or failed (a timed-out delete may have
   * run); other instances drop it when the store's notice reaches them.
   */
  async function endSession(tokenHash: string): Promise<void> {
    try {
      await store.deleteSessionByTokenHash(tokenHash)
    } finally {
      cache?.forgetSession(tokenHash)
    }
  }

  async function createSession(
    user: PublicUser,
    context: ClientContext,
    amr: readonly string[] = NO_METHODS,
  ): Promise<SignInResult> {
    checkMethodList(amr)
    const token = generateSecretToken(store.secretRoute?.(user.id) ?? null)
    const now = clock.nowSeconds()
    const times = startSessionTimes(now, policy)
    const session: SessionRecord = {
      id: generatePublicId(),
      tokenHash: hashSecret(token),
      userId: user.id,
      ...times,
      userAgent: storedUserAgent(context.userAgent),
      ip: context.ip ?? null,
      amr,
    }
    const created = await store.createSession(session, options.limit?.at(now))
    await options.limit?.settle(user.id, created)
    return {
      user,
      principal: toPrincipal(session, user),
      cookie: createSessionCookie(cookieOptions, token, session.expiresAt - times.createdAt),
    }
  }

  async function replaceSession(
    user: PublicUser,
    input: { cookieHeader?: string | undefined } & ClientContext,
    amr: readonly string[] = NO_METHODS,
  ): Promise<SignInResult> {
    // Never adopt a presented session id; end it, since this browser is getting a new one.
    const previous = readSessionTokenLeniently(input.cookieHeader)
    if (previous) await endSession(hashSecret(previous))
    return createSession(user, { userAgent: input.userAgent, ip: input.ip }, amr)
  }

  async function startSignIn(
    user: PublicUser,
    input: { cookieHeader?: string | undefined } & ClientContext,
    amr: readonly string[],
  ): Promise<SignInOutcome<SignInResult>> {
    const pending = await options.secondFactor?.challenge(user.id, amr)
    return pending ?? replaceSession(user, input, amr)
  }

  return {
    async signIn(input) {
      const user = await checkCredentials(input.email, input.password, input.ip)
      return startSignIn(toPublicUser(user), input, PASSWORD_ONLY)
    },

    async completeSignIn(input, onUser) {
      const steps = options.secondFactor
      if (!steps) {
        throw new AuthError('invalid_second_factor', 'The sign-in has expired; sign in again.', {
          reason: 'no_pending_sign_in',
        })
      }
      const { user, amr } = await steps.prove(input.cookieHeader, input.proof, onUser)
      const result = await replaceSession(toPublicUser(user), input, amr)
      return { ...result, pendingCookie: steps.clearedCookie() }
    },

    startSignIn,
    createSession,
    replaceSession,

    async authenticateSession(cookieHeader) {
      const token = readSessionToken(cookieHeader)
      if (token === null) return null
      const tokenHash = hashSecret(token)
      const cached = cache?.get(tokenHash)
      if (cached) {
        // Served only while active with no renewal due: anything else is decided on the store's record, which
        // another instance may have renewed.
        const check = checkSessionTimes(cached.session, clock.nowSeconds(), policy)
        if (check.status === 'active' && check.renewal === null) {
          return { user: cached.user, principal: toPrincipal(cached.session, cached.user), cookie: null }
        }
      }
      const ticket = cache?.ticket() ?? -1
      const found = await store.findSessionWithUser(tokenHash)
      if (!found) {
        throw new AuthError('invalid_session', 'The session has ended.', { reason: 'unknown_session' })
      }
      const { session, user } = found
      const now = clock.nowSeconds()
      const check = checkSessionTimes(session, now, policy)
      if (check.status === 'expired') {
        await endSession(tokenHash)
        throw new AuthError('invalid_session', 'The session has expired.', { reason: check.reason })
      }
      if (!user || user.disabledAt !== null) {
        await endSession(tokenHash)
        throw new AuthError('invalid_session', 'The session has ended.', { reason: 'user_unavailable' })
      }
      let cookie: CookieDescription | null = null
      if (check.renewal) {
        const renewed = await store.touchSession(tokenHash, check.renewal.lastSeenAt, check.renewal.expiresAt)
        if (!renewed) {
          throw new AuthError('invalid_session', 'The session has ended.', { reason: 'ended_concurrently' })
        }
        Object.assign(session, check.renewal)
        cookie = createSessionCookie(cookieOptions, token, session.expiresAt - now)
      }
      const publicUser = toPublicUser(user)
      cache?.fill(ticket, tokenHash, freeze(session, publicUser))
      return { user: publicUser, principal: toPrincipal(session, publicUser), cookie }
    },

    async signOut(cookieHeader) {
      const token = readSessionTokenLeniently(cookieHeader)
      let userId: string | null = null
      if (token) {
        const tokenHash = hashSecret(token)
        // Read first only to say whose session ended (the audit event; a sign-out is rare). A failed read
        // leaves the event without its user: the sign-out itself goes on.
        userId = await store.findSessionWithUser(tokenHash).then(
          (found) => found?.session.userId ?? null,
          () => null,
        )
        await endSession(tokenHash)
      }
      return { cookie: createBlankSessionCookie(cookieOptions), userId }
    },

    blankSessionCookie: () => createBlankSessionCookie(cookieOptions),

    deleteExpiredSessions: () => store.deleteExpiredSessions(clock.nowSeconds()),
  }
}

const NO_METHODS: readonly string[] = Object.freeze([])

/** A cache entry: its own frozen copies, since every request it serves shares it. */
function freeze(session: SessionRecord, user: PublicUser): CachedSession {
  const { id, userId, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt } = session
  // The methods' array is shared between entries (sharedMethodList): one pointer per entry.
  const amr = sharedMethodList(session.amr)
  return Object.freeze({
    session: Object.freeze({ id, userId, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, amr }),
    user: Object.freeze({ ...user, roles: Object.freeze([...user.roles]) }),
  })
}

function toPrincipal(session: CachedSession['session'], user: PublicUser): Principal {
  return {
    userId: user.id,
    sessionId: session.id,
    roles: user.roles,
    method: 'cookie',
    amr: session.amr,
    issuedAt: session.createdAt,
    expiresAt: session.expiresAt,
  }
}
