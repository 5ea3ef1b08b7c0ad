/** The pieces the page forms are made of: fields with their errors, buttons, notices, provider buttons. */
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/password-policy.js'
import type { Messages } from '../messages/index.js'
import type { FormErrors, FormField } from './form-errors.js'
import { withContinuation } from './continuation.js'
import { type Html, html } from './html.js'
import { ICONS } from './icons.js'
import type { Notice } from './notices.js'

/** A sign-in provider as the pages offer it. */
export interface ProviderButton {
  id: string
  displayName: string
  /** Where its sign-in page is: a link form posts here through a redirect, which the CSP must allow. */
  authorizationOrigin: string
}

/** A notice box: `.error` (an alert) or `.success` (a status). */
export function noticeBox(notice: Notice | null): Html | null {
  if (!notice) return null
  return notice.kind === 'error'
    ? html`<div class="error" role="alert">
        ${ICONS.alert}
        <p>${notice.text}</p>
      </div>`
    : html`<div class="success" role="status">
        ${ICONS.check}
        <p>${notice.text}</p>
      </div>`
}

/** The whole-form error of `errors`, if any. */
export function formErrorBox(errors: FormErrors): Html | null {
  return errors.form ? noticeBox({ kind: 'error', text: errors.form }) : null
}

interface FieldOptions {
  /** Unique on the page; also the id of the input. */
  id: string
  name: FormField
  label: string
  errors: FormErrors
  autocomplete: string
  /** A link beside the label (the login page's "Forgot password?"). */
  aside?: Html | null
  hint?: string | null
  /** Focus this field when the page opens (the first one with an error). */
  autofocus?: boolean
}

function describedBy(id: string, error: string | undefined, hint: string | null | undefined): string | null {
  const ids = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean)
  return ids.length > 0 ? ids.join(' ') : null
}

function labelRow(id: string, label: string, aside: Html | null | undefined): Html {
  const labelElement = html`<label for="${id}">${label}</label>`
  return aside ? html`<div class="label-row">${labelElement}${aside}</div>` : labelElement
}

function fieldFooter(id: string, error: string | undefined, hint: string | null | undefined): Html {
  return html`${error ? html`<p class="field-error" id="${id}-error">${ICONS.alert}<span>${error}</span></p>` : null}${
    hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : null
  }`
}

/**
 * A one-line text input with its label, error and hint, never auto-capitalised or spell-checked (addresses and
 * codes are not prose); `attributes` are the kind's own (`type`, `value`, `inputmode`, …).
 */
function textField(options: FieldOptions, attributes: Html): Html {
  const { id, name, errors } = options
  const error = errors[name]
  const described = describedBy(id, error, options.hint)
  return html`<div class="field">
    ${labelRow(id, options.label, options.aside)}
    <input
      id="${id}"
      name="${name}"
      ${attributes}
      autocomplete="${options.autocomplete}"
      autocapitalize="none"
      spellcheck="false"
      required
      ${error ? html`aria-invalid="true"` : null}
      ${described ? html`aria-describedby="${described}"` : null}
      ${options.autofocus ? html`autofocus` : null}
    />
    ${fieldFooter(id, error, options.hint)}
  </div>`
}

/** An email field, keeping what was typed. */
export function emailField(options: FieldOptions & { value: string; placeholder: string }): Html {
  return textField(options, html`type="email" value="${options.value}" placeholder="${options.placeholder}"`)
}

/**
 * A field for a one-time code: the authenticator app's six digits (`numeric`: a phone shows the number pad,
 * and `one-time-code` lets it offer a code it received), or a recovery code (letters and digits).
 */
export function codeField(options: FieldOptions & { numeric: boolean }): Html {
  return textField(
    options,
    options.numeric
      ? html`type="text" class="code" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7"`
      : html`type="text" class="code" inputmode="text" maxlength="64"`,
  )
}

/**
 * A password field with its show/hide button (shown by `/assets/app.js`; without script the button stays
 * hidden). A password is never written back into the page.
 */
