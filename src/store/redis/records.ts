/**
 * How records sit in Redis. Users and refresh families are hashes with one field per record field, numbers as
 * decimal strings, `roles` as JSON, and a null field simply absent (so `HEXISTS revokedAt` is the "is revoked"
 * test inside the scripts). Decoding builds fresh objects, so callers always get copies.
 *
 * Sessions, the records Redis holds by the million, are packed (bench/RESULTS.md, bytes per session): one
 * string per session, its fields in a fixed order and separated by `|`,
 *
 *   id|userId|createdAt|lastSeenAt|expiresAt|absoluteExpiresAt|agentRef[|ip]
 *
 * where `agentRef` names the session's User-Agent, kept once per distinct text under `agent:{agentRef}` (empty:
 * the session has none), and a missing last field is a null `ip`. Ids are base64url and times are digits, so
 * `|` never occurs inside the first seven fields; the IP, last, may hold anything. A 100- to 200-byte browser
 * User-Agent was most of a session's bytes, and a few hundred distinct ones cover nearly every session, so
 * sessions share them; a packed string also costs no field names and stays one allocation (a 118-byte value
 * takes Redis's 128-byte allocation class, where a hash of the same fields took 160).
 *
 * Sesame 0.1 stored a session as a hash (`id`, `userId`, ..., the User-Agent in `userAgent`
 * or in 64-byte pieces `userAgent.0`, `userAgent.1`, ...). The scripts still read, renew and delete those,
 * handing them over in the packed form (`scripts.ts`), so sessions created before an upgrade live out their
 * lifetime; nothing writes them any more.
 */
import { createHash } from 'node:crypto'
import type { RefreshFamilyRecord, SessionRecord, SigningKeyRecord, UserRecord } from '../types.js'

/** Field values of one hash, as HGETALL returns them. */
export type HashFields = Record<string, string>

type FieldValue = string | number | readonly string[] | null

/** A record as the flat field/value list HSET takes; null fields are left out. */
export function toFieldList(record: UserRecord | RefreshFamilyRecord): string[] {
  const list: string[] = []
  for (const [field, value] of Object.entries(record) as Array<[string, FieldValue]>) {
    if (value === null) continue
    list.push(field, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  return list
}

/**
 * The reference under which a User-Agent is kept: 96 bits of its SHA-256, base64url. Sessions with the same
 * text share one key; finding a second text with a given reference (to relabel others' devices) would take
 * about 2^96 hashes.
 */
export function agentRef(userAgent: string): string {
  return createHash('sha256').update(userAgent).digest('base64url').slice(0, AGENT_REF_LENGTH)
}

const AGENT_REF_LENGTH = 16
const SEPARATOR = '|'
/** Fields before the optional IP. */
const PACKED_FIELDS = 7

/** A session as the packed string of the header, with `ref` as its agent reference ('' for none). */
export function packSession(session: SessionRecord, ref: string): string {
  for (const id of [session.id, session.userId, ref]) {
    // Never the case for the engine's base64url ids; refused rather than stored ambiguously.
    if (id.includes(SEPARATOR)) throw new TypeError(`A session field holds "${SEPARATOR}".`)
  }
  const fields = [
    session.id,
    session.userId,
    packedTime(session.createdAt),
    packedTime(session.lastSeenAt),
    packedTime(session.expiresAt),
    packedTime(session.absoluteExpiresAt),
    ref,
  ]
  if (session.ip !== null) fields.push(session.ip)
  return fields.join(SEPARATOR)
}

/**
 * A session from its packed string and the text its agent reference names (`null`: the session has no
 * User-Agent, or its agent key is gone). `tokenHash` is the one its key names.
 */
export function unpackSession(packed: string, userAgent: string | null, tokenHash: string): SessionRecord {
  const fields: string[] = []
  let start = 0
  while (fields.length < PACKED_FIELDS) {
    const end = packed.indexOf(SEPARATOR, start)
    if (end === -1) {
      fields.push(packed.slice(start))
      start = packed.length + 1
      break
    }
    fields.push(packed.slice(start, end))
    start = end + 1
  }
  if (fields.length < PACKED_FIELDS) throw new Error('A stored Redis session is not in the packed layout.')
  const [id, userId, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, ref] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  return {
    id,
    tokenHash,
    userId,
    createdAt: packedInteger(createdAt),
    lastSeenAt: packedInteger(lastSeenAt),
    expiresAt: packedInteger(expiresAt),
    absoluteExpiresAt: packedInteger(absoluteExpiresAt),
    userAgent: ref === '' ? null : userAgent,
    ip: start <= packed.length ? packed.slice(start) : null,
  }
}

/**
 * `seconds`, checked to be what a packed session can hold and read back (whole, not negative); refused on
 * write, so that no session is stored that every later read would refuse.
 */
export function packedTime(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw new TypeError('A session time must be whole seconds.')
  return seconds
}

function packedInteger(digits: string): number {
  if (!/^\d{1,15}$/.test(digits)) throw new Error('A stored Redis session has a malformed time.')
  return Number(digits)
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
  return JSON.stringify({
    kid: key.kid,
    alg: key.alg,
    privateJwk: key.privateJwk,
    createdAt: key.createdAt,
    activatesAt: key.activatesAt,
  })
}

export function decodeSigningKey(json: string, retiredAt: string | undefined): SigningKeyRecord {
  const fields = JSON.parse(json) as Pick<SigningKeyRecord, 'kid' | 'alg' | 'privateJwk' | 'createdAt'> & {
    activatesAt?: number
  }
  return {
    kid: fields.kid,
    alg: fields.alg,
    privateJwk: fields.privateJwk,
    createdAt: fields.createdAt,
    // Keys written before staged rotation have no activation time: they have signed since their creation.
    activatesAt: fields.activatesAt ?? fields.createdAt,
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
