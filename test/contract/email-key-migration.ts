/**
 * One scenario for every store with a migration that gives existing users their email key (SQLite, PostgreSQL,
 * Redis): users written before keys existed, two pairs of them look-alikes, migrated, then looked up and
 * signed up against. The rule under test (store/email-keys.ts): the oldest of look-alikes keeps the key, the
 * younger stays reachable by its exact email only, and the migration names it.
 */
import { expect } from 'vitest'
import { EMAIL_TAKEN, type Store, type UserRecord } from '../../src/store/types.js'
import { makeUser } from './store-contract.js'

export function legacyUsers() {
  return {
    victim: makeUser({ email: 'victim@example.com', createdAt: 1000 }),
    // Fullwidth ｖ: the same key as the victim's, created later.
    lookalike: makeUser({ email: '\uff56ictim@example.com', createdAt: 2000 }),
    // The ﬃ ligature, created first: it keeps the key though the plain spelling came later.
    ligature: makeUser({ email: 'o\ufb03ce@example.com', createdAt: 500 }),
    plainOffice: makeUser({ email: 'office@example.com', createdAt: 600 }),
    // Alone, but its key (strasse@…) is not its email: it needs a key written all the same.
    strasse: makeUser({ email: 'stra\u00dfe@example.com', createdAt: 3000 }),
    plain: makeUser({ email: 'plain@example.com', createdAt: 4000 }),
  } satisfies Record<string, UserRecord>
}

export type LegacyUsers = ReturnType<typeof legacyUsers>

/** Checks what the migration reported and how `store` (opened on the migrated data) behaves. */
export async function expectMigratedKeys(store: Store, users: LegacyUsers, notes: readonly string[]) {
  expect(notes).toHaveLength(1)
  expect(notes[0]).toContain('2 account(s) share an email key')
  expect(notes[0]).toContain(`${users.lookalike.id} (key held by ${users.victim.id})`)
  expect(notes[0]).toContain(`${users.plainOffice.id} (key held by ${users.ligature.id})`)
  for (const other of [users.victim, users.ligature, users.strasse, users.plain]) {
    expect(notes[0]).not.toContain(`${other.id} (`)
  }

  // Every account is still reached by its own exact email: nothing merged, nobody locked out.
  for (const user of Object.values(users)) expect(await store.findUserByEmail(user.email)).toEqual(user)
  // Any other spelling reaches the key's holder.
  expect(await store.findUserByEmail('v\uff49ctim@example.com')).toEqual(users.victim)
  expect(await store.findUserByEmail('o\ufb00ice@example.com')).toEqual(users.ligature)
  expect(await store.findUserByEmail('strasse@example.com')).toEqual(users.strasse)

  // And no new look-alike of any of them can be created.
  for (const email of ['\uff56\uff49ctim@example.com', 'of\ufb01ce@example.com', 'strasse@example.com']) {
    expect(await store.createUser(makeUser({ email })), email).toBe(EMAIL_TAKEN)
  }
  const fresh = makeUser({ email: 'fresh@example.com' })
  expect(await store.createUser(fresh)).toEqual(fresh)
  expect(await store.findUserByEmail('\uff46resh@example.com')).toEqual(fresh)
}

/**
 * Moves and deletes accounts the migration left without a key, and the key's holders, on `store` (after
 * {@link expectMigratedKeys}): an account without a key never takes the holder's key entry with it, and a
 * holder that moves or goes frees its key.
 */
export async function expectKeylessAccountsMoveAndGo(store: Store, users: LegacyUsers) {
  expect(await store.changeUserEmail(users.lookalike.id, 'moved@example.com', 5000)).toBe(true)
  const moved = { ...users.lookalike, email: 'moved@example.com', emailVerifiedAt: 5000 }
  expect(await store.findUserByEmail('moved@example.com')).toEqual(moved)
  expect(await store.findUserByEmail(users.lookalike.email)).toEqual(users.victim)
  expect(await store.findUserByEmail(users.victim.email)).toEqual(users.victim)

  expect(await store.deleteUser(users.plainOffice.id)).toBe(true)
  expect(await store.findUserById(users.plainOffice.id)).toBeNull()
  expect(await store.findUserByEmail(users.plainOffice.email)).toEqual(users.ligature)
  expect(await store.findUserByEmail(users.ligature.email)).toEqual(users.ligature)

  // The holders move or go, and their keys with them: look-alikes of their emails may sign up now.
  expect(await store.deleteUser(users.victim.id)).toBe(true)
  expect(await store.changeUserEmail(users.ligature.id, 'elsewhere@example.com', 5000)).toBe(true)
  for (const email of ['\uff56ictim@example.com', 'of\ufb01ce@example.com']) {
    const user = makeUser({ email })
    expect(await store.createUser(user), email).toEqual(user)
    expect(await store.findUserByEmail(email), email).toEqual(user)
  }
}
