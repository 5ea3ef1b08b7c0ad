/**
 * The OAuth 2.0 side of the API: the token endpoint (RFC 6749 §4.3 password grant, §6 refresh), revocation
 * (RFC 7009), the JWKS, and authorization-server metadata (RFC 8414), so ordinary OAuth clients and resource
 * servers work with Sesame unchanged.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth, TokenGrant } from '../auth.js'
import { AuthError } from '../core/errors.js'
import type { CsrfGuard } from './csrf.js'
import { readRequiredStringFields, readStringFields } from './request-fields.js'
import { clientContext } from './session-request.js'

export interface TokenRoutesOptions {
  auth: Auth
  csrf: CsrfGuard
}

/** RFC 6749 §5.1: token responses must not be cached. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

export async function tokenRoutes(app: FastifyInstance, { auth, csrf }: TokenRoutesOptions): Promise<void> {
  const issuer = auth.config.tokens?.issuer ?? ''

  app.post('/auth/token', async (request, reply) => {
    csrf.refuseCrossOrigin(request)
    const fields = readStringFields(request.body, ['grant_type', 'username', 'password', 'refresh_token'])
    let grant: TokenGrant
    switch (fields.grant_type) {
      case undefined:
        throw new AuthError('invalid_request', 'The "grant_type" field is required.')
      case 'password': {
        const { username, password } = readRequiredStringFields(request.body, ['username', 'password'])
        grant = await auth.tokens.grantPassword({ username, password, ...clientContext(request) })
        break
      }
      case 'refresh_token': {
        const { refresh_token: refreshToken } = readRequiredStringFields(request.body, ['refresh_token'])
        grant = await auth.tokens.grantRefresh(refreshToken, request.ip)
        break
      }
      default:
        throw new AuthError(
          'unsupported_grant_type',
          'The "grant_type" must be "password" or "refresh_token".',
        )
    }
    return reply.headers(NO_STORE).send({
      access_token: grant.accessToken,
      token_type: grant.tokenType,
      expires_in: grant.expiresIn,
      refresh_token: grant.refreshToken,
    })
  })

  app.post('/auth/revoke', async (request, reply) => {
    csrf.refuseCrossOrigin(request)
    const { token } = readRequiredStringFields(request.body, ['token'])
    await auth.tokens.revoke(token, request.ip)
    return reply.headers(NO_STORE).code(200).send()
  })

  app.get('/.well-known/jwks.json', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(auth.tokens.jwks()),
  )

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').send({
      issuer,
      token_endpoint: `${issuer}/auth/token`,
      revocation_endpoint: `${issuer}/auth/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
    }),
  )
}
