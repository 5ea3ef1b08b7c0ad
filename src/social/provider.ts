/**
 * One external sign-in provider, spoken to with `openid-client` (panva's certified OpenID Connect relying
 * party): the authorization URL with PKCE (S256), `state` and (OpenID) `nonce`; and the callback, whose
 * authorization response (`state`, RFC 9207 `iss`), token response and ID token (signature, `iss`, `aud`,
 * `exp`, `nonce`) the library validates before a profile is read. Nothing of the protocol is written here.
 * The provider's tokens are used once, to read the person, and never kept.
 */
import * as client from 'openid-client'
import { AuthError } from '../core/errors.js'
import { type ProviderProfile, readProviderProfile } from '../core/federation.js'
import { PRESETS, type Preset, type RawProfile, isPresetId } from './presets.js'

export interface ProviderSettings {
  /** The configured id: a preset's (`google`, …) or any other for a generic OpenID Connect provider. */
  id: string
  clientId: string
  clientSecret: string
  /** A generic provider's issuer; its metadata is discovered from `/.well-known/openid-configuration`. */
  issuer?: URL | undefined
  /** The button's name; default: the preset's, or the id. */
  displayName?: string | undefined
  /** Replaces parts of a preset (tests point one at a local stand-in); never read from the environment. */
  presetOverride?: Partial<Preset> | undefined
}

export interface SocialProvider {
  readonly id: string
  readonly displayName: string
  /** The origin the browser is sent to, which the pages' CSP must allow as a form target. */
  readonly authorizationOrigin: string
  /** Where to send the browser to sign in. */
  authorizationUrl(input: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): URL
  /**
   * Completes the sign-in from the callback URL (the redirect URI with the provider's query): validates the
   * response, redeems the code, and reads who signed in. Throws `social_sign_in_failed` (with the reason:
   * `access_denied`, a failed check, …) or `provider_unavailable`.
   */
  finish(input: {
    callbackUrl: URL
    state: string
    nonce: string
    codeVerifier: string
  }): Promise<ProviderProfile>
}

/** Seconds a call to the provider may take before the sign-in fails as `provider_unavailable`. */
const PROVIDER_TIMEOUT_SECONDS = 10

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** True for https URLs, and for http ones on a loopback host (development and tests only). */
export function isAllowedProviderUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
}

/**
 * Builds the provider; a generic one discovers its metadata now, so a bad issuer stops the start. Throws
 * `TypeError` naming what is wrong (the server turns it into a one-line configuration error).
 */
export async function createSocialProvider(settings: ProviderSettings): Promise<SocialProvider> {
  const preset =
    isPresetId(settings.id) && !settings.issuer
      ? { ...PRESETS[settings.id], ...settings.presetOverride }
      : null
  const config = preset
    ? new client.Configuration(
        preset.metadata,
        settings.clientId,
        settings.clientSecret,
        client.ClientSecretPost(settings.clientSecret),
      )
    : await discover(settings)
  const metadata = config.serverMetadata()
  for (const endpoint of [metadata.authorization_endpoint, metadata.token_endpoint]) {
    if (!endpoint || !isAllowedProviderUrl(new URL(endpoint))) {
      throw new TypeError('its authorization and token endpoints must be https URLs')
    }
  }
  if (usesPlainHttp(metadata)) client.allowInsecureRequests(config)
  config.timeout = PROVIDER_TIMEOUT_SECONDS

  const openid = preset ? preset.openid : true
  if (openid) {
    if (!metadata.jwks_uri) throw new TypeError('it publishes no jwks_uri to check ID tokens with')
    // TLS to the token endpoint already vouches for the ID token (OpenID Connect Core §3.1.3.7), and
    // `openid-client` stops there by default; its signature is checked against the provider's keys too, so a
    // token endpoint reached through a broken or intercepted TLS setup cannot hand Sesame a made-up person.
    client.enableNonRepudiationChecks(config)
  }

  const scope = preset ? preset.scope : 'openid email profile'
  const readProfile = preset?.readProfile
  const displayName = settings.displayName ?? preset?.displayName ?? settings.id

  async function readPerson(
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): Promise<RawProfile> {
    if (!openid) {
      if (!readProfile) throw new TypeError(`provider ${settings.id} has no way to read the person`)
      return readProfile((url) => readApi(config, tokens.access_token, url))
    }
    const claims = tokens.claims()
    if (!claims)
      throw new AuthError('social_sign_in_failed', 'The provider sent no ID token.', {
        reason: 'no_id_token',
      })
    if (typeof claims['email'] === 'string' || !metadata.userinfo_endpoint) {
      return { subject: claims.sub, email: claims['email'], emailVerified: claims['email_verified'] }
    }
    // Some providers put the email in the UserInfo answer only; it must be about the same subject.
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    return { subject: claims.sub, email: info.email, emailVerified: info.email_verified }
  }

  return {
    id: settings.id,
    displayName,
    authorizationOrigin: new URL(metadata.authorization_endpoint!).origin,

    authorizationUrl({ redirectUri, state, nonce, codeChallenge }) {
      return client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        response_type: 'code',
        ...(scope && { scope }),
        state,
        ...(openid && { nonce }),
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      })
    },

    async finish({ callbackUrl, state, nonce, codeVerifier }) {
      try {
        const tokens = await client.authorizationCodeGrant(
          config,
          callbackUrl,
          {
            pkceCodeVerifier: codeVerifier,
            expectedState: state,
            ...(openid ? { expectedNonce: nonce, idTokenExpected: true } : {}),
          },
          preset?.tokenParameters?.(state),
        )
        return readProviderProfile({ provider: settings.id, ...(await readPerson(tokens)) })
      } catch (error) {
        throw asAuthError(error)
      }
    },
  }
}

