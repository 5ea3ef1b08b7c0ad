/**
 * The built-in providers: their endpoints, scopes, and how to read a person's id and email from their answers.
 * Google speaks OpenID Connect (the ID token is validated against its published keys); GitHub, Kakao and Naver
 * speak plain OAuth 2.0, so the person is read from their user APIs with the access token.
 * Endpoints are built in rather than discovered so that a start needs no network.
 */
import type { ServerMetadata } from 'openid-client'

/** What a provider's user API said, before `core/federation.ts` checks it. */
export interface RawProfile {
  subject: unknown
  email: unknown
  emailVerified: unknown
}

/** Reads JSON from the provider's API with the access token (a GET; throws on a non-2xx answer). */
export type ApiReader = (url: string) => Promise<unknown>

export interface Preset {
  displayName: string
  metadata: ServerMetadata
  scope: string
  /** OpenID Connect: the person comes from the validated ID token. */
  openid: boolean
  /** For plain OAuth providers: the person, from their user API. */
  readProfile?: (read: ApiReader) => Promise<RawProfile>
  /** Parameters the provider wants at its token endpoint beyond the standard ones. */
  tokenParameters?: (state: string) => Record<string, string>
}

/** The preset ids, as `SESAME_SOCIAL_PROVIDERS` names them. */
export const PRESET_IDS = ['google', 'github', 'kakao', 'naver'] as const
export type PresetId = (typeof PRESET_IDS)[number]

export function isPresetId(id: string): id is PresetId {
  return (PRESET_IDS as readonly string[]).includes(id)
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

/**
 * GitHub: `GET /user` for the id; the email from `GET /user/emails`, the primary address only if GitHub has
 * verified it (the profile's public `email` may be any address the user typed, verified or not).
 * https://docs.github.com/en/rest/users/emails
 */
export async function readGitHubProfile(
  read: ApiReader,
  apiBase = 'https://api.github.com',
): Promise<RawProfile> {
  const user = record(await read(`${apiBase}/user`))
  const emails = await read(`${apiBase}/user/emails`)
  const primary = Array.isArray(emails)
    ? emails.map(record).find((entry) => entry['primary'] === true)
    : undefined
  return {
    subject: user['id'],
    email: primary?.['email'],
    emailVerified: primary?.['verified'] === true,
  }
}

/**
 * Kakao: `GET /v2/user/me`; the email is usable only when Kakao says it is both valid and verified.
 * https://developers.kakao.com/docs/latest/en/kakaologin/rest-api#req-user-info
 */
export async function readKakaoProfile(
  read: ApiReader,
  apiBase = 'https://kapi.kakao.com',
): Promise<RawProfile> {
  const user = record(await read(`${apiBase}/v2/user/me`))
  const account = record(user['kakao_account'])
  return {
    subject: user['id'],
    email: account['email'],
    emailVerified: account['is_email_valid'] === true && account['is_email_verified'] === true,
  }
}

/**
 * Naver: `GET /v1/nid/me`, the person under `response`. Naver does not say whether the address was verified,
 * so it never counts as verified (it cannot link an existing account implicitly).
 * https://developers.naver.com/docs/login/profile/profile.md
 */
export async function readNaverProfile(
  read: ApiReader,
  apiBase = 'https://openapi.naver.com',
): Promise<RawProfile> {
  const body = record(await read(`${apiBase}/v1/nid/me`))
  if (body['resultcode'] !== '00') return { subject: undefined, email: undefined, emailVerified: false }
  const person = record(body['response'])
  return { subject: person['id'], email: person['email'], emailVerified: false }
}

export const PRESETS: Readonly<Record<PresetId, Preset>> = {
  google: {
    displayName: 'Google',
    // https://accounts.google.com/.well-known/openid-configuration
    metadata: {
      issuer: 'https://accounts.google.com',
      authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_endpoint: 'https://oauth2.googleapis.com/token',
      jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
      userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    },
    scope: 'openid email profile',
    openid: true,
  },
  github: {
    displayName: 'GitHub',
    // GitHub has no issuer identifier; this one only names it, and GitHub sends no `iss` to compare with.
    metadata: {
      issuer: 'https://github.com/login/oauth',
      authorization_endpoint: 'https://github.com/login/oauth/authorize',
      token_endpoint: 'https://github.com/login/oauth/access_token',
    },
    scope: 'read:user user:email',
    openid: false,
    readProfile: (read) => readGitHubProfile(read),
  },
  kakao: {
    displayName: 'Kakao',
    metadata: {
      issuer: 'https://kauth.kakao.com',
      authorization_endpoint: 'https://kauth.kakao.com/oauth/authorize',
      token_endpoint: 'https://kauth.kakao.com/oauth/token',
    },
    scope: 'account_email',
    openid: false,
    readProfile: (read) => readKakaoProfile(read),
  },
  naver: {
    displayName: 'Naver',
    metadata: {
      issuer: 'https://nid.naver.com',
      authorization_endpoint: 'https://nid.naver.com/oauth2.0/authorize',
      token_endpoint: 'https://nid.naver.com/oauth2.0/token',
    },
    scope: '',
    openid: false,
    readProfile: (read) => readNaverProfile(read),
    // Naver's token endpoint asks for the state again. (Its `expires_in` comes as a string, which
    // `openid-client` reads as the number it should be.)
    tokenParameters: (state) => ({ state }),
  },
}
