/**
 * A change feed for stores that live in one process (memory) or on one machine's file (SQLite): events reach
 * the subscribers of this process only. Several processes sharing one SQLite file do not see each other's
 * revocations until they reload; run a shared store (Redis, PostgreSQL) for several instances.
 */
import type { ChangeEvent, ChangeFeed } from './types.js'

export function createLocalChangeFeed(): ChangeFeed {
  const subscribers = new Set<(event: ChangeEvent) => void>()
  return {
    async publish(event) {
      for (const deliver of subscribers) deliver(structuredClone(event))
    },
    async subscribe(onEvent, onResync) {
      subscribers.add(onEvent)
      onResync()
      return async () => {
        subscribers.delete(onEvent)
      }
    },
  }
}
