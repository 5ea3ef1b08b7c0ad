/**
 * Accounts through external providers: a validated provider profile (see `social/`) signs its user in, creates
 * an account, or is refused, by the linking rule of `core/federation.ts`; signed-in users link and unlink
 * providers. Sessions started here are ordinary cookie sessions: the same expiry, device list, session limit
 * and revocation as a password sign-in.
 */
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { type ProviderProfile, decideSignIn } from '../core/federation.js'
import { generatePublicId } from '../core/random.js'
import { FEDERATED } from '../core/sign-in-methods.js'
import {
  EMAIL_TAKEN,
  type FederatedIdentityRecord,
  IDENTITY_TAKEN,
  LAST_SIGN_IN_METHOD,
  PROVIDER_LINKED,
  type Store,
  type UserRecord,
} from '../store/types.js'
import type { CookieSessions } from './cookie-sessions.js'
import type { SignInOutcome } from './second-factor-sign-in.js'
import type { Throttle } from './throttle.js'
import { type ClientContext, type SignInResult, toPublicUser } from './types.js'

/** An identity as the account page and `GET /auth/identities` show it. */
export interface LinkedIdentity {
  provider: string
  /** The email the provider gave when it was linked; null if none. */
  email: string | null
  linkedAt: number
}

export interface Federation {
  /**
   * Finishes a sign-in through a provider: signs in the linked user, or creates an account (throttled like
   * sign-ups), ending the session the browser had; for an account with a second factor, a pending sign-in. Throws `email_exists_unlinked`, `social_email_missing`,
   * `invalid_credentials` (the linked account is disabled), `rate_limited` or `session_limit_reached`.
   */
  signIn(
    profile: ProviderProfile,
    input: { cookieHeader?: string | undefined } & ClientContext,
  ): Promise<SignInOutcome<SignInResult> & { created: boolean }>
  /**
   * Links a provider account to the user of a cookie session, which must still be live (the link was asked
   * for minutes ago, before the trip to the provider), of an account whose email is verified. Throws
   * `invalid_session`, `email_not_verified`, `identity_taken` or `provider_already_linked`.
   */
  link(owner: { userId: string; sessionId: string }, profile: ProviderProfile): Promise<void>
  /** Unlinks `userId`'s identity at `provider`. Throws `not_found` or `last_sign_in_method`. */
  unlink(userId: string, provider: string): Promise<void>
  /** `userId`'s linked identities, oldest first. */
  identities(userId: string): Promise<LinkedIdentity[]>
}

export interface FederationOptions {
  store: Store
  clock: Clock
  sessions: Pick<CookieSessions, 'startSignIn'>
  throttle: Pick<Throttle, 'checkSignUp'>
  /** Refuses a user that may not sign in yet (an unverified email, when that is required); throws. */
  admit: (user: UserRecord, context: { ip?: string | undefined }) => void
}