async function discover(settings: ProviderSettings): Promise<client.Configuration> {
  if (!settings.issuer) throw new TypeError('a provider that is not a preset needs an issuer')
  if (!isAllowedProviderUrl(settings.issuer)) {
    throw new TypeError('the issuer must be an https URL (http only on 127.0.0.1, localhost or [::1])')
  }
  const insecure = settings.issuer.protocol === 'http:'
  let config: client.Configuration
  try {
    config = await client.discovery(settings.issuer, settings.clientId, settings.clientSecret, undefined, {
      ...(insecure && { execute: [client.allowInsecureRequests] }),
      timeout: PROVIDER_TIMEOUT_SECONDS,
    })
  } catch (error) {
    throw new TypeError(`discovery at ${settings.issuer.href} failed: ${describeFailure(error)}`)
  }
  // Client authentication: the method the provider supports, preferring Basic (OpenID Connect's default).
  const methods = config.serverMetadata().token_endpoint_auth_methods_supported ?? ['client_secret_basic']
  const auth = methods.includes('client_secret_basic')
    ? client.ClientSecretBasic(settings.clientSecret)
    : methods.includes('client_secret_post')
      ? client.ClientSecretPost(settings.clientSecret)
      : null
  if (!auth) throw new TypeError('the provider supports neither client_secret_basic nor client_secret_post')
  if (
    !config.serverMetadata().code_challenge_methods_supported?.includes('S256') &&
    config.serverMetadata().code_challenge_methods_supported
  ) {
    throw new TypeError('the provider does not support PKCE with S256')
  }
  const rebuilt = new client.Configuration(
    config.serverMetadata(),
    settings.clientId,
    settings.clientSecret,
    auth,
  )
  return rebuilt
}

function usesPlainHttp(metadata: client.ServerMetadata): boolean {
  return [
    metadata.issuer,
    metadata.authorization_endpoint,
    metadata.token_endpoint,
    metadata.jwks_uri,
    metadata.userinfo_endpoint,
  ].some((url) => url !== undefined && new URL(url).protocol === 'http:')
}

/** GET `url` with the access token; the provider's JSON answer, or an error that ends the sign-in. */
async function readApi(config: client.Configuration, accessToken: string, url: string): Promise<unknown> {
  const response = await client.fetchProtectedResource(
    config,
    accessToken,
    new URL(url),
    'GET',
    undefined,
    // GitHub refuses requests without a User-Agent.
    new Headers({ accept: 'application/json', 'user-agent': 'sesame-auth' }),
  )
  if (response.status >= 500) {
    throw new AuthError('provider_unavailable', 'The provider could not be reached.', {
      reason: `user_api_status_${response.status}`,
    })
  }
  if (!response.ok) {
    throw new AuthError('social_sign_in_failed', 'The provider refused to tell who signed in.', {
      reason: `user_api_status_${response.status}`,
    })
  }
  return response.json()
}

/** The library's and the network's failures as Sesame's errors; the message never quotes a token. */
function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error
  if (error instanceof client.AuthorizationResponseError) {
    // The provider's own answer: `access_denied` when the person cancelled.
    return new AuthError('social_sign_in_failed', 'The sign-in was not completed at the provider.', {
      reason: error.error === 'access_denied' ? 'access_denied' : `provider_${error.error}`,
      cause: error,
    })
  }
  if (error instanceof client.ResponseBodyError) {
    return new AuthError('social_sign_in_failed', 'The provider refused the sign-in.', {
      reason: `token_${error.error}`,
      cause: error,
    })
  }
  if (isNetworkFailure(error)) {
    return new AuthError('provider_unavailable', 'The provider could not be reached.', {
      reason: 'network',
      cause: error,
    })
  }
  const code = error instanceof client.ClientError && error.code ? error.code : 'invalid_response'
  return new AuthError('social_sign_in_failed', "The provider's answer failed validation.", {
    reason: code,
    cause: error,
  })
}

function isNetworkFailure(error: unknown): boolean {
  for (
    let current = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return true
    if (current instanceof TypeError && current.message === 'fetch failed') return true
    if (current instanceof client.ClientError && current.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      const status = (current.cause as { status?: unknown } | undefined)?.status
      if (typeof status === 'number' && status >= 500) return true
    }
  }
  return false
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!.slice(0, 200)
  return 'unknown error'
}
