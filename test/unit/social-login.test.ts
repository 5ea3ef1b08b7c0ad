/**
 * The browser side of a provider sign-in (`social/social-login.ts`) on its own: the flow cookie binds the
 * callback to the browser, is sealed (unreadable, unforgeable), expires, and its state is claimed once, before
 * the provider is ever asked. The provider here records calls and validates nothing: the protocol is tested
 * against a real OpenID provider in test/integration/social-login.test.ts, where the provider's own refusal
 * of a reused code would hide whether Sesame's claim works.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { type AuthError, isAuthError } from '../../src/core/errors.js'
import { createFlowSealer } from '../../src/social/flow-state.js'
import type { SocialProvider } from '../../src/social/provider.js'
import { type SocialLogin, createSocialLogin, redirectUriFor } from '../../src/social/social-login.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { createManualClock } from '../helpers/clock.js'

const clock = createManualClock()
let finished = 0
const provider: SocialProvider = {
  id: 'corp',
  displayName: 'Corp',
  authorizationOrigin: 'https://id.corp.example',
  authorizationUrl: ({ state }) => new URL(`https://id.corp.example/authorize?state=${state}`),
  finish: async () => {
    finished++
    return { provider: 'corp', subject: 's-1', email: 'a@example.com', emailVerified: true }
  },
}

let social: SocialLogin

beforeEach(async () => {
  finished = 0
  social = await createSocialLogin({
    providers: [provider],
    store: createMemoryStore(),
    clock,
    issuer: 'https://auth.example.com/',
    secureCookies: true,
  })
})

async function started(): Promise<{ cookie: string; state: string }> {
  const { location, cookie } = await social.start('corp', { returnTo: '/account', link: null })
  expect(cookie).toMatchObject({
    name: '__Host-sesame-social',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    path: '/',
  })
  return { cookie: `${cookie.name}=${cookie.value}`, state: new URL(location).searchParams.get('state')! }
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise
  } catch (error) {
    if (isAuthError(error)) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('the flow cookie and its single-use state', () => {
  it('completes once; the same callback and cookie again are refused before the provider is asked', async () => {
    const { cookie, state } = await started()
    const flow = await social.claimFlow('corp', { query: `code=c&state=${state}`, cookieHeader: cookie })
    expect(await social.finish(flow, `code=c&state=${state}`)).toMatchObject({ subject: 's-1' })
    const again = await refusal(
      social.claimFlow('corp', { query: `code=c&state=${state}`, cookieHeader: cookie }),
    )
    expect([again.code, again.reason]).toEqual(['social_sign_in_failed', 'state_replayed'])
    expect(finished).toBe(1)
  })

  it('refuses no cookie, another state, another provider, a forged or an expired cookie', async () => {
    const { cookie, state } = await started()
    const cases: Array<[string, string, string | undefined, string]> = [
      ['corp', `state=${state}`, undefined, 'missing_state_cookie'],
      ['corp', 'state=other', cookie, 'state_mismatch'],
      ['corp', `state=${state}`, `${cookie}; ${cookie}`, 'duplicate_state_cookie'],
      ['corp', `state=${state}`, `${cookie.slice(0, -4)}AAAA`, 'unreadable_state_cookie'],
    ]
    for (const [id, query, header, reason] of cases) {
      const error = await refusal(social.claimFlow(id, { query, cookieHeader: header }))
      expect([error.code, error.reason]).toEqual(['social_sign_in_failed', reason])
    }
    expect((await refusal(social.claimFlow('nope', { query: '', cookieHeader: cookie }))).code).toBe(
      'unknown_provider',
    )

    // A cookie sealed under another key (another deployment's) does not open either.
    const foreign = await createFlowSealer(new Uint8Array(32).fill(7)).seal({
      provider: 'corp',
      state,
      nonce: 'n',
      codeVerifier: 'v',
      returnTo: '/',
      link: null,
      expiresAt: clock.nowSeconds() + 60,
    })
    const error = await refusal(
      social.claimFlow('corp', { query: `state=${state}`, cookieHeader: `__Host-sesame-social=${foreign}` }),
    )
    expect(error.reason).toBe('unreadable_state_cookie')

    clock.advance(601)
    const late = await refusal(social.claimFlow('corp', { query: `state=${state}`, cookieHeader: cookie }))
    expect(late.reason).toBe('state_expired')
    expect(finished).toBe(0)
  })

  it('names the redirect URI after the issuer and the provider, and clears the cookie with Max-Age=0', () => {
    expect(redirectUriFor('https://auth.example.com/', 'corp')).toBe(
      'https://auth.example.com/auth/social/corp/callback',
    )
    expect(social.blankFlowCookie).toMatchObject({
      name: '__Host-sesame-social',
      value: '',
      maxAgeSeconds: 0,
    })
  })
})
