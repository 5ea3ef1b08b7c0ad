/**
 * The account page: the profile, where the account is signed in (cookie sessions and token families, this
 * device first), the password, the linked sign-in providers, the apps allowed in, and logging out.
 */
import type { Device, LinkedIdentity, SecondFactorStatus, SessionAuthentication } from '../../auth.js'
import type { AllowedApp } from '../../engine/authorization.js'
import type { Messages } from '../messages/index.js'
import {
  type ProviderButton,
  firstInvalid,
  formErrorBox,
  noticeBox,
  currentPasswordField,
  newPasswordField,
  submitButton,
} from './components.js'
import type { FormErrors } from './form-errors.js'
import { type Html, html } from './html.js'
import { ICONS } from './icons.js'
import type { Notice } from './notices.js'
import { calendarDate, isoTime, timeAgo } from './time.js'
import { twoStepPanel } from './two-step-view.js'
import { summarizeUserAgent } from '../../core/user-agent.js'

export interface AccountViewData {
  session: SessionAuthentication
  devices: readonly Device[]
  identities: readonly LinkedIdentity[]
  /** Third-party apps the person allowed (OAuth consents). */
  apps: readonly AllowedApp[]
  providers: readonly ProviderButton[]
  notice: Notice | null
  /** The password form's refusal, shown in its panel. */
  passwordErrors: FormErrors
  /** The account's second factors (two-step sign-in). */
  secondFactors: SecondFactorStatus
  nowSeconds: number
}

export function accountView(messages: Messages, data: AccountViewData): Html {
  const t = messages.account
  return html`<main class="page">
    <div class="page-head">
      <div>
        <h1>${t.heading}</h1>
        <p class="lead">${t.lead}</p>
      </div>
      <form method="post" action="/logout" data-busy>
        ${submitButton(t.logOut, t.logOut, 'secondary', 'small')}
      </form>
    </div>
    ${noticeBox(data.notice)} ${profilePanel(messages, data)} ${emailPanel(messages, data)}
    ${devicesPanel(messages, data)} ${passwordPanel(messages, data)}
    ${twoStepPanel(messages, data.secondFactors, data.nowSeconds)} ${providersPanel(messages, data)}
    ${appsPanel(messages, data)} ${deletePanel(messages, data)}
  </main>`
}

function profilePanel(messages: Messages, { session: { user } }: AccountViewData): Html {
  const t = messages.account
  const locale = messages.language.locale
  return html`<section class="panel" aria-labelledby="profile-heading">
    <h2 id="profile-heading">${t.profileHeading}</h2>
    <dl class="facts">
      <dt>${t.email}</dt>
      <dd>
        <span class="email-line"
          ><span id="account-email">${user.email}</span>${
            user.emailVerified
              ? html`<span class="badge good" id="email-status">${t.verified}</span>`
              : html`<span class="badge warn" id="email-status">${t.notVerified}</span>`
          }</span
        >
      </dd>
      <dt>${t.accountId}</dt>
      <dd id="account-id" class="mono">${user.id}</dd>
      <dt>${t.memberSince}</dt>
      <dd><time datetime="${isoTime(user.createdAt)}">${calendarDate(user.createdAt, locale)}</time></dd>
    </dl>
    ${
      user.emailVerified
        ? null
        : html`<form class="stack" method="post" action="/account/verify-email" data-busy>
            <p class="hint">${t.verificationLead}</p>
            <div class="actions">
              ${submitButton(t.sendVerification, t.sendVerificationBusy, 'secondary', 'small')}
            </div>
          </form>`
    }
  </section>`
}

/** Moving to another address, confirmed from a link mailed to it. */
function emailPanel(messages: Messages, { session: { user } }: AccountViewData): Html {
  const t = messages.account
  return html`<section class="panel" id="email" aria-labelledby="email-heading">
    <h2 id="email-heading">${t.changeEmailHeading}</h2>
    <p class="lead">${t.changeEmailLead}</p>
    <form class="stack" method="post" action="/account/email" data-busy>
      <div class="field">
        <label for="new-email">${t.newEmail}</label>
        <input
          id="new-email"
          type="email"
          name="new_email"
          autocomplete="email"
          autocapitalize="none"
          spellcheck="false"
          required
        />
      </div>
      ${
        user.hasPassword ? currentPasswordField(messages, { id: 'email-current-password', errors: {} }) : null
      }
      <div class="actions">${submitButton(t.changeEmailSubmit, t.changeEmailBusy, 'primary', 'inline')}</div>
    </form>
  </section>`
}

