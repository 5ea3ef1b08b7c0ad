/**
 * Two-step sign-in on the account page: its panel (off: how to turn it on; on: the app, the recovery codes
 * left, and the forms that need a current code), the setup page with its QR code, and the page that shows new
 * recovery codes once.
 */
import { encode } from 'uqr'
import type { SecondFactorStatus, TotpEnrolment } from '../../auth.js'
import type { Messages } from '../messages/index.js'
import { codeField, formErrorBox, submitButton } from './components.js'
import type { FormErrors } from './form-errors.js'
import { type Html, html } from './html.js'
import { calendarDate, isoTime, timeAgo } from './time.js'

/** The account page's panel; a refused code comes back as the page's notice (`wrong_code`). */
export function twoStepPanel(messages: Messages, status: SecondFactorStatus, nowSeconds: number): Html {
  const t = messages.twoStep
  const locale = messages.language.locale
  const app = status.factors.find((factor) => factor.kind === 'totp')
  if (!app) {
    return html`<section class="panel" id="two-step" aria-labelledby="two-step-heading">
      <h2 id="two-step-heading">${t.heading}</h2>
      <p class="lead">${t.leadOff}</p>
      <div class="actions">
        <a class="button inline" href="/account/two-step/setup">${t.setUp}</a>
      </div>
    </section>`
  }
  return html`<section class="panel" id="two-step" aria-labelledby="two-step-heading">
    <h2 id="two-step-heading">${t.heading}</h2>
    <p class="lead">${t.leadOn}</p>
    <ul class="list" id="second-factors">
      <li>
        <div class="what">
          <p class="name">${t.app}</p>
          <p class="meta">
            <time datetime="${isoTime(app.createdAt)}">${t.added(calendarDate(app.createdAt, locale))}</time>
            ${
              app.lastUsedAt === null
                ? null
                : html` ·
                    <time datetime="${isoTime(app.lastUsedAt)}"
                      >${t.lastUsed(timeAgo(app.lastUsedAt, nowSeconds, locale))}</time
                    >`
            }
          </p>
          <p class="meta" id="recovery-codes-left">${t.codesLeft(status.recoveryCodesLeft)}</p>
        </div>
      </li>
    </ul>
    <form class="stack" method="post" action="/account/two-step/recovery-codes" data-busy>
      ${codeField({
        id: 'two-step-code',
        name: 'code',
        label: t.codeToConfirm,
        autocomplete: 'one-time-code',
        numeric: false,
        errors: {},
      })}
      <div class="actions">
        ${submitButton(t.newCodes, t.newCodesBusy, 'secondary', 'inline')}
        <button
          type="submit"
          class="button danger inline"
          formaction="/account/two-step/${app.id}/remove"
          data-busy-label="${t.turnOffBusy}"
        >
          <span class="spinner" aria-hidden="true"></span><span class="label">${t.turnOff}</span>
        </button>
      </div>
    </form>
  </section>`
}

export function twoStepSetupView(messages: Messages, enrolment: TotpEnrolment, errors: FormErrors): Html {
  const t = messages.twoStep
  return html`<main class="card">
    <h1>${t.setupTitle}</h1>
    <p class="lead">${t.setupLead}</p>
    ${formErrorBox(errors)}
    <figure class="qr">${qrCode(enrolment.uri, t.qrLabel)}</figure>
    <p class="hint">${t.cantScan}</p>
    <p class="mono secret" id="totp-secret">${enrolment.secret}</p>
    <form method="post" action="/account/two-step/setup" data-busy>
      <input type="hidden" name="enrolment" value="${enrolment.enrolment}" />
      ${codeField({
        id: 'code',
        name: 'code',
        label: messages.secondFactor.codeLabel,
        autocomplete: 'one-time-code',
        numeric: true,
        errors,
        autofocus: errors.code !== undefined,
      })}
      ${submitButton(t.confirm, t.confirmBusy)}
    </form>
    <p class="switch"><a href="/account#two-step">${t.cancel}</a></p>
  </main>`
}

export function recoveryCodesView(messages: Messages, codes: readonly string[]): Html {
  const t = messages.twoStep
  return html`<main class="card">
    <h1>${t.codesTitle}</h1>
    <p class="lead">${t.codesLead}</p>
    <ol class="codes mono" id="recovery-codes">
      ${codes.map((code) => html`<li>${code}</li>`)}
    </ol>
    <p class="switch"><a class="button" href="/account?notice=two_step_on">${t.codesDone}</a></p>
  </main>`
}

/**
 * The QR code of `text` as an SVG drawn here from the module matrix (one path of unit squares, a quiet zone of
 * four): no image service sees the secret, and no library markup is pasted into the page unescaped.
 */
function qrCode(text: string, label: string): Html {
  const { data, size } = encode(text, { ecc: 'M', border: 4 })
  let path = ''
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`
    }),
  )
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 ${size} ${size}"
    width="220"
    height="220"
    role="img"
    aria-label="${label}"
    shape-rendering="crispEdges"
  >
    <rect width="${size}" height="${size}" fill="#fff" />
    <path d="${path}" fill="#000" />
  </svg>`
}
