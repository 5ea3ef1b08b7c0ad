/**
 * The authorization endpoint's decisions (RFC 6749 §4.1, OpenID Connect Core §3.1.2): check a request against
 * the client registry, decide whether the person must sign in or consent first, and answer with a code or an
 * error on the client's redirect URI. Pages and routes (`http/pages/authorize-pages.ts`) only render what it
 * decides.
 */
import {
  type AuthorizationError,
  type AuthorizationRequest,
  type AuthorizationStep,
  type FreshSignIn,
  type UntrustedRequest,
  decideAuthorization,
  readAuthorizationParameters,
  readAuthorizationTarget,
} from '../core/authorization-request.js'
import { isDeviceRedirect, redirectUriMatches } from '../core/client-rules.js'
import type { Clock } from '../core/clock.js'
import { generateSecretToken } from '../core/random.js'
import { type SealedBox, createSealedBox } from '../core/sealed-box.js'
import type { OAuthClientRecord, Store } from '../store/types.js'
import type { ClientRegistry } from './clients.js'
import type { TokenEngine } from './tokens.js'

export type { AuthorizationRequest } from '../core/authorization-request.js'

/** A checked request: the client, and the request or the error to send to its redirect URI. */
export type AuthorizationCheck =
  | { status: 'valid'; client: OAuthClientRecord; request: AuthorizationRequest }
  | { status: 'redirect-error'; redirectUri: string; state: string | undefined; error: AuthorizationError }
  /** Shown to the person, never redirected: the client or redirect URI could not be trusted. */
  | { status: 'page-error'; problem: UntrustedRequest }

/** A checked RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2). */
export type LogoutCheck =
  | { status: 'page-error'; problem: 'invalid_hint' | 'logout_redirect_mismatch' }
  | {
      status: 'valid'
      /**
       * The session the client believes is signed in (`id_token_hint`'s subject and `sid`); null without a
       * hint. Only that very session may be ended without asking the person.
       */
      hinted: { userId: string; sessionId: string | undefined } | null
      /** Where to send the browser afterwards (with `state`); null: Sesame's own signed-out page. */
      redirect: string | null
    }

/** The browser's cookie session, as the authorization endpoint needs it. */
export interface AuthorizingSession {
  userId: string
  /** The session's public id (the ID token's `sid`). */
  sessionId: string
  /** When the person signed in (the session's start). */
  authTime: number
  /** How the person signed in (the session's methods). */
  amr: readonly string[]
}

export interface Authorization {
  /** False when ID tokens cannot be offered (an HS256 key ring): the `openid` scope is refused. */
  readonly openIdAvailable: boolean
  check(query: Record<string, unknown>): Promise<AuthorizationCheck>
  /**
   * What to do next for a valid request. `fresh` as {@link SuspendedRequest}'s, for a resumed request;
   * undefined for one that was not resumed.
   */
  decide(
    client: OAuthClientRecord,
    request: AuthorizationRequest,
    session: AuthorizingSession | null,
    fresh?: FreshSignIn | null,
  ): Promise<AuthorizationStep>
  /**
   * Seals a request that waits for the person (to sign in, or to answer the consent screen), for the login
   * page's `return_to` or the consent form: it comes back unchanged, with the sign-in it asked for (null:
   * any), so neither `prompt=login` nor `max_age` can be dropped on the way. Lives an hour.
   */
  suspend(query: Record<string, unknown>, fresh: FreshSignIn | null): Promise<string>
  /** The request in a sealed `resume` value, or null when it is not one of this server's or has expired. */
  resume(sealed: string): Promise<SuspendedRequest | null>
  /** Records the person's consent to the request's scopes (replacing an earlier one for this client). */
  consent(
    session: AuthorizingSession,
    client: OAuthClientRecord,
    request: AuthorizationRequest,
  ): Promise<void>
  /** The redirect that answers the request with a new code. */
  approve(request: AuthorizationRequest, session: AuthorizingSession): Promise<string>
  /** The redirect that answers with an error (RFC 6749 §4.1.2.1, with `iss`: RFC 9207). */
  refuse(redirectUri: string, state: string | undefined, error: AuthorizationError): string
  /**
   * Checks a logout request: a hint must be an ID token this server signed (for the named client, if one is
   * named), and a post-logout redirect URI must be registered by that client, exactly.
   */
  checkLogout(query: Record<string, unknown>): Promise<LogoutCheck>
  /** The apps `userId` allowed (third-party clients with a consent), by client id. */
  listApps(userId: string): Promise<AllowedApp[]>
  /**
   * Takes back what `userId` allowed `clientId`: its token families of the user end (with their access tokens)
   * first, then the consent goes, so a failure part-way leaves the consent to retry with. False when there
   * was neither.
   */
  removeApp(userId: string, clientId: string): Promise<boolean>
}

