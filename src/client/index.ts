/**
 * The Sesame client: signs in, attaches the access token to API calls, and refreshes it the careful way: once
 * for many concurrent callers (single flight), once for many tabs (a Web Lock plus a BroadcastChannel), before
 * it expires and again on a 401, and signs the user out cleanly when the refresh token is refused. Runs in
 * browsers and React Native style runtimes: it uses only `fetch` and, when present, `navigator.locks` and
 * `BroadcastChannel`; nothing from Node.
 *
 * ```js
 * const sesame = createSesameClient({ baseUrl: 'https://auth.example.com' })
 * await sesame.signIn('ada@example.com', password)
 * const answer = await sesame.fetch('https://api.example.com/notes')
 * ```
 * Modes: `token` (default) keeps the access token in memory and, in browsers, the refresh token in an
 * HttpOnly cookie the server sets (`refreshTokenIn: 'cookie'`, no script can read it); native apps keep it in
 * a secure-storage adapter (`refreshTokenIn: 'storage'`). `cookie` mode uses Sesame's cookie session instead:
 * nothing to refresh, the server slides the session.
 */

/** Where tokens are kept between calls (and, for persistent adapters, between launches). */
export interface TokenStorage {
  get(key: string): Promise<string | null> | string | null
  set(key: string, value: string): Promise<void> | void
  remove(key: string): Promise<void> | void
}

/** The default: tokens live only as long as this page or process. Safest against XSS; lost on reload. */
export function memoryStorage(): TokenStorage {
  const values = new Map<string, string>()
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  }
}

/**
 * Keeps tokens in `window.localStorage`. **Warning:** any script running on the page (an XSS hole, a
 * compromised dependency) can read localStorage and send the tokens elsewhere, where they work until they
 * expire. Prefer the default memory storage with `refreshTokenIn: 'cookie'`; choose this only knowingly.
 */
export function localStorageStorage(storage: {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}): TokenStorage {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    remove: (key) => storage.removeItem(key),
  }
}

/**
 * Adapts a native secure store (iOS Keychain / Android Keystore wrappers such as Expo SecureStore or
 * react-native-keychain) given as async get/set/delete functions.
 */
export function secureStorage(store: {
  getItem(key: string): Promise<string | null>
  setItem(key: string, value: string): Promise<void>
  deleteItem(key: string): Promise<void>
}): TokenStorage {
  return {
    get: (key) => store.getItem(key),
    set: (key, value) => store.setItem(key, value),
    remove: (key) => store.deleteItem(key),
  }
}

/** Why the client signed out: asked to, the server refused the refresh token, or another tab signed out. */
export type SignOutReason = 'signed_out' | 'session_ended' | 'other_tab'

export type ClientState =
  { status: 'signed-in'; userId: string | null } | { status: 'signed-out'; reason: SignOutReason | null }

export interface SesameClientOptions {
  /** Sesame's base URL, e.g. `https://auth.example.com` (for same-origin pages: `location.origin`). */
  baseUrl: string
  /** `token` (default) or `cookie`. */
  mode?: 'token' | 'cookie'
  /** Token mode: `cookie` (default in browsers: an HttpOnly cookie) or `storage` (default elsewhere). */
  refreshTokenIn?: 'cookie' | 'storage'
  /** Default {@link memoryStorage}. */
  storage?: TokenStorage
  /** Refresh this many seconds before the access token expires. Default 30. */
  refreshBeforeSeconds?: number
  /** Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Shares refreshes between tabs with Web Locks and BroadcastChannel when the runtime has them. Default true. */
  coordinateTabs?: boolean
  /** Names the lock, channel and storage keys, so two clients on one origin keep apart. Default `sesame`. */
  name?: string
  /**
   * The redirect flow (OAuth 2.1 code flow with PKCE): this app's registered client id (`sesame clients add`)
   * and redirect URI. Without them the client is Sesame's built-in first-party one (password sign-in).
   */
  clientId?: string
  redirectUri?: string
}

/** What {@link SesameClient.signInWithRedirect} asks for. */
export interface RedirectOptions {
  /** Default `openid offline_access`. */
  scope?: string
  /** `login` forces a fresh sign-in; `consent` shows the consent screen again; `none` never shows a page. */
  prompt?: 'none' | 'login' | 'consent'
  loginHint?: string
  /** Default: `location.assign` (browsers). Native apps open the URL in the system browser. */
  navigate?: (url: string) => void | Promise<void>
}

