/**
 * The Redis store's change feed: PUBLISH on one channel, and a dedicated subscriber connection (a connection
 * in subscribe mode can run no other command) opened on the first `subscribe`.
 *
 * Pub/sub is fire-and-forget: a message sent while the subscriber is disconnected is lost. So after every
 * reconnect the feed subscribes again, waits for Redis to confirm, and only then calls each `onResync`, so a
 * subscriber's reload from the store cannot miss an event published between the reload and the subscription.
 */
import type { Cluster, Redis } from 'ioredis'
import { localSessionChange, parseChangeEvent } from '../../core/change-event.js'
import type { ChangeEvent, SessionChangeFeed } from '../types.js'
import { createCommandGuard, type CommandGuard, quitConnection } from './connection.js'

interface Listener {
  onEvent: (event: ChangeEvent) => void
  onResync: () => void
  onInterrupt: (() => void) | undefined
}

export interface RedisChangeFeed extends SessionChangeFeed {
  /** Tells this process's subscribers at once that a write through this store changed a user's sessions. */
  announceLocally(userId: string): void
  /** Unsubscribes everyone and closes the subscriber connection. */
  close(): Promise<void>
}

/**
 * A feed on `channel`, publishing through `client` (guarded by `guard`); `sessionChangeCount` is the key the
 * scripts count their sessions-changed notices in.
 */
export function createRedisChangeFeed(
  client: Redis | Cluster,
  guard: CommandGuard,
  channel: string,
  sessionChangeCount: string,
  timeoutMs: number,
): RedisChangeFeed {
  const listeners = new Set<Listener>()
  let subscriber: { connection: Redis | Cluster; guard: CommandGuard } | null = null
  // The SUBSCRIBE on the current connection; reset when the connection drops.
  let subscription: Promise<void> | null = null

  function subscribeChannel(connection: Redis | Cluster): Promise<void> {
    subscription ??= connection.subscribe(channel).then(
      () => undefined,
      (error: unknown) => {
        subscription = null
        throw error
      },
    )
    return subscription
  }

  function openSubscriber(): { connection: Redis | Cluster; guard: CommandGuard } {
    const connection = client.duplicate()
    connection.on('message', (from: string, message: string) => {
      if (from === channel) deliver(message)
    })
    connection.on('close', () => {
      // Messages published from now until the next 'ready' are lost to this connection.
      if (subscription !== null) for (const listener of [...listeners]) listener.onInterrupt?.()
      subscription = null
    })
    // 'ready' after the first connect means a reconnect: events may have been missed while it was down.
    // (ioredis resubscribes by itself too; SUBSCRIBE is idempotent, and awaiting ours tells us it took.)
    connection.on('ready', () => {
      if (listeners.size === 0) return
      subscribeChannel(connection).then(
        () => {
          for (const listener of [...listeners]) listener.onResync()
        },
        () => {
          // The connection dropped again; the next 'ready' retries.
        },
      )
    })
    return { connection, guard: createCommandGuard(connection, timeoutMs) }
  }

  function deliver(message: string): void {
    for (const listener of [...listeners]) {
      // Parsed once per listener: each gets its own copy.
      const event = parseChangeEvent(message)
      if (event === null) return
      try {
        listener.onEvent(event)
      } catch {
        // One subscriber's failure must not stop delivery to the others; the store stays the source of truth.
      }
    }
  }

  return {
    async publish(event) {
      const message = JSON.stringify(event)
      await guard.run(() => client.publish(channel, message))
    },

    async subscribe(onEvent, onResync, onInterrupt) {
      subscriber ??= openSubscriber()
      const { connection, guard: subscriberGuard } = subscriber
      await subscriberGuard.run(() => subscribeChannel(connection))
      const listener: Listener = { onEvent, onResync, onInterrupt }
      listeners.add(listener)
      onResync()
      return async () => {
        if (!listeners.delete(listener) || listeners.size > 0) return
        subscription = null
        await subscriberGuard
          .run(() => connection.unsubscribe(channel))
          .catch(() => {
            // Unsubscribing from a dead connection: there is nothing left to stop.
          })
      }
    },

    announceLocally(userId) {
      for (const listener of [...listeners]) {
        try {
          listener.onEvent(localSessionChange(userId))
        } catch {
          // As in deliver: one subscriber's failure must not stop the others, nor fail the write.
        }
      }
    },

    async lastSessionChange() {
      const count = await guard.run(() => client.get(sessionChangeCount))
      return count === null ? 0 : Number(count)
    },

    async close() {
      listeners.clear()
      if (!subscriber) return
      subscriber.guard.close()
      await quitConnection(subscriber.connection)
    },
  }
}
