/**
 * Prometheus metrics (`prom-client`), on only when `SESAME_METRICS_TOKEN` or `SESAME_METRICS_PORT` is set:
 * off, nothing here is installed and no request pays for it.
 *
 * - HTTP requests by method, route template and status, and their latency. The route label is the template
 *   Fastify matched (`/auth/devices/:id`), or `unmatched`: never a raw path, id or email, so the number of
 *   series stays bounded whatever clients send.
 * - The engine's events (`engine/events.ts`) by name, outcome and error code: sign-ins, sign-ups, refreshes,
 *   revocations, refresh token reuse; refusals by the throttle on their own.
 * - Store operations' latency and errors, by store and operation (the Store method).
 * - The session cache and the change feed behind it: hits, misses, evictions, feed restarts, missed notices,
 *   lag (with the cache on; it is what follows the feed).
 * - Node's process metrics (CPU, memory, event-loop lag, GC).
 */
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { SessionCacheStats } from '../engine/session-cache.js'
import type { AuthEvent } from '../engine/events.js'
import type { Store } from '../store/types.js'

export interface ServerMetrics {
  readonly registry: Registry
  /** A sink for the engine's events. */
  onEvent(event: AuthEvent): void
  /** `store`, with every operation that returns a promise timed and its failures counted. */
  instrumentStore(store: Store): Store
  /** Times every request of `app`; call before the routes are registered. */
  observeRequests(app: FastifyInstance): void
  /** Reads the session cache's counters at each scrape. */
  observeSessionCache(cache: { stats(): SessionCacheStats }): void
  /** The text exposition of every metric. */
  render(): Promise<string>
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when the request came in (set only with metrics on). */
    metricsStartedAt: number
  }
}

