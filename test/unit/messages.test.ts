/**
 * The message catalogues (src/http/messages/): every language has every text, none empty, none left in
 * English, with the same placeholders; Accept-Language negotiation; and the engine's refusals as the pages
 * word them (plain words next to a field, never an API field name).
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Device } from '../../src/auth.js'
import { normalizeEmail } from '../../src/core/email.js'
import { AuthError } from '../../src/core/errors.js'
import { checkNewPassword } from '../../src/core/password-policy.js'
import { en } from '../../src/http/messages/en.js'
import {
  CATALOGUES,
  LANGUAGES,
  type Messages,
  fillTemplate,
  mailText,
  messagesFor,
  negotiateLanguage,
  renderMail,
} from '../../src/http/messages/index.js'
import { ko } from '../../src/http/messages/ko.js'
import { deviceName } from '../../src/http/pages/account-view.js'
import { formErrorsOf, isFormError } from '../../src/http/pages/form-errors.js'
import { isNoticeKey, noticeOf, readNotice } from '../../src/http/pages/notices.js'
import { readStringFields } from '../../src/http/request-fields.js'

// Type level (checked by `npm run typecheck`): a catalogue is a `Messages` only with every key of English.
expectTypeOf(ko).toEqualTypeOf<Messages>()
const { heading: _heading, ...accountWithoutHeading } = en.account
// @ts-expect-error a catalogue without `account.heading` does not compile
const _incomplete: Messages = { ...en, account: accountWithoutHeading }
// @ts-expect-error nor does one with a key English does not have
const _extra: Messages = { ...en, account: { ...en.account, unheardOf: 'x' } }

type Entry = { path: string; value: unknown }

/** Every leaf of a catalogue, by its dotted path. */
function leaves(value: unknown, path = ''): Entry[] {
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => leaves(child, path ? `${path}.${key}` : key))
  }
  return [{ path, value }]
}

/** Sample arguments: strings and numbers a text must show (a translation may not drop one). */
const SAMPLE_ARGUMENTS = ['Xylo', 'Quartz', 'Zephyr']
const NUMBER_ARGUMENTS = new Set(['signUp.passwordHint', 'errors.passwordTooShort', 'errors.passwordTooLong'])

function call(path: string, text: (...args: unknown[]) => unknown, arity = text.length): unknown {
  const args = NUMBER_ARGUMENTS.has(path) ? [4711] : SAMPLE_ARGUMENTS.slice(0, arity)
  return text(...args)
}

/** Korean texts that are rightly the same in both languages. */
const SAME_IN_EVERY_LANGUAGE = new Set(['layout.siteName', 'form.emailPlaceholder', 'language.locale'])
const HANGUL = /[\uac00-\ud7a3]/

const ENGLISH = leaves(en)

