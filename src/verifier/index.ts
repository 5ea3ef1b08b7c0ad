/**
 * The resource-server verifier: checks Sesame access tokens in a service that only receives them, with the
 * server's own strict rules (`core/access-token.ts`) and speed (no I/O per request), and with its revocations.
 *
 * Asymmetric keys only (ES256, EdDSA, RS256): with HS256 every verifier would hold the signing secret.
 *
 * - Keys: the JWKS is fetched at start and every `jwksRefreshSeconds`; a token naming an unknown `kid`
 *   triggers a refetch in the background (at most once per 10 s) and is refused meanwhile. A key that leaves the
 *   JWKS stops verifying at the next fetch. When Sesame is down the last keys keep verifying, so tokens work
 *   until they expire.
 * - Revocations: with `revocationFeed`, the verifier holds Sesame's `GET /auth/revocations` stream open and
 *   applies every entry to its own list, so "log out everywhere" reaches it within milliseconds. After a
 *   disconnect it reconnects (1 s, growing to 5 s) and the stream begins with a full snapshot, so nothing
 *   revoked meanwhile is missed once it is back. **Staleness bound:** while the feed is down, a revocation made
 *   then is unknown here until the feed returns, and never longer than the token's own lifetime (Sesame's
 *   access tokens live at most 1 h, 15 min by default); `status()` tells whether the feed is connected.
 */
