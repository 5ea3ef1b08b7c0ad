/**
 * The engine puts the store's route (`Store.secretRoute`, `core/secret-route.ts`) on every secret and refresh
 * family id it makes for a user, and finds the records again by them: the session cookie, refresh tokens and
 * their successors, family ids, and the tokens of mailed links. The store here is the memory store with a route
 * added, so the engine's side is seen apart from the Redis Cluster store's (test/contract/redis-cluster.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import type { MailRequest } from '../../src/engine/accounts.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/types.js'
import { sessionOf } from '../helpers/signed-in.js'

const PASSWORD = 'routed password 1'

/** The memory store, routing each user to the last digit of its id's first character code. */
function routedStore(): Store & { routeOf(userId: string): string } {
  const routeOf = (userId: string) => String(userId.charCodeAt(0) % 10)
  return { ...createMemoryStore(), secretRoute: routeOf, routeOf }
}

describe('secret routes in the engine', () => {
  it('routes the session cookie, refresh tokens, family ids and mailed links of a user', async () => {
    const store = routedStore()
    const mails: MailRequest[] = []
    const auth = await createAuth({
      store,
      tokens: { issuer: 'https://auth.example', audience: 'https://api.example' },
      passwordHasher: createArgon2Hasher({ params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }),
      mail: { mailer: { send: async (mail) => void mails.push(mail) }, linkBase: 'https://auth.example' },
    })
    try {
      const email = 'routed@example.com'
      const user = await auth.createUser({ email, password: PASSWORD })
      const route = `${store.routeOf(user.id)}.`

      const { cookie } = sessionOf(await auth.signIn({ email, password: PASSWORD }))
      expect(cookie.value.startsWith(route)).toBe(true)
      expect(await auth.authenticateSession(`${cookie.name}=${cookie.value}`)).toMatchObject({
        user: { id: user.id },
      })

      const granted = await auth.tokens.grantPassword({ username: email, password: PASSWORD })
      expect(granted.refreshToken.startsWith(route)).toBe(true)
      const [family] = await store.listUserRefreshFamilies(user.id)
      expect(family!.id.startsWith(route)).toBe(true)
      const refreshed = await auth.tokens.grantRefresh(granted.refreshToken)
      expect(refreshed.refreshToken.startsWith(route)).toBe(true)
      expect(refreshed.refreshToken).not.toBe(granted.refreshToken)

      await auth.accounts.requestPasswordReset(email, {})
      const link = new URL(mails.find((mail) => mail.kind === 'reset-password')!.link!)
      const token = link.searchParams.get('token')!
      expect(token.startsWith(route)).toBe(true)
      await auth.accounts.confirmPasswordReset(token, 'a new routed password 2', {})
      // The reset ended every session, found through the routes.
      await expect(auth.authenticateSession(`${cookie.name}=${cookie.value}`)).rejects.toMatchObject({
        code: 'invalid_session',
      })
      await expect(auth.tokens.grantRefresh(refreshed.refreshToken)).rejects.toMatchObject({
        code: 'invalid_grant',
      })
    } finally {
      await auth.close()
    }
  })
})