/** Where a password sign-in stands: done, or (cookie mode, an account with a second factor) one step to go. */
export type SignInStep =
  | { status: 'signed-in' }
  /** Ask for a code (`methods`: `totp`, `recovery_code`, …), then call {@link SesameClient.completeSignIn}. */
  | { status: 'second-factor-required'; methods: string[] }

export interface SesameClient {
  /**
   * Signs in with email and password. In cookie mode an account with a second factor answers
   * `second-factor-required`: the sign-in waits (five minutes) for {@link completeSignIn}. Throws
   * {@link SesameClientError} (e.g. `invalid_grant`, `rate_limited`); token mode's password grant refuses an
   * account with a second factor (`invalid_grant`: use {@link signInWithRedirect}).
   */
  signIn(email: string, password: string): Promise<SignInStep>
  /**
   * Cookie mode: finishes a sign-in that answered `second-factor-required`, with a code from the authenticator
   * app or a recovery code. Throws {@link SesameClientError} (`invalid_second_factor`, `rate_limited`).
   */
  completeSignIn(proof: { code: string } | { recoveryCode: string }): Promise<void>
  /**
   * Sends the browser to Sesame's sign-in (the authorization endpoint), with PKCE and `state` kept in session
   * storage for {@link handleRedirect}. Needs `clientId` and `redirectUri`.
   */
  signInWithRedirect(options?: RedirectOptions): Promise<void>
  /**
   * On the redirect URI's page: checks `state` and the issuer (RFC 9207), exchanges the code, and signs in.
   * Resolves to false when `url` is no answer to a redirect of this client. Throws {@link SesameClientError}
   * with the server's `error` (e.g. `access_denied`) or `invalid_state`.
   */
  handleRedirect(url?: string): Promise<boolean>
  /** Ends the session (revokes the refresh token, or deletes the cookie session) and forgets the tokens. */
  signOut(): Promise<void>
  /**
   * `fetch` with the access token attached (token mode) or the cookie sent (cookie mode). Refreshes first when
   * the token is about to expire, and once more on a 401; signs out when the refresh token is refused.
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>
  /**
   * Token mode: loads a session from storage or the refresh cookie (after a reload); resolves to whether one
   * was found. Cookie mode: asks the server whether the cookie is still good.
   */
  restore(): Promise<boolean>
  readonly state: ClientState
  /** Calls `listener` on every state change; returns the function that stops it. */
  subscribe(listener: (state: ClientState) => void): () => void
  /** Stops listening to other tabs. */
  close(): void
}

