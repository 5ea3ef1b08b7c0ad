/**
 * How a user signed in, recorded on the session or refresh family and carried in tokens as `amr`
 * (Authentication Method References, RFC 8176; OpenID Connect Core §2). The values are RFC 8176's where it has
 * one; `fed` (a federated sign-in provider vouched for the person) is the value Microsoft Entra ID uses, since
 * the registry has none.
 */
export const SIGN_IN_METHOD = {
  /** A password. */
  password: 'pwd',
  /** A one-time code: an authenticator app's TOTP code, or a recovery code. */
  oneTimeCode: 'otp',
  /** A passkey held in hardware: a security key, or a platform authenticator that cannot sync it. */
  hardwareKey: 'hwk',
  /** A passkey that can leave the device (synced by a password manager or platform account). */
  softwareKey: 'swk',
  /** More than one factor: a password and a code or passkey, or a passkey that verified the user. */
  multiFactor: 'mfa',
  /** A sign-in provider (social login, a corporate OpenID provider). */
  federated: 'fed',
} as const

export type SignInMethod = (typeof SIGN_IN_METHOD)[keyof typeof SIGN_IN_METHOD]

/** What a password sign-in records. */
export const PASSWORD_ONLY: readonly SignInMethod[] = Object.freeze([SIGN_IN_METHOD.password])

/** What a sign-in through a provider records. */
export const FEDERATED: readonly SignInMethod[] = Object.freeze([SIGN_IN_METHOD.federated])

/** What a method name may be: a short word (RFC 8176 names all are), so a list of them joins and splits back. */
const METHOD_NAME = /^[A-Za-z0-9_-]{1,32}$/

/**
 * Refuses (TypeError: a caller's mistake) a list of methods a store could not keep exactly: a name that is empty,
 * longer than 32 characters, or holds anything but letters, digits, `_` and `-`.
 */
export function checkMethodList(amr: readonly string[]): void {
  for (const method of amr) {
    if (!METHOD_NAME.test(method)) {
      throw new TypeError('A sign-in method must be a word of 1 to 32 letters, digits, "_" or "-".')
    }
  }
}

/** The methods as stores keep them in one text: joined by single spaces, the empty list as ''. */
export function methodListText(amr: readonly string[]): string {
  checkMethodList(amr)
  return amr.join(' ')
}

/** Reads what {@link methodListText} wrote; '' (or nothing: a record from before methods) is no method. */
export function parseMethodListText(text: string | null | undefined): string[] {
  return text === undefined || text === null || text === '' ? [] : text.split(' ')
}

const MAX_SHARED_LISTS = 64
const sharedLists = new Map<string, readonly string[]>()

/**
 * One frozen array per distinct list of methods, shared by every record that holds it: there are a handful of
 * lists, and the memory store and the session cache hold sessions by the hundred thousand (an array of its own
 * costs a session about 40 bytes). Frozen, so whoever is handed it cannot change what is stored.
 */
export function sharedMethodList(amr: readonly string[]): readonly string[] {
  checkMethodList(amr)
  const key = amr.join(' ')
  const shared = sharedLists.get(key)
  if (shared) return shared
  const list = Object.freeze([...amr])
  // Bounded: an application passing lists of its own to createSession cannot grow it without end.
  if (sharedLists.size < MAX_SHARED_LISTS) sharedLists.set(key, list)
  return list
}
