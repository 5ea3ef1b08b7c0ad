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
import type { JWK } from 'jose'
import type { AccessTokenClaims, AccessTokenRules } from '../core/access-token.js'
import { authenticateBearer } from '../core/bearer.js'
import { type Clock, systemClock } from '../core/clock.js'
import type { CookieDescription } from '../core/cookie.js'
import { isAsymmetric, isSupportedAlgorithm } from '../core/jws/algorithms.js'
import type { KeyResolver } from '../core/jws/compact.js'
import { type VerificationKey, importVerificationKey } from '../core/jws/keys.js'
import type { Principal } from '../core/principal.js'
import { RevocationList } from '../core/revocation-list.js'
import { VerifiedTokenCache } from '../core/verified-token-cache.js'
import { parseChangeEvent } from '../store/change-event.js'

export interface VerifierOptions {
  /** The `iss` tokens must carry: Sesame's `SESAME_ISSUER`. Also the base of the default URLs. */
  issuer: string
  /** The `aud` tokens must name: Sesame's `SESAME_AUDIENCE`. */
  audience: string
  /** Where the public keys are. Default `${base}/.well-known/jwks.json`. */
  jwksUri?: string
  /** Seconds between JWKS fetches. Default 300 (Sesame serves it with `max-age=300`). */
  jwksRefreshSeconds?: number
  /** Sesame's revocation stream and its secret (`SESAME_REVOCATION_FEED_TOKEN`). Without it, none is followed. */
  revocationFeed?: { token: string; url?: string }
  /** Clock skew tolerated on `exp`, `nbf`, `iat`, in seconds. Default 30; at most 60. */
  leewaySeconds?: number
  /** Longest token accepted, in characters. Default 4096. */
  maxTokenLength?: number
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
  /** `off` without a feed configured. */
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

const UNKNOWN_KID_REFETCH_MS = 10_000
const FEED_RETRY_MS = [1000, 2000, 5000]
/** The server pings every 15 s: silence for this long means the connection is dead. */
const FEED_SILENCE_MS = 45_000
const FETCH_TIMEOUT_MS = 5000

/** Creates the verifier and starts loading keys. Bad options throw `TypeError` now. */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('createVerifier needs options.')
  const issuer = options.issuer
  const base = requireUrl(issuer, 'issuer') // the exact issuer is what tokens must carry; URLs build on it
  if (typeof options.audience !== 'string' || options.audience === '')
    throw new TypeError('Option "audience" must be a non-empty string.')
  const jwksUri = options.jwksUri ? requireUrl(options.jwksUri, 'jwksUri') : `${base}/.well-known/jwks.json`
  const leewaySeconds = options.leewaySeconds ?? 30
  if (!Number.isInteger(leewaySeconds) || leewaySeconds < 0 || leewaySeconds > 60)
    throw new TypeError('Option "leewaySeconds" must be a whole number from 0 to 60.')
  const refreshSeconds = options.jwksRefreshSeconds ?? 300
  if (!Number.isInteger(refreshSeconds) || refreshSeconds < 1)
    throw new TypeError('Option "jwksRefreshSeconds" must be a whole number of at least 1.')
  const feedOptions = options.revocationFeed
  if (feedOptions && (typeof feedOptions.token !== 'string' || feedOptions.token.length < 32))
    throw new TypeError('Option "revocationFeed.token" must be the feed secret (at least 32 characters).')
  const feedUrl = feedOptions?.url
    ? requireUrl(feedOptions.url, 'revocationFeed.url')
    : `${base}/auth/revocations`
  const doFetch = options.fetch ?? fetch
  const clock = options.clock ?? systemClock
  const reportError = options.onError ?? ((): void => {})

  const rules: AccessTokenRules = {
    issuer,
    audience: options.audience,
    leewaySeconds,
    maxTokenLength: options.maxTokenLength ?? 4096,
  }
  const revocations = new RevocationList()
  const verified = new VerifiedTokenCache()
  let keys = new Map<string, VerificationKey>()
  const resolveKey: KeyResolver = (header) =>
    header.kid === undefined ? null : (keys.get(header.kid) ?? null)
  let keysFetchedAt: number | null = null
  let lastUnknownKidFetch = 0
  let feedState: VerifierStatus['feed'] = feedOptions ? 'connecting' : 'off'
  let closed = false
  const stop = new AbortController()

  let keysLoaded!: () => void
  const keysReady = new Promise<void>((resolve) => (keysLoaded = resolve))
  let snapshotLoaded!: () => void
  const snapshotReady = feedOptions
    ? new Promise<void>((resolve) => (snapshotLoaded = resolve))
    : Promise.resolve()