/** A refusal from Sesame, with its stable error code. */
export class SesameClientError extends Error {
  override readonly name = 'SesameClientError'
  readonly code: string
  readonly status: number
  constructor(code: string, message: string, status: number) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** What Web Locks offers (not in every runtime's types). */
interface LockManager {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

interface TokenSet {
  accessToken: string
  /** Unix seconds, from the token's `exp` (or `expires_in`). */
  expiresAt: number
  userId: string | null
  refreshToken?: string
}

type TabMessage =
  | { type: 'refreshing' }
  | { type: 'refreshed'; tokens: TokenSet }
  | { type: 'refresh-failed' }
  | { type: 'signed-out' }

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const REQUEST_TIMEOUT_MS = 15_000
const OTHER_TAB_WAIT_MS = 5000

export function createSesameClient(options: SesameClientOptions): SesameClient {
  if (typeof options?.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
    throw new TypeError('Option "baseUrl" must be an http(s) URL.')
  }
  const base = options.baseUrl.replace(/\/$/, '')
  const mode = options.mode ?? 'token'
  if (mode !== 'token' && mode !== 'cookie') throw new TypeError('Option "mode" must be "token" or "cookie".')
  const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined'
  const refreshIn = options.refreshTokenIn ?? (inBrowser ? 'cookie' : 'storage')
  const storage = options.storage ?? memoryStorage()
  const refreshBefore = options.refreshBeforeSeconds ?? 30
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init))
  const name = options.name ?? 'sesame'
  const storageKey = `${name}:tokens`
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel
  // Tabs share the refresh cookie, so they must share its rotations; a refresh token in per-client storage
  // (native apps) belongs to that one client, and nothing is shared.
  const coordinate =
    options.coordinateTabs !== false && refreshIn === 'cookie' && locks !== undefined && Channel !== undefined
  const channel = coordinate ? new Channel(`${name}:tabs`) : null

  let tokens: TokenSet | null = null
  let state: ClientState = { status: 'signed-out', reason: null }
  let refreshing: Promise<TokenSet | null> | null = null
  // Bumped by every sign-out: a refresh that started before one must not sign the user back in.
  let generation = 0
  /** Set when another tab announces a refresh; resolved when it reports the result. */
  let otherTabRefresh: { done: Promise<void>; finish: () => void } | null = null
  const listeners = new Set<(state: ClientState) => void>()

  function setState(next: ClientState): void {
    state = next
    for (const listener of listeners) listener(next)
  }

  async function keep(next: TokenSet | null): Promise<void> {
    tokens = next
    if (next === null) await storage.remove(storageKey)
    // Only what must survive a reload is stored: with the refresh token in a cookie, nothing is.
    else if (refreshIn === 'storage') await storage.set(storageKey, JSON.stringify(next))
  }

  async function signedOut(reason: SignOutReason, tell = true): Promise<void> {
    generation++
    await keep(null)
    if (tell) channel?.postMessage({ type: 'signed-out' } satisfies TabMessage)
    if (state.status !== 'signed-out' || state.reason !== reason) setState({ status: 'signed-out', reason })
  }

  channel?.addEventListener('message', (event: Event) => {
    const message = (event as Event & { data: TabMessage }).data
    if (message.type === 'refreshing') {
      let finish!: () => void
      const done = new Promise<void>((resolve) => (finish = resolve))
      otherTabRefresh = { done, finish }
    } else if (message.type === 'refreshed') {
      tokens = message.tokens // the refresh token itself stays in the shared cookie
      if (state.status !== 'signed-in') setState({ status: 'signed-in', userId: message.tokens.userId })
      otherTabRefresh?.finish()
    } else if (message.type === 'refresh-failed') {
      otherTabRefresh?.finish()
    } else if (message.type === 'signed-out') {
      otherTabRefresh?.finish()
      void signedOut('other_tab', false)
    }
  })

  const clientId = options.clientId
  const redirectUri = options.redirectUri
  const pendingKey = `${name}:redirect`
  // The pending redirect outlives the page (it is read after the round trip) but not the tab.
  const pendingStorage: TokenStorage =
    typeof (globalThis as { sessionStorage?: unknown }).sessionStorage === 'object'
      ? localStorageStorage(
          (globalThis as unknown as { sessionStorage: Parameters<typeof localStorageStorage>[0] })
            .sessionStorage,
        )
      : storage

  async function post(path: string, body: Record<string, string>): Promise<Response> {
    return doFetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Grants are bound to the client that got them: a registered app names itself in every call.
      body: JSON.stringify(clientId === undefined ? body : { ...body, client_id: clientId }),
      credentials: 'include',
      // A hung request must not hold the refresh lock (and so every tab) for ever.
      ...(typeof AbortSignal !== 'undefined' &&
        typeof AbortSignal.timeout === 'function' && { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
    })
  }

  async function failure(response: Response): Promise<SesameClientError> {
    const body = (await response.json().catch(() => ({}))) as { error?: string; error_description?: string }
    return new SesameClientError(
      body.error ?? 'unknown_error',
      body.error_description ?? `HTTP ${response.status}`,
      response.status,
    )
  }

  function tokenSetFrom(body: {
    access_token: string
    expires_in: number
    refresh_token?: string
  }): TokenSet {
    const claims = readClaims(body.access_token)
    return {
      accessToken: body.access_token,
      // By this device's clock, from `expires_in`: the token's `exp` is the server's, and clocks disagree.
      expiresAt: nowSeconds() + body.expires_in,
      userId: typeof claims.sub === 'string' ? claims.sub : null,
      ...(body.refresh_token && { refreshToken: body.refresh_token }),
    }
  }

  /** One refresh against the server. Null when the refresh token was refused (and the client signed out). */
  async function refreshNow(): Promise<TokenSet | null> {
    const startedIn = generation
    const body: Record<string, string> = { grant_type: 'refresh_token' }
    if (refreshIn === 'storage') {
      // The stored one is the latest: another client on the same storage may have rotated it.
      const refreshToken = (await loadStored())?.refreshToken ?? tokens?.refreshToken
      if (!refreshToken) {
        await signedOut('session_ended')
        return null
      }
      body.refresh_token = refreshToken
    }
    const response = await post('/auth/token', body)
    if (startedIn !== generation) return null // signed out meanwhile: drop whatever came back
    if (!response.ok) {
      const error = await failure(response)
      // invalid_grant: rotated away, revoked (log out everywhere) or expired. invalid_request: no cookie.
      if (error.code === 'invalid_grant' || (error.code === 'invalid_request' && refreshIn === 'cookie')) {
        await signedOut('session_ended')
        return null
      }
      throw error // throttled, store down: the session may well be fine, so keep it
    }
    const next = tokenSetFrom(
      (await response.json()) as { access_token: string; expires_in: number; refresh_token?: string },
    )
    await keep(next)
    if (state.status !== 'signed-in') setState({ status: 'signed-in', userId: next.userId })
    return next
  }

  /** A refresh shared by every caller in this tab and, with Web Locks, by every tab of the origin. */
  function refresh(stale: TokenSet | null): Promise<TokenSet | null> {
    // The caller's token may already have been replaced (its 401 arrived after someone else's refresh).
    if (tokens && tokens !== stale && isFresh(tokens)) return Promise.resolve(tokens)
    refreshing ??= (async () => {
      try {
        if (!coordinate) return await refreshNow()
        return await locks.request(`${name}:refresh`, async () => {
          // Another tab may have refreshed while this one waited for the lock: use its token.
          if (otherTabRefresh) await within(otherTabRefresh.done, OTHER_TAB_WAIT_MS)
          otherTabRefresh = null
          if (tokens && tokens !== stale && isFresh(tokens)) return tokens
          if (state.status === 'signed-out' && state.reason === 'other_tab') return null
          channel!.postMessage({ type: 'refreshing' } satisfies TabMessage)
          let next: TokenSet | null = null
          try {
            next = await refreshNow()
          } finally {
            // Every outcome is told, so no tab waits on a refresh that failed.
            const outcome: TabMessage = next
              ? { type: 'refreshed', tokens: withoutRefreshToken(next) }
              : { type: 'refresh-failed' }
            if (next || state.status === 'signed-in') channel!.postMessage(outcome)
          }
          return next
        })
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  function isFresh(set: TokenSet): boolean {
    return set.expiresAt - refreshBefore > nowSeconds()
  }

  async function loadStored(): Promise<TokenSet | null> {
    const text = await storage.get(storageKey)
    if (!text) return null
    try {
      return JSON.parse(text) as TokenSet
    } catch {
      return null
    }
  }

  /** A grant that signs in (password, authorization code): keeps the tokens and tells the other tabs. */
  async function signInByGrant(grant: Record<string, string>): Promise<void> {
    const response = await post('/auth/token', {
      ...grant,
      refresh_token_delivery: refreshIn === 'cookie' ? 'cookie' : 'body',
    })
    if (!response.ok) throw await failure(response)
    const next = tokenSetFrom(
      (await response.json()) as { access_token: string; expires_in: number; refresh_token?: string },
    )
    await keep(next)
    channel?.postMessage({ type: 'refreshed', tokens: withoutRefreshToken(next) } satisfies TabMessage)
    setState({ status: 'signed-in', userId: next.userId })
  }

  async function authorizedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    if (mode === 'cookie') {
      const response = await doFetch(input, { ...init, credentials: 'include' })
      if (response.status === 401) await signedOut('session_ended')
      return response
    }
    const send = (set: TokenSet): Promise<Response> => {
      const headers = new Headers(init.headers)
      headers.set('authorization', `Bearer ${set.accessToken}`)
      return doFetch(input, { ...init, headers })
    }
    let current = tokens
    if (!current || !isFresh(current)) current = await refresh(current)
    if (!current) throw new SesameClientError('signed_out', 'Not signed in.', 401)
    const response = await send(current)
    if (response.status !== 401 || !/invalid_token/.test(response.headers.get('www-authenticate') ?? ''))
      return response
    // Refused although fresh by our clock (revoked, or clocks disagree): one refresh, one retry.
    const renewed = await refresh(current)
    if (!renewed) return response
    return send(renewed)
  }

  return {
    async signIn(email, password) {
      if (mode === 'cookie') {
        const response = await post('/auth/session', { email, password })
        if (!response.ok) throw await failure(response)
        const body = (await response.json()) as {
          user?: { id?: string }
          second_factor_required?: boolean
          methods?: string[]
        }
        if (body.second_factor_required === true) {
          return { status: 'second-factor-required', methods: body.methods ?? [] }
        }
        setState({ status: 'signed-in', userId: body.user?.id ?? null })
        return { status: 'signed-in' }
      }
      await signInByGrant({ grant_type: 'password', username: email, password })
      return { status: 'signed-in' }
    },

    async completeSignIn(proof) {
      if (mode !== 'cookie') {
        throw new TypeError('completeSignIn is for cookie mode: token mode signs in with signInWithRedirect.')
      }
      const response = await post(
        '/auth/session/second-factor',
        'code' in proof ? { code: proof.code } : { recovery_code: proof.recoveryCode },
      )
      if (!response.ok) throw await failure(response)
      const { user } = (await response.json()) as { user?: { id?: string } }
      setState({ status: 'signed-in', userId: user?.id ?? null })
    },

    async signInWithRedirect(redirect = {}) {
      if (clientId === undefined || redirectUri === undefined) {
        throw new TypeError('signInWithRedirect needs the options "clientId" and "redirectUri".')
      }
      const verifier = randomText(32)
      const state = randomText(16)
      await pendingStorage.set(pendingKey, JSON.stringify({ verifier, state }))
      const url = new URL(`${base}/auth/authorize`)
      const parameters: Record<string, string | undefined> = {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        scope: redirect.scope ?? 'openid offline_access',
        state,
        code_challenge: await sha256Base64url(verifier),
        code_challenge_method: 'S256',
        prompt: redirect.prompt,
        login_hint: redirect.loginHint,
      }
      for (const [key, value] of Object.entries(parameters)) if (value) url.searchParams.set(key, value)
      const navigate =
        redirect.navigate ??
        ((target: string) =>
          (globalThis as unknown as { location: { assign(url: string): void } }).location.assign(target))
      await navigate(url.href)
    },

    async handleRedirect(url = (globalThis as { location?: { href: string } }).location?.href ?? '') {
      const answer = new URL(url)
      const params = answer.searchParams
      const pending = await pendingStorage.get(pendingKey)
      if (!pending || !(params.has('code') || params.has('error'))) return false
      await pendingStorage.remove(pendingKey) // one answer per redirect, whatever it says
      const { verifier, state } = JSON.parse(pending) as { verifier: string; state: string }
      // RFC 9700 §4.7 (CSRF) and RFC 9207 (mix-up): the answer must be to our request, from our server.
      if (params.get('state') !== state) {
        throw new SesameClientError('invalid_state', 'The sign-in answer is not for this request.', 400)
      }
      if (params.get('iss') !== base) {
        throw new SesameClientError('invalid_issuer', 'The sign-in answer comes from another server.', 400)
      }
      const error = params.get('error')
      if (error !== null) {
        throw new SesameClientError(error, params.get('error_description') ?? error, 400)
      }
      await signInByGrant({
        grant_type: 'authorization_code',
        code: params.get('code')!,
        redirect_uri: redirectUri!,
        code_verifier: verifier,
      })
      return true
    },

    async signOut() {
      try {
        if (mode === 'cookie') {
          await doFetch(`${base}/auth/session`, { method: 'DELETE', credentials: 'include' })
        } else {
          const refreshToken = tokens?.refreshToken ?? (await loadStored())?.refreshToken
          await post('/auth/revoke', refreshToken ? { token: refreshToken } : {})
        }
      } finally {
        await signedOut('signed_out')
      }
    },

    fetch: authorizedFetch,

    async restore() {
      if (mode === 'cookie') {
        const response = await authorizedFetch(`${base}/auth/me`)
        if (!response.ok) return false
        const { user } = (await response.json()) as { user?: { id?: string } }
        setState({ status: 'signed-in', userId: user?.id ?? null })
        return true
      }
      const stored = refreshIn === 'storage' ? await loadStored() : null
      if (stored && isFresh(stored)) {
        tokens = stored
        setState({ status: 'signed-in', userId: stored.userId })
        return true
      }
      if (stored) tokens = stored
      return (await refresh(tokens)) !== null
    },

    get state() {
      return state
    },

    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    close() {
      channel?.close()
    },
  }
}

/** Tabs share access tokens only; a refresh token kept in storage stays with its own tab's storage. */
function withoutRefreshToken({ accessToken, expiresAt, userId }: TokenSet): TokenSet {
  return { accessToken, expiresAt, userId }
}

/** The claims of a JWT, read without checking it (the server checks; the client only needs `exp` and `sub`). */
function readClaims(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? ''
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const json = decodeURIComponent(
      Array.from(atob(base64), (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    )
    const claims: unknown = JSON.parse(json)
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** Waits for `promise`, at most `ms`, and leaves no timer behind. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** `bytes` random bytes as base64url (a PKCE verifier from 32: 43 characters, RFC 7636 §4.1). */
function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** RFC 7636 §4.2: the S256 challenge of `verifier`. */
async function sha256Base64url(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))))
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}
