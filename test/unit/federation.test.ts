/** The pure rules of sign-in through providers (`core/federation.ts`). */
import { describe, expect, it } from 'vitest'
import { isAuthError } from '../../src/core/errors.js'
import { decideSignIn, readProviderProfile, safeReturnTo } from '../../src/core/federation.js'

describe('safeReturnTo', () => {
  it('keeps a path on this origin, with its query and fragment', () => {
    expect(safeReturnTo('/account', '/x')).toBe('/account')
    expect(safeReturnTo('/docs?page=2#top', '/x')).toBe('/docs?page=2#top')
    expect(safeReturnTo('/a/../b', '/x')).toBe('/b')
  })

  it.each([
    ['protocol-relative', '//evil.example/path'],
    ['backslash host', '/\\evil.example'],
    ['absolute URL', 'https://evil.example/'],
    ['javascript URL', 'javascript:alert(1)'],
    ['relative path', 'account'],
    ['tab inside (browsers drop it: /\t/evil.example is //evil.example)', '/\t/evil.example'],
    ['newline', '/a\nb'],
    ['dot segment before a second slash', '/.//evil.example/login'],
    ['dot-dot segment before a second slash', '/..//evil.example'],
    ['encoded dot segment', '/%2e//evil.example'],
    ['empty', ''],
    ['too long', `/${'a'.repeat(2048)}`],
  ])('falls back for %s', (_name, value) => {
    expect(safeReturnTo(value, '/account')).toBe('/account')
  })

  it('falls back for anything that is not a string (a repeated query parameter is an array)', () => {
    expect(safeReturnTo(['/a', '/b'], '/account')).toBe('/account')
    expect(safeReturnTo(undefined, '/account')).toBe('/account')
  })
})

describe('readProviderProfile', () => {
  const base = { provider: 'corp', subject: 'abc', email: 'Ann@Example.COM' }

  it('normalises the email and reads email_verified only as true or "true"', () => {
    expect(readProviderProfile({ ...base, emailVerified: true })).toEqual({
      provider: 'corp',
      subject: 'abc',
      email: 'ann@example.com',
      emailVerified: true,
    })
    expect(readProviderProfile({ ...base, emailVerified: 'true' }).emailVerified).toBe(true)
    for (const value of ['false', false, 1, 'yes', undefined, null]) {
      expect(readProviderProfile({ ...base, emailVerified: value }).emailVerified).toBe(false)
    }
  })

  it('takes numeric subjects (GitHub, Kakao) as text', () => {
    expect(readProviderProfile({ ...base, subject: 583231, emailVerified: true }).subject).toBe('583231')
  })

  it('drops an email Sesame would refuse, and with it any claim that it is verified', () => {
    const profile = readProviderProfile({ ...base, email: 'ann\u200b@example.com', emailVerified: true })
    expect(profile).toMatchObject({ email: null, emailVerified: false })
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'x'.repeat(256)],
    ['an object', { id: 1 }],
  ])('refuses a subject that is %s', (_name, subject) => {
    let caught: unknown
    try {
      readProviderProfile({ ...base, subject, emailVerified: true })
    } catch (error) {
      caught = error
    }
    expect(isAuthError(caught, 'social_sign_in_failed')).toBe(true)
  })
})

describe('decideSignIn: the linking rule', () => {
  const profile = { provider: 'corp', subject: 's', email: 'a@example.com', emailVerified: true }

  it('signs in the user an identity is linked to, whatever the email says', () => {
    expect(
      decideSignIn({
        profile,
        linkedUserId: 'u1',
        emailAccount: { id: 'u2', emailVerified: true, sameEmail: true },
      }),
    ).toEqual({ action: 'sign-in', userId: 'u1' })
  })

  it('creates an account when no account has the email', () => {
    expect(decideSignIn({ profile, linkedUserId: null, emailAccount: null })).toEqual({ action: 'create' })
  })

  it('links an existing account only when both the provider and the account verified the email', () => {
    expect(
      decideSignIn({
        profile,
        linkedUserId: null,
        emailAccount: { id: 'u2', emailVerified: true, sameEmail: true },
      }),
    ).toEqual({ action: 'link-and-sign-in', userId: 'u2' })
    for (const [providerVerified, localVerified] of [
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      expect(
        decideSignIn({
          profile: { ...profile, emailVerified: providerVerified },
          linkedUserId: null,
          emailAccount: { id: 'u2', emailVerified: localVerified, sameEmail: true },
        }),
      ).toEqual({ action: 'refuse', code: 'email_exists_unlinked' })
    }
  })

  it('never links a look-alike address implicitly (one email key, two spellings, maybe two mailboxes)', () => {
    expect(
      decideSignIn({
        profile,
        linkedUserId: null,
        emailAccount: { id: 'u2', emailVerified: true, sameEmail: false },
      }),
    ).toEqual({ action: 'refuse', code: 'email_exists_unlinked' })
  })

  it('refuses to create an account without an email', () => {
    expect(
      decideSignIn({
        profile: { ...profile, email: null, emailVerified: false },
        linkedUserId: null,
        emailAccount: null,
      }),
    ).toEqual({ action: 'refuse', code: 'social_email_missing' })
  })
})
