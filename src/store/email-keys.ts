/**
 * Giving the users that existed before email keys their key (`emailKey` in `core/email.ts`), for the SQL
 * migrations and the Redis one alike. Accounts whose addresses were distinct but fold to one key (`straße@…`
 * and `strasse@…`, `ｖictim@…` and `victim@…`) are neither merged nor refused: the oldest keeps the key, and
 * so every look-alike spelling at sign-in; each younger one gets no key and stays reachable by its own exact
 * (normalised) email only. The migration reports them, so an operator can contact or disable them.
 */
import { emailKey } from '../core/email.js'

/** What the key assignment needs of a user. */
export interface UserForKey {
  id: string
  email: string
  createdAt: number
}

/** A user left without a key because an older account holds it. */
export interface KeylessUser {
  id: string
  /** The account that holds the key. */
  keptBy: string
}

export interface EmailKeyAssignment {
  /** Users that get a key, in the order they should get it (oldest first). */
  keyed: Array<{ id: string; key: string }>
  keyless: KeylessUser[]
}

/**
 * Decides which user gets which key: per key, the user created first (then the smaller id, so every run
 * decides alike) gets it, unless `held` says another user already holds it (Redis, where new sign-ups may
 * have taken keys before the migration ran).
 */
export function assignEmailKeys(
  users: readonly UserForKey[],
  held: ReadonlyMap<string, string> = new Map(),
): EmailKeyAssignment {
  const sorted = [...users].sort(
    (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  )
  const holders = new Map(held)
  const keyed: EmailKeyAssignment['keyed'] = []
  const keyless: KeylessUser[] = []
  for (const user of sorted) {
    const key = emailKey(user.email)
    const holder = holders.get(key)
    if (holder === undefined) {
      holders.set(key, user.id)
      keyed.push({ id: user.id, key })
    } else if (holder !== user.id) {
      keyless.push({ id: user.id, keptBy: holder })
    }
  }
  return { keyed, keyless }
}

/** One line for the operator about the accounts left without a key; empty when there are none. */
export function describeKeylessUsers(keyless: readonly KeylessUser[]): string[] {
  if (keyless.length === 0) return []
  const list = keyless.map((user) => `${user.id} (key held by ${user.keptBy})`).join(', ')
  return [
    `${keyless.length} account(s) share an email key (NFKC + case fold) with an older account and were given none: ` +
      `they sign in with their exact email only, and look-alike spellings reach the older account: ${list}`,
  ]
}

/** Emits `lines` as SesameWarning SESAME_W004 (the store layer cannot reach the server's warning table). */
export function warnKeylessUsers(lines: readonly string[]): void {
  for (const line of lines) process.emitWarning(line, { type: 'SesameWarning', code: 'SESAME_W004' })
}
