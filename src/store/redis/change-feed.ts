/**
 * The Redis store's change feed: PUBLISH on a channel, and a dedicated subscriber connection (a connection
 * in subscribe mode can run no other command) opened on the first `subscribe`. One store listens on one
 * channel; the Cluster store (`sharded.ts`) has a channel per group and listens on all of them with one
 * pattern, handing each group's notices to that group's feed.
 *
 * Pub/sub is fire-and-forget: a message sent while the subscriber is disconnected is lost. So after every
 * reconnect the feed subscribes again, waits for Redis to confirm, and only then calls each `onResync`, so a
 * subscriber's reload from the store cannot miss an event published between the reload and the subscription.
 */
import type { Cluster, Redis } from 'ioredis'
import { localSessionChange, parseChangeEvent } from '../../core/change-event.js'
import type { ChangeEvent, ChangeFeed, SessionChangeFeed } from '../types.js'
import { createCommandGuard, type CommandGuard, quitConnection } from './connection.js'

interface Listener {
  /** Whether messages on `channel` are for this listener. */
  hears: (channel: string) => boolean
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

/** What a subscriber connection listens to: one channel, or every channel matching a glob pattern. */
type Topic = { channel: string } | { pattern: string }

/** One subscriber connection shared by every listener of a topic. */
interface SubscriptionHub {
  listen(listener: Listener): Promise<() => Promise<void>>
  /** Calls `onEvent` of every listener that hears `channel` with a local (unnumbered) notice for `userId`. */
  announceLocally(channel: string, userId: string): void
  close(): Promise<void>
}

function createSubscriptionHub(client: Redis | Cluster, timeoutMs: number, topic: Topic): SubscriptionHub {
  const listeners = new Set<Listener>()
  let subscriber: { connection: Redis | Cluster; guard: CommandGuard } | null = null
  // The SUBSCRIBE (or PSUBSCRIBE) on the current connection; reset when the connection drops.
  let subscription: Promise<void> | null = null

  function subscribeTopic(connection: Redis | Cluster): Promise<void> {
    const request =
      'channel' in topic ? connection.subscribe(topic.channel) : connection.psubscribe(topic.pattern)
    subscription ??= request.then(
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
    if ('channel' in topic) {
      connection.on('message', (from: string, message: string) => {
        if (from === topic.channel) deliver(from, message)
      })
    } else {
      connection.on('pmessage', (pattern: string, from: string, message: string) => {
        if (pattern === topic.pattern) deliver(from, message)
      })
    }
    connection.on('close', () => {
      // Messages published from now until the next 'ready' are lost to this connection.
      if (subscription !== null) for (const listener of [...listeners]) listener.onInterrupt?.()
      subscription = null
    })
    // 'ready' after the first connect means a reconnect: events may have been missed while it was down.
    // (ioredis resubscribes by itself too; SUBSCRIBE is idempotent, and awaiting ours tells us it took.)
    connection.on('ready', () => {
      if (listeners.size === 0) return
      subscribeTopic(connection).then(
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

  function deliver(channel: string, message: string): void {
    for (const listener of [...listeners]) {
      if (!listener.hears(channel)) continue
      // Parsed once per listener: each gets its own copy.
      const event = parseChangeEvent(message)
      if (event === null) return
      notify(listener, event)
    }
  }

  function notify(listener: Listener, event: ChangeEvent): void {
    try {
      listener.onEvent(event)
    } catch {
      // One subscriber's failure must not stop delivery to the others (nor fail a write that announced it
      // locally); the store stays the source of truth.
    }
  }

  return {
    async listen(listener) {
      subscriber ??= openSubscriber()
      const { connection, guard: subscriberGuard } = subscriber
      await subscriberGuard.run(() => subscribeTopic(connection))
      listeners.add(listener)
      listener.onResync()
      return async () => {
        if (!listeners.delete(listener) || listeners.size > 0) return
        subscription = null
        await subscriberGuard
          .run(() =>
            'channel' in topic
              ? connection.unsubscribe(topic.channel)
              : connection.punsubscribe(topic.pattern),
          )
          .catch(() => {
            // Unsubscribing from a dead connection: there is nothing left to stop.
          })
      }
    },

    announceLocally(channel, userId) {
      for (const listener of [...listeners]) {
        if (listener.hears(channel)) notify(listener, localSessionChange(userId))
      }
    },

    async close() {
      listeners.clear()
      if (!subscriber) return
      subscriber.guard.close()
      await quitConnection(subscriber.connection)
    },
  }
}

/** Sends events to every subscriber of `channel`, in this process and others. */
function publisherOn(client: Redis | Cluster, guard: CommandGuard, channel: string): ChangeFeed['publish'] {
  return async (event) => {
    const message = JSON.stringify(event)
    await guard.run(() => client.publish(channel, message))
  }
}

/** A feed over `hub` that hears the channels `hears` accepts and counts its notices in `countKey`. */
function feedOn(
  hub: SubscriptionHub,
  client: Redis | Cluster,
  guard: CommandGuard,
  feed: { publishChannel: string; hears: (channel: string) => boolean; countKey: string },
): RedisChangeFeed {
  return {
    publish: publisherOn(client, guard, feed.publishChannel),

    subscribe: (onEvent, onResync, onInterrupt) =>
      hub.listen({ hears: feed.hears, onEvent, onResync, onInterrupt }),

    announceLocally: (userId) => hub.announceLocally(feed.publishChannel, userId),

    async lastSessionChange() {
      const count = await guard.run(() => client.get(feed.countKey))
      return count === null ? 0 : Number(count)
    },

    close: () => hub.close(),
  }
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
  const hub = createSubscriptionHub(client, timeoutMs, { channel })
  return feedOn(hub, client, guard, {
    publishChannel: channel,
    hears: (from) => from === channel,
    countKey: sessionChangeCount,
  })
}

/** The feeds of a store made of groups, each with its own channel and notice count (`sharded.ts`). */
export interface GroupedChangeFeeds {
  /**
   * Hears every group's channel; publishes on the first group's. What revocations travel on. It has no notice
   * count of its own (each group has one), so it is no session feed.
   */
  all: ChangeFeed
  /** One per group, hearing that group's channel only and reading its count: what a session cache follows. */
  groups: readonly RedisChangeFeed[]
  close(): Promise<void>
}

/**
 * Feeds for groups whose channels are `channels` (one per group, in group order) and whose notice counts are
 * `countKeys`, all heard through one connection subscribed to `pattern`, which must match every channel.
 */
export function createGroupedChangeFeeds(
  client: Redis | Cluster,
  guard: CommandGuard,
  groups: { pattern: string; channels: readonly string[]; countKeys: readonly string[] },
  timeoutMs: number,
): GroupedChangeFeeds {
  const hub = createSubscriptionHub(client, timeoutMs, { pattern: groups.pattern })
  const known = new Set(groups.channels)
  const all: ChangeFeed = {
    publish: publisherOn(client, guard, groups.channels[0]!),
    subscribe: (onEvent, onResync, onInterrupt) =>
      hub.listen({ hears: (from) => known.has(from), onEvent, onResync, onInterrupt }),
  }
  const perGroup = groups.channels.map((channel, group) =>
    feedOn(hub, client, guard, {
      publishChannel: channel,
      hears: (from) => from === channel,
      countKey: groups.countKeys[group]!,
    }),
  )
  return { all, groups: perGroup, close: () => hub.close() }
}