/** Seconds; from a cached cookie read (tens of µs) to a slow argon2 sign-in under load. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5]

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const requests = new Counter({
    name: 'sesame_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const requestSeconds = new Histogram({
    name: 'sesame_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  })
  const events = new Counter({
    name: 'sesame_auth_events_total',
    help: 'Security events (docs/audit-log.md) by name, outcome and error code ("" on success).',
    labelNames: ['event', 'outcome', 'error'] as const,
    registers: [registry],
  })
  const throttled = new Counter({
    name: 'sesame_throttle_refusals_total',
    help: 'Actions refused by the throttle (rate_limited), by event.',
    labelNames: ['event'] as const,
    registers: [registry],
  })
  const storeSeconds = new Histogram({
    name: 'sesame_store_operation_duration_seconds',
    help: 'Store operations, by store kind and operation.',
    labelNames: ['store', 'operation'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry],
  })
  const storeErrors = new Counter({
    name: 'sesame_store_operation_errors_total',
    help: 'Store operations that failed, by store kind and operation.',
    labelNames: ['store', 'operation'] as const,
    registers: [registry],
  })

  return {
    registry,

    onEvent(event) {
      events.inc({ event: event.name, outcome: event.outcome, error: event.error ?? '' })
      if (event.error === 'rate_limited') throttled.inc({ event: event.name })
    },

    instrumentStore(store) {
      const kind = store.kind
      const timed = new Map<PropertyKey, unknown>()
      const wrap = (operation: string, method: (...args: unknown[]) => unknown) => {
        // Bound once per operation: prom-client hashes a label object on every call otherwise.
        const seconds = storeSeconds.labels({ store: kind, operation })
        const errors = storeErrors.labels({ store: kind, operation })
        return function observed(...args: unknown[]): unknown {
          const started = performance.now()
          let result: unknown
          try {
            result = method(...args)
          } catch (error) {
            errors.inc()
            throw error
          }
          // Synchronous methods (`secretRoute`) are not operations on the store: passed through untimed.
          if (!(result instanceof Promise)) return result
          return result.then(
            (value: unknown) => {
              seconds.observe((performance.now() - started) / 1000)
              return value
            },
            (error: unknown) => {
              seconds.observe((performance.now() - started) / 1000)
              errors.inc()
              throw error
            },
          )
        }
      }
      return new Proxy(store, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target)
          if (typeof value !== 'function') return value
          let wrapped = timed.get(property)
          if (!wrapped) {
            wrapped = wrap(String(property), (value as (...args: unknown[]) => unknown).bind(target))
            timed.set(property, wrapped)
          }
          return wrapped
        },
      })
    },

    observeRequests(app) {
      // Children bound to their labels, found by one string: cheaper per request than a label object, which
      // prom-client sorts and hashes on every call. Bounded like the labels: routes × methods × statuses.
      const counted = new Map<string, { inc(): void }>()
      const timed = new Map<string, { observe(seconds: number): void }>()
      app.decorateRequest('metricsStartedAt', 0)
      app.addHook('onRequest', (request, _reply, done) => {
        request.metricsStartedAt = performance.now()
        done()
      })
      app.addHook('onResponse', (request, reply, done) => {
        const { method } = request
        const route = request.routeOptions.url ?? 'unmatched'
        const timing = `${method} ${route}`
        let seconds = timed.get(timing)
        if (!seconds) timed.set(timing, (seconds = requestSeconds.labels({ method, route })))
        seconds.observe((performance.now() - request.metricsStartedAt) / 1000)
        const counting = `${timing} ${reply.statusCode}`
        let count = counted.get(counting)
        if (!count) {
          counted.set(
            counting,
            (count = requests.labels({ method, route, status: String(reply.statusCode) })),
          )
        }
        count.inc()
        done()
      })
    },

    observeSessionCache(cache) {
      // Counters read from the cache's own at each scrape: each moves by what the cache counted since the last.
      const counted = (name: string, help: string, read: (stats: SessionCacheStats) => number) => {
        let last = 0
        new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            const now = read(cache.stats())
            if (now > last) this.inc(now - last)
            last = now
          },
        })
      }
      const gauge = (name: string, help: string, read: (stats: SessionCacheStats) => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read(cache.stats()))
          },
        })
      counted(
        'sesame_session_cache_hits_total',
        'Cookie requests served from the session cache.',
        (s) => s.hits,
      )
      counted(
        'sesame_session_cache_misses_total',
        'Cookie requests that found nothing cached and read the store.',
        (s) => s.misses,
      )
      counted(
        'sesame_session_cache_bypasses_total',
        'Cookie requests that read the store because the cache could not be trusted then (feed down or behind).',
        (s) => s.bypasses,
      )
      counted(
        'sesame_session_cache_evictions_total',
        "Entries dropped because their user's sessions changed.",
        (s) => s.evictions,
      )
      counted(
        'sesame_session_cache_displaced_total',
        'Entries dropped to stay within the entry and byte limits.',
        (s) => s.displaced,
      )
      counted(
        'sesame_session_cache_flushes_total',
        'Times the whole session cache was dropped.',
        (s) => s.flushes,
      )
      counted(
        'sesame_change_feed_restarts_total',
        "Times the change feed's subscription dropped or started again.",
        (s) => s.feedRestarts,
      )
      counted(
        'sesame_change_feed_missed_notices_total',
        'Times notices were found missing from the change feed (the cache was then dropped).',
        (s) => s.missedNotices,
      )
      gauge(
        'sesame_change_feed_lag_notices',
        'Notices the store had counted but this instance had not yet heard, at the last check.',
        (s) => s.feedLag,
      )
      gauge(
        'sesame_session_cache_trusted',
        'Whether the session cache may be served now: 0 while a feed is down, behind or unchecked (the store is read).',
        (s) => (s.trusted ? 1 : 0),
      )
      gauge('sesame_session_cache_entries', 'Sessions in the session cache.', (s) => s.entries)
      gauge('sesame_session_cache_bytes', "The session cache's estimated size in bytes.", (s) => s.bytes)
    },

    render: () => registry.metrics(),
  }
}
