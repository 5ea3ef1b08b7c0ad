/**
 * The rules of signing in through an external provider (social login), with no I/O: what a provider's answer
 * must hold, where the browser may be sent afterwards, and whether an answer may sign in, create or link an
 * account. The protocol itself (PKCE, state, nonce, ID-token validation) is `openid-client`'s, in `social/`.
 */
import { normalizeEmail } from './email.js'
import { AuthError } from './errors.js'

/** A provider id as configured (`google`, `corp`); also the path segment of its routes. */
export const PROVIDER_ID_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/

/** Subjects longer than this are refused: no provider documents one, and stores index them. */
export const MAX_SUBJECT_LENGTH = 255

/** What a provider told about the person, once its answer was validated. */
export interface ProviderProfile {
  provider: string
  /** The provider's stable id for the person. */
  subject: string
  /** Normalised (`core/email.ts`); null when the provider gave none or one Sesame cannot use. */
  email: string | null
  /** True only when the provider said so explicitly for this very address. */
  emailVerified: boolean
}

/**
 * Builds the profile from a provider's raw values, refusing what cannot identify a person. Providers send
 * `email_verified` as a boolean, or (some) as the string "true"/"false": only `true` and `"true"` count.
 * An email that Sesame would refuse at sign-up is dropped, not fatal: the identity still signs in.
 */
export function readProviderProfile(input: {
  provider: string
  subject: unknown
  email: unknown
  emailVerified: unknown
}): ProviderProfile {
  const subject = typeof input.subject === 'number' ? String(input.subject) : input.subject
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new AuthError('social_sign_in_failed', 'The provider did not identify the account.', {
      reason: 'missing_subject',
    })
  }
  let email: string | null = null
  if (typeof input.email === 'string') {
    try {
      email = normalizeEmail(input.email)
    } catch {
      email = null
    }
  }
  const verified = input.emailVerified === true || input.emailVerified === 'true'
  return { provider: input.provider, subject, email, emailVerified: email !== null && verified }
}

/**
 * Where to send the browser after a sign-in: `value` when it is a path on this origin (`/x`, not `//host`,
 * not `/\host`, no scheme, no control characters), else `fallback`. Anything else is ignored rather than
 * refused, so a crafted link cannot turn the sign-in into an open redirect.
 */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback
  if ([...value].some((char) => char <= '\u001f' || char === '\u007f' || char === '\\')) return fallback
  // Resolved against a placeholder origin, a same-origin path stays on it; anything that leaves is refused.
  const base = 'https://sesame.invalid'
  let url: URL
  try {
    url = new URL(value, base)
  } catch {
    return fallback
  }
  if (url.origin !== base) return fallback
  // Dot segments are resolved only now: `/.//evil.example` becomes `//evil.example`, which a browser would
  // read as another host. The result is checked again, not just the input.
  const path = url.pathname + url.search + url.hash
  return path.startsWith('//') || path.startsWith('/\\') ? fallback : path
}

/** What a validated provider answer leads to when no user is signed in. */
export type SignInDecision =
  | { action: 'sign-in'; userId: string }
  | { action: 'link-and-sign-in'; userId: string }
  | { action: 'create' }
  | { action: 'refuse'; code: 'email_exists_unlinked' | 'social_email_missing' }

/**
 * The linking rule. A known identity signs its user in. An unknown one creates an account when no account
 * has the email; when one does, it is never linked implicitly unless both the provider vouched for the
 * address and the local account has proven it too: otherwise whoever controls an unverified address at some
 * provider would take over the local account. A provider that gives no usable email cannot create one.
 */
export function decideSignIn(input: {
  profile: ProviderProfile
  /** The user the identity is linked to, if any. */
  linkedUserId: string | null
  /**
   * The local account found by the profile's email (by email key: look-alikes match), if any; `sameEmail`
   * when its address is exactly the profile's.
   */
  emailAccount: { id: string; emailVerified: boolean; sameEmail: boolean } | null
}): SignInDecision {
  const { profile, linkedUserId, emailAccount } = input
  if (linkedUserId !== null) return { action: 'sign-in', userId: linkedUserId }
  if (profile.email === null) return { action: 'refuse', code: 'social_email_missing' }
  if (emailAccount === null) return { action: 'create' }
  // Exactly the same address: `straße@…` and `strasse@…` share a key but may be two mailboxes.
  if (profile.emailVerified && emailAccount.emailVerified && emailAccount.sameEmail) {
    return { action: 'link-and-sign-in', userId: emailAccount.id }
  }
  return { action: 'refuse', code: 'email_exists_unlinked' }
}
