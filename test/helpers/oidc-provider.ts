/**
 * A real OpenID provider for the social-login tests: panva's `oidc-provider` (OpenID Certified), on loopback,
 * with one registered client for Sesame and its development login and consent screens (any login name signs
 * in as that subject). It sits behind a small forwarding proxy that is its public address, so a test can
 * tamper with the ID token in a token response (re-signed with the provider's own key, as a compromised or
 * mixed-up provider would send it) to check that Sesame's validation refuses it.
 *
 * Also here: `driveProviderLogin`, which walks the provider's screens over plain HTTP (for tests without a
 * browser) and returns the callback URL the provider redirects to.
 */
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
  request as httpRequest,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { type JWK, SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'

export interface ProviderAccount {
  email?: string | undefined
  /** Sent as given: a boolean, or a string as some providers do. */
  email_verified?: boolean | string | undefined
}

export interface TestOidcProvider {
  /** The issuer (the proxy's address). */
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: string
  /** Claims per subject (the login name); a subject not listed gets `<sub>@example.test`, verified. */
  readonly accounts: Map<string, ProviderAccount>
  /** When set, every ID token in a token response is re-signed with these changes to its claims. */
  tamperIdToken: ((claims: Record<string, unknown>) => Record<string, unknown>) | null
  /** Re-sign tampered ID tokens with a key the provider never published (same `kid`) instead of its own. */
  signWithForeignKey: boolean
  close(): Promise<void>
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/** A free loopback port (listened on, then released): for a server whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer()
  const port = await listen(probe)
  await close(probe)
  return port
}

export async function startOidcProvider(options: {
  redirectUris: string[]
  clientId?: string
  clientSecret?: string
}): Promise<TestOidcProvider> {
  const clientId = options.clientId ?? 'sesame'
  const clientSecret = options.clientSecret ?? 'test-client-secret-0123456789abcdef'
  const accounts = new Map<string, ProviderAccount>()
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const foreign = await generateKeyPair('RS256')
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' }

  const proxy = createServer()
  const issuer = `http://127.0.0.1:${await listen(proxy)}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
    // Explicit lifetimes (the defaults print a notice each).
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    findAccount: async (_context, sub) => ({
      accountId: sub,
      claims: async () => {
        const account = accounts.get(sub) ?? { email: `${sub}@example.test`, email_verified: true }
        return { sub, ...account }
      },
    }),
  })
  // A failure inside the provider shows in the test output instead of only as a 500 page.
  provider.on('server_error', (_context, error) => process.stderr.write(`oidc-provider: ${String(error)}\n`))
  const handle = provider.callback()
  const inner = createServer((incoming, outgoing) => {
    void handle(incoming, outgoing)
  })
  const innerPort = await listen(inner)

  const state: Pick<TestOidcProvider, 'tamperIdToken' | 'signWithForeignKey'> = {
    tamperIdToken: null,
    signWithForeignKey: false,
  }
  proxy.on('request', (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: innerPort,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        const tamper = state.tamperIdToken
        if (!tamper || incoming.method !== 'POST' || !incoming.url?.startsWith('/token')) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
          return
        }
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
        })
        answer.on('end', () => {
          void (async () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
            if (typeof body['id_token'] === 'string') {
              const claims = tamper(decodeJwt(body['id_token']))
              body['id_token'] = await new SignJWT(claims)
                .setProtectedHeader({ alg: 'RS256', kid: jwk.kid! })
                .sign(state.signWithForeignKey ? foreign.privateKey : privateKey)
            }
            const text = JSON.stringify(body)
            const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) }
            outgoing.writeHead(answer.statusCode ?? 502, headers)
            outgoing.end(text)
          })()
        })
      },
    )
    upstream.on('error', () => {
      outgoing.writeHead(502)
      outgoing.end()
    })
    incoming.pipe(upstream)
  })

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    get tamperIdToken() {
      return state.tamperIdToken
    },
    set tamperIdToken(value) {
      state.tamperIdToken = value
    },
    get signWithForeignKey() {
      return state.signWithForeignKey
    },
    set signWithForeignKey(value) {
      state.signWithForeignKey = value
    },
    async close() {
      await close(proxy)
      await close(inner)
    },
  }
}

/** A tiny cookie jar: every cookie the provider set, sent back on every request to it. */
class CookieJar {
  private readonly cookies = new Map<string, string>()
  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';')
      const eq = pair!.indexOf('=')
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/**
 * Signs in at the provider as `login` from `authorizationUrl`, through its login and consent screens (or
 * cancels on the first screen with `cancel`), and returns the URL the provider redirects back to.
 */
export async function driveProviderLogin(
  authorizationUrl: string,
  login: string,
  options: { cancel?: boolean } = {},
): Promise<URL> {
  const jar = new CookieJar()
  let url = new URL(authorizationUrl)
  const origin = url.origin
  let body: URLSearchParams | null = null
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body && { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(body && { body }),
    })
    jar.store(response)
    body = null
    const location = response.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (next.origin !== origin) return next
      url = next
      continue
    }
    const page = await response.text()
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1]
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1]
    if (!action || !prompt)
      throw new Error(`unexpected provider page (${response.status}): ${page.slice(0, 200)}`)
    if (options.cancel) {
      url = new URL(`${url.pathname.replace(/\/$/, '')}/abort`, url)
      continue
    }
    url = new URL(action.replaceAll('&amp;', '&'), url)
    body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt })
  }
  throw new Error('the provider did not redirect back')
}
