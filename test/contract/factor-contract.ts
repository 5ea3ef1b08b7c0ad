/**
 * The Store contract for sign-in factors (passkeys, TOTP, recovery codes) and for removing a password: part of
 * {@link describeStoreContract}, kept in its own file. `getStore` gives the store the surrounding `beforeEach`
 * opened for the test.
 */
import { describe, expect, it } from 'vitest'
import { generatePublicId, generateSecretToken } from '../../src/core/random.js'
import { hashSecret } from '../../src/core/hash.js'
import {
  FACTOR_TAKEN,
  type FactorKind,
  type FactorRecord,
  LAST_SIGN_IN_METHOD,
  type Store,
  type UserRecord,
} from '../../src/store/types.js'

const NOW = 4_000_000_000

/** The longest credential id WebAuthn allows (1,023 bytes), as base64url: lookup keys that long must work. */
const LONGEST_CREDENTIAL_ID = Buffer.alloc(1023, 0xfb).toString('base64url')

export function makeFactor(
  userId: string,
  kind: FactorKind = 'passkey',
  overrides: Partial<FactorRecord> = {},
): FactorRecord {
  const lookupKey =
    kind === 'passkey'
      ? Buffer.from(generateSecretToken()).toString('base64url')
      : kind === 'totp'
        ? 'totp'
        : hashSecret(generateSecretToken())
  return {
    id: generatePublicId(),
    userId,
    kind,
    lookupKey,
    name: kind === 'passkey' ? 'Ünïcode passkey 🔑' : '',
    data:
      kind === 'recovery-code' ? '' : JSON.stringify({ publicKey: generatePublicId(), transports: ['usb'] }),
    counter: 0,
    createdAt: NOW,
    lastUsedAt: null,
    ...overrides,
  }
}

