/**
 * How records sit in Redis hashes: one field per record field, numbers as decimal strings, `roles` as JSON, and
 * a null field simply absent (so `HEXISTS revokedAt` is the "is revoked" test inside the scripts). Decoding
 * builds fresh objects, so callers always get copies.
 */
import type { RefreshFamilyRecord, SessionRecord, SigningKeyRecord, UserRecord } from '../types.js'

/** Field values of one hash, as HGETALL returns them. */
export type HashFields = Record<string, string>

/** A record as the flat field/value list HSET takes; null fields are left out. */
export function toFieldList(record: UserRecord | SessionRecord | RefreshFamilyRecord): string[] {
  const list: string[] = []
  const entries = Object.entries(record) as Array<[string, string | number | readonly string[] | null]>
  for (const [field, value] of entries) {
    if (value === null) continue
    list.push(field, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  return list
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

export function decodeSession(fields: HashFields): SessionRecord {
  return {
    id: text(fields, 'id'),
    tokenHash: text(fields, 'tokenHash'),
    userId: text(fields, 'userId'),
    createdAt: integer(fields, 'createdAt'),
    lastSeenAt: integer(fields, 'lastSeenAt'),
    expiresAt: integer(fields, 'expiresAt'),
    absoluteExpiresAt: integer(fields, 'absoluteExpiresAt'),
    userAgent: fields.userAgent ?? null,
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
