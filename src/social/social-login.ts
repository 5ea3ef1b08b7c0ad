/**
 * Sign-in through providers, from the browser's side: start (the redirect to the provider, with the flow
 * state in a cookie) and complete (the callback checked against that cookie, claimed once, and handed to the
 * provider's validation). What the answer then does to accounts is the engine's (`engine/federation.ts`).
 */
import type { Clock } from '../core/clock.js'
import { type CookieDescription, readCookie } from '../core/cookie.js'
import { AuthError } from '../core/errors.js'
import type { ProviderProfile } from '../core/federation.js'
import { hashSecret, sameSecret } from '../core/hash.js'
import { generateSecretToken } from '../core/random.js'
import type { Store } from '../store/types.js'
import * as client from 'openid-client'
import { FLOW_LIFETIME_SECONDS, type FlowSealer, type FlowState, createFlowSealer } from './flow-state.js'
import type { SocialProvider } from './provider.js'

export interface SocialLogin {
  /** The configured providers, in configuration order (the login page's buttons). */
  readonly providers: readonly SocialProvider[]
  /** The provider with this id; throws `unknown_provider`. */
  provider(id: string): SocialProvider
  /** Starts a sign-in (or, with `link`, a link): the URL to send the browser to and the flow cookie. */
  start(
    providerId: string,
    input: { returnTo: string; link: FlowState['link'] },
  ): Promise<{ location: string; cookie: CookieDescription }>
  /**
   * Checks a callback against the browser's flow cookie and claims its state (single use): `query` is the
   * callback's raw query string, `cookieHeader` the request's. Throws `social_sign_in_failed` (no or bad flow
   * cookie, another provider's, another state, replayed, expired).
   */
  claimFlow(
    providerId: string,
    input: { query: string; cookieHeader: string | undefined },
  ): Promise<FlowState>
  /**
   * Completes a claimed flow at its provider: validates the answer in `query`, redeems the code, and reads
   * who signed in. Throws `social_sign_in_failed` (refused or cancelled there, failed validation) or
   * `provider_unavailable`.
   */
  finish(flow: FlowState, query: string): Promise<ProviderProfile>
  /** The cookie that clears the flow state (sent with every callback answer). */
  readonly blankFlowCookie: CookieDescription
}

export interface SocialLoginOptions {
  providers: readonly SocialProvider[]
  store: Pick<Store, 'claimOnce' | 'getOrCreateSecret'>
  clock: Clock
  /** `SESAME_ISSUER`: redirect URIs are `{issuer}/auth/social/{id}/callback`. */
  issuer: string
  /** Whether cookies are `Secure` (the session cookie's setting). */
  secureCookies: boolean
}

/** The store secret the flow state is encrypted under; created on first use, shared by every instance. */
const FLOW_KEY_SECRET = 'social-flow-key'

/** The redirect URI to register at a provider. */
export function redirectUriFor(issuer: string, providerId: string): string {
  return `${issuer.replace(/\/+$/, '')}/auth/social/${providerId}/callback`
}

export async function createSocialLogin(options: SocialLoginOptions): Promise<SocialLogin> {
  const { providers, store, clock } = options
  const byId = new Map(providers.map((provider) => [provider.id, provider]))
  const key = await store.getOrCreateSecret(FLOW_KEY_SECRET, generateSecretToken())
  const sealer: FlowSealer = createFlowSealer(Buffer.from(key, 'base64url'))
  // `__Host-`: a sibling subdomain cannot plant its own flow state, which would sign the victim into the
  // planter's account (login CSRF). It must then be Path=/.
  const cookieName = options.secureCookies ? '__Host-sesame-social' : 'sesame-social'
  const flowCookie = (value: string, maxAgeSeconds: number): CookieDescription => ({
    name: cookieName,
    value,
    httpOnly: true,
    secure: options.secureCookies,
    // Lax: the callback is a top-level navigation from the provider's site, which must carry it.
    sameSite: 'lax',
    path: '/',
    maxAgeSeconds,
  })

  function provider(id: string): SocialProvider {
    const found = byId.get(id)
    if (!found) throw new AuthError('unknown_provider', `No sign-in provider "${id}" is configured.`)
    return found
  }

  return {
    providers,
    provider,
    blankFlowCookie: flowCookie('', 0),

    async start(providerId, { returnTo, link }) {
      const chosen = provider(providerId)
      const flow: FlowState = {
        provider: chosen.id,
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
        returnTo,
        link,
        expiresAt: clock.nowSeconds() + FLOW_LIFETIME_SECONDS,
      }
      const location = chosen.authorizationUrl({
        redirectUri: redirectUriFor(options.issuer, chosen.id),
        state: flow.state,
        nonce: flow.nonce,
        codeChallenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      })
      return { location: location.href, cookie: flowCookie(await sealer.seal(flow), FLOW_LIFETIME_SECONDS) }
    },

    async claimFlow(providerId, { query, cookieHeader }) {
      const chosen = provider(providerId)
      const lookup = readCookie(cookieHeader, cookieName)
      if (lookup.status !== 'present') {
        throw new AuthError('social_sign_in_failed', 'The sign-in could not be verified; start again.', {
          reason: lookup.status === 'absent' ? 'missing_state_cookie' : 'duplicate_state_cookie',
        })
      }
      const now = clock.nowSeconds()
      const flow = await sealer.open(lookup.value, now)
      const state = new URLSearchParams(query).get('state') ?? ''
      if (flow.provider !== chosen.id || !sameSecret(state, flow.state)) {
        throw new AuthError('social_sign_in_failed', 'The sign-in could not be verified; start again.', {
          reason: flow.provider !== chosen.id ? 'other_provider_state' : 'state_mismatch',
        })
      }
      // Claimed before the code is redeemed: a replayed callback stops here, whatever the provider would do.
      if (!(await store.claimOnce(`social-state:${hashSecret(flow.state)}`, flow.expiresAt, now))) {
        throw new AuthError('social_sign_in_failed', 'This sign-in was already used; start again.', {
          reason: 'state_replayed',
        })
      }
      return flow
    },

    async finish(flow, query) {
      const chosen = provider(flow.provider)
      const callbackUrl = new URL(redirectUriFor(options.issuer, chosen.id))
      callbackUrl.search = query
      return chosen.finish({
        callbackUrl,
        state: flow.state,
        nonce: flow.nonce,
        codeVerifier: flow.codeVerifier,
      })
    },
  }
}
