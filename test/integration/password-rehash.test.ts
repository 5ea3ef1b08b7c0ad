/** A hash made with older argon2id parameters is upgraded at the next successful sign-in, and only then. */
import { describe, expect, it } from 'vitest'
import { createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { createMemoryStore } from '../../src/store/memory/index.js'

describe('rehash on sign-in', () => {
  it('upgrades an old-parameter hash after a correct password, not after a wrong one', async () => {
    const store = createMemoryStore()
    const old = await createAuth({
      store,
      passwordHasher: createArgon2Hasher({ params: { memoryCost: 4096, timeCost: 1, parallelism: 1 } }),
    })
    const user = await old.signUp({ email: 'old@example.com', password: 'pass-word-1234' })
    const oldHash = (await store.findUserById(user.id))!.passwordHash
    expect(oldHash).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/)

    const current = await createAuth({ store })
    await expect(
      current.signIn({ email: 'old@example.com', password: 'wrong password' }),
    ).rejects.toMatchObject({
      code: 'invalid_credentials',
    })
    expect((await store.findUserById(user.id))!.passwordHash).toBe(oldHash)

    await current.signIn({ email: 'old@example.com', password: 'pass-word-1234' })
    const newHash = (await store.findUserById(user.id))!.passwordHash
    expect(newHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    // The upgraded hash still verifies the same password.
    await expect(
      current.signIn({ email: 'old@example.com', password: 'pass-word-1234' }),
    ).resolves.toMatchObject({
      user: { email: 'old@example.com' },
    })
  })
})
