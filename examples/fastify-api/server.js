// A Fastify JSON API protected by bearer tokens from a separate Sesame server. It never sees a password or a
// session store: it fetches Sesame's public keys, verifies each access token in memory, and follows Sesame's
// revocation feed so "log out everywhere" reaches it within milliseconds.
//
//   SESAME_ISSUER=http://localhost:3000 SESAME_REVOCATION_FEED_TOKEN=... npm run example:fastify
//
// Environment: PORT (default 4000), SESAME_ISSUER (Sesame's issuer, also where the keys are fetched),
// SESAME_AUDIENCE (default: the issuer), SESAME_URL (where Sesame answers, if not at the issuer),
// SESAME_REVOCATION_FEED_TOKEN (the secret of Sesame's revocation feed; without it revocations are not followed).
import Fastify from 'fastify'
import { principalOf, sesameFastify } from 'sesame-auth/fastify'
import { createVerifier } from 'sesame-auth/verifier'

const issuer = process.env.SESAME_ISSUER ?? 'http://localhost:3000'
const sesameUrl = process.env.SESAME_URL ?? issuer
const feedToken = process.env.SESAME_REVOCATION_FEED_TOKEN

const app = Fastify({ logger: { level: 'info' } })
const verifier = createVerifier({
  issuer,
  audience: process.env.SESAME_AUDIENCE ?? issuer,
  jwksUri: `${sesameUrl}/.well-known/jwks.json`,
  ...(feedToken && { revocationFeed: { token: feedToken, url: `${sesameUrl}/auth/revocations` } }),
  onError: (error) => app.log.warn({ err: error }, 'verifier background error'),
})
const sesame = sesameFastify({ authenticator: verifier })

const notes = new Map([['1', { id: '1', text: 'Tokens are verified here with no call to Sesame.' }]])

app.get('/healthz', async () => ({ ok: true, verifier: verifier.status() }))
app.get('/notes', { preHandler: sesame.requireAuth() }, async (request) => ({
  reader: principalOf(request).userId,
  notes: [...notes.values()],
}))
app.delete('/notes/:id', { preHandler: sesame.requireRole('admin') }, async (request, reply) => {
  notes.delete(request.params.id)
  return reply.code(204).send()
})
app.addHook('onClose', () => verifier.close())

// Start even if Sesame is down: requests are refused until the keys arrive, then verified as usual.
await verifier.ready().catch((error) => app.log.warn({ err: error }, 'Sesame not reachable yet'))
await app.listen({ port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? 'localhost' })
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => void app.close().then(() => process.exit(0)))
