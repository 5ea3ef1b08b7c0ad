/**
 * The account lifecycle around the first sign-in: proving an email, resetting a forgotten password, moving to
 * a new email, deleting the account. Each proof travels as a link in a mail (`Mailer`): a one-time token under
 * the rules of `core/account-policy.ts`, stored only as its hash.
 *
 * Two disciplines hold throughout:
 * - Nothing is stored until the mail is out. A mail that fails changes no account state: the previous link
 *   (if any) keeps working, and the caller is told to try again (`mail_unavailable`).
 * - A password-reset request answers the same, in the same time, whether or not the address has an account:
 *   everything that depends on the account happens after the answer, in the background (`MailQueue`).
 */
import type { AccountPolicy } from '../core/account-policy.js'
import type { Clock } from '../core/clock.js'
import { canonicalizeEmail, normalizeEmail } from '../core/email.js'
import { AuthError, isAuthError } from '../core/errors.js'
import { Semaphore } from '../core/semaphore.js'
import { hashSecret } from '../core/hash.js'
import type { PasswordHasher } from '../core/password-hasher.js'
import { checkNewPassword } from '../core/password-policy.js'
import type { Principal } from '../core/principal.js'
import { generateSecretToken, isSecretTokenShape } from '../core/random.js'
import {
  EMAIL_TAKEN,
  type OneTimeTokenPurpose,
  type OneTimeTokenRecord,
  type Store,
  type UserRecord,
} from '../store/types.js'
import type { CredentialChecker } from './credentials.js'
import type { Devices } from './devices.js'
import type { AuthEventFields, EventReporter } from './events.js'
import type { Throttle } from './throttle.js'
import { type PublicUser, toPublicUser } from './types.js'

/** A mail to send: what it is for, to whom, in which language, and the link it carries. */
export interface MailRequest {
  kind: 'verify-email' | 'reset-password' | 'change-email-confirm' | 'change-email-notice'
  to: string
  /** A language tag the mail's texts exist in (`en`, `ko`); the mailer falls back to its default. */
  language: string | undefined
  /** The link to open; null for a notice, which carries none. */
  link: string | null
  /** For the change notice sent to the old address: the address asked for. */
  newEmail?: string
}

/** Sends mail; resolves once the mail server accepted it, throws otherwise. */
export interface Mailer {
  send(mail: MailRequest): Promise<void>
}

/** What a request tells the engine about its client. */
export interface RequestContext {
  ip?: string | undefined
  userAgent?: string | undefined
  language?: string | undefined
}

export interface Accounts {
  /**
   * Mails the signed-in user a new verification link (unless already verified: then nothing). Throws
   * `rate_limited` or `mail_unavailable`.
   */
  requestEmailVerification(principal: Principal, context: RequestContext): Promise<{ sent: boolean }>
  /** Marks the email of the link verified. Throws `invalid_link` or `rate_limited`. */
  confirmEmailVerification(token: unknown, context: RequestContext): Promise<PublicUser>
  /**
   * Accepts a reset request for `email`: the same answer whether or not it has an account, the mail sent in
   * the background. Throws only `invalid_request` (not a string) or `rate_limited` (the same for every address).
   */
  requestPasswordReset(email: unknown, context: RequestContext): Promise<void>
  /**
   * Sets a new password from a reset link, ends every session, refresh family and access token of the user,
   * and marks the email verified (the mail proved it). Throws `invalid_link`, `invalid_request` (a weak
   * password) or `rate_limited`.
   */
  confirmPasswordReset(token: unknown, newPassword: unknown, context: RequestContext): Promise<void>
  /**
   * Mails a confirmation link to `newEmail` and a notice to the current address; the email changes only on
   * confirmation. Needs the current password when the account has one. Throws `invalid_request`,
   * `invalid_credentials`, `email_taken`, `rate_limited` or `mail_unavailable`.
   */
  requestEmailChange(
    principal: Principal,
    input: { newEmail: unknown; currentPassword: unknown },
    context: RequestContext,
  ): Promise<void>
  /** Moves the account to the address of the link, verified. Throws `invalid_link` or `email_taken`. */
  confirmEmailChange(token: unknown, context: RequestContext): Promise<PublicUser>
  /**
   * Deletes the caller's account: ends every device and access token, then the user with its identities and
   * links. Needs the current password when the account has one. Throws `invalid_credentials` or `rate_limited`.
   */
  deleteAccount(
    principal: Principal,
    input: { currentPassword: unknown },
    context: RequestContext,
  ): Promise<void>
  /**
   * Mails a new verification link in the background (after sign-up, or a sign-in refused until the email is
   * verified), within the mail limits; failures go to `onBackgroundError`.
   */
  queueEmailVerification(user: Pick<PublicUser, 'id' | 'email'>, context: RequestContext): void
  /** Resolves once every queued mail is settled (for tests and orderly shutdown). */
  drain(): Promise<void>
}

