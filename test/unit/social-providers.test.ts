/**
 * The provider presets (`social/presets.ts`) and the settings that choose them (`server/social-config.ts`):
 * the authorization URL each preset builds, and how each reads its provider's user API. The user-API answers
 * are fixtures of the shapes the providers document (linked in presets.ts): no real GitHub, Kakao or Naver can
 * run here. The protocol itself is tested against a real OpenID provider in test/integration/social-login.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/server/config.js'
import { readSocialSettings } from '../../src/server/social-config.js'
import { readGitHubProfile, readKakaoProfile, readNaverProfile } from '../../src/social/presets.js'
import { createSocialProvider } from '../../src/social/provider.js'

describe('preset authorization URLs', () => {
  const request = {
    redirectUri: 'https://auth.example.com/auth/social/x/callback',
    state: 'the-state',
    nonce: 'the-nonce',
    codeChallenge: 'the-challenge',
  }

  it.each([
    ['google', 'https://accounts.google.com/o/oauth2/v2/auth', 'openid email profile', true],
    ['github', 'https://github.com/login/oauth/authorize', 'read:user user:email', false],
    ['kakao', 'https://kauth.kakao.com/oauth/authorize', 'account_email', false],
    ['naver', 'https://nid.naver.com/oauth2.0/authorize', null, false],
  ] as const)('%s: code flow with PKCE S256 at %s', async (id, endpoint, scope, openid) => {
    const provider = await createSocialProvider({ id, clientId: 'client-1', clientSecret: 'secret-1' })
    const url = provider.authorizationUrl(request)
    expect(url.origin + url.pathname).toBe(endpoint)
    expect(provider.authorizationOrigin).toBe(new URL(endpoint).origin)
    const params = Object.fromEntries(url.searchParams)
    expect(params).toMatchObject({
      client_id: 'client-1',
      redirect_uri: request.redirectUri,
      response_type: 'code',
      state: 'the-state',
      code_challenge: 'the-challenge',
      code_challenge_method: 'S256',
    })
    expect(params['scope']).toBe(scope ?? undefined)
    // The nonce belongs to OpenID Connect's ID token; the plain OAuth providers would ignore it.
    expect(params['nonce']).toBe(openid ? 'the-nonce' : undefined)
    expect(url.searchParams.has('client_secret')).toBe(false)
  })
})

/** A user API served from fixtures, by URL. */
function reader(fixtures: Record<string, unknown>) {
  return async (url: string): Promise<unknown> => {
    if (!(url in fixtures)) throw new Error(`unexpected request to ${url}`)
    return fixtures[url]
  }
}

describe('reading the person from plain OAuth providers', () => {
  it('GitHub: the id from /user, the primary address from /user/emails, verified only if GitHub says so', async () => {
    const fixtures = {
      'https://api.github.com/user': { login: 'octocat', id: 583231, email: 'public@example.com' },
      'https://api.github.com/user/emails': [
        { email: 'old@example.com', verified: true, primary: false, visibility: null },
        { email: 'octocat@github.com', verified: true, primary: true, visibility: 'public' },
      ],
    }
    expect(await readGitHubProfile(reader(fixtures))).toEqual({
      subject: 583231,
      email: 'octocat@github.com',
      emailVerified: true,
    })
    fixtures['https://api.github.com/user/emails'][1]!.verified = false
    expect((await readGitHubProfile(reader(fixtures))).emailVerified).toBe(false)
  })

  it('Kakao: verified only when the address is both valid and verified', async () => {
    const body = {
      id: 123456789,
      kakao_account: {
        has_email: true,
        email_needs_agreement: false,
        is_email_valid: true,
        is_email_verified: true,
        email: 'sample@sample.com',
      },
    }
    const url = 'https://kapi.kakao.com/v2/user/me'
    expect(await readKakaoProfile(reader({ [url]: body }))).toEqual({
      subject: 123456789,
      email: 'sample@sample.com',
      emailVerified: true,
    })
    body.kakao_account.is_email_valid = false
    expect((await readKakaoProfile(reader({ [url]: body }))).emailVerified).toBe(false)
  })

  it('Naver: the person under "response", never counted as verified; an error result identifies nobody', async () => {
    const url = 'https://openapi.naver.com/v1/nid/me'
    const body = {
      resultcode: '00',
      message: 'success',
      response: { id: '32742776', email: 'openapi@naver.com', name: 'OpenAPI' },
    }
    expect(await readNaverProfile(reader({ [url]: body }))).toEqual({
      subject: '32742776',
      email: 'openapi@naver.com',
      emailVerified: false,
    })
    const refused = { resultcode: '024', message: 'Authentication failed' }
    expect((await readNaverProfile(reader({ [url]: refused }))).subject).toBeUndefined()
  })
})