export function createFederation({ store, clock, sessions, throttle, admit }: FederationOptions): Federation {
  function identityOf(profile: ProviderProfile, userId: string): FederatedIdentityRecord {
    return {
      provider: profile.provider,
      subject: profile.subject,
      userId,
      email: profile.email,
      createdAt: clock.nowSeconds(),
    }
  }

  /** Creates the account of a first sign-in through a provider; it has no password until its owner sets one. */
  async function createAccount(profile: ProviderProfile & { email: string }, ip: string | undefined) {
    await throttle.checkSignUp(ip)
    const now = clock.nowSeconds()
    const user: UserRecord = {
      id: generatePublicId(),
      email: profile.email,
      passwordHash: null,
      roles: [],
      createdAt: now,
      disabledAt: null,
      emailVerifiedAt: profile.emailVerified ? now : null,
    }
    const created = await store.createUserWithIdentity(user, identityOf(profile, user.id))
    // Lost races with a concurrent sign-up of the same email or the same identity: decide again from scratch.
    if (created === EMAIL_TAKEN || created === IDENTITY_TAKEN) return null
    return created
  }

  async function userToSignIn(
    profile: ProviderProfile,
    ip: string | undefined,
  ): Promise<{ user: UserRecord; created: boolean }> {
    // Two rounds at most: a second sees whatever a concurrent first sign-in of the same person stored.
    for (let round = 0; round < 2; round++) {
      const identity = await store.findIdentity(profile.provider, profile.subject)
      const linkedUser = identity && (await store.findUserById(identity.userId))
      const emailUser = profile.email === null ? null : await store.findUserByEmail(profile.email)
      const decision = decideSignIn({
        profile,
        linkedUserId: linkedUser?.id ?? null,
        emailAccount: emailUser && {
          id: emailUser.id,
          emailVerified: emailUser.emailVerifiedAt !== null,
          sameEmail: emailUser.email === profile.email,
        },
      })
      switch (decision.action) {
        case 'sign-in':
          return { user: linkedUser!, created: false }
        case 'link-and-sign-in': {
          const linked = await store.linkIdentity(identityOf(profile, decision.userId))
          if (linked === true) return { user: emailUser!, created: false }
          break // linked concurrently (to them or to someone else): decide again
        }
        case 'create': {
          const created = await createAccount({ ...profile, email: profile.email! }, ip)
          if (created) return { user: created, created: true }
          break
        }
        case 'refuse':
          throw decision.code === 'email_exists_unlinked'
            ? new AuthError(
                'email_exists_unlinked',
                'An account with this email already exists. Log in with your password, then link this provider from your account page.',
              )
            : new AuthError(
                'social_email_missing',
                'The provider did not share an email address, which a new account needs.',
              )
      }
    }
    throw new AuthError('social_sign_in_failed', 'The sign-in changed while it was being completed.', {
      reason: 'concurrent_change',
    })
  }

  return {
    async signIn(profile, input) {
      const { user, created } = await userToSignIn(profile, input.ip)
      if (user.disabledAt !== null) {
        throw new AuthError('invalid_credentials', 'This account is disabled.', { reason: 'user_disabled' })
      }
      admit(user, input)
      // A provider is a first factor like a password: an account with a second factor asks for it here too.
      const result = await sessions.startSignIn(toPublicUser(user), input, FEDERATED)
      return { ...result, created }
    },

    async link({ userId, sessionId }, profile) {
      const now = clock.nowSeconds()
      const sessions = await store.listUserSessions(userId)
      if (!sessions.some((session) => session.id === sessionId && session.expiresAt > now)) {
        throw new AuthError('invalid_session', 'The session that asked to link has ended; sign in again.')
      }
      // Whoever signed up with someone else's address must not tie a provider account of theirs to it: that
      // identity would outlive the owner's password reset (account pre-hijacking).
      const user = await store.findUserById(userId)
      if (!user || user.emailVerifiedAt === null) {
        throw new AuthError('email_not_verified', 'Confirm your email address before linking a provider.', {
          reason: 'link_unverified',
        })
      }
      const linked = await store.linkIdentity(identityOf(profile, userId))
      if (linked === IDENTITY_TAKEN) {
        const current = await store.findIdentity(profile.provider, profile.subject)
        // Linking what is linked to this very account already is a no-op, not an error.
        if (current?.userId === userId) return
        throw new AuthError('identity_taken', 'This provider account is already linked to another account.')
      }
      if (linked === PROVIDER_LINKED) {
        throw new AuthError(
          'provider_already_linked',
          'Your account is already linked to an account at this provider; unlink it first.',
        )
      }
      if (linked === false) throw new AuthError('invalid_session', 'The account no longer exists.')
    },

    async unlink(userId, provider) {
      const unlinked = await store.unlinkIdentity(userId, provider)
      if (unlinked === LAST_SIGN_IN_METHOD) {
        throw new AuthError(
          'last_sign_in_method',
          'This is your only way to sign in: set a password or link another provider first.',
        )
      }
      if (!unlinked) throw new AuthError('not_found', 'Your account is not linked to this provider.')
    },

    async identities(userId) {
      const identities = await store.listUserIdentities(userId)
      return identities.map(({ provider, email, createdAt }) => ({ provider, email, linkedAt: createdAt }))
    },
  }
}
