/**
 * The OAuth client registry: registering clients (a confidential client's secret is shown once and kept only
 * as a hash), finding them, and authenticating them at the token, revocation and introspection endpoints
 * (RFC 6749 §2.3: `client_secret_basic` or `client_secret_post`; public clients send only their id).
 *
 * Requests that name no client are today's first-party apps and SDK: they are the built-in client
 * {@link BUILT_IN_CLIENT_ID}, public and first-party, which cannot use redirects (it has none) and is not
 * stored, so it needs no registration and cannot be removed.
 */
import { CLIENT_ID_PATTERN, originProblem, redirectUriProblem } from '../core/client-rules.js'
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { hashSecret, sameSecret } from '../core/hash.js'
import { STANDARD_SCOPES, isScopeToken } from '../core/oauth-scope.js'
import { generateSecretToken } from '../core/random.js'
import { CLIENT_TAKEN, type OAuthClientRecord, type Store } from '../store/types.js'

export const BUILT_IN_CLIENT_ID = 'sesame'

/** Today's apps and SDK, which name no client. */
export const BUILT_IN_CLIENT: OAuthClientRecord = Object.freeze({
  id: BUILT_IN_CLIENT_ID,
  name: 'Sesame',
  type: 'public',
  redirectUris: [],
  postLogoutRedirectUris: [],
  origins: [],
  firstParty: true,
  scopes: [...STANDARD_SCOPES],
  secretHash: null,
  createdAt: 0,
})

export interface ClientRegistration {
  id: string
  /** Shown on the consent screen; defaults to the id. */
  name?: string | undefined
  confidential?: boolean | undefined
  redirectUris: readonly string[]
  postLogoutRedirectUris?: readonly string[] | undefined
  origins?: readonly string[] | undefined
  firstParty?: boolean | undefined
  /** Defaults to the standard scopes (`openid profile email offline_access`). */
  scopes?: readonly string[] | undefined
}

/** How a request to the token, revocation or introspection endpoint identified its client. */
export interface ClientCredentials {
  /** From the body's `client_id`, or the Basic user name. */
  clientId: string | undefined
  /** From the Basic password or the body's `client_secret`; undefined when none was sent. */
  secret: string | undefined
}

export interface ClientRegistry {
  /** Registers a client; a confidential one gets a secret, returned here once and never again. */
  register(registration: ClientRegistration): Promise<{ client: OAuthClientRecord; secret: string | null }>
  /** The client with this id (the built-in one included), or null. */
  find(clientId: string): Promise<OAuthClientRecord | null>
  list(): Promise<OAuthClientRecord[]>
  /** False if there was no such client. Its consents go with it; its tokens can no longer be refreshed. */
  remove(clientId: string): Promise<boolean>
  /**
   * The client these credentials prove: the built-in client when none is named; a registered public client
   * by its id alone; a confidential client only with its secret. Throws `invalid_client` otherwise.
   */
  authenticate(credentials: ClientCredentials): Promise<OAuthClientRecord>
}

export function createClientRegistry(options: { store: Store; clock: Clock }): ClientRegistry {
  const { store, clock } = options

  return {
    async register(registration) {
      const client = checkRegistration(registration)
      const secret = registration.confidential ? generateSecretToken() : null
      const record: OAuthClientRecord = {
        ...client,
        secretHash: secret === null ? null : hashSecret(secret),
        createdAt: clock.nowSeconds(),
      }
      const created = await store.createClient(record)
      if (created === CLIENT_TAKEN) {
        throw new AuthError('client_exists', `A client with the id "${record.id}" is registered already.`)
      }
      return { client: created, secret }
    },

    find: (clientId) =>
      clientId === BUILT_IN_CLIENT_ID ? Promise.resolve(BUILT_IN_CLIENT) : store.findClient(clientId),

    list: () => store.listClients(),

    remove: (clientId) => store.deleteClient(clientId),

    async authenticate({ clientId, secret }) {
      if (clientId === undefined) {
        if (secret !== undefined) throw invalidClient('secret_without_client_id')
        return BUILT_IN_CLIENT
      }
      const client = clientId === BUILT_IN_CLIENT_ID ? BUILT_IN_CLIENT : await store.findClient(clientId)
      if (!client) throw invalidClient('unknown_client')
      if (client.secretHash === null) {
        // A public client has no secret; one that sends a secret is misconfigured or not who it says.
        if (secret !== undefined) throw invalidClient('public_client_sent_secret')
        return client
      }
      if (secret === undefined) throw invalidClient('secret_missing')
      if (!sameSecret(hashSecret(secret), client.secretHash)) throw invalidClient('wrong_secret')
      return client
    },
  }
}

function invalidClient(reason: string): AuthError {
  return new AuthError('invalid_client', 'Client authentication failed.', { reason })
}

/** The registration as a record (without secret and time), or throws `invalid_request` naming the problem. */
function checkRegistration(input: ClientRegistration): Omit<OAuthClientRecord, 'secretHash' | 'createdAt'> {
  const refuse = (message: string): never => {
    throw new AuthError('invalid_request', message)
  }
  if (!CLIENT_ID_PATTERN.test(input.id)) {
    refuse('A client id is 1 to 64 letters, digits, ".", "_", "~" or "-".')
  }
  if (input.id === BUILT_IN_CLIENT_ID) refuse(`The client id "${BUILT_IN_CLIENT_ID}" is Sesame's own.`)
  const name = input.name ?? input.id
  if (name.trim() === '' || name.length > 100 || /[\p{Cc}\p{Cf}]/u.test(name)) {
    refuse('A client name is 1 to 100 printable characters.')
  }
  if (input.redirectUris.length === 0) refuse('A client needs at least one redirect URI.')
  const uris = (list: readonly string[] | undefined, what: string): string[] => {
    for (const uri of list ?? []) {
      const problem = redirectUriProblem(uri)
      if (problem) refuse(`The ${what} "${uri}" ${problem}.`)
    }
    return [...new Set(list ?? [])]
  }
  const origins = [...new Set(input.origins ?? [])]
  for (const origin of origins) {
    const problem = originProblem(origin)
    if (problem) refuse(`The origin "${origin}" ${problem}.`)
  }
  const scopes = [...new Set(input.scopes ?? STANDARD_SCOPES)]
  for (const scope of scopes) if (!isScopeToken(scope)) refuse(`The scope "${scope}" is malformed.`)
  return {
    id: input.id,
    name,
    type: input.confidential ? 'confidential' : 'public',
    redirectUris: uris(input.redirectUris, 'redirect URI'),
    postLogoutRedirectUris: uris(input.postLogoutRedirectUris, 'post-logout redirect URI'),
    origins,
    firstParty: input.firstParty ?? false,
    scopes,
  }
}
