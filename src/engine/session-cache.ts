/**
 * A per-instance cache of cookie sessions with their users, so a cookie request costs no store round trip,
 * kept true by the store's numbered `sessions-changed` notices (`core/change-event.ts`): a store announces, in
 * the same atomic step, every change that ends a session or changes its user, and every instance drops what
 * it holds for that user. Revocation stays immediate, unlike a signed cookie cache that keeps a signed-out
 * session alive until it expires.
 *
 * Fail closed: the cache is served only while every feed is trusted (`core/notice-position.ts`): subscribed,
 * its position known, not behind the store's count, and checked within two check intervals. Otherwise requests
 * read the store (and get 503 if it is down). A (re)subscription or a dropped connection flushes everything; so
 * does a skipped notice number, or a count that stays ahead of the notices for a whole interval.
 *
 * A read that races a change must not put the old state back after the notice dropped it: a fill carries the
 * ticket taken before its store read, and is refused if a flush, or a drop of its user or session, came after.
 *
 * Sessions are held with their times, so idle and absolute expiry stay exact; a session due for renewal, or
 * expired by its cached times, is read from the store (another instance may have renewed it), and the renewal
 * is written there as before. Only active sessions of enabled users are cached, without the password hash.
 */
import { type NoticeVerdict, NoticePosition } from '../core/notice-position.js'
import { checkOptionObject, checkWholeNumber } from '../core/option-checks.js'
import type { ChangeEvent, SessionChangeFeed, SessionRecord } from '../store/types.js'
import type { PublicUser } from './types.js'

/**
 * What the cache holds for one session token hash: what authenticating a request needs, not the device
 * details (User-Agent, address), which only device lists show. Shared between requests: frozen.
 */
export interface CachedSession {
  readonly session: Readonly<Pick<SessionRecord, CachedSessionField>>
  readonly user: Readonly<PublicUser>
}

export type CachedSessionField =
  'id' | 'userId' | 'createdAt' | 'lastSeenAt' | 'expiresAt' | 'absoluteExpiresAt' | 'amr'

export interface SessionCacheLimits {
  /** Sessions held at most; the least recently used go first. */
  maxEntries: number
  /** Estimated bytes held at most ({@link estimateEntryBytes}). */
  maxBytes: number
  /** How often each feed's count is read from the store (the bound on a lost notice going unnoticed). */
  checkIntervalMs: number
}

export const SESSION_CACHE_DEFAULTS: Readonly<SessionCacheLimits> = Object.freeze({
  maxEntries: 100_000,
  maxBytes: 128 * 1024 * 1024,
  checkIntervalMs: 500,
})

const LIMIT_RANGES = {
  maxEntries: { min: 1, max: 100_000_000 },
  maxBytes: { min: 64 * 1024, max: 2 ** 44 },
  checkIntervalMs: { min: 50, max: 60_000 },
} as const

/**
 * The `sessionCache` option of `createAuth`: `false` for none, else limits given in part keep the rest of
 * their defaults. Throws `SesameOptionError` naming the option at fault.
 */
export function resolveSessionCacheLimits(option: unknown): Readonly<SessionCacheLimits> | null {
  if (option === false) return null
  if (option === true) return SESSION_CACHE_DEFAULTS
  const given = checkOptionObject('sessionCache', option, Object.keys(LIMIT_RANGES))
  const limits = { ...SESSION_CACHE_DEFAULTS, ...given }
  for (const [name, range] of Object.entries(LIMIT_RANGES)) {
    checkWholeNumber(`sessionCache.${name}`, limits[name as keyof SessionCacheLimits], range)
  }
  return Object.freeze(limits)
}

export interface SessionCacheStats {
  entries: number
  bytes: number
  /** Requests served from the cache. */
  hits: number
  /** Requests that found nothing cached while the cache was trusted. */
  misses: number
  /** Requests that skipped the cache because it was not trusted at that moment. */
  bypasses: number
  /** `sessions-changed` notices heard from the feeds. */
  notices: number
  /** Entries dropped because their user's sessions changed (a notice, or a change made here). */
  evictions: number
  /** Entries dropped to stay within the limits. */
  displaced: number
  /** Times the whole cache was dropped (resubscription, dropped connection, missed notice). */
  flushes: number
  /**
   * Times a feed's subscription was lost and taken up again (a reconnect): counted at the drop where the feed
   * reports one, else at the resubscription; the first subscription is not one.
   */
  feedRestarts: number
  /** Times notices were found missing (a number skipped, or the store's count still ahead at a second check). */
  missedNotices: number
  /** Notices the store had numbered but this instance had not heard, at each feed's last check, summed. */
  feedLag: number
  /** Whether the cache may be served now (every feed subscribed, caught up and checked recently). */
  trusted: boolean
}

