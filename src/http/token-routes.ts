/**
 * The OAuth 2.0 side of the API: the token endpoint (RFC 6749 §4.3 password grant, §6 refresh), revocation
 * (RFC 7009), the JWKS, and authorization-server metadata (RFC 8414), so ordinary OAuth clients and resource
 * servers work with Sesame unchanged.
 *
 * Browsers in token mode may ask for `refresh_token_delivery=cookie`: the refresh token then travels in an
 * `HttpOnly` cookie scoped to `/auth` instead of the body, out of reach of page scripts. A refresh or
 * revocation that relies on that cookie is a cookie-authenticated state change, so it must prove same origin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, TokenGrant } from '../auth.js'
import { createRefreshTokenCookie, readCookie, refreshCookieName } from '../core/cookie.js'
import { AuthError, isAuthError } from '../core/errors.js'
import { JWKS_MAX_AGE_SECONDS, jwksMaxAgeSeconds } from '../core/token-policy.js'
import type { CsrfGuard } from './csrf.js'
import { setCookie } from './reply-cookies.js'
import { readRequiredStringFields, readStringFields } from './request-fields.js'
import { readClientCredentials } from './client-credentials.js'
import { clientContextOf } from './sign-in.js'

export interface TokenRoutesOptions {
  auth: Auth
  csrf: CsrfGuard
}

/** RFC 6749 §5.1: token responses must not be cached. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

export async function tokenRoutes(app: FastifyInstance, { auth, csrf }: TokenRoutesOptions): Promise<void> {
  // A verifier may keep the JWKS this long, so a rotated key must be published this long before it signs.
  const jwksCacheControl = `public, max-age=${auth.config.tokens ? jwksMaxAgeSeconds(auth.config.tokens) : JWKS_MAX_AGE_SECONDS}`

  const cookieOptions = auth.config.cookie
  const refreshCookieMaxAge = auth.config.tokens?.refreshAbsoluteSeconds ?? 0
  const clearRefreshCookie = (reply: FastifyReply): void =>
    setCookie(reply, createRefreshTokenCookie(cookieOptions, '', 0))

  /** The refresh token in the request's cookie, or undefined; a repeated cookie is refused, never guessed. */
  function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
    const lookup = readCookie(request.headers.cookie, refreshCookieName(cookieOptions))
    if (lookup.status === 'duplicate') {
      throw new AuthError('invalid_request', 'The refresh-token cookie was sent more than once.')
    }
    if (lookup.status === 'absent' || lookup.value === '') return undefined
    csrf.requireSameOrigin(request) // an ambient credential: only this origin's pages may use it
    return lookup.value
  }

  // Neither reads an ambient credential unless the refresh-token cookie is used, which then asks for same origin.
  // Browser apps of registered clients call both from their own origins.
  const NO_AMBIENT_CREDENTIAL = { config: { csrf: 'client-origins', cors: 'client-origins' } } as const

  app.post('/auth/token', NO_AMBIENT_CREDENTIAL, async (request, reply) => {
    const fields = readStringFields(request.body, [
      'grant_type',
      'username',
      'password',
      'refresh_token',
      'refresh_token_delivery',
      'scope',
      'code',
      'redirect_uri',
      'code_verifier',
    ])
    const delivery = fields.refresh_token_delivery
    if (delivery !== undefined && delivery !== 'body' && delivery !== 'cookie') {
      throw new AuthError('invalid_request', 'The "refresh_token_delivery" must be "body" or "cookie".')
    }
    if (fields.grant_type === undefined) {
      throw new AuthError('invalid_request', 'The "grant_type" field is required.')
    }
    const client = await auth.clients.authenticate(readClientCredentials(request))
    const from = { client, ...clientContextOf(request) }
    let grant: TokenGrant
    let inCookie = delivery === 'cookie'
    switch (fields.grant_type) {
      case 'authorization_code': {
        // A refresh token in a cookie is a browser credential: setting it is a sign-in, so login CSRF applies.
        if (inCookie) csrf.requireSameOrigin(request)
        const {
          code,
          redirect_uri: redirectUri,
          code_verifier: codeVerifier,
        } = readRequiredStringFields(request.body, ['code', 'redirect_uri', 'code_verifier'])
        grant = await auth.tokens.grantAuthorizationCode({ ...from, code, redirectUri, codeVerifier })
        break
      }
      case 'password': {
        if (inCookie) csrf.requireSameOrigin(request)
        // The origins registered apps name may call this endpoint for their code and refresh grants, but a
        // password typed into a page of theirs is no first-party sign-in: the plain rule applies.
        else csrf.refuseCrossOrigin(request)
        const { username, password } = readRequiredStringFields(request.body, ['username', 'password'])
        grant = await auth.tokens.grantPassword({ ...from, username, password, scope: fields.scope })
        break
      }
      case 'refresh_token': {
        const fromCookie = fields.refresh_token === undefined ? refreshTokenFromCookie(request) : undefined
        const refreshToken = fields.refresh_token ?? fromCookie
        if (refreshToken === undefined) {
          throw new AuthError('invalid_request', 'The "refresh_token" field is required.')
        }
        // A token that came in the cookie goes back in the cookie, always: handing its successor to the body
        // would give page scripts what the cookie keeps from them (and leave a rotated-out token in the cookie).
        if (fromCookie !== undefined && delivery === 'body') {
          throw new AuthError(
            'invalid_request',
            'A refresh token sent in the cookie is renewed in the cookie; "refresh_token_delivery" cannot be "body".',
          )
        }
        inCookie = delivery === 'cookie' || fromCookie !== undefined
        try {
          grant = await auth.tokens.grantRefresh(refreshToken, {
            client,
            ...clientContextOf(request),
            scope: fields.scope,
          })
        } catch (error) {
          if (fromCookie !== undefined && isAuthError(error, 'invalid_grant')) clearRefreshCookie(reply)
          throw error
        }
        break
      }
      default:
        throw new AuthError(
          'unsupported_grant_type',
          'The "grant_type" must be "authorization_code", "refresh_token" or "password".',
        )
    }
    const { refreshToken } = grant
    if (inCookie && refreshToken !== null)
      setCookie(reply, createRefreshTokenCookie(cookieOptions, refreshToken, refreshCookieMaxAge))
    return reply.headers(NO_STORE).send({
      access_token: grant.accessToken,
      token_type: grant.tokenType,
      expires_in: grant.expiresIn,
      ...(grant.scope !== '' && { scope: grant.scope }),
      ...(refreshToken !== null && !inCookie && { refresh_token: refreshToken }),
      ...(grant.idToken !== undefined && { id_token: grant.idToken }),
    })
  })

  app.post('/auth/revoke', NO_AMBIENT_CREDENTIAL, async (request, reply) => {
    const { token } = readStringFields(request.body ?? {}, ['token']) // with the cookie, no body is needed
    const client = await auth.clients.authenticate(readClientCredentials(request))
    const fromCookie = token === undefined ? refreshTokenFromCookie(request) : undefined
    const revoked = token ?? fromCookie
    if (revoked === undefined) throw new AuthError('invalid_request', 'The "token" field is required.')
    await auth.tokens.revoke(revoked, request.ip, client)
    if (fromCookie !== undefined) clearRefreshCookie(reply)
    return reply.headers(NO_STORE).code(200).send()
  })

  app.get('/.well-known/jwks.json', async (_request, reply) =>
    reply.header('cache-control', jwksCacheControl).send(auth.tokens.jwks()),
  )
}