/** Deleting the account, with the password when it has one. */
function deletePanel(messages: Messages, { session: { user } }: AccountViewData): Html {
  const t = messages.account
  return html`<section class="panel danger-zone" id="delete" aria-labelledby="delete-heading">
    <h2 id="delete-heading">${t.deleteHeading}</h2>
    <p class="lead">${t.deleteLead}</p>
    <form class="stack" method="post" action="/account/delete" data-busy>
      ${
        user.hasPassword
          ? currentPasswordField(messages, { id: 'delete-current-password', errors: {} })
          : null
      }
      <div class="actions">${submitButton(t.deleteSubmit, t.deleteBusy, 'danger', 'inline')}</div>
    </form>
  </section>`
}

/** "Chrome on macOS", or what can be said of a device. */
export function deviceName(device: Device, messages: Messages): string {
  const { browser, os } = summarizeUserAgent(device.userAgent)
  if (browser && os) return messages.account.browserOn(browser, os)
  return browser ?? os ?? (device.kind === 'token' ? messages.account.app : messages.account.unknownDevice)
}

function devicesPanel(messages: Messages, data: AccountViewData): Html {
  const t = messages.account
  // This device first, then the most recently active.
  const devices = [...data.devices].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt,
  )
  const others = devices.filter((device) => !device.current).length
  return html`<section class="panel" id="devices" aria-labelledby="devices-heading">
    <h2 id="devices-heading">${t.devicesHeading}</h2>
    <p class="lead">${t.devicesLead}</p>
    <ul class="list devices">
      ${devices.map((device) => deviceItem(device, messages, data.nowSeconds))}
    </ul>
    <div class="actions">
      ${
        others > 0
          ? html`<form method="post" action="/account/devices/end-others" data-busy>
              ${submitButton(t.endOthers, t.endOthers, 'secondary', 'small')}
            </form>`
          : null
      }
      <form method="post" action="/account/logout-everywhere" data-busy>
        ${submitButton(t.endAll, t.endAll, 'danger', 'small')}
      </form>
    </div>
    <p class="hint">${t.endAllHint}</p>
  </section>`
}

function deviceItem(device: Device, messages: Messages, nowSeconds: number): Html {
  const t = messages.account
  const name = deviceName(device, messages)
  const { mobile } = summarizeUserAgent(device.userAgent)
  const icon = device.kind === 'token' ? ICONS.app : mobile ? ICONS.phone : ICONS.desktop
  const recent = nowSeconds - device.lastSeenAt < 60
  const lastSeen = recent
    ? t.activeNow
    : t.lastActive(timeAgo(device.lastSeenAt, nowSeconds, messages.language.locale))
  return html`<li class="device" data-device-id="${device.id}" ${device.current ? html`data-current` : null}>
    <span class="icon">${icon}</span>
    <div class="what">
      <p class="name">
        <span class="device-name">${name}</span>
        ${device.current ? html`<span class="badge accent">${t.thisDevice}</span>` : null}
        ${device.kind === 'token' ? html`<span class="badge">${t.app}</span>` : null}
      </p>
      <p class="meta">
        <time datetime="${isoTime(device.lastSeenAt)}">${lastSeen}</time>${
          device.ip ? html` · <span class="ip">${device.ip}</span>` : null
        }
      </p>
    </div>
    ${
      device.current
        ? null
        : html`<form method="post" action="/account/devices/${device.id}/end" data-busy>
            <button
              type="submit"
              class="button secondary small"
              aria-label="${t.endOneLabel(name)}"
              data-busy-label="${t.endOne}"
            >
              <span class="spinner" aria-hidden="true"></span><span class="label">${t.endOne}</span>
            </button>
          </form>`
    }
  </li>`
}