export interface SessionCache {
  /** The cached session for this token hash, when there is one and the cache may be trusted now. */
  get(tokenHash: string): CachedSession | undefined
  /** Taken before a store read whose result may be cached; -1 when the cache cannot be filled now. */
  ticket(): number
  /** Caches what a store read begun at `ticket` found, unless a change to it may have come in between. */
  fill(ticket: number, tokenHash: string, value: CachedSession): void
  /** Drops one session (this instance ended it). */
  forgetSession(tokenHash: string): void
  stats(): SessionCacheStats
  close(): Promise<void>
}

/** Fills more than this many drops apart are refused without looking: the log of recent drops is this long. */
const RECENT_DROPS = 1024

/**
 * The bytes an entry is counted as: its strings (one byte per character: V8 keeps these Latin-1 strings one
 * byte wide) plus a fixed cost for the objects and map slots, measured by `bench/session-bytes.ts` (`session cache`).
 */
export function estimateEntryBytes(tokenHash: string, value: CachedSession): number {
  const { session, user } = value
  let bytes = ENTRY_OVERHEAD_BYTES + tokenHash.length + session.id.length + 2 * session.userId.length
  bytes += user.email.length
  for (const role of user.roles) bytes += role.length + 16
  return bytes
}

/** Objects, map slots and the user index per entry (see {@link estimateEntryBytes}). */
export const ENTRY_OVERHEAD_BYTES = 790

interface Entry {
  value: CachedSession
  userId: string
  bytes: number
}

interface FeedState {
  feed: SessionChangeFeed
  position: NoticePosition
  unsubscribe: (() => Promise<void>) | null
  /** The subscription's connection dropped and has not resubscribed: nothing can be heard until it does. */
  interrupted: boolean
  subscribing: boolean
  /** The read of the store's count in flight, if any: a second asker waits for it. */
  checking: Promise<void> | null
  /** A failed check or subscription was reported, and nothing has succeeded since. */
  failureReported: boolean
  /** The subscription has announced itself once (a feed calls its resync callback on the first subscribe too). */
  resynced: boolean
}

/**
 * A cache, untrusted (and so unused) until `start` has subscribed to every feed and read each one's count; if
 * the store cannot be reached then, it stays untrusted and keeps trying on its timer.
 */
