/**
 * Keeping this instance's keys and revocations in step with the store: events from the change feed are applied
 * as they arrive, everything is re-read whenever the feed (re)connects, and on a timer, because the feed is best
 * effort (a silently dead connection can take minutes to notice) and the SQLite and memory stores have no feed
 * between processes at all.
 */
import { type ChangeEvent, isRevocationEvent } from '../core/change-event.js'
import type { TokenContext } from './token-context.js'
import { loadRevocations } from './token-revocation.js'

/**
 * How often keys and revocations are re-read without any event: a missed message (or, on SQLite, a change
 * made by another process such as `sesame keys rotate`) reaches this instance within this long.
 */
export const PERIODIC_RESYNC_SECONDS = 30

/** Subscribes to the change feed and starts the periodic re-read; returns the function that stops both. */
export async function followChanges(ctx: TokenContext): Promise<() => Promise<void>> {
  const unsubscribe = await ctx.store.changes.subscribe(
    (event) => applyChange(ctx, event),
    () => void resync(ctx).catch(ctx.reportBackgroundError),
  )
  const timer = setInterval(() => {
    resync(ctx).catch(ctx.reportBackgroundError)
  }, PERIODIC_RESYNC_SECONDS * 1000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await unsubscribe()
  }
}

/**
 * Re-reads keys and revocations from the store, each on its own: a key set that fails to load must never keep
 * revocations from being re-read, or the reverse. Rejects with the first failure once both have run.
 */
export async function resync(ctx: TokenContext): Promise<void> {
  const results = await Promise.allSettled([ctx.keys.source.reload(), loadRevocations(ctx)])
  for (const result of results) if (result.status === 'rejected') throw result.reason
}

/** Applies one event another instance (or this one) published; session notices are the session cache's. */
function applyChange(ctx: TokenContext, event: ChangeEvent): void {
  if (event.type === 'keys-changed') resync(ctx).catch(ctx.reportBackgroundError)
  else if (isRevocationEvent(event)) ctx.revocations.apply(event)
}