/** A request waiting for the person, as {@link Authorization.suspend} sealed it. */
export interface SuspendedRequest {
  query: Record<string, string>
  fresh: FreshSignIn | null
  expiresAt: number
}

/** Long enough to sign up, confirm the email and come back; the request is useless, and refused, afterwards. */
const SUSPENDED_LIFETIME_SECONDS = 3600

/** The store secret waiting requests are sealed under: its own, so nothing else sealed can pass for one. */
const SUSPENDED_KEY_SECRET = 'authorization-request-key'

/** An app a person allowed, for the account page. */
export interface AllowedApp {
  clientId: string
  name: string
  scopes: readonly string[]
  grantedAt: number
}

export function createAuthorization(options: {
  store: Store
  clock: Clock
  clients: ClientRegistry
  tokens: TokenEngine
  issuer: string
  /** False when ID tokens cannot be verified by clients (an HS256 key ring): `openid` is refused. */
  openIdAvailable: boolean
}): Authorization {
  const { store, clock, clients, tokens, issuer } = options
  let box: Promise<SealedBox<SuspendedRequest>> | null = null
  const suspended = (): Promise<SealedBox<SuspendedRequest>> =>
    (box ??= store
      .getOrCreateSecret(SUSPENDED_KEY_SECRET, generateSecretToken())
      .then((key) => createSealedBox<SuspendedRequest>(Buffer.from(key, 'base64url')))
      .catch((error: unknown) => {
        box = null // a store outage must not stick: the next request tries again
        throw error
      }))

  function answer(redirectUri: string, parameters: Record<string, string | undefined>): string {
    const url = new URL(redirectUri)
    for (const [name, value] of Object.entries({ ...parameters, iss: issuer })) {
      if (value !== undefined) url.searchParams.append(name, value)
    }
    return url.href
  }

  return {
    openIdAvailable: options.openIdAvailable,

    async check(query) {
      const target = readAuthorizationTarget(query)
      if ('problem' in target) return { status: 'page-error', problem: target.problem }
      const client = await clients.find(target.clientId)
      if (!client) return { status: 'page-error', problem: 'unknown_client' }
      if (!redirectUriMatches(client.redirectUris, target.redirectUri)) {
        return { status: 'page-error', problem: 'redirect_uri_mismatch' }
      }
      const state = typeof query['state'] === 'string' ? query['state'] : undefined
      const refused = (error: AuthorizationError): AuthorizationCheck => ({
        status: 'redirect-error',
        redirectUri: target.redirectUri,
        state,
        error,
      })
      const request = readAuthorizationParameters(query, target)
      if ('error' in request) return refused(request)
      const outside = request.scopes.find((scope) => !client.scopes.includes(scope))
      if (outside !== undefined) {
        return refused({ error: 'invalid_scope', description: `The client may not ask for "${outside}".` })
      }
      if (request.scopes.includes('openid') && !options.openIdAvailable) {
        return refused({
          error: 'invalid_scope',
          description: 'OpenID Connect needs an asymmetric signing key (SESAME_JWT_ALG is HS256).',
        })
      }
      return { status: 'valid', client, request }
    },

    async decide(client, request, session, fresh) {
      const consent =
        session && !client.firstParty ? await store.findConsent(session.userId, client.id) : null
      return decideAuthorization({
        request,
        session,
        now: clock.nowSeconds(),
        fresh,
        firstParty: client.firstParty,
        consented: consent !== null && request.scopes.every((scope) => consent.scopes.includes(scope)),
        alwaysAsk: client.type === 'public' && isDeviceRedirect(request.redirectUri),
      })
    },

    async suspend(query, fresh) {
      const strings = Object.fromEntries(
        Object.entries(query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
      const expiresAt = clock.nowSeconds() + SUSPENDED_LIFETIME_SECONDS
      return (await suspended()).seal({ query: strings, fresh, expiresAt })
    },

    async resume(sealed) {
      const request = sealed.length <= 4096 ? await (await suspended()).open(sealed) : null
      return request && request.expiresAt > clock.nowSeconds() ? request : null
    },

    async consent(session, client, request) {
      const earlier = await store.findConsent(session.userId, client.id)
      await store.putConsent({
        userId: session.userId,
        clientId: client.id,
        // What was allowed before stays allowed: a narrower request does not take it back.
        scopes: [...new Set([...(earlier?.scopes ?? []), ...request.scopes])],
        grantedAt: clock.nowSeconds(),
      })
    },

    async approve(request, session) {
      const code = await tokens.issueAuthorizationCode({
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        userId: session.userId,
        scopes: request.scopes,
        nonce: request.nonce,
        codeChallenge: request.codeChallenge,
        authTime: session.authTime,
        amr: session.amr,
        sessionId: session.sessionId,
      })
      return answer(request.redirectUri, { code, state: request.state })
    },

    refuse: (redirectUri, state, error) =>
      answer(redirectUri, { error: error.error, error_description: error.description, state }),

    async listApps(userId) {
      const consents = await store.listUserConsents(userId)
      const apps = await Promise.all(
        consents.map(async (consent) => ({
          clientId: consent.clientId,
          name: (await clients.find(consent.clientId))?.name ?? consent.clientId,
          scopes: consent.scopes,
          grantedAt: consent.grantedAt,
        })),
      )
      return apps
    },

    async removeApp(userId, clientId) {
      const families = (await store.listUserRefreshFamilies(userId)).filter(
        (family) => family.clientId === clientId && family.revokedAt === null,
      )
      let ended = false
      for (const family of families) ended = (await tokens.endFamily(userId, family.id)) || ended
      return (await store.deleteConsent(userId, clientId)) || ended
    },

    async checkLogout(query) {
      const text = (name: string): string | undefined => {
        const value = query[name]
        return typeof value === 'string' && value !== '' ? value : undefined
      }
      const hintToken = text('id_token_hint')
      const hint = hintToken === undefined ? null : tokens.readIdTokenHint(hintToken)
      const clientId = text('client_id') ?? hint?.aud
      if ((hintToken !== undefined && !hint) || (hint && clientId !== hint.aud)) {
        return { status: 'page-error', problem: 'invalid_hint' }
      }
      const uri = text('post_logout_redirect_uri')
      let redirect: string | null = null
      if (uri !== undefined) {
        const client = clientId === undefined ? null : await clients.find(clientId)
        if (!client?.postLogoutRedirectUris.includes(uri)) {
          return { status: 'page-error', problem: 'logout_redirect_mismatch' }
        }
        const url = new URL(uri)
        const state = text('state')
        if (state !== undefined) url.searchParams.append('state', state)
        redirect = url.href
      }
      return { status: 'valid', hinted: hint && { userId: hint.sub, sessionId: hint.sid }, redirect }
    },
  }
}
