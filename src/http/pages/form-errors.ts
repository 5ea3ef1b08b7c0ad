/**
 * The engine's refusals as a page shows them: next to the field they concern, in the page's language, in
 * plain words. The engine's messages are for API clients (they quote field names: `The "password" field is
 * one of the most common passwords`); a page never shows them. The field is the one the message names (the
 * error registry's rule: "Messages name the failing field in quotes"), the wording the catalogue's for the rule
 * that failed; a refusal this module does not know gets a general sentence, never the API text.
 */
import { type AuthError, isAuthError } from '../../core/errors.js'
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/password-policy.js'
import type { Messages } from '../messages/index.js'

/** The fields the page forms have. */
export type FormField = 'email' | 'password' | 'current_password' | 'new_password' | 'code' | 'recovery_code'

/** What a form shows: a sentence per field, and one for the whole form. */
export type FormErrors = Partial<Record<FormField | 'form', string>>

/** Refusals about the whole form, by error code (codes as strings: some come and go with configuration). */
const FORM_LEVEL: Record<string, (errors: Messages['errors']) => string> = {
  invalid_credentials: (errors) => errors.invalidCredentials,
  email_not_verified: (errors) => errors.emailNotVerified,
  rate_limited: (errors) => errors.rateLimited,
  session_limit_reached: (errors) => errors.sessionLimit,
  store_unavailable: (errors) => errors.unavailable,
  server_busy: (errors) => errors.unavailable,
  mail_unavailable: (errors) => errors.unavailable,
}

/** True for the refusals a form shows instead of an error page. */
export function isFormError(error: unknown): error is AuthError {
  return (
    isAuthError(error) &&
    (error.code === 'invalid_request' ||
      error.code === 'email_taken' ||
      Object.hasOwn(FORM_LEVEL, error.code))
  )
}

export interface FormErrorOptions {
  /** The form field the engine's `password` means (`new_password` on the change-password form). */
  passwordField?: FormField
  /** Where a wrong password goes: the whole form (sign-in), or the current-password field. */
  credentialsField?: FormField | 'form'
}

/** The sentences for `error` (one of {@link isFormError}'s). */
export function formErrorsOf(
  error: AuthError,
  messages: Messages,
  options: FormErrorOptions = {},
): FormErrors {
  const errors = messages.errors
  if (error.code === 'email_taken') return { email: errors.emailTaken }
  if (error.code === 'invalid_credentials') {
    const field = options.credentialsField ?? 'form'
    return { [field]: field === 'form' ? errors.invalidCredentials : errors.currentPasswordWrong }
  }
  const formLevel = FORM_LEVEL[error.code]
  if (formLevel) return { form: formLevel(errors) }
  if (error.code !== 'invalid_request') return { form: errors.generic }

  const text = error.message
  const named = /"(\w+)"/.exec(text)?.[1]
  if (named === 'email') {
    if (/required/.test(text)) return { email: errors.emailRequired }
    if (/invisible|private-use|unassigned/.test(text)) return { email: errors.emailInvisible }
    return { email: errors.emailInvalid }
  }
  if (named === 'password' || named === 'new_password') {
    const field = named === 'new_password' ? 'new_password' : (options.passwordField ?? 'password')
    return { [field]: passwordRule(text, errors) }
  }
  if (named === 'current_password') return { current_password: errors.currentPasswordRequired }
  if (/no password yet/.test(text)) return { current_password: errors.noPasswordYet }
  return { form: errors.generic }
}

function passwordRule(text: string, errors: Messages['errors']): string {
  if (/required/.test(text)) return errors.passwordRequired
  if (/at least/.test(text)) return errors.passwordTooShort(MIN_PASSWORD_LENGTH)
  if (/at most/.test(text)) return errors.passwordTooLong(MAX_PASSWORD_LENGTH)
  if (/common/.test(text)) return errors.passwordCommon
  if (/email/.test(text)) return errors.passwordLikeEmail
  return errors.passwordInvalid
}
