/**
 * How records sit in Redis. Users, federated identities, one-time tokens, refresh families and OAuth clients are
 * hashes with one field per record field, numbers as decimal strings, lists (`roles`, a client's URIs and scopes)
 * as JSON, flags as `true` or `false`, and a null field simply absent (so `HEXISTS revokedAt` is the "is revoked"
 * test inside the scripts, and `HEXISTS passwordHash` the "has a password" one). A field a record gained later (a
 * user's `emailVerifiedAt`, a family's `clientId` and `scope`) is absent from records written before it, which
 * therefore read as null, with no layout migration. A consent is one field of its user's consents hash, its scopes
 * and `grantedAt` as JSON (the ids are the key's and the field's). Decoding builds fresh objects, so callers
 * always get copies.
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
 * The layout is defined once, in `PACKED_SESSION` below: TypeScript packs and unpacks by it and the scripts'
 * Lua accessors are generated from it (`LUA_SESSION_LAYOUT`), as `keys.ts` does for key names.
 *
 * Sesame 0.1 stored a session as a hash (`id`, `userId`, ..., the User-Agent in `userAgent` or in 64-byte
 * pieces `userAgent.0`, `userAgent.1`, ...). Layout version 2 (`migrations.ts`, run by `sesame migrate` and at
 * server start) converts those to this form once; the live scripts know only this layout, and a hash they still
 * meet (a store nobody migrated) is no session to them (`scripts.ts`).
 */
import { createHash } from 'node:crypto'
import type {
  ClientType,
  ConsentRecord,
  FederatedIdentityRecord,
  OAuthClientRecord,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  RefreshFamilyRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '../types.js'
import { luaName } from './keys.js'

/** Field values of one hash, as HGETALL returns them. */
export type HashFields = Record<string, string>

type FieldValue = string | number | boolean | readonly string[] | null

/** A record as the flat field/value list HSET takes; null fields are left out. */
export function toFieldList(
  record: UserRecord | FederatedIdentityRecord | OneTimeTokenRecord | RefreshFamilyRecord | OAuthClientRecord,
): string[] {
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

/**
 * The packed session layout, the one definition of it: the fields in their order, each an id (never holds the
 * separator), a time (whole seconds, digits) or the agent reference. The optional IP follows them. TypeScript
 * packs and unpacks by this table, and the Lua the scripts use ({@link LUA_SESSION_LAYOUT}) is generated from it.
 */
const PACKED_SESSION = [
  ['id', 'id'],
  ['userId', 'id'],
  ['createdAt', 'time'],
  ['lastSeenAt', 'time'],
  ['expiresAt', 'time'],
  ['absoluteExpiresAt', 'time'],
  ['agentRef', 'ref'],
] as const satisfies ReadonlyArray<readonly [string, 'id' | 'time' | 'ref']>

type PackedField = (typeof PACKED_SESSION)[number][0]
/** Fields before the optional IP. */
const PACKED_FIELDS = PACKED_SESSION.length

/** A session as the packed string of the header, with `ref` as its agent reference ('' for none). */
export function packSession(session: SessionRecord, ref: string): string {
  const fields = PACKED_SESSION.map(([name, kind]) => {
    if (kind === 'time') return packedTime(session[name])
    const value = name === 'agentRef' ? ref : session[name]
    // Never the case for the engine's base64url ids; refused rather than stored ambiguously.
    if (value.includes(SEPARATOR)) throw new TypeError(`A session field holds "${SEPARATOR}".`)
    return value
  })
  if (session.ip !== null) fields.push(session.ip)
  return fields.join(SEPARATOR)
}

/**
 * A session from its packed string and the text its agent reference names (`null`: the session has no
 * User-Agent, or its agent key is gone). `tokenHash` is the one its key names.
 */
export function unpackSession(packed: string, userAgent: string | null, tokenHash: string): SessionRecord {
  const values: string[] = []
  let start = 0
  while (values.length < PACKED_FIELDS) {
    const end = packed.indexOf(SEPARATOR, start)
    if (end === -1) {
      values.push(packed.slice(start))
      start = packed.length + 1
      break
    }
    values.push(packed.slice(start, end))
    start = end + 1
  }
  if (values.length < PACKED_FIELDS) throw new Error('A stored Redis session is not in the packed layout.')
  const field = {} as Record<PackedField, string>
  PACKED_SESSION.forEach(([name], i) => (field[name] = values[i]!))
  return {
    id: field.id,
    tokenHash,
    userId: field.userId,
    createdAt: packedInteger(field.createdAt),
    lastSeenAt: packedInteger(field.lastSeenAt),
    expiresAt: packedInteger(field.expiresAt),
    absoluteExpiresAt: packedInteger(field.absoluteExpiresAt),
    userAgent: field.agentRef === '' ? null : userAgent,
    ip: start <= packed.length ? packed.slice(start) : null,
  }
}

/**
 * The same layout as Lua, for the scripts (after `LUA_KEY_LAYOUT`):
 * - `session_fields(packed)`: the fields by their Lua names (`user_id`, `agent_ref`, ...; `ip` nil for none),
 *   or nil for a string that is not a packed session;
 * - `pack_session(f)`: the packed string of such a table;
 * - `valid_session(f)`: whether `pack_session(f)` would read back (ids present and free of the separator,
 *   times whole digits), the check TypeScript makes on write, for fields a script assembles itself;
 * - `session_from_record(h, ref)`: such a table from fields named as in `SessionRecord` (Sesame 0.1's hash,
 *   which `migrations.ts` converts), with `ref` as the agent reference.
 */
export const LUA_SESSION_LAYOUT: string = (() => {
  const names = PACKED_SESSION.map(([name]) => luaName(name))
  const pattern = `^${PACKED_SESSION.map(() => `([^${SEPARATOR}]*)`).join(SEPARATOR)}(.*)$`
  const checks = PACKED_SESSION.map(([name, kind]) => {
    const value = `f.${luaName(name)}`
    const present = `type(${value}) == 'string'`
    if (kind === 'time')
      return `${present} and #${value} >= 1 and #${value} <= 15 and not string.find(${value}, '%D')`
    return `${present} and not string.find(${value}, '${SEPARATOR}', 1, true)`
  })
  return `
local function session_fields(packed)
  local ${names.join(', ')}, rest = string.match(packed, '${pattern}')
  if not ${names[0]} then return nil end
  return {${names.map((name) => `${name} = ${name}`).join(', ')}, ip = rest ~= '' and string.sub(rest, 2) or nil}
end

local function pack_session(f)
  local packed = table.concat({${names.map((name) => `f.${name}`).join(', ')}}, '${SEPARATOR}')
  if f.ip then packed = packed .. '${SEPARATOR}' .. f.ip end
  return packed
end

local function session_from_record(h, ref)
  return {${PACKED_SESSION.map(([name, kind]) => `${luaName(name)} = ${kind === 'ref' ? 'ref' : `h.${name}`}`).join(', ')}, ip = h.ip}
end

local function valid_session(f)
  return ${checks.join('\n    and ')}
end`
})()

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
    passwordHash: fields.passwordHash ?? null,
    roles: JSON.parse(text(fields, 'roles')) as string[],
    createdAt: integer(fields, 'createdAt'),
    disabledAt: optionalInteger(fields, 'disabledAt'),
    emailVerifiedAt: optionalInteger(fields, 'emailVerifiedAt'),
  }
}

