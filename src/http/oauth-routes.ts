/**
 * The OpenID Connect side of the API: discovery (`/.well-known/openid-configuration`, and the RFC 8414
 * document, one description for both), the userinfo endpoint (Core §5.3) and token introspection (RFC 7662).
 * The authorization endpoint, with its pages, is in `pages/authorize-pages.ts`; the token and revocation
 * endpoints in `token-routes.ts`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Auth, RequestAuthentication } from '../auth.js'
import { AuthError } from '../core/errors.js'
import { STANDARD_SCOPES } from '../core/oauth-scope.js'
import { readClientCredentials } from './client-credentials.js'
import type { ClientDirectory } from './client-directory.js'
import { authenticationOf } from './pipeline.js'
import { readRequiredStringFields } from './request-fields.js'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** Discovery documents change only with a deployment or a newly registered scope. */
const DISCOVERY_CACHE = 'public, max-age=300'

export async function oauthRoutes(
  app: FastifyInstance,
  { auth, clients }: { auth: Auth; clients: ClientDirectory },
): Promise<void> {
  const policy = auth.config.tokens
  if (!policy) return
  const issuer = policy.issuer
  const endpoint = (path: string): string => `${issuer}${path}`

  // An HS256 key ring cannot sign ID tokens a client could verify: such a server is OAuth only.
  const openId = auth.authorization?.openIdAvailable === true

  /** The server's metadata (RFC 8414 §2, OpenID Connect Discovery §3), with the scopes clients are registered for. */
  async function metadata(): Promise<Record<string, unknown>> {
    const algorithms = [...new Set(auth.tokens.jwks().keys.map((key) => (key as { alg: string }).alg))]
    const scopes = new Set<string>(STANDARD_SCOPES)
    for (const scope of await clients.scopes()) scopes.add(scope)
    if (!openId) scopes.delete('openid')
    const clientAuth = ['none', 'client_secret_basic', 'client_secret_post']
    return {
      issuer,
      authorization_endpoint: endpoint('/auth/authorize'),
      token_endpoint: endpoint('/auth/token'),
      ...(openId && { userinfo_endpoint: endpoint('/auth/userinfo') }),
      jwks_uri: endpoint('/.well-known/jwks.json'),
      revocation_endpoint: endpoint('/auth/revoke'),
      introspection_endpoint: endpoint('/auth/introspect'),
      ...(openId && { end_session_endpoint: endpoint('/auth/end-session') }),
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        ...(auth.config.passwordGrant ? ['password'] : []),
      ],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [...scopes],
      subject_types_supported: ['public'],
      ...(openId && { id_token_signing_alg_values_supported: algorithms }),
      token_endpoint_auth_methods_supported: clientAuth,
      revocation_endpoint_auth_methods_supported: clientAuth,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'at_hash',
        'sid',
        'email',
        'email_verified',
      ],
      prompt_values_supported: ['none', 'login', 'consent'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      claims_parameter_supported: false,
    }
  }

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) =>
    reply.header('cache-control', DISCOVERY_CACHE).send(await metadata()),
  )

  if (openId) {
    app.get('/.well-known/openid-configuration', async (_request, reply) =>
      reply.header('cache-control', DISCOVERY_CACHE).send(await metadata()),
    )
  }

  // Core §5.3: GET or POST with the access token; `email` and `email_verified` as the scopes allow.
  const userinfo = async (request: FastifyRequest): Promise<Record<string, unknown>> => {
    const { principal } = authenticationOf<RequestAuthentication>(request)!
    if (principal.method !== 'token') {
      throw new AuthError('invalid_token', 'The userinfo endpoint takes an access token.', {
        reason: 'userinfo_without_token',
      })
    }
    const scopes = principal.scopes ?? []
    if (!scopes.includes('openid')) {
      throw new AuthError('insufficient_scope', 'The access token was not issued for OpenID Connect.')
    }
    const user = await auth.findUser(principal.userId)
    if (!user)
      throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'user_unavailable' })
    return {
      sub: user.id,
      ...(scopes.includes('email') && { email: user.email, email_verified: user.emailVerified }),
    }
  }
  app.get(
    '/auth/userinfo',
    { config: { auth: 'required', cors: 'client-origins', tokens: 'any-client' } },
    async (request, reply) => reply.headers(NO_STORE).send(await userinfo(request)),
  )
  app.post(
    '/auth/userinfo',
    { config: { auth: 'required', csrf: 'client-origins', cors: 'client-origins', tokens: 'any-client' } },
    async (request, reply) => reply.headers(NO_STORE).send(await userinfo(request)),
  )

  // RFC 7662 §2.1: only confidential clients, and each learns only about its own tokens.
  // A back end's call: no browser page needs it, so no CORS.
  app.post(
    '/auth/introspect',
    { config: { csrf: 'refuse-cross-origin', cors: 'none' } },
    async (request, reply) => {
      const { token } = readRequiredStringFields(request.body, ['token'])
      const client = await auth.clients.authenticate(readClientCredentials(request))
      if (client.type !== 'confidential') {
        throw new AuthError('invalid_client', 'Only confidential clients may introspect tokens.', {
          reason: 'public_client_introspection',
        })
      }
      return reply.headers(NO_STORE).send(await auth.tokens.introspect(token, client))
    },
  )
}