export interface AccountsOptions {
  store: Store
  clock: Clock
  policy: Readonly<AccountPolicy>
  mailer: Mailer
  /** The origin (and path prefix) links point to: `{linkBase}/verify-email?token=…`. */
  linkBase: string
  hasher: PasswordHasher
  checkCredentials: CredentialChecker
  devices: Pick<Devices, 'endAllForUser'>
  throttle: Pick<Throttle, 'checkMail' | 'checkLinkAddress' | 'recordLinkFailure'>
  /** Told about mails sent in the background that failed. */
  onBackgroundError: (error: unknown) => void
  /** Told of password resets, email changes and account deletions. */
  events: EventReporter
  /** Refuses (`step_up_required`) a sensitive change the principal's sign-in is not strong or recent enough for. */
  stepUp: (principal: Principal, user: UserRecord) => Promise<void>
}

/** A mail the caller waits for is given this long; then the request fails, and nothing is stored. */
const MAIL_TIMEOUT_MS = 10_000
/** Background mails waiting at most; past it, a mail is refused (and logged), never queued without bound. */
const MAX_QUEUED_MAILS = 1000

const PAGE_OF: Record<OneTimeTokenPurpose, string> = {
  'verify-email': '/verify-email',
  'reset-password': '/reset-password',
  'change-email': '/confirm-email',
}

function clientFields(context: RequestContext): AuthEventFields {
  return { ip: context.ip, userAgent: context.userAgent }
}

