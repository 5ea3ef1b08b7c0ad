/**
 * How records sit in Redis hashes: one field per record field, numbers as decimal strings, `roles` as JSON, and
 * a null field simply absent (so `HEXISTS revokedAt` is the "is revoked" test inside the scripts). Decoding
 * builds fresh objects, so callers always get copies.
 *
 * Sessions, the records Redis holds by the million, are kept compact (bench/RESULTS.md, bytes per session):
 * Redis stores a small hash as one listpack only while every value is at most `hash-max-listpack-value`
 * bytes, 64 by default; one longer value turns it into a hash table of separately allocated entries, about
 * twice the memory (`hash-max-ziplist-value` on Redis 6.2; a lower operator setting only costs memory). A
 * browser's User-Agent is 100 to 200 bytes, so it is stored in pieces of at most 64 bytes (`userAgent.0`,
 * `userAgent.1`, ...). Sessions written before this layout (one `userAgent` field) still decode, and the
 * `tokenHash` field, redundant with the key, is still written: instances of the previous release require it,
 * so a rolling upgrade (or a rollback) never meets a session it cannot read. It can go one release later.
 */
import type { RefreshFamilyRecord, SessionRecord, SigningKeyRecord, UserRecord } from '../types.js'

/** Field values of one hash, as HGETALL returns them. */
export type HashFields = Record<string, string>

type FieldValue = string | number | readonly string[] | null

/** A record as the flat field/value list HSET takes; null fields are left out. */
export function toFieldList(record: UserRecord | RefreshFamilyRecord | Record<string, FieldValue>): string[] {
  const list: string[] = []
  for (const [field, value] of Object.entries(record) as Array<[string, FieldValue]>) {
    if (value === null) continue
    list.push(field, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  return list
}

/** Most UTF-8 bytes a session value may have and keep its hash a listpack under Redis's default settings. */
export const SESSION_VALUE_BYTES = 64

/** A session's fields in the compact layout (see the header): the User-Agent in pieces. */
export function toSessionFieldList(session: SessionRecord): string[] {
  const { userAgent, ...rest } = session
  const list = toFieldList(rest)
  if (userAgent !== null) {
    splitUtf8(userAgent, SESSION_VALUE_BYTES).forEach((piece, index) =>
      list.push(`userAgent.${index}`, piece),
    )
  }
  return list
}

/** `text` in consecutive pieces of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  // Four bytes hold any character (a surrogate pair), so every piece makes progress.
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 4)
    throw new RangeError('maxBytes must be an integer >= 4.')
  if (text === '') return [''] // one empty piece, so an empty value stays distinct from none
  const pieces: string[] = []
  let start = 0
  while (start < text.length) {
    let end = Math.min(text.length, start + maxBytes) // a character is at least one byte
    while (Buffer.byteLength(text.slice(start, end)) > maxBytes) end--
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end-- // keep a surrogate pair together
    pieces.push(text.slice(start, end))
    start = end
  }
  return pieces
}

/** The User-Agent of a stored session: one field (older layout) or its pieces in order; null if neither. */
function sessionUserAgent(fields: HashFields): string | null {
  if (fields.userAgent !== undefined) return fields.userAgent
  let userAgent = ''
  for (let index = 0; fields[`userAgent.${index}`] !== undefined; index++)
    userAgent += fields[`userAgent.${index}`]
  return fields['userAgent.0'] === undefined ? null : userAgent
}

/** A flat field/value list (a script's HGETALL) as an object. */
export function fieldsFromList(list: readonly string[]): HashFields {
  const fields: HashFields = {}
  for (let i = 0; i + 1 < list.length; i += 2) fields[list[i]!] = list[i + 1]!
  return fields
}

export function decodeUser(fields: HashFields): UserRecord {
  return {
    id: text(fields, 'id'),
    email: text(fields, 'email'),
    passwordHash: text(fields, 'passwordHash'),
    roles: JSON.parse(text(fields, 'roles')) as string[],
    createdAt: integer(fields, 'createdAt'),
    disabledAt: optionalInteger(fields, 'disabledAt'),
  }
}

/** A session from its hash; `tokenHash` is the one its key names (the field, where present, is the same). */
export function decodeSession(fields: HashFields, tokenHash: string): SessionRecord {
  return {
    id: text(fields, 'id'),
    tokenHash,
    userId: text(fields, 'userId'),
    createdAt: integer(fields, 'createdAt'),
    lastSeenAt: integer(fields, 'lastSeenAt'),
    expiresAt: integer(fields, 'expiresAt'),
    absoluteExpiresAt: integer(fields, 'absoluteExpiresAt'),
    userAgent: sessionUserAgent(fields),
    ip: fields.ip ?? null,
  }
}

export function decodeFamily(fields: HashFields): RefreshFamilyRecord {
  return {
    id: text(fields, 'id'),
    userId: text(fields, 'userId'),
    createdAt: integer(fields, 'createdAt'),
    lastUsedAt: integer(fields, 'lastUsedAt'),
    expiresAt: integer(fields, 'expiresAt'),
    absoluteExpiresAt: integer(fields, 'absoluteExpiresAt'),
    generation: integer(fields, 'generation'),
    rotatedAt: optionalInteger(fields, 'rotatedAt'),
    revokedAt: optionalInteger(fields, 'revokedAt'),
    successorSeal: fields.successorSeal ?? null,
    userAgent: fields.userAgent ?? null,
    ip: fields.ip ?? null,
  }
}

/** A signing key's fixed fields as the JSON kept in the keys hash (`retiredAt` lives in its own hash). */
export function encodeSigningKey(key: SigningKeyRecord): string {
  return JSON.stringify({ kid: key.kid, alg: key.alg, privateJwk: key.privateJwk, createdAt: key.createdAt })
}

export function decodeSigningKey(json: string, retiredAt: string | undefined): SigningKeyRecord {
  const fields = JSON.parse(json) as Pick<SigningKeyRecord, 'kid' | 'alg' | 'privateJwk' | 'createdAt'>
  return {
    kid: fields.kid,
    alg: fields.alg,
    privateJwk: fields.privateJwk,
    createdAt: fields.createdAt,
    retiredAt: retiredAt === undefined ? null : Number(retiredAt),
  }
}

function text(fields: HashFields, name: string): string {
  const value = fields[name]
  if (value === undefined) throw new Error(`A stored Redis record lacks its "${name}" field.`)
  return value
}

function integer(fields: HashFields, name: string): number {
  return Number(text(fields, name))
}

function optionalInteger(fields: HashFields, name: string): number | null {
  const value = fields[name]
  return value === undefined ? null : Number(value)
}