describe('SESAME_SOCIAL_* settings', () => {
  const google = {
    SESAME_SOCIAL_PROVIDERS: 'google',
    SESAME_SOCIAL_GOOGLE_CLIENT_ID: 'id',
    SESAME_SOCIAL_GOOGLE_CLIENT_SECRET: 'secret',
  }

  function refusal(env: Record<string, string>): string {
    try {
      readSocialSettings(env)
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return (error as Error).message
    }
    throw new Error('expected a ConfigError')
  }

  it('reads presets and generic providers in the listed order', () => {
    const settings = readSocialSettings({
      ...google,
      SESAME_SOCIAL_PROVIDERS: 'corp, google',
      SESAME_SOCIAL_CORP_CLIENT_ID: 'corp-id',
      SESAME_SOCIAL_CORP_CLIENT_SECRET: 'corp-secret',
      SESAME_SOCIAL_CORP_ISSUER: 'https://id.corp.example',
      SESAME_SOCIAL_CORP_NAME: 'Corp',
    })
    expect(settings.map((entry) => [entry.id, entry.displayName, entry.issuer?.href])).toEqual([
      ['corp', 'Corp', 'https://id.corp.example/'],
      ['google', undefined, undefined],
    ])
    expect(readSocialSettings({})).toEqual([])
  })

  it.each([
    [
      { ...google, SESAME_SOCIAL_GOOGLE_CLIENT_SECRET: undefined },
      'Missing SESAME_SOCIAL_GOOGLE_CLIENT_SECRET',
    ],
    [
      { ...google, SESAME_SOCIAL_GOOGLE_SCOPE: 'x' },
      'Unknown environment variable SESAME_SOCIAL_GOOGLE_SCOPE',
    ],
    [{ ...google, SESAME_SOCIAL_GOOGLE_ISSUER: 'https://x.example' }, 'Invalid SESAME_SOCIAL_GOOGLE_ISSUER'],
    [
      { ...google, SESAME_SOCIAL_GITHUB_CLIENT_ID: 'x' },
      'Unknown environment variable SESAME_SOCIAL_GITHUB_CLIENT_ID',
    ],
    [{ ...google, SESAME_SOCIAL_PROVIDERS: 'google,google' }, 'Invalid SESAME_SOCIAL_PROVIDERS'],
    [{ ...google, SESAME_SOCIAL_PROVIDERS: 'Google' }, 'Invalid SESAME_SOCIAL_PROVIDERS'],
    [
      {
        SESAME_SOCIAL_PROVIDERS: 'corp',
        SESAME_SOCIAL_CORP_CLIENT_ID: 'i',
        SESAME_SOCIAL_CORP_CLIENT_SECRET: 's',
      },
      'Missing SESAME_SOCIAL_CORP_ISSUER',
    ],
    [
      {
        SESAME_SOCIAL_PROVIDERS: 'corp',
        SESAME_SOCIAL_CORP_CLIENT_ID: 'i',
        SESAME_SOCIAL_CORP_CLIENT_SECRET: 's',
        SESAME_SOCIAL_CORP_ISSUER: 'http://id.corp.example',
      },
      'Invalid SESAME_SOCIAL_CORP_ISSUER: must be https',
    ],
    [{ SESAME_SOCIAL_X_CLIENT_ID: 'i' }, 'no provider is listed in SESAME_SOCIAL_PROVIDERS'],
  ])('refuses with one line naming the variable: %#', (env, message) => {
    const defined = Object.fromEntries(
      Object.entries(env).filter(([, value]) => value !== undefined),
    ) as Record<string, string>
    const text = refusal(defined)
    expect(text).toContain(message)
    expect(text).not.toContain('\n')
    expect(text).not.toContain('secret')
  })

  it('allows http issuers on loopback hosts only', () => {
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000']) {
      const settings = readSocialSettings({
        SESAME_SOCIAL_PROVIDERS: 'dev',
        SESAME_SOCIAL_DEV_CLIENT_ID: 'i',
        SESAME_SOCIAL_DEV_CLIENT_SECRET: 's',
        SESAME_SOCIAL_DEV_ISSUER: issuer,
      })
      expect(settings[0]!.issuer?.protocol).toBe('http:')
    }
  })
})
