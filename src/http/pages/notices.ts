/**
 * The one-line notices a page shows after a redirect (`?notice=<key>`): a fixed catalogue, so a link cannot
 * make a page say anything else. Keys name outcomes of the flows that end on a page (sign-in through a
 * provider, linking, unlinking, setting a password).
 */
import { isAuthError } from '../../core/errors.js'

interface Notice {
  kind: 'error' | 'success'
  text: string
}

const NOTICES = {
  linked: { kind: 'success', text: 'The provider is linked: you can now sign in with it.' },
  unlinked: { kind: 'success', text: 'The provider is unlinked.' },
  password_set: { kind: 'success', text: 'Your password is set.' },
  social_cancelled: { kind: 'error', text: 'The sign-in was cancelled at the provider.' },
  social_sign_in_failed: {
    kind: 'error',
    text: 'The sign-in with the provider could not be completed. Please try again.',
  },
  unknown_provider: { kind: 'error', text: 'That sign-in provider is not available here.' },
  provider_unavailable: {
    kind: 'error',
    text: 'The provider could not be reached. Please try again in a moment.',
  },
  social_email_missing: {
    kind: 'error',
    text: 'The provider did not share your email address, which a new account needs. Allow it there, or sign up with a password.',
  },
  email_exists_unlinked: {
    kind: 'error',
    text: 'An account with this email already exists. Log in with your password, then link the provider from your account page.',
  },
  identity_taken: { kind: 'error', text: 'That provider account is already linked to another account.' },
  provider_already_linked: {
    kind: 'error',
    text: 'Your account is already linked to an account at this provider. Unlink it first.',
  },
  last_sign_in_method: {
    kind: 'error',
    text: 'This is your only way to sign in. Set a password or link another provider first.',
  },
  not_found: { kind: 'error', text: 'That provider is not linked to your account.' },
  invalid_credentials: { kind: 'error', text: 'This account cannot sign in.' },
  invalid_session: {
    kind: 'error',
    text: 'Your session ended before the provider answered. Please sign in again.',
  },
  rate_limited: { kind: 'error', text: 'Too many attempts. Please wait a while and try again.' },
  session_limit_reached: {
    kind: 'error',
    text: 'You are signed in on too many devices. Sign out on another device first.',
  },
  store_unavailable: { kind: 'error', text: 'Sesame is briefly unavailable. Please try again.' },
  unexpected: { kind: 'error', text: 'Something went wrong. Please try again.' },
} as const satisfies Record<string, Notice>

export type NoticeKey = keyof typeof NOTICES

/** The notice for an error that ended a flow. */
export function noticeOf(error: unknown): NoticeKey {
  if (!isAuthError(error)) return 'unexpected'
  if (error.code === 'social_sign_in_failed' && error.reason === 'access_denied') return 'social_cancelled'
  return Object.hasOwn(NOTICES, error.code) ? (error.code as NoticeKey) : 'unexpected'
}

/** The notice a page's `?notice=` names, or null for none or an unknown key. */
export function readNotice(query: unknown): Notice | null {
  const key =
    typeof query === 'object' && query !== null ? (query as Record<string, unknown>)['notice'] : undefined
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : null
}