  async function fetchKeys(): Promise<void> {
    const response = await doFetch(jwksUri, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
    })
    if (!response.ok) throw new Error(`JWKS fetch from ${jwksUri} answered ${response.status}.`)
    const body = (await response.json()) as { keys?: unknown }
    if (!Array.isArray(body?.keys)) throw new Error(`JWKS from ${jwksUri} has no "keys" array.`)
    const next = new Map<string, VerificationKey>()
    for (const jwk of body.keys as JWK[]) {
      // Only keys bound to one supported asymmetric algorithm, with a kid: anything else cannot be used safely.
      if (typeof jwk?.kid !== 'string' || !isSupportedAlgorithm(jwk.alg) || !isAsymmetric(jwk.alg)) continue
      try {
        next.set(jwk.kid, await importVerificationKey(jwk, jwk.alg))
      } catch (error) {
        reportError(error)
      }
    }
    const removed = [...keys.keys()].some((kid) => !next.has(kid))
    keys = next
    if (removed) verified.clear() // tokens of a removed key must not live on in the cache
    keysFetchedAt = clock.nowSeconds()
    keysLoaded()
  }

  function refreshKeys(): void {
    if (!closed) fetchKeys().catch(reportError)
  }
  refreshKeys()
  const refreshTimer = setInterval(refreshKeys, refreshSeconds * 1000)
  refreshTimer.unref()

  function onUnknownKey(): void {
    const nowMs = Date.now()
    if (nowMs - lastUnknownKidFetch < UNKNOWN_KID_REFETCH_MS) return
    lastUnknownKidFetch = nowMs
    refreshKeys()
  }

  /** Applies one feed message: the snapshot (`event: snapshot`) or a single entry. */
  function applyFeedMessage(event: string | undefined, data: string): void {
    if (event !== 'snapshot') return applyEntry(data)
    const snapshot = JSON.parse(data) as { revocations?: unknown; epochs?: unknown }
    const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [])
    for (const revocation of list(snapshot.revocations))
      applyEntry(JSON.stringify({ type: 'access-revoked', revocation }))
    for (const epoch of list(snapshot.epochs)) applyEntry(JSON.stringify({ type: 'user-epoch', epoch }))
    snapshotLoaded()
  }

  /** Same checks as the store's change feed: a malformed entry is dropped, never applied half-understood. */
  function applyEntry(data: string): void {
    const entry = parseChangeEvent(data)
    if (entry?.type === 'access-revoked') {
      revocations.add(entry.revocation.kind, entry.revocation.value, entry.revocation.expiresAt)
    } else if (entry?.type === 'user-epoch') {
      revocations.setEpoch(entry.epoch.userId, entry.epoch.epoch, entry.epoch.expiresAt)
    }
  }

  /** Reads the feed until it ends or goes silent. */
  async function readFeed(token: string): Promise<void> {
    const silence = new AbortController()
    let silenceTimer = setTimeout(() => silence.abort(), FEED_SILENCE_MS)
    try {
      const response = await doFetch(feedUrl, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
        signal: AbortSignal.any([stop.signal, silence.signal]),
      })
      if (!response.ok || !response.body)
        throw new Error(`Revocation feed ${feedUrl} answered ${response.status}.`)
      feedState = 'connected'
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

  async function followFeed(token: string): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await readFeed(token)
        attempt = 0 // it was up: the next reconnect starts fast again
      } catch (error) {
        if (closed) return
        reportError(error)
      }
      feedState = 'disconnected'
      revocations.prune(clock.nowSeconds())
      await new Promise((resolve) =>
        setTimeout(resolve, FEED_RETRY_MS[Math.min(attempt, FEED_RETRY_MS.length - 1)]),
      )
    }
  }
  if (feedOptions) void followFeed(feedOptions.token)

  function verifyAuthorization(authorization: string): { claims: AccessTokenClaims; principal: Principal } {
    const context = { resolveKey, rules, revocations, verified, onUnknownKey }
    return authenticateBearer(authorization, context, clock.nowSeconds())
  }

  return {
    async ready(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`The verifier could not load keys from ${jwksUri} within ${timeoutMs} ms.`)),
          timeoutMs,
        )
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

    status: () => ({ kids: [...keys.keys()], keysFetchedAt, feed: feedState }),

    async close() {
      closed = true
      clearInterval(refreshTimer)
      stop.abort()
    },
  }
}

function requireUrl(value: unknown, name: string): string {
  if (typeof value === 'string') {
    try {
      const url = new URL(value)
      if (url.protocol === 'https:' || url.protocol === 'http:') return value.replace(/\/$/, '')
    } catch {
      // falls through to the TypeError
    }
  }
  throw new TypeError(`Option "${name}" must be an http(s) URL.`)
}
