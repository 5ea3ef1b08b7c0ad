/**
 * The revocation feed for resource servers: `GET /auth/revocations`, a Server-Sent Events stream of every
 * access-token revocation this instance enforces. The first event is a snapshot of the whole list; each later
 * one is a single entry (a `jti`, a `sid`, or a user epoch), sent the moment this instance learns it, from its
 * own writes or from the store's change feed. A verifier (`src/verifier/`) applies them to its own in-memory
 * list, so "log out everywhere" reaches services that only receive tokens, without a store round trip per
 * request. A comment line every 15 s lets both sides notice a dead connection.
 *
 * The entries are not credentials, but they say which users signed out when, so the feed needs its own
 * bearer secret (`SESAME_REVOCATION_FEED_TOKEN`); without one configured the route does not exist.
 */
import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Auth } from '../auth.js'
import { AuthError } from '../core/errors.js'
import { sameSecret } from '../core/hash.js'

export interface RevocationFeedRoutesOptions {
  auth: Auth
  /** The secret verifiers present as `Authorization: Bearer <token>`; null disables the feed. */
  feedToken: string | null
}

const HEARTBEAT_MS = 15_000
const MAX_BUFFERED_BYTES = 1024 * 1024

export async function revocationFeedRoutes(
  app: FastifyInstance,
  { auth, feedToken }: RevocationFeedRoutesOptions,
): Promise<void> {
  if (feedToken === null) return // unregistered: the route answers 404 like any unknown path
  const streams = new Set<ServerResponse>()

  // For resource servers, never for pages: no browser gets CORS headers for it.
  app.get('/auth/revocations', { config: { cors: 'none' } }, async (request, reply) => {
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1]
    if (!presented || !sameSecret(presented, feedToken)) {
      throw new AuthError('invalid_token', 'The access token is invalid.', { reason: 'bad_feed_token' })
    }
    reply.hijack()
    const stream = reply.raw
    stream.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // nginx: pass events through at once
      // Never reused: once the stream ends, so does the connection (else a closing server waits for it).
      connection: 'close',
    })
    streams.add(stream)
    // A verifier that stops reading must not make this process buffer without end: past the cap it is cut
    // off, and its reconnect starts again from a snapshot.
    const send = (text: string): void => {
      if (stream.writableLength > MAX_BUFFERED_BYTES) stream.destroy()
      else stream.write(text)
    }
    send(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify(auth.tokens.revocations.snapshot())}\n\n`)
    const stopWatching = auth.tokens.revocations.watch((entry) => send(`data: ${JSON.stringify(entry)}\n\n`))
    const heartbeat = setInterval(() => send(': ping\n\n'), HEARTBEAT_MS)
    stream.on('close', () => {
      stopWatching()
      clearInterval(heartbeat)
      streams.delete(stream)
    })
  })

  // Open streams would keep the server from closing: cut them (verifiers reconnect, to another instance if need be).
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.destroy()
  })
}
