/**
 * The one-line notices a page shows after a redirect (`?notice=<key>`): a fixed catalogue, so a link cannot
 * make a page say anything else. Keys name outcomes of the flows that end on a page (sign-up, sign-out, the
 * account page's forms, sign-in through a provider); their texts are in every language's catalogue
 * (`messages/*.ts`, `notices`), and each has a kind here.
 */
import { isAuthError } from '../../core/errors.js'
import type { Messages } from '../messages/index.js'

export type NoticeKey = keyof Messages['notices']

export type NoticeKind = 'error' | 'success'

/** A notice as a page shows it. */
export interface Notice {
  kind: NoticeKind
  text: string
}

/** The kind of every notice: exactly the catalogue's keys (a key missing or extra here does not compile). */
const KINDS = {
  welcome: 'success',
  sign_in_expired: 'error',
  confirm_sign_in: 'error',
  two_step_on: 'success',
  two_step_off: 'success',
  setup_expired: 'error',
  wrong_code: 'error',
  signed_out: 'success',
  signed_out_everywhere: 'success',
  device_ended: 'success',
  device_not_found: 'error',
  app_removed: 'success',
  app_not_found: 'error',
  others_ended: 'success',
  password_changed: 'success',
  linked: 'success',
  unlinked: 'success',
  password_set: 'success',
  verification_sent: 'success',
  already_verified: 'success',
  email_verified: 'success',
  verify_to_continue: 'success',
  password_reset: 'success',
  email_change_sent: 'success',
  email_changed: 'success',
  account_deleted: 'success',
  invalid_link: 'error',
  email_taken: 'error',
  mail_unavailable: 'error',
  wrong_password: 'error',
  verify_before_link: 'error',
  email_invalid: 'error',
  social_cancelled: 'error',
  social_sign_in_failed: 'error',
  unknown_provider: 'error',
  provider_unavailable: 'error',
  social_email_missing: 'error',
  email_exists_unlinked: 'error',
  identity_taken: 'error',
  provider_already_linked: 'error',
  last_sign_in_method: 'error',
  not_found: 'error',
  invalid_credentials: 'error',
  email_not_verified: 'error',
  invalid_session: 'error',
  rate_limited: 'error',
  session_limit_reached: 'error',
  store_unavailable: 'error',
  unexpected: 'error',
} as const satisfies Record<NoticeKey, NoticeKind>

/** The notice for an error that ended a flow. */
export function noticeOf(error: unknown): NoticeKey {
  if (!isAuthError(error)) return 'unexpected'
  if (error.code === 'social_sign_in_failed' && error.reason === 'access_denied') return 'social_cancelled'
  if (error.code === 'email_not_verified' && error.reason === 'link_unverified') return 'verify_before_link'
  return isNoticeKey(error.code) ? error.code : 'unexpected'
}

export function isNoticeKey(value: unknown): value is NoticeKey {
  return typeof value === 'string' && Object.hasOwn(KINDS, value)
}

/** The notice `key` in the language of `messages`. */
export function noticeText(key: NoticeKey, messages: Messages): Notice {
  return { kind: KINDS[key], text: messages.notices[key] }
}

/** The notice a page's `?notice=` names, or null for none or an unknown key. */
export function readNotice(query: unknown, messages: Messages): Notice | null {
  const key =
    typeof query === 'object' && query !== null ? (query as Record<string, unknown>)['notice'] : undefined
  return isNoticeKey(key) ? noticeText(key, messages) : null
}