export function createAccounts(options: AccountsOptions): Accounts {
  const { store, clock, policy, mailer, throttle, events } = options
  const queue = createMailQueue(options.onBackgroundError)
  const base = options.linkBase.replace(/\/+$/, '')

  const lifetimeOf: Record<OneTimeTokenPurpose, number> = {
    'verify-email': policy.verifyEmailSeconds,
    'reset-password': policy.resetPasswordSeconds,
    'change-email': policy.changeEmailSeconds,
  }

  /** A fresh token for `user` and the record to store once its mail is out. */
  function newToken(purpose: OneTimeTokenPurpose, userId: string, email: string) {
    const token = generateSecretToken(store.secretRoute?.(userId) ?? null)
    const now = clock.nowSeconds()
    const record: OneTimeTokenRecord = {
      tokenHash: hashSecret(token),
      userId,
      purpose,
      createdAt: now,
      expiresAt: now + lifetimeOf[purpose],
      email,
    }
    return { link: `${base}${PAGE_OF[purpose]}?token=${token}`, record }
  }

  async function sendWithin(mail: MailRequest): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the mail server did not answer in time')), MAIL_TIMEOUT_MS)
    })
    try {
      await Promise.race([mailer.send(mail), timeout])
    } catch (error) {
      throw new AuthError('mail_unavailable', 'We could not send the mail; please try again.', {
        cause: error,
      })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Mails a verification link to the user's current address, then stores the token. */
  async function sendVerification(user: Pick<UserRecord, 'id' | 'email'>, language: string | undefined) {
    const { link, record } = newToken('verify-email', user.id, user.email)
    await sendWithin({ kind: 'verify-email', to: user.email, language, link })
    await store.putOneTimeToken(record)
  }

  /** Takes a link's token, or throws the one answer for every bad link (counted against the address). */
  async function takeLink(purpose: OneTimeTokenPurpose, token: unknown, context: RequestContext) {
    await throttle.checkLinkAddress(context.ip)
    return takeChecked(purpose, token, context)
  }

  async function takeChecked(purpose: OneTimeTokenPurpose, token: unknown, context: RequestContext) {
    const taken =
      typeof token === 'string' && isSecretTokenShape(token)
        ? await store.takeOneTimeToken(purpose, hashSecret(token), clock.nowSeconds())
        : null
    if (!taken) throw await refuseLink(context)
    return taken
  }

  async function refuseLink(context: RequestContext): Promise<AuthError> {
    await throttle.recordLinkFailure(context.ip)
    return new AuthError('invalid_link', 'This link is invalid or has expired. Ask for a new one.')
  }

  async function signedInUser(principal: Principal): Promise<UserRecord> {
    const user = await store.findUserById(principal.userId)
    if (!user || user.disabledAt !== null) {
      throw new AuthError('invalid_session', 'The session has ended.', { reason: 'user_unavailable' })
    }
    return user
  }

  /** The current password, when the account has one (an account made through a provider may not). */
  async function checkCurrentPassword(user: UserRecord, currentPassword: unknown, ip: string | undefined) {
    if (user.passwordHash === null) return
    if (currentPassword === undefined) {
      throw new AuthError('invalid_request', 'The "current_password" field is required.')
    }
    await options.checkCredentials(user.email, currentPassword, ip)
  }

  /** The background part of a reset request: everything that depends on whether the account exists. */
  async function sendReset(email: string, language: string | undefined): Promise<void> {
    const user = await store.findUserByEmail(email)
    if (!user || user.disabledAt !== null) return
    const { link, record } = newToken('reset-password', user.id, user.email)
    await mailer.send({ kind: 'reset-password', to: user.email, language, link })
    await store.putOneTimeToken(record)
  }

  return {
    async requestEmailVerification(principal, context) {
      const user = await signedInUser(principal)
      if (user.emailVerifiedAt !== null) return { sent: false }
      await throttle.checkMail(user.email, context.ip)
      await sendVerification(user, context.language)
      return { sent: true }
    },

    async confirmEmailVerification(token, context) {
      const taken = await takeLink('verify-email', token, context)
      // A link mailed before an email change proves the old address only.
      if (!(await store.setEmailVerified(taken.userId, taken.email, clock.nowSeconds()))) {
        throw await refuseLink(context)
      }
      const user = await store.findUserById(taken.userId)
      if (!user) throw await refuseLink(context)
      return toPublicUser(user)
    },

    async requestPasswordReset(email, context) {
      if (typeof email !== 'string')
        throw new AuthError('invalid_request', 'The "email" field must be a string.')
      const canonical = canonicalizeEmail(email)
      // Counted per address typed, account or not: the limit answers the same for both.
      await throttle.checkMail(canonical, context.ip)
      queue.add(() => sendReset(canonical, context.language))
    },

    confirmPasswordReset: (token, newPassword, context) =>
      events.observe('password_reset', clientFields(context), async (seen) => {
        await throttle.checkLinkAddress(context.ip)
        // Looked at first, without taking it, so a weak new password leaves the link usable.
        const peeked =
          typeof token === 'string' && isSecretTokenShape(token)
            ? await store.findOneTimeToken('reset-password', hashSecret(token), clock.nowSeconds())
            : null
        if (!peeked) throw await refuseLink(context)
        const password = checkNewPassword(newPassword, { email: peeked.email })
        const passwordHash = await options.hasher.hash(password)
        const taken = await takeChecked('reset-password', token, context)
        seen.userId = taken.userId
        const user = await store.findUserById(taken.userId)
        // A link mailed before an email change speaks for the old address only.
        if (!user || user.email !== taken.email) throw await refuseLink(context)
        // Devices end before the password changes (see `changePassword` in auth.ts): a failure in between leaves
        // everyone signed out and the old password, never the new password with an intruder still signed in.
        await options.devices.endAllForUser(user.id)
        if (!(await store.updatePasswordHash(user.id, passwordHash))) throw await refuseLink(context)
        // Again: a sign-in whose old-password check was still running in between would otherwise survive.
        await options.devices.endAllForUser(user.id)
        if (user.emailVerifiedAt === null) {
          // Nobody had proven the address until now: providers linked before were linked by whoever held the
          // account then, maybe someone who signed up with the owner's address (account pre-hijacking).
          for (const identity of await store.listUserIdentities(user.id)) {
            await store.unlinkIdentity(user.id, identity.provider)
          }
        }
        await store.setEmailVerified(user.id, taken.email, clock.nowSeconds())
      }),

    async requestEmailChange(principal, input, context) {
      const user = await signedInUser(principal)
      await options.stepUp(principal, user)
      await checkCurrentPassword(user, input.currentPassword, context.ip)
      const newEmail = normalizeEmail(input.newEmail)
      if (newEmail === user.email) {
        throw new AuthError('invalid_request', 'The new email is the one the account already has.')
      }
      // Counted against the account asking, before the answer can say whether an address is taken.
      await throttle.checkMail(user.email, context.ip)
      const holder = await store.findUserByEmail(newEmail)
      if (holder && holder.id !== user.id) {
        throw new AuthError('email_taken', 'An account with this email already exists.')
      }
      const { link, record } = newToken('change-email', user.id, newEmail)
      await sendWithin({ kind: 'change-email-confirm', to: newEmail, language: context.language, link })
      await store.putOneTimeToken(record)
      // The old address hears of it, so a hijacked session cannot move the account away silently.
      queue.add(() =>
        mailer.send({
          kind: 'change-email-notice',
          to: user.email,
          language: context.language,
          link: null,
          newEmail,
        }),
      )
    },

    confirmEmailChange: (token, context) =>
      events.observe('email_change', clientFields(context), async (seen) => {
        const taken = await takeLink('change-email', token, context)
        seen.userId = taken.userId
        const changed = await store.changeUserEmail(taken.userId, taken.email, clock.nowSeconds())
        if (changed === EMAIL_TAKEN) {
          throw new AuthError('email_taken', 'An account with this email already exists.')
        }
        const user = changed ? await store.findUserById(taken.userId) : null
        if (!user) throw await refuseLink(context)
        return toPublicUser(user)
      }),

    deleteAccount: (principal, input, context) =>
      events.observe('account_delete', { ...clientFields(context), userId: principal.userId }, async () => {
        const user = await signedInUser(principal)
        await options.stepUp(principal, user)
        await checkCurrentPassword(user, input.currentPassword, context.ip)
        // Devices first (possibly another store, with the change feed): a failure in between leaves the account
        // signed out everywhere but present, and the same request retried deletes it.
        await options.devices.endAllForUser(user.id)
        await store.deleteUser(user.id)
      }),

    queueEmailVerification(user, context) {
      queue.add(async () => {
        await throttle.checkMail(user.email, context.ip)
        await sendVerification(user, context.language)
      })
    },

    drain: () => queue.drain(),
  }
}

interface MailQueue {
  add(job: () => Promise<void>): void
  drain(): Promise<void>
}

/**
 * Mails sent after the answer: one at a time (a mail server is not to be flooded by one instance), at most
 * {@link MAX_QUEUED_MAILS} waiting; every failure, and every mail refused for a full queue, is reported.
 */
function createMailQueue(onError: (error: unknown) => void): MailQueue {
  const slot = new Semaphore({ maxConcurrent: 1, maxQueued: MAX_QUEUED_MAILS })
  const pending = new Set<Promise<void>>()
  return {
    add(job) {
      const done: Promise<void> = slot
        .run(job)
        .catch((error: unknown) =>
          onError(
            isAuthError(error, 'server_busy')
              ? new AuthError('mail_unavailable', 'A mail was not sent: too many mails are waiting.')
              : error,
          ),
        )
        .finally(() => pending.delete(done))
      pending.add(done)
    },
    drain: async () => {
      await Promise.all(pending)
    },
  }
}
