/**
 * Failure modes found in review: several instances creating the first signing key at once, a family
 * revocation interrupted half-way, and what a store dump plus an old refresh token can (not) do.
 */
import { decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { AuthError } from '../../src/core/errors.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { openSuccessor } from '../../src/core/successor-seal.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/types.js'

const TOKENS = { issuer: 'https://auth.example', audience: 'https://api.example' }
const FAST_HASHER = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }

/** A store whose calls take a few milliseconds, so concurrent engines interleave like separate machines. */
function slowStore(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

function engine(store: Store): Promise<Auth> {
  return createAuth({ store, tokens: TOKENS, passwordHasher: createArgon2Hasher(FAST_HASHER) })
}

describe('token robustness', () => {
  it('lets instances that start together agree on keys: every token verifies everywhere', async () => {
    for (let round = 0; round < 5; round++) {
      const shared = createMemoryStore()
      const instances = await Promise.all([1, 2, 3].map(() => engine(slowStore(shared))))
      await instances[0]!.signUp({ email: 'keys@example.com', password: 'pass-word-1234' })
      for (const instance of instances) await instance.tokens.reload()
      const kids = new Set<string>()
      for (const issuer of instances) {
        const { accessToken } = await issuer.tokens.grantPassword({
          username: 'keys@example.com',
          password: 'pass-word-1234',
        })
        kids.add(decodeProtectedHeader(accessToken).kid!)
        for (const verifier of instances)
          expect(verifier.tokens.authenticateBearer(`Bearer ${accessToken}`).claims.sub).toBeTruthy()
      }
      expect(kids.size).toBe(1) // all sign with the same (newest) key
      await Promise.all(instances.map((instance) => instance.close()))
    }
  })

  it('finishes an interrupted family revocation on retry: the access token dies', async () => {
    const store = createMemoryStore()
    let failNextRevoke = true
    const flaky: Store = {
      ...store,
      async revokeRefreshFamily(familyId, now) {
        if (failNextRevoke) {
          failNextRevoke = false
          throw new AuthError('store_unavailable', 'simulated outage')
        }
        return store.revokeRefreshFamily(familyId, now)
      },
    }
    const auth = await engine(flaky)
    const user = await auth.signUp({ email: 'half@example.com', password: 'pass-word-1234' })
    const grant = await auth.tokens.grantPassword({
      username: 'half@example.com',
      password: 'pass-word-1234',
    })
    await expect(auth.tokens.endFamily(user.id, grant.principal.sessionId)).rejects.toMatchObject({
      code: 'store_unavailable',
    })
    // The sid kill was written first, so the access token is already dead...
    expect(() => auth.tokens.authenticateBearer(`Bearer ${grant.accessToken}`)).toThrow(AuthError)
    // ...and the retry revokes the family.
    expect(await auth.tokens.endFamily(user.id, grant.principal.sessionId)).toBe(true)
    await expect(auth.tokens.grantRefresh(grant.refreshToken)).rejects.toMatchObject({
      code: 'invalid_grant',
    })
    await auth.close()
  })

  it('stores nothing from which a store dump and an old refresh token could compute the live one', async () => {
    const store = createMemoryStore()
    const auth = await engine(store)
    await auth.signUp({ email: 'dump@example.com', password: 'pass-word-1234' })
    const first = await auth.tokens.grantPassword({
      username: 'dump@example.com',
      password: 'pass-word-1234',
    })
    const second = await auth.tokens.grantRefresh(first.refreshToken)
    const third = await auth.tokens.grantRefresh(second.refreshToken)
    const family = (await store.findRefreshFamily(first.principal.sessionId))!
    // The seal opens only with the token just before the live one, which is itself never stored.
    expect(openSuccessor(first.refreshToken, family.successorSeal, family.id)).toBeNull()
    expect(openSuccessor(second.refreshToken, family.successorSeal, family.id)).toBe(third.refreshToken)
    expect(JSON.stringify(family)).not.toContain(third.refreshToken)
    await auth.close()
  })
})