export function passwordField(
  options: FieldOptions & { messages: Messages; minLength?: number | null; maxLength?: number | null },
): Html {
  const { id, name, errors, messages } = options
  const error = errors[name]
  const described = describedBy(id, error, options.hint)
  return html`<div class="field">
    ${labelRow(id, options.label, options.aside)}
    <div class="password">
      <input
        id="${id}"
        type="password"
        name="${name}"
        autocomplete="${options.autocomplete}"
        required
        ${options.minLength ? html`minlength="${options.minLength}"` : null}
        ${options.maxLength ? html`maxlength="${options.maxLength}"` : null}
        ${error ? html`aria-invalid="true"` : null}
        ${described ? html`aria-describedby="${described}"` : null}
        ${options.autofocus ? html`autofocus` : null}
      />
      <button
        type="button"
        class="toggle"
        data-password-toggle
        aria-controls="${id}"
        aria-pressed="false"
        aria-label="${messages.form.showPassword}"
        data-show="${messages.form.show}"
        data-hide="${messages.form.hide}"
        hidden
      >
        <span class="toggle-text">${messages.form.show}</span>
      </button>
    </div>
    ${fieldFooter(id, error, options.hint)}
  </div>`
}

/** A submit button that shows a spinner and `busy` while its form (`data-busy`) posts. */
export function submitButton(
  label: string,
  busy: string,
  variant: 'primary' | 'secondary' | 'danger' = 'primary',
  extraClass = '',
): Html {
  const classes = ['button', variant === 'primary' ? null : variant, extraClass || null]
    .filter(Boolean)
    .join(' ')
  return html`<button type="submit" class="${classes}" data-busy-label="${busy}">
    <span class="spinner" aria-hidden="true"></span><span class="label">${label}</span>
  </button>`
}

/** The first field of `order` that has an error, to focus. */
export function firstInvalid(errors: FormErrors, order: readonly FormField[]): FormField | null {
  return order.find((field) => errors[field] !== undefined) ?? null
}

/** The "Continue with …" links and the "or" rule under them; nothing without providers. */
export function providerButtons(
  providers: readonly ProviderButton[],
  messages: Messages,
  returnTo: string | null = null,
): Html | null {
  if (providers.length === 0) return null
  return html`<div class="providers">
      ${providers.map(
        (provider) =>
          html`<a class="button secondary" href="${withContinuation(`/auth/social/${provider.id}`, returnTo)}"
            >${messages.form.continueWith(provider.displayName)}</a
          >`,
      )}
    </div>
    <p class="or">${messages.form.or}</p>`
}

/** The account's email field of the sign-up, log-in and forgot-password forms. */
export function usernameField(
  messages: Messages,
  value: string,
  errors: FormErrors,
  autofocus: boolean,
): Html {
  return emailField({
    id: 'email',
    name: 'email',
    label: messages.form.email,
    placeholder: messages.form.emailPlaceholder,
    value,
    autocomplete: 'username',
    errors,
    autofocus,
  })
}

/** A new password, with the sign-up rules as its hint (sign-up aside, whose field is named `password`). */
export function newPasswordField(
  messages: Messages,
  options: { id: string; errors: FormErrors; autofocus: boolean },
): Html {
  return passwordField({
    id: options.id,
    name: 'new_password',
    label: messages.account.newPassword,
    autocomplete: 'new-password',
    minLength: MIN_PASSWORD_LENGTH,
    maxLength: MAX_PASSWORD_LENGTH,
    hint: messages.signUp.passwordHint(MIN_PASSWORD_LENGTH),
    errors: options.errors,
    messages,
    autofocus: options.autofocus,
  })
}

/** The current password that a change on the account page asks for. */
export function currentPasswordField(
  messages: Messages,
  options: { id: string; errors: FormErrors; autofocus?: boolean },
): Html {
  return passwordField({
    id: options.id,
    name: 'current_password',
    label: messages.account.currentPassword,
    autocomplete: 'current-password',
    errors: options.errors,
    messages,
    autofocus: options.autofocus ?? false,
  })
}
