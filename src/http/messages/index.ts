/**
 * The languages of the pages and mails, and how a request's language is chosen: one catalogue per language
 * (`en.ts` defines the shape, `ko.ts` follows it), `messagesFor(language)`, and `Accept-Language` negotiation
 * (RFC 9110 §12.5.4: q-values respected, `q=0` refused, English by default).
 */
import { type MailTemplate, type Messages, en } from './en.js'
import { ko } from './ko.js'

export type { MailTemplate, Messages }

export const CATALOGUES = { en, ko } as const satisfies Record<string, Messages>

export type Language = keyof typeof CATALOGUES

/** The languages in the order the switch lists them. */
export const LANGUAGES: readonly Language[] = ['en', 'ko']

export const DEFAULT_LANGUAGE: Language = 'en'

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(CATALOGUES, value)
}

/** The catalogue of `language`. */
export function messagesFor(language: Language): Messages {
  return CATALOGUES[language]
}

/** At most this many ranges are read from a header: real browsers send a handful. */
const MAX_RANGES = 32

/**
 * The best supported language for an `Accept-Language` header, or the default. A range matches a language
 * when its primary subtag does (`ko-KR` → `ko`); `*` matches the default. Among ranges of equal weight the
 * earlier one wins.
 */
export function negotiateLanguage(header: string | undefined): Language {
  if (!header) return DEFAULT_LANGUAGE
  const ranges: { language: Language; q: number; order: number }[] = []
  for (const [order, part] of header.split(',').slice(0, MAX_RANGES).entries()) {
    const [range = '', ...parameters] = part.split(';').map((piece) => piece.trim())
    const weight = parameters.find((parameter) => /^q=/i.test(parameter))
    const match = weight === undefined ? null : /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.exec(weight)
    if (weight !== undefined && !match) continue // a malformed weight: the range is ignored
    const q = match ? Number(match[1]) : 1
    if (q <= 0) continue
    const primary = range.toLowerCase().split('-')[0]!
    const language = primary === '*' ? DEFAULT_LANGUAGE : primary
    if (isLanguage(language)) ranges.push({ language, q, order })
  }
  ranges.sort((a, b) => b.q - a.q || a.order - b.order)
  return ranges[0]?.language ?? DEFAULT_LANGUAGE
}

/** The placeholders of the mail templates. */
export interface MailValues {
  /** The link to open. */
  link?: string
  /** The address concerned (the account's, or the new one of an email change). */
  email?: string
}

/** `template` with its `{link}` and `{email}` filled in; a placeholder without a value stays as it is. */
export function fillTemplate(template: string, values: MailValues): string {
  return template.replace(
    /\{(link|email)\}/g,
    (placeholder, name: keyof MailValues) => values[name] ?? placeholder,
  )
}

/** A mail of the catalogue, ready to send as plain text. */
export function renderMail(template: MailTemplate, values: MailValues): { subject: string; text: string } {
  return { subject: fillTemplate(template.subject, values), text: fillTemplate(template.body, values) }
}

/** The catalogue entry of each kind of account mail (the kinds the engine's mailer is asked to send). */
export const MAIL_TEMPLATES = {
  'verify-email': 'verifyEmail',
  'reset-password': 'resetPassword',
  'change-email-confirm': 'changeEmailConfirm',
  'change-email-notice': 'changeEmailNotice',
} as const satisfies Record<string, keyof Messages['mail']>

export type MailKind = keyof typeof MAIL_TEMPLATES

/** A mail as the engine asks for it (its `MailRequest`). */
export interface MailOrder {
  kind: MailKind
  /** The recipient. */
  to: string
  /** A language tag (`ko`, `ko-KR`); English when it is missing or not one of ours. */
  language: string | undefined
  /** The link to open; null for the change notice, which carries none. */
  link: string | null
  /** For the change notice sent to the old address: the address asked for. */
  newEmail?: string | undefined
}

/**
 * An account mail in its language, with `{link}` filled and `{email}` as the address concerned: the new one
 * for the change notice (sent to the old address), the recipient's own for the others.
 */
export function mailText(order: MailOrder): { subject: string; text: string } {
  const primary = order.language?.toLowerCase().split('-')[0]
  const messages = messagesFor(isLanguage(primary) ? primary : DEFAULT_LANGUAGE)
  return renderMail(messages.mail[MAIL_TEMPLATES[order.kind]], {
    ...(order.link !== null && { link: order.link }),
    email: order.newEmail ?? order.to,
  })
}