export function describeFactorContract(
  getStore: () => Store,
  makeUser: (overrides?: Partial<UserRecord>) => UserRecord,
  makeIdentityOf: (userId: string) => {
    provider: string
    subject: string
    userId: string
    email: null
    createdAt: number
  },
): void {
  const store = (): Store => getStore()

  async function createUser(overrides: Partial<UserRecord> = {}): Promise<UserRecord> {
    const user = makeUser(overrides)
    expect(await store().createUser(user)).toEqual(user)
    return user
  }

  /** A user with no password and no identity: its passkeys are its only way in. */
  const passkeyOnlyUser = () => createUser({ passwordHash: null })

  async function add(factor: FactorRecord): Promise<FactorRecord> {
    expect(await store().addFactor(factor)).toBe(true)
    return factor
  }

  describe('sign-in factors', () => {
    describe('addFactor, listUserFactors, findUserFactor', () => {
      it('stores every field intact, a 1,366-character lookup key and a non-ASCII name included', async () => {
        const user = await createUser()
        const passkey = await add(
          makeFactor(user.id, 'passkey', {
            lookupKey: LONGEST_CREDENTIAL_ID,
            counter: 7,
            lastUsedAt: NOW + 3,
          }),
        )
        const totp = await add(makeFactor(user.id, 'totp', { createdAt: NOW + 1, counter: 133_333_333 }))
        const code = await add(makeFactor(user.id, 'recovery-code', { createdAt: NOW + 2 }))
        expect(await store().listUserFactors(user.id)).toEqual([passkey, totp, code])
        expect(await store().findUserFactor(user.id, LONGEST_CREDENTIAL_ID)).toEqual(passkey)
        expect(await store().findUserFactor(user.id, 'totp')).toEqual(totp)
        expect(await store().findUserFactor(user.id, code.lookupKey)).toEqual(code)
        expect(await store().findUserFactor(user.id, 'unknown')).toBeNull()
      })

      it("refuses a second factor with one of the user's lookup keys (FACTOR_TAKEN), keeping the first", async () => {
        const user = await createUser()
        const first = await add(makeFactor(user.id, 'totp'))
        expect(await store().addFactor(makeFactor(user.id, 'totp', { data: 'another secret' }))).toBe(
          FACTOR_TAKEN,
        )
        const passkey = await add(makeFactor(user.id, 'passkey', { createdAt: NOW + 1 }))
        expect(
          await store().addFactor(makeFactor(user.id, 'passkey', { lookupKey: passkey.lookupKey })),
        ).toBe(FACTOR_TAKEN)
        expect(await store().listUserFactors(user.id)).toEqual([first, passkey])
      })

      it('keys factors per user: another user may hold the same lookup key, and finds only its own', async () => {
        const [a, b] = [await createUser(), await createUser()]
        const mine = await add(makeFactor(a.id))
        const theirs = await add(makeFactor(b.id, 'passkey', { lookupKey: mine.lookupKey, name: 'theirs' }))
        expect(await store().findUserFactor(a.id, mine.lookupKey)).toEqual(mine)
        expect(await store().findUserFactor(b.id, mine.lookupKey)).toEqual(theirs)
        expect(await store().findUserFactor(generatePublicId(), mine.lookupKey)).toBeNull()
        expect(await store().listUserFactors(a.id)).toEqual([mine])
      })

      it('stores nothing for an unknown user (false)', async () => {
        const userId = generatePublicId()
        expect(await store().addFactor(makeFactor(userId))).toBe(false)
        expect(await store().listUserFactors(userId)).toEqual([])
      })

      it('lists oldest first, then by id', async () => {
        const user = await createUser()
        const ids = [generatePublicId(), generatePublicId()].sort()
        const late = await add(makeFactor(user.id, 'passkey', { createdAt: NOW + 9 }))
        const tieB = await add(makeFactor(user.id, 'passkey', { id: ids[1]!, createdAt: NOW }))
        const tieA = await add(makeFactor(user.id, 'recovery-code', { id: ids[0]!, createdAt: NOW }))
        expect(await store().listUserFactors(user.id)).toEqual([tieA, tieB, late])
      })

      it('adds exactly one of concurrent factors with one lookup key', async () => {
        const user = await createUser()
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            store().addFactor(makeFactor(user.id, 'totp', { data: `d${i}` })),
          ),
        )
        expect(results.filter((r) => r === true)).toHaveLength(1)
        expect(results.filter((r) => r === FACTOR_TAKEN)).toHaveLength(4)
        expect(await store().listUserFactors(user.id)).toHaveLength(1)
      })
    })

    describe('advanceFactor', () => {
      it('moves the counter and lastUsedAt when the counter is as expected, else changes nothing', async () => {
        const user = await createUser()
        const factor = await add(makeFactor(user.id, 'passkey', { counter: 4 }))
        expect(await store().advanceFactor(user.id, factor.id, 4, 9, NOW + 60)).toBe(true)
        const advanced = { ...factor, counter: 9, lastUsedAt: NOW + 60 }
        expect(await store().findUserFactor(user.id, factor.lookupKey)).toEqual(advanced)
        // A stale read (4 again) loses.
        expect(await store().advanceFactor(user.id, factor.id, 4, 10, NOW + 61)).toBe(false)
        // Another user's id, an unknown factor: nothing.
        const other = await createUser()
        expect(await store().advanceFactor(other.id, factor.id, 9, 10, NOW + 62)).toBe(false)
        expect(await store().advanceFactor(user.id, generatePublicId(), 9, 10, NOW + 62)).toBe(false)
        expect(await store().listUserFactors(user.id)).toEqual([advanced])
      })

      it('records a use with the counter unchanged (an authenticator that counts nothing)', async () => {
        const user = await createUser()
        const factor = await add(makeFactor(user.id))
        expect(await store().advanceFactor(user.id, factor.id, 0, 0, NOW + 5)).toBe(true)
        expect(await store().findUserFactor(user.id, factor.lookupKey)).toEqual({
          ...factor,
          lastUsedAt: NOW + 5,
        })
      })

      it('lets exactly one of concurrent uses read at one counter succeed (a TOTP code accepted once)', async () => {
        const user = await createUser()
        const totp = await add(makeFactor(user.id, 'totp', { counter: 100 }))
        const results = await Promise.all(
          Array.from({ length: 6 }, () => store().advanceFactor(user.id, totp.id, 100, 101, NOW)),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        expect((await store().findUserFactor(user.id, 'totp'))?.counter).toBe(101)
      })
    })

    describe('takeFactor', () => {
      it('takes a recovery code once; another kind, another user or an unknown key stays untouched', async () => {
        const user = await createUser()
        const code = await add(makeFactor(user.id, 'recovery-code'))
        const passkey = await add(makeFactor(user.id, 'passkey', { createdAt: NOW + 1 }))
        const other = await createUser()
        expect(await store().takeFactor(other.id, 'recovery-code', code.lookupKey)).toBe(false)
        expect(await store().takeFactor(user.id, 'recovery-code', passkey.lookupKey)).toBe(false)
        expect(await store().takeFactor(user.id, 'passkey', code.lookupKey)).toBe(false)
        expect(await store().listUserFactors(user.id)).toEqual([code, passkey])
        expect(await store().takeFactor(user.id, 'recovery-code', code.lookupKey)).toBe(true)
        expect(await store().takeFactor(user.id, 'recovery-code', code.lookupKey)).toBe(false)
        expect(await store().listUserFactors(user.id)).toEqual([passkey])
      })

      it('gives a code to exactly one of concurrent takes', async () => {
        const user = await createUser()
        const code = await add(makeFactor(user.id, 'recovery-code'))
        const results = await Promise.all(
          Array.from({ length: 6 }, () => store().takeFactor(user.id, 'recovery-code', code.lookupKey)),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
      })
    })

    describe('replaceFactors', () => {
      it("replaces every factor of the kind, and only the user's factors of that kind", async () => {
        const user = await createUser()
        const other = await createUser()
        const passkey = await add(makeFactor(user.id))
        await add(makeFactor(user.id, 'recovery-code'))
        await add(makeFactor(user.id, 'recovery-code'))
        const othersCode = await add(makeFactor(other.id, 'recovery-code'))
        const fresh = Array.from({ length: 10 }, (_, i) =>
          makeFactor(user.id, 'recovery-code', {
            createdAt: NOW + 10,
            id: `${String(i).padStart(2, '0')}${generatePublicId().slice(2)}`,
          }),
        )
        expect(await store().replaceFactors(user.id, 'recovery-code', fresh)).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([passkey, ...fresh])
        expect(await store().listUserFactors(other.id)).toEqual([othersCode])
        expect(await store().replaceFactors(user.id, 'recovery-code', [])).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([passkey])
      })

      it('replaces the one TOTP secret', async () => {
        const user = await createUser()
        await add(makeFactor(user.id, 'totp', { data: 'old' }))
        const next = makeFactor(user.id, 'totp', { data: 'new', createdAt: NOW + 1 })
        expect(await store().replaceFactors(user.id, 'totp', [next])).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([next])
      })

      it('stores nothing for an unknown user (false)', async () => {
        const userId = generatePublicId()
        expect(
          await store().replaceFactors(userId, 'recovery-code', [makeFactor(userId, 'recovery-code')]),
        ).toBe(false)
        expect(await store().listUserFactors(userId)).toEqual([])
      })

      it('leaves one whole set when two replacements race, never a mix', async () => {
        const user = await createUser()
        const sets = [0, 1].map(() =>
          Array.from({ length: 10 }, () => makeFactor(user.id, 'recovery-code')).sort((a, b) =>
            a.id < b.id ? -1 : 1,
          ),
        )
        await Promise.all(sets.map((set) => store().replaceFactors(user.id, 'recovery-code', set)))
        const kept = await store().listUserFactors(user.id)
        expect([sets[0], sets[1]]).toContainEqual(kept)
      })
    })

    describe('renameFactor', () => {
      it("renames the user's factor; another user's or an unknown id is false", async () => {
        const user = await createUser()
        const factor = await add(makeFactor(user.id))
        const other = await createUser()
        expect(await store().renameFactor(other.id, factor.id, 'stolen')).toBe(false)
        expect(await store().renameFactor(user.id, generatePublicId(), 'x')).toBe(false)
        expect(await store().renameFactor(user.id, factor.id, 'Laptop — 키')).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([{ ...factor, name: 'Laptop — 키' }])
      })
    })

    describe('removeFactor', () => {
      it("removes the user's factor; another user's or an unknown id is false", async () => {
        const user = await createUser()
        const factor = await add(makeFactor(user.id))
        const other = await createUser()
        expect(await store().removeFactor(other.id, factor.id)).toBe(false)
        expect(await store().removeFactor(user.id, generatePublicId())).toBe(false)
        expect(await store().listUserFactors(user.id)).toEqual([factor])
        expect(await store().removeFactor(user.id, factor.id)).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([])
        expect(await store().removeFactor(user.id, factor.id)).toBe(false)
      })

      it('refuses the last passkey of a user without a password or identity (LAST_SIGN_IN_METHOD), changing nothing', async () => {
        const user = await passkeyOnlyUser()
        const first = await add(makeFactor(user.id))
        const second = await add(makeFactor(user.id, 'passkey', { createdAt: NOW + 1 }))
        const totp = await add(makeFactor(user.id, 'totp', { createdAt: NOW + 2 }))
        expect(await store().removeFactor(user.id, first.id)).toBe(true)
        expect(await store().removeFactor(user.id, second.id)).toBe(LAST_SIGN_IN_METHOD)
        // A TOTP secret signs no one in alone: it may always go.
        expect(await store().removeFactor(user.id, totp.id)).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([second])
      })

      it('removes the last passkey of a user who has a password, or an identity', async () => {
        const withPassword = await createUser()
        const a = await add(makeFactor(withPassword.id))
        expect(await store().removeFactor(withPassword.id, a.id)).toBe(true)
        const social = await passkeyOnlyUser()
        expect(await store().linkIdentity(makeIdentityOf(social.id))).toBe(true)
        const b = await add(makeFactor(social.id))
        expect(await store().removeFactor(social.id, b.id)).toBe(true)
      })

      it("lets at most one of concurrent removals of a passkey-only user's two passkeys succeed", async () => {
        for (let round = 0; round < 5; round++) {
          const user = await passkeyOnlyUser()
          const pair = [await add(makeFactor(user.id)), await add(makeFactor(user.id))]
          const results = await Promise.all(pair.map((factor) => store().removeFactor(user.id, factor.id)))
          expect(results.filter((r) => r === true)).toHaveLength(1)
          expect(results).toContain(LAST_SIGN_IN_METHOD)
          expect(await store().listUserFactors(user.id)).toHaveLength(1)
        }
      })
    })

    describe('removePassword, and passkeys as a way to sign in', () => {
      it('removes the password of a user with a passkey or an identity', async () => {
        const user = await createUser()
        await add(makeFactor(user.id))
        expect(await store().removePassword(user.id)).toBe(true)
        expect((await store().findUserById(user.id))?.passwordHash).toBeNull()
        // Already without one: still true, nothing else changed.
        expect(await store().removePassword(user.id)).toBe(true)
        expect(await store().findUserById(user.id)).toEqual({ ...user, passwordHash: null })
        const social = await createUser()
        expect(await store().linkIdentity(makeIdentityOf(social.id))).toBe(true)
        expect(await store().removePassword(social.id)).toBe(true)
      })

      it('refuses to remove the only way in (LAST_SIGN_IN_METHOD): no passkey (a TOTP secret is none), no identity', async () => {
        const user = await createUser()
        await add(makeFactor(user.id, 'totp'))
        expect(await store().removePassword(user.id)).toBe(LAST_SIGN_IN_METHOD)
        expect(await store().findUserById(user.id)).toEqual(user)
        expect(await store().removePassword(generatePublicId())).toBe(false)
        // Already without one, and with nothing else: refused all the same, on every store.
        const stranded = await passkeyOnlyUser()
        expect(await store().removePassword(stranded.id)).toBe(LAST_SIGN_IN_METHOD)
      })

      it("lets a passkey stand for the password when a password-less user's last identity is unlinked", async () => {
        const user = await passkeyOnlyUser()
        const identity = makeIdentityOf(user.id)
        expect(await store().linkIdentity(identity)).toBe(true)
        expect(await store().unlinkIdentity(user.id, identity.provider)).toBe(LAST_SIGN_IN_METHOD)
        await add(makeFactor(user.id))
        expect(await store().unlinkIdentity(user.id, identity.provider)).toBe(true)
      })

      it('never leaves an account without a way in when the password and the last passkey go at once', async () => {
        for (let round = 0; round < 5; round++) {
          const user = await createUser()
          const passkey = await add(makeFactor(user.id))
          const [password, factor] = await Promise.all([
            store().removePassword(user.id),
            store().removeFactor(user.id, passkey.id),
          ])
          expect([password, factor].filter((r) => r === true)).toHaveLength(1)
          expect([password, factor]).toContain(LAST_SIGN_IN_METHOD)
          const left = await store().findUserById(user.id)
          const passkeys = await store().listUserFactors(user.id)
          expect(left!.passwordHash !== null || passkeys.length === 1).toBe(true)
        }
      })

      it("deleteUser removes the user's factors", async () => {
        const user = await createUser()
        const other = await createUser()
        await add(makeFactor(user.id))
        await add(makeFactor(user.id, 'recovery-code'))
        const kept = await add(makeFactor(other.id))
        expect(await store().deleteUser(user.id)).toBe(true)
        expect(await store().listUserFactors(user.id)).toEqual([])
        expect(await store().listUserFactors(other.id)).toEqual([kept])
        // A user created again with that id starts with none.
        await createUser({ id: user.id })
        expect(await store().listUserFactors(user.id)).toEqual([])
      })
    })
  })
}
