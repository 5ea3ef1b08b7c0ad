/**
 * What the HTTP layer needs to know of the registered OAuth clients on every request, without a store read per
 * request: the web origins they name (`sesame clients add --origin`: pages there may call the token,
 * revocation and userinfo endpoints across origins), which of them are first-party (only those, and the
 * built-in client, may use Sesame's own account API with a token), and the scopes they may ask for (the
 * discovery document). Read from the store, so a client registered on any instance, or with the CLI, is seen
 * without a restart: the view is kept for {@link FRESH_MS}, and a lookup that misses makes one re-read (at most
 * every {@link MISS_REREAD_MS}), so a new client works at once while a flood of unknown origins or ids costs
 * the store almost nothing. A removed client is forgotten within {@link FRESH_MS}.
 */
import type { ClientRegistry } from '../engine/clients.js'

const FRESH_MS = 5000
const MISS_REREAD_MS = 1000

export interface ClientDirectory {
  hasOrigin(origin: string): Promise<boolean>
  isFirstParty(clientId: string): Promise<boolean>
  /** Every scope some registered client may ask for. */
  scopes(): Promise<ReadonlySet<string>>
}

interface View {
  origins: ReadonlySet<string>
  firstParty: ReadonlySet<string>
  scopes: ReadonlySet<string>
}

export function createClientDirectory(
  clients: Pick<ClientRegistry, 'list'>,
  now: () => number = Date.now,
): ClientDirectory {
  let view: View = { origins: new Set(), firstParty: new Set(), scopes: new Set() }
  let readAt = -Infinity
  let reading: Promise<void> | null = null

  function reread(): Promise<void> {
    reading ??= (async () => {
      try {
        const registered = await clients.list()
        view = {
          origins: new Set(registered.flatMap((client) => client.origins)),
          firstParty: new Set(registered.filter((client) => client.firstParty).map((client) => client.id)),
          scopes: new Set(registered.flatMap((client) => client.scopes)),
        }
        readAt = now()
      } finally {
        reading = null
      }
    })()
    return reading
  }

  /** Whether `found` holds in a view fresh enough for the question (see the module comment). */
  async function lookup(found: (view: View) => boolean): Promise<boolean> {
    const age = now() - readAt
    if (age > FRESH_MS || (!found(view) && age > MISS_REREAD_MS)) await reread()
    return found(view)
  }

  return {
    hasOrigin: (origin) => lookup((current) => current.origins.has(origin)),
    isFirstParty: (clientId) => lookup((current) => current.firstParty.has(clientId)),
    async scopes() {
      if (now() - readAt > FRESH_MS) await reread()
      return view.scopes
    },
  }
}