/** What is wrong with a catalogue, compared with English: keys missing or extra, texts empty or dropping a value. */
function problemsOf(catalogue: unknown): string[] {
  const problems: string[] = []
  const entries = leaves(catalogue)
  const paths = new Set(entries.map((entry) => entry.path))
  for (const { path } of ENGLISH) if (!paths.has(path)) problems.push(`${path} is missing`)
  for (const { path, value } of entries) {
    const expected = ENGLISH.find((entry) => entry.path === path)?.value
    if (expected === undefined) {
      problems.push(`${path} is not in English`)
    } else if (typeof value !== typeof expected) {
      problems.push(`${path} is a ${typeof value}, not a ${typeof expected}`)
    } else if (typeof value === 'function') {
      const text = value as (...args: unknown[]) => unknown
      if (text.length !== (expected as () => unknown).length) problems.push(`${path} takes other arguments`)
      const arity = (expected as () => unknown).length
      const shown = call(path, text, arity)
      if (typeof shown !== 'string' || shown.trim() === '') problems.push(`${path} is empty`)
      const args = NUMBER_ARGUMENTS.has(path) ? ['4711'] : SAMPLE_ARGUMENTS.slice(0, arity)
      for (const arg of args) {
        if (typeof shown === 'string' && !shown.includes(arg)) problems.push(`${path} drops an argument`)
      }
    } else if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${path} is empty`)
    }
  }
  return problems
}

describe('message catalogues', () => {
  it.each(LANGUAGES)('%s has exactly the keys of English, in the same order, none empty', (language) => {
    expect(problemsOf(messagesFor(language))).toEqual([])
    expect(leaves(messagesFor(language)).map((entry) => entry.path)).toEqual(
      ENGLISH.map((entry) => entry.path),
    )
  })

  it('catches a catalogue with a key missing, an extra one, an empty text or a dropped value', () => {
    const { welcome: _welcome, ...fewer } = en.notices
    expect(problemsOf({ ...en, notices: fewer })).toEqual(['notices.welcome is missing'])
    expect(problemsOf({ ...en, notices: { ...en.notices, welcome: ' ' } })).toEqual([
      'notices.welcome is empty',
    ])
    expect(problemsOf({ ...en, notices: { ...en.notices, extra: 'x' } })).toEqual([
      'notices.extra is not in English',
    ])
    expect(problemsOf({ ...en, home: { ...en.home, signedInLead: () => 'Hello' } })).toEqual([
      'home.signedInLead takes other arguments',
      'home.signedInLead drops an argument',
    ])
  })

  it('Korean is translated: every text has Hangul, except the few that are the same everywhere', () => {
    for (const { path, value } of leaves(ko)) {
      if (SAME_IN_EVERY_LANGUAGE.has(path)) continue
      const text = typeof value === 'function' ? call(path, value as (...args: unknown[]) => unknown) : value
      expect(text, path).toMatch(HANGUL)
    }
  })

  it('no page text quotes an API field name', () => {
    for (const language of LANGUAGES) {
      for (const { path, value } of leaves(messagesFor(language))) {
        const text =
          typeof value === 'function' ? call(path, value as (...args: unknown[]) => unknown) : value
        expect(text, `${language} ${path}`).not.toMatch(/"(?:email|password|current_password|new_password)"/)
      }
    }
  })

  it('the mail templates have the same placeholders in every language, and the links their lifetimes', () => {
    const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort()
    for (const [kind, template] of Object.entries(en.mail)) {
      for (const language of LANGUAGES) {
        const other = messagesFor(language).mail[kind as keyof Messages['mail']]
        expect(placeholders(other.body), `${language} ${kind}`).toEqual(placeholders(template.body))
        expect(placeholders(other.subject), `${language} ${kind}`).toEqual([])
      }
    }
    for (const language of LANGUAGES) {
      const { mail } = messagesFor(language)
      expect(mail.verifyEmail.body).toContain('{link}')
      expect(mail.verifyEmail.body).toContain('24')
      expect(mail.resetPassword.body).toContain('{link}')
      expect(mail.resetPassword.body).toContain('30')
      expect(mail.changeEmailConfirm.body).toContain('{link}')
      expect(mail.changeEmailConfirm.body).toContain('24')
      // To the old address: names the new one, carries no link.
      expect(mail.changeEmailNotice.body).toContain('{email}')
      expect(mail.changeEmailNotice.body).not.toContain('{link}')
    }
  })

  it('fills the placeholders of a mail', () => {
    const mail = renderMail(ko.mail.resetPassword, {
      link: 'https://auth.example/r#t',
      email: 'ann@example.com',
    })
    expect(mail.subject).toBe(ko.mail.resetPassword.subject)
    expect(mail.text).toContain('https://auth.example/r#t')
    expect(mail.text).toContain('ann@example.com')
    expect(mail.text).not.toMatch(/\{(link|email)\}/)
    expect(fillTemplate('{link} {email} {other}', { link: 'L' })).toBe('L {email} {other}')
    // A value is inserted as it is, never read as a pattern.
    expect(fillTemplate('{link}', { link: '$& $1 $$' })).toBe('$& $1 $$')
  })

  it('gives each kind of account mail in the language asked for, English otherwise', () => {
    const link = 'https://auth.example/v#t'
    const verify = mailText({ kind: 'verify-email', to: 'ann@example.com', language: 'ko-KR', link })
    expect(verify.subject).toBe(ko.mail.verifyEmail.subject)
    expect(verify.text).toContain(link)
    expect(verify.text).toContain('ann@example.com')
    const reset = mailText({ kind: 'reset-password', to: 'ann@example.com', language: undefined, link })
    expect(reset.subject).toBe(en.mail.resetPassword.subject)
    expect(reset.text).toContain('the Sesame account for ann@example.com')
    const notice = mailText({
      kind: 'change-email-notice',
      to: 'old@example.com',
      language: 'fr',
      link: null,
      newEmail: 'new@example.com',
    })
    expect(notice.subject).toBe(en.mail.changeEmailNotice.subject)
    expect(notice.text).toContain('to new@example.com')
    expect(notice.text).not.toContain('old@example.com')
    const odd = mailText({ kind: 'change-email-confirm', to: 'n@example.com', language: 'toString', link })
    expect(odd.subject).toBe(en.mail.changeEmailConfirm.subject)
  })

  it('every notice exists in every language, and only catalogue keys are read from ?notice=', () => {
    for (const key of Object.keys(en.notices)) {
      expect(isNoticeKey(key)).toBe(true)
      for (const language of LANGUAGES) {
        expect(readNotice({ notice: key }, messagesFor(language))?.text).toBe(
          messagesFor(language).notices[key as keyof Messages['notices']],
        )
      }
    }
    expect(readNotice({ notice: 'toString' }, en)).toBeNull()
    expect(readNotice({ notice: '<script>' }, en)).toBeNull()
    expect(readNotice({ notice: ['welcome'] }, en)).toBeNull()
    expect(noticeOf(new AuthError('identity_taken', 'x'))).toBe('identity_taken')
    expect(noticeOf(new Error('boom'))).toBe('unexpected')
  })

  it('has one catalogue per language', () => {
    expect(Object.keys(CATALOGUES).sort()).toEqual([...LANGUAGES].sort())
    expect(messagesFor('en')).toBe(en)
    expect(messagesFor('ko')).toBe(ko)
  })
})

describe('Accept-Language', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['ko', 'ko'],
    ['ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7', 'ko'],
    ['en-US,en;q=0.9,ko;q=0.8', 'en'],
    ['en;q=0.5, ko', 'ko'],
    ['ko;q=0.4, en;q=0.6', 'en'],
    ['fr-FR, de;q=0.9', 'en'],
    ['fr-FR, ko;q=0.1', 'ko'],
    ['ko;q=0, en;q=0.1', 'en'],
    ['ko;q=0', 'en'],
    ['*', 'en'],
    ['KO-kr', 'ko'],
    ['ko;q=bogus, en;q=0.1', 'en'],
    ['ko;q=1.5', 'en'],
    ['en;q=0.8, ko;q=0.8', 'en'],
    [',,;;,', 'en'],
  ])('%j → %s', (header, expected) => {
    expect(negotiateLanguage(header)).toBe(expected)
  })
})

describe('the engine refusals as the pages word them', () => {
  function refusal(run: () => unknown): AuthError {
    try {
      run()
    } catch (error) {
      if (error instanceof AuthError) return error
      throw error
    }
    throw new Error('expected a refusal')
  }

  it.each(LANGUAGES)('in %s, next to the field, with the rule that failed', (language) => {
    const messages = messagesFor(language)
    const { errors } = messages
    const cases: [AuthError, Record<string, string>][] = [
      [refusal(() => checkNewPassword('short')), { password: errors.passwordTooShort(8) }],
      [refusal(() => checkNewPassword('password')), { password: errors.passwordCommon }],
      [
        refusal(() => checkNewPassword('ann@example.com', { email: 'ann@example.com' })),
        { password: errors.passwordLikeEmail },
      ],
      [refusal(() => checkNewPassword('x'.repeat(300))), { password: errors.passwordTooLong(256) }],
      [refusal(() => normalizeEmail('not an address')), { email: errors.emailInvalid }],
      [refusal(() => normalizeEmail('ann\u200b@example.com')), { email: errors.emailInvisible }],
      [
        new AuthError('email_taken', 'An account with this email already exists.'),
        { email: errors.emailTaken },
      ],
      [
        new AuthError('invalid_credentials', 'The email or password is incorrect.'),
        { form: errors.invalidCredentials },
      ],
      [new AuthError('rate_limited', 'Too many sign-in attempts.'), { form: errors.rateLimited }],
      [
        refusal(() => readStringFields({ password: ['a', 'b'] }, ['password'])),
        { password: errors.passwordInvalid },
      ],
      [refusal(() => readStringFields('nonsense', ['email'])), { form: errors.generic }],
    ]
    for (const [error, expected] of cases) {
      expect(isFormError(error), error.message).toBe(true)
      expect(formErrorsOf(error, messages), error.message).toEqual(expected)
    }
  })

  it('on the change-password form, the new password and a wrong current one go to their fields', () => {
    const options = { passwordField: 'new_password', credentialsField: 'current_password' } as const
    expect(
      formErrorsOf(
        refusal(() => checkNewPassword('password')),
        ko,
        options,
      ),
    ).toEqual({
      new_password: ko.errors.passwordCommon,
    })
    expect(formErrorsOf(new AuthError('invalid_credentials', 'x'), ko, options)).toEqual({
      current_password: ko.errors.currentPasswordWrong,
    })
    expect(
      formErrorsOf(
        new AuthError('invalid_request', 'The "current_password" field is required.'),
        en,
        options,
      ),
    ).toEqual({ current_password: en.errors.currentPasswordRequired })
  })

  it('leaves errors that are not the person’s to fix to the error handler', () => {
    expect(isFormError(new AuthError('internal_error', 'x'))).toBe(false)
    expect(isFormError(new AuthError('csrf_rejected', 'x'))).toBe(false)
    expect(isFormError(new Error('x'))).toBe(false)
  })
})

describe('device names', () => {
  const device = (userAgent: string | null, kind: Device['kind'] = 'cookie'): Device => ({
    id: 'd',
    kind,
    userAgent,
    ip: null,
    createdAt: 0,
    lastSeenAt: 0,
    expiresAt: 0,
    current: false,
  })

  it.each([
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome on macOS',
      'macOS의 Chrome',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge on Windows',
      'Windows의 Edge',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
      'iOS의 Safari',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S921N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      'Samsung Internet on Android',
      'Android의 Samsung Internet',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      'Firefox on Linux',
      'Linux의 Firefox',
    ],
    ['curl/8.5.0', 'curl', 'curl'],
    [null, 'Unknown device', '알 수 없는 기기'],
  ])('%s', (userAgent, english, korean) => {
    expect(deviceName(device(userAgent), en)).toBe(english)
    expect(deviceName(device(userAgent), ko)).toBe(korean)
  })

  it('names an app by its product, and a token device without one "App"', () => {
    expect(deviceName(device('SesameNotes/2.1 (iPhone; iOS 18.1)', 'token'), en)).toBe('SesameNotes on iOS')
    expect(deviceName(device(null, 'token'), en)).toBe('App')
    expect(deviceName(device(null, 'token'), ko)).toBe('앱')
  })
})