import { createParser } from 'eventsource-parser'
import type { AccessTokenClaims, AccessTokenRules } from '../core/access-token.js'
import { authenticateBearer } from '../core/bearer.js'
import { type Clock, systemClock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import type { CookieDescription } from '../core/cookie.js'
import { type PublishedKeys, importPublishedKeys } from '../core/key-ring.js'
import { KeySource } from '../core/key-source.js'
import type { Principal } from '../core/principal.js'
import { RevocationList } from '../core/revocation-list.js'
import { VerifiedTokenCache } from '../core/verified-token-cache.js'
import { isRevocationEvent, parseChangeEvent, parseRevocationSnapshot } from '../core/change-event.js'

export interface VerifierOptions {
  /** The `iss` tokens must carry: Sesame's `SESAME_ISSUER`. Also the base of the default URLs. */
  issuer: string
  /** The `aud` tokens must name: Sesame's `SESAME_AUDIENCE`. */
  audience: string
  /** Where the public keys are. Default `${issuer}/.well-known/jwks.json`. https, or http to a loopback host. */
  jwksUri?: string
  /** Seconds between JWKS fetches, 1 to 86400. Default 300 (Sesame serves it with `max-age=300`). */
  jwksRefreshSeconds?: number
  /** Sesame's revocation stream and its secret (`SESAME_REVOCATION_FEED_TOKEN`). Without it, none is followed. */
  revocationFeed?: {
    token: string
    /** Default `${issuer}/auth/revocations`. https, or http to a loopback host. */
    url?: string
    /**
     * Fail closed: refuse every token once the feed has been down (or never up) this many seconds, instead of
     * trusting revocations that may be stale. Default: never; tokens then verify on cached revocations.
     */
    maxStalenessSeconds?: number
  }
  /** Clock skew tolerated on `exp`, `nbf`, `iat`, in seconds. Default 30; at most 60. */
  leewaySeconds?: number
  /** Longest token accepted, in characters, 256 to 65536. Default 4096. */
  maxTokenLength?: number
  /**
   * Longest lifetime (`exp - iat`) accepted, in seconds, 1 to 3600; `leewaySeconds` is added. Default 3600, the
   * most Sesame issues (`SESAME_ACCESS_TTL_SECONDS`); set it to Sesame's own setting to refuse anything longer
   * than Sesame's tokens, which only a stolen signing key can mint.
   */
  maxTokenLifetimeSeconds?: number
  /** Allows http URLs to hosts other than loopback (a network attacker could then swap the keys). Default false. */
  allowInsecureHttp?: boolean
  /** Told about background failures (fetches, feed drops); they never throw. */
  onError?: (error: unknown) => void
  /** Default: the global `fetch`. */
  fetch?: typeof fetch
  clock?: Clock
}

export interface VerifierStatus {
  /** Keys that verify now. */
  kids: readonly string[]
  /** When the JWKS was last fetched successfully (Unix seconds), or null. */
  keysFetchedAt: number | null
  /** `off` without a feed configured; `connected` once the stream's snapshot has arrived. */
  feed: 'off' | 'connecting' | 'connected' | 'disconnected'
}

export interface Verifier {
  /** Resolves once keys (and, with a feed, the first snapshot) are loaded; rejects if `timeoutMs` passes first. */
  ready(timeoutMs?: number): Promise<void>
  /** Verifies an `Authorization` header value. Synchronous, no I/O. Throws `invalid_token`. */
  verifyAuthorization(authorization: string): { claims: AccessTokenClaims; principal: Principal }
  /** For the middleware: the bearer principal, or null without an `Authorization` header (cookies are not ours). */
  authenticate(headers: {
    authorization?: string | undefined
  }): Promise<{ principal: Principal; cookie: CookieDescription | null } | null>
  status(): VerifierStatus
  /** Stops the timers and the feed. */
  close(): Promise<void>
}

const UNKNOWN_KID_REFETCH_SECONDS = 10
const FEED_RETRY_MS = [1000, 2000, 5000]
/** The server pings every 15 s: silence for this long means the connection is dead. */
const FEED_SILENCE_MS = 45_000
const FETCH_TIMEOUT_MS = 5000

/** Creates the verifier and starts loading keys. Bad options throw `TypeError` now. */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('createVerifier needs options.')
  const insecure = options.allowInsecureHttp === true
  const issuer = options.issuer
  // The exact issuer is what tokens must carry; the default URLs build on it.
  const base = requireUrl(issuer, 'issuer', true).replace(/\/$/, '')
  if (typeof options.audience !== 'string' || options.audience === '')
    throw new TypeError('Option "audience" must be a non-empty string.')
  const jwksUri = requireUrl(options.jwksUri ?? `${base}/.well-known/jwks.json`, 'jwksUri', insecure)
  const leewaySeconds = wholeNumber(options.leewaySeconds ?? 30, 'leewaySeconds', 0, 60)
  const refreshSeconds = wholeNumber(options.jwksRefreshSeconds ?? 300, 'jwksRefreshSeconds', 1, 86_400)
  const maxTokenLength = wholeNumber(options.maxTokenLength ?? 4096, 'maxTokenLength', 256, 65_536)
  const maxLifetimeSeconds = wholeNumber(
    options.maxTokenLifetimeSeconds ?? 3600,
    'maxTokenLifetimeSeconds',
    1,
    3600,
  )
  const feedOptions = options.revocationFeed
  if (feedOptions && (typeof feedOptions.token !== 'string' || feedOptions.token.length < 32))
    throw new TypeError('Option "revocationFeed.token" must be the feed secret (at least 32 characters).')
  const feedUrl =
    feedOptions && requireUrl(feedOptions.url ?? `${base}/auth/revocations`, 'revocationFeed.url', insecure)
  const maxStaleness =
    feedOptions?.maxStalenessSeconds === undefined
      ? null
      : wholeNumber(feedOptions.maxStalenessSeconds, 'revocationFeed.maxStalenessSeconds', 1, 86_400)
  const doFetch = options.fetch ?? fetch
  const clock = options.clock ?? systemClock
  const reportError = options.onError ?? ((): void => {})

  const rules: AccessTokenRules = {
    issuer,
    audience: options.audience,
    leewaySeconds,
    maxTokenLength,
    maxLifetimeSeconds,
  }
  const revocations = new RevocationList()
  const verified = new VerifiedTokenCache()
  let keysFetchedAt: number | null = null
  let feedState: VerifierStatus['feed'] = feedOptions ? 'connecting' : 'off'
  // Since when revocations may be stale (Unix seconds): from the start until the first snapshot, and from
  // every disconnect until the next one.
  let feedDownSince: number | null = clock.nowSeconds()
  let closed = false
  const stop = new AbortController()

  let keysLoaded!: () => void
  const keysReady = new Promise<void>((resolve) => (keysLoaded = resolve))
  let snapshotLoaded!: () => void
  const snapshotReady = feedOptions
    ? new Promise<void>((resolve) => (snapshotLoaded = resolve))
    : Promise.resolve()

  // Shared with the token engine: overlapping fetches never let an older answer replace a newer one, and an
  // unknown kid refetches in the background at most every 10 s.
  const keys = new KeySource<PublishedKeys>({
    load: (current) => (closed && current ? Promise.resolve(current) : fetchJwks()),
    clock,
    unknownKeyReloadSeconds: UNKNOWN_KID_REFETCH_SECONDS,
    onError: reportError,
    onReplace: () => {
      verified.clear() // a key may have left, or changed under its kid: nothing verified by the old set stays
      keysFetchedAt = clock.nowSeconds()
      keysLoaded()
    },
  })

  /** The keys the JWKS holds now. */
  async function fetchJwks(): Promise<PublishedKeys> {
    const response = await doFetch(jwksUri, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
    })
    if (!response.ok) throw new Error(`JWKS fetch from ${jwksUri} answered ${response.status}.`)
    const body = (await response.json()) as { keys?: unknown }
    if (!Array.isArray(body?.keys)) throw new Error(`JWKS from ${jwksUri} has no "keys" array.`)
    // The same import rules as `sesame token decode --jwks`: asymmetric keys bound to one algorithm only.
    return importPublishedKeys(body.keys as unknown[], reportError)
  }

  function refreshKeys(): void {
    if (!closed) keys.reload().catch(reportError)
  }
  refreshKeys()
  const refreshTimer = setInterval(() => {
    refreshKeys()
    revocations.prune(clock.nowSeconds()) // entries end with the tokens they kill
  }, refreshSeconds * 1000)
  refreshTimer.unref()

  /**
   * Applies one feed message: the snapshot (`event: snapshot`) or a single entry. Both are read with the same
   * checks as the store's change feed (`core/change-event.ts`): a malformed entry is dropped, and a message that
   * is no snapshot at all ends the connection (its reconnect starts from a new one) rather than counting as one.
   */
  function applyFeedMessage(event: string | undefined, data: string): void {
    if (event !== 'snapshot') {
      const entry = parseChangeEvent(data)
      if (entry && isRevocationEvent(entry)) revocations.apply(entry)
      return
    }
    const entries = parseRevocationSnapshot(data)
    if (!entries) throw new Error('The revocation feed sent a malformed snapshot.')
    for (const entry of entries) revocations.apply(entry)
    feedState = 'connected'
    feedDownSince = null
    snapshotLoaded()
  }

  /** Reads the feed until it ends or goes silent. */
  async function readFeed(url: string, token: string): Promise<void> {
    const silence = new AbortController()
    let silenceTimer = setTimeout(() => silence.abort(), FEED_SILENCE_MS)
    try {
      const response = await doFetch(url, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
        signal: AbortSignal.any([stop.signal, silence.signal]),
      })
      if (!response.ok || !response.body)
        throw new Error(`Revocation feed ${url} answered ${response.status}.`)
      const parser = createParser({ onEvent: (message) => applyFeedMessage(message.event, message.data) })
      const decoder = new TextDecoder()
      for await (const chunk of response.body) {
        clearTimeout(silenceTimer)
        silenceTimer = setTimeout(() => silence.abort(), FEED_SILENCE_MS)
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }))
      }
    } finally {
      clearTimeout(silenceTimer)
    }
  }

  async function followFeed(url: string, token: string): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await readFeed(url, token)
        attempt = 0 // it was up: the next reconnect starts fast again
      } catch (error) {
        if (closed) return
        reportError(error)
      }
      if (feedState === 'connected') feedDownSince = clock.nowSeconds()
      feedState = 'disconnected'
      await sleep(FEED_RETRY_MS[Math.min(attempt, FEED_RETRY_MS.length - 1)]!, stop.signal)
    }
  }
  const feedLoop = feedOptions && feedUrl ? followFeed(feedUrl, feedOptions.token) : Promise.resolve()

  // Built once, not per request.
  const bearer = {
    resolveKey: keys.resolveKey,
    rules,
    revocations,
    verified,
    onUnknownKey: keys.onUnknownKey,
  }

  function verifyAuthorization(authorization: string): { claims: AccessTokenClaims; principal: Principal } {
    const now = clock.nowSeconds()
    if (maxStaleness !== null && feedDownSince !== null && now - feedDownSince >= maxStaleness) {
      throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'revocations_stale' })
    }
    return authenticateBearer(authorization, bearer, now)
  }

  return {
    async ready(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const missing =
            keysFetchedAt === null ? `keys from ${jwksUri}` : `the revocation snapshot from ${feedUrl}`
          reject(new Error(`The verifier could not load ${missing} within ${timeoutMs} ms.`))
        }, timeoutMs)
      })
      try {
        await Promise.race([Promise.all([keysReady, snapshotReady]), timeout])
      } finally {
        clearTimeout(timer)
      }
    },

    verifyAuthorization,

    async authenticate(headers) {
      if (headers.authorization === undefined) return null
      return { principal: verifyAuthorization(headers.authorization).principal, cookie: null }
    },

    status: () => ({ kids: keys.loaded ? keys.current.kids : [], keysFetchedAt, feed: feedState }),

    async close() {
      closed = true
      clearInterval(refreshTimer)
      stop.abort()
      await feedLoop
    },
  }
}

/** `value` as an http(s) URL; plain http only to a loopback host unless `allowHttp`. */
function requireUrl(value: unknown, name: string, allowHttp: boolean): string {
  let url: URL | null = null
  try {
    url = typeof value === 'string' ? new URL(value) : null
  } catch {
    url = null
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new TypeError(`Option "${name}" must be an https URL.`)
  const loopback =
    ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.endsWith('.localhost')
  if (url.protocol === 'http:' && !loopback && !allowHttp) {
    throw new TypeError(
      `Option "${name}" must be an https URL: over plain http anyone on the path could swap the keys (or set "allowInsecureHttp").`,
    )
  }
  return value as string
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw new TypeError(`Option "${name}" must be a whole number from ${min} to ${max}.`)
  return value as number
}

/** Waits `ms`, or less if `signal` aborts; never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    timer.unref()
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
