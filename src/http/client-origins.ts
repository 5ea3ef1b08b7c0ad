/**
 * The web origins registered by OAuth clients (`sesame clients add --origin`): pages there may call the
 * endpoints a browser app needs (token, revocation, userinfo) across origins. Read from the store, so a client
 * registered on any instance, or with the CLI, is seen without a restart: the set is kept for
 * {@link FRESH_MS}, and an origin not in it makes one re-read (at most every {@link MISS_REREAD_MS}), so a
 * new client works at once while a flood of unknown origins costs the store almost nothing. A removed
 * client's origin is refused within {@link FRESH_MS}.
 */
import type { ClientRegistry } from '../engine/clients.js'

const FRESH_MS = 5000
const MISS_REREAD_MS = 1000

export interface ClientOrigins {
  has(origin: string): Promise<boolean>
}

export function createClientOrigins(
  clients: Pick<ClientRegistry, 'list'>,
  now: () => number = Date.now,
): ClientOrigins {
  let origins = new Set<string>()
  let readAt = -Infinity
  let reading: Promise<void> | null = null

  function reread(): Promise<void> {
    reading ??= (async () => {
      try {
        const registered = await clients.list()
        origins = new Set(registered.flatMap((client) => client.origins))
        readAt = now()
      } finally {
        reading = null
      }
    })()
    return reading
  }

  return {
    async has(origin) {
      const age = now() - readAt
      if (age > FRESH_MS || (!origins.has(origin) && age > MISS_REREAD_MS)) await reread()
      return origins.has(origin)
    },
  }
}