function passwordPanel(
  messages: Messages,
  { session: { user }, passwordErrors: errors }: AccountViewData,
): Html {
  const t = messages.account
  const focus = firstInvalid(errors, ['current_password', 'new_password'])
  const newPassword = newPasswordField(messages, {
    id: 'new-password',
    errors,
    autofocus: focus === 'new_password',
  })
  // The hidden username lets password managers file the new password under the right account.
  const username = html`<input
    type="email"
    name="email"
    value="${user.email}"
    autocomplete="username"
    hidden
  />`
  if (!user.hasPassword) {
    return html`<section class="panel" id="password" aria-labelledby="password-heading">
      <h2 id="password-heading">${t.setPasswordHeading}</h2>
      <p class="lead">${t.setPasswordLead}</p>
      ${formErrorBox(errors)}
      <form class="stack" method="post" action="/account/password" data-busy>
        ${username} ${newPassword}
        <div class="actions">
          ${submitButton(t.setPasswordSubmit, t.setPasswordBusy, 'primary', 'inline')}
        </div>
      </form>
    </section>`
  }
  return html`<section class="panel" id="password" aria-labelledby="password-heading">
    <h2 id="password-heading">${t.changePasswordHeading}</h2>
    <p class="lead">${t.changePasswordLead}</p>
    ${formErrorBox(errors)}
    <form class="stack" method="post" action="/account/password" data-busy>
      ${username}
      ${currentPasswordField(messages, { id: 'current-password', errors, autofocus: focus === 'current_password' })}
      ${newPassword}
      <div class="actions">
        ${submitButton(t.changePasswordSubmit, t.changePasswordBusy, 'primary', 'inline')}
      </div>
    </form>
  </section>`
}

function providersPanel(messages: Messages, { identities, providers }: AccountViewData): Html | null {
  if (providers.length === 0 && identities.length === 0) return null
  const t = messages.account
  const nameOf = (id: string): string => providers.find((provider) => provider.id === id)?.displayName ?? id
  const linked = new Set(identities.map((identity) => identity.provider))
  const linkable = providers.filter((provider) => !linked.has(provider.id))
  return html`<section class="panel" aria-labelledby="providers-heading">
    <h2 id="providers-heading">${t.providersHeading}</h2>
    <p class="lead">${t.providersLead}</p>
    <ul class="list identities" id="identities">
      ${identities.map(
        (identity) =>
          html`<li>
            <div class="what">
              <p class="name">${nameOf(identity.provider)}</p>
              ${identity.email ? html`<p class="meta">${identity.email}</p>` : null}
            </div>
            <form method="post" action="/account/identities/${identity.provider}/unlink" data-busy>
              ${submitButton(t.unlink, t.unlink, 'secondary', 'small')}
            </form>
          </li>`,
      )}
      ${linkable.map(
        (provider) =>
          html`<li>
            <div class="what">
              <p class="name">${provider.displayName}</p>
              <p class="meta">${t.notLinked}</p>
            </div>
            <form method="post" action="/auth/social/${provider.id}/link" data-busy>
              ${submitButton(t.link, t.link, 'secondary', 'small')}
            </form>
          </li>`,
      )}
    </ul>
  </section>`
}

function appsPanel(messages: Messages, { apps }: AccountViewData): Html | null {
  if (apps.length === 0) return null
  const t = messages.authorize
  const locale = messages.language.locale
  return html`<section class="panel" aria-labelledby="apps-heading">
    <h2 id="apps-heading">${t.appsTitle}</h2>
    <p class="lead">${t.appsLead}</p>
    <ul class="list apps" id="apps">
      ${apps.map(
        (app) =>
          html`<li>
            <div class="what">
              <p class="name">${app.name}</p>
              <p class="meta">
                ${app.scopes.map((scope) => t.scopes[scope] ?? t.otherScope(scope)).join(' · ')}
              </p>
              <p class="meta">
                <time datetime="${isoTime(app.grantedAt)}"
                  >${t.appsAllowed(calendarDate(app.grantedAt, locale))}</time
                >
              </p>
            </div>
            <form method="post" action="/account/apps/${encodeURIComponent(app.clientId)}/remove" data-busy>
              ${submitButton(t.appsRevoke, t.appsRevokeBusy, 'secondary', 'small')}
            </form>
          </li>`,
      )}
    </ul>
  </section>`
}