export function createSessionCache(options: {
  feeds: readonly SessionChangeFeed[]
  limits: SessionCacheLimits
  reportBackgroundError: (error: unknown) => void
}): SessionCache & { start(): Promise<void> } {
  const { limits } = options
  const nowMs = () => performance.now()
  const checkValidMs = 2 * limits.checkIntervalMs
  const entries = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()
  let bytes = 0
  // Every drop (of a user, of a session, of everything) takes the next generation; the log keeps the last ones.
  let generation = 0
  let flushedAt = 0
  const dropLog: string[] = new Array<string>(RECENT_DROPS)
  let trustedUntil = Number.NEGATIVE_INFINITY
  const stats = {
    hits: 0,
    misses: 0,
    bypasses: 0,
    notices: 0,
    evictions: 0,
    displaced: 0,
    flushes: 0,
    feedRestarts: 0,
    missedNotices: 0,
  }
  let closed = false

  const feeds: FeedState[] = options.feeds.map((feed) => ({
    feed,
    position: new NoticePosition(),
    unsubscribe: null,
    interrupted: false,
    subscribing: false,
    checking: null,
    failureReported: false,
    resynced: false,
  }))

  function recomputeTrust(): void {
    let until = Number.POSITIVE_INFINITY
    for (const state of feeds) {
      const live = state.unsubscribe !== null && !state.interrupted
      until = Math.min(until, live ? state.position.trustedUntil(checkValidMs) : -Infinity)
    }
    trustedUntil = until
  }

  function remove(tokenHash: string): boolean {
    const entry = entries.get(tokenHash)
    if (!entry) return false
    entries.delete(tokenHash)
    bytes -= entry.bytes
    const sessions = byUser.get(entry.userId)
    sessions?.delete(tokenHash)
    if (sessions?.size === 0) byUser.delete(entry.userId)
    return true
  }

  function logDrop(key: string): void {
    generation++
    dropLog[generation % RECENT_DROPS] = key
  }

  function forgetUser(userId: string): void {
    logDrop(`u${userId}`)
    const sessions = byUser.get(userId)
    if (!sessions) return
    for (const tokenHash of [...sessions]) if (remove(tokenHash)) stats.evictions++
  }

  function forgetSession(tokenHash: string): void {
    logDrop(`s${tokenHash}`)
    if (remove(tokenHash)) stats.evictions++
  }

  function flush(): void {
    generation++
    flushedAt = generation
    entries.clear()
    byUser.clear()
    bytes = 0
    stats.flushes++
  }

  /** Whether a drop since `ticket` touched this user or session. */
  function droppedSince(ticket: number, userId: string, tokenHash: string): boolean {
    if (ticket < flushedAt || generation - ticket >= RECENT_DROPS) return true
    const userKey = `u${userId}`
    const sessionKey = `s${tokenHash}`
    for (let g = ticket + 1; g <= generation; g++) {
      const key = dropLog[g % RECENT_DROPS]
      if (key === userKey || key === sessionKey) return true
    }
    return false
  }

  function apply(verdict: NoticeVerdict): void {
    if (verdict === 'flush') {
      stats.missedNotices++
      flush()
    }
    recomputeTrust()
  }

  function onEvent(state: FeedState, event: ChangeEvent): void {
    if (event.type !== 'sessions-changed') return
    stats.notices++
    forgetUser(event.userId)
    // Unnumbered: a change this process made, told at once by the store (`store/local-announcements.ts`).
    if (event.seq !== 0) apply(state.position.receive(event.seq))
  }

  /**
   * The subscription (re)subscribed (`interrupted` false: read the count for a new position) or its connection
   * dropped (`interrupted` true: untrusted until it resubscribes, whatever the count says, since nothing can be
   * heard meanwhile). Both start over.
   */
  function restart(state: FeedState, interrupted: boolean): void {
    if (interrupted ? !state.interrupted : state.resynced && !state.interrupted) stats.feedRestarts++
    if (!interrupted) state.resynced = true
    state.interrupted = interrupted
    state.position.restart()
    flush()
    recomputeTrust()
    if (!interrupted) void check(state)
  }

  /** Tells `reportBackgroundError` of the first failure after a success, not of every retry. */
  function failed(state: FeedState, error: unknown): void {
    if (state.failureReported) return
    state.failureReported = true
    options.reportBackgroundError(error)
  }

  /** Reads the feed's count; one read at a time per feed, which every asker meanwhile waits for. */
  function check(state: FeedState): Promise<void> {
    state.checking ??= readCount(state).finally(() => (state.checking = null))
    return state.checking
  }

  async function readCount(state: FeedState): Promise<void> {
    // Again when the subscription restarted during the read: that answer is for the old one.
    while (!closed && !state.interrupted) {
      const era = state.position.era
      // The time the count is asked for, not when it comes back: trust runs from what the store said then.
      const askedAt = nowMs()
      try {
        const count = await state.feed.lastSessionChange()
        state.failureReported = false
        apply(state.position.checked(count, askedAt, era))
      } catch (error) {
        // Unreachable: the check goes stale and the cache stops being served; requests read the store.
        failed(state, error)
        return
      }
      if (era === state.position.era) return
    }
  }

  async function subscribe(state: FeedState): Promise<void> {
    if (state.unsubscribe || state.subscribing || closed) return
    state.subscribing = true
    try {
      const unsubscribe = await state.feed.subscribe(
        (event) => onEvent(state, event),
        () => restart(state, false),
        () => restart(state, true),
      )
      if (closed) {
        await unsubscribe()
        return
      }
      state.unsubscribe = unsubscribe
      await check(state)
    } catch (error) {
      // The store is unreachable: the timer tries again.
      failed(state, error)
    } finally {
      state.subscribing = false
      recomputeTrust()
    }
  }

  function tick(): void {
    for (const state of feeds) {
      if (state.unsubscribe) void check(state)
      else void subscribe(state)
    }
  }

  function trimToLimits(): void {
    for (const [tokenHash] of entries) {
      if (entries.size <= limits.maxEntries && bytes <= limits.maxBytes) return
      remove(tokenHash)
      stats.displaced++
    }
  }

  let timer: NodeJS.Timeout | undefined

  return {
    async start() {
      timer ??= setInterval(tick, limits.checkIntervalMs)
      timer.unref()
      await Promise.all(feeds.map(subscribe))
    },

    get(tokenHash) {
      if (nowMs() >= trustedUntil) {
        stats.bypasses++
        return undefined
      }
      const entry = entries.get(tokenHash)
      if (!entry) {
        stats.misses++
        return undefined
      }
      // Most recently used last: the map's order is the eviction order.
      entries.delete(tokenHash)
      entries.set(tokenHash, entry)
      stats.hits++
      return entry.value
    },

    ticket: () => (nowMs() < trustedUntil ? generation : -1),

    fill(ticket, tokenHash, value) {
      const userId = value.session.userId
      if (ticket < 0 || droppedSince(ticket, userId, tokenHash)) return
      remove(tokenHash)
      const entry: Entry = { value, userId, bytes: estimateEntryBytes(tokenHash, value) }
      if (entry.bytes > limits.maxBytes) return
      entries.set(tokenHash, entry)
      bytes += entry.bytes
      let sessions = byUser.get(userId)
      if (!sessions) byUser.set(userId, (sessions = new Set()))
      sessions.add(tokenHash)
      trimToLimits()
    },

    forgetSession,

    stats: () => ({
      entries: entries.size,
      bytes,
      ...stats,
      feedLag: feeds.reduce((sum, state) => sum + state.position.lag, 0),
      trusted: nowMs() < trustedUntil,
    }),

    async close() {
      closed = true
      clearInterval(timer)
      flush()
      trustedUntil = Number.NEGATIVE_INFINITY
      await Promise.all(
        feeds.map(async (state) => {
          const unsubscribe = state.unsubscribe
          state.unsubscribe = null
          await unsubscribe?.().catch(() => {})
        }),
      )
    },
  }
}