export function decodeIdentity(fields: HashFields): FederatedIdentityRecord {
  return {
    provider: text(fields, 'provider'),
    subject: text(fields, 'subject'),
    userId: text(fields, 'userId'),
    email: fields.email ?? null,
    createdAt: integer(fields, 'createdAt'),
  }
}

export function decodeOneTimeToken(fields: HashFields): OneTimeTokenRecord {
  return {
    tokenHash: text(fields, 'tokenHash'),
    userId: text(fields, 'userId'),
    purpose: text(fields, 'purpose') as OneTimeTokenPurpose,
    createdAt: integer(fields, 'createdAt'),
    expiresAt: integer(fields, 'expiresAt'),
    email: text(fields, 'email'),
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
    clientId: fields.clientId ?? null,
    scope: fields.scope ?? null,
  }
}

export function decodeClient(fields: HashFields): OAuthClientRecord {
  return {
    id: text(fields, 'id'),
    name: text(fields, 'name'),
    type: text(fields, 'type') as ClientType,
    redirectUris: list(fields, 'redirectUris'),
    postLogoutRedirectUris: list(fields, 'postLogoutRedirectUris'),
    origins: list(fields, 'origins'),
    firstParty: text(fields, 'firstParty') === 'true',
    scopes: list(fields, 'scopes'),
    secretHash: fields.secretHash ?? null,
    createdAt: integer(fields, 'createdAt'),
  }
}

/** A consent as the value of its field in the user's consents hash: what the key and the field do not say. */
export function encodeConsent(consent: ConsentRecord): string {
  return JSON.stringify({ scopes: consent.scopes, grantedAt: consent.grantedAt })
}

export function decodeConsent(userId: string, clientId: string, json: string): ConsentRecord {
  const fields = JSON.parse(json) as Pick<ConsentRecord, 'scopes' | 'grantedAt'>
  return { userId, clientId, scopes: [...fields.scopes], grantedAt: fields.grantedAt }
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

function list(fields: HashFields, name: string): string[] {
  return JSON.parse(text(fields, name)) as string[]
}

function integer(fields: HashFields, name: string): number {
  return Number(text(fields, name))
}

function optionalInteger(fields: HashFields, name: string): number | null {
  const value = fields[name]
  return value === undefined ? null : Number(value)
}
