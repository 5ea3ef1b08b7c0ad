/**
 * How records sit in Redis. Users, federated identities, one-time tokens, refresh families and OAuth clients are
 * hashes with one field per record field, numbers as decimal strings, lists (`roles`, a client's URIs and scopes)
 * as JSON, flags as `true` or `false`, and a null field simply absent (so `HEXISTS revokedAt` is the "is revoked"
 * test inside the scripts, and `HEXISTS passwordHash` the "has a password" one). A field a record gained later (a
 * user's `emailVerifiedAt`, a family's `clientId` and `scope`) is absent from records written before it, which
 * therefore read as null, with no layout migration. A family's sign-in methods (`amr`) are the one list kept
 * otherwise: joined by spaces (`methodListText` in core/sign-in-methods.ts), and absent when there are none,
 * so families written before the field read as none, again with no migration. A consent is one field of its user's consents hash, its scopes
 * and `grantedAt` as JSON (the ids are the key's and the field's). Decoding builds fresh objects, so callers
 * always get copies.
 *
 * Sessions, the records Redis holds by the million, are packed (bench/RESULTS.md, bytes per session): one
 * string per session, its fields in a fixed order and separated by `|`,
 *
 *   id|userId|createdAt|lastSeenAt|expiresAt|absoluteExpiresAt|agentRef[ amr][|ip]
 *
 * where `agentRef` names the session's User-Agent, kept once per distinct text under `agent:{agentRef}` (empty:
 * the session has none), `amr` is the session's sign-in methods joined by spaces (absent, with its space, when
 * there are none), and a missing last field is a null `ip`. Ids are base64url, times are digits and methods are
 * words without `|`, so `|` never occurs inside the first seven fields; the IP, last, may hold anything. A 100- to
 * 200-byte browser User-Agent was most of a session's bytes, and a few hundred distinct ones cover nearly every
 * session, so sessions share them; a packed string also costs no field names and stays one allocation (a 118-byte
 * value takes Redis's 128-byte allocation class, where a hash of the same fields took 160).
 *
 * The layout is defined once, in `PACKED_SESSION` below: TypeScript packs and unpacks by it and the scripts'
 * Lua accessors are generated from it (`LUA_SESSION_LAYOUT`), as `keys.ts` does for key names.
 *
 * Why the methods ride on the agent reference, after a space, rather than in a trailing field of their own:
 * sessions written before methods were recorded must read as having none, with no data migration (rewriting
 * millions of sessions to add an empty field would buy nothing). A trailing field cannot tell them apart: the
 * IP before it may hold anything, `|` included, so `...|ref|a|b` could be an old session with the IP `a|b` or a
 * new one with the IP `a` and the methods `b`. The agent reference, though, is base64url or empty and never holds
 * a space, so in the seventh field a space can only start methods: an old session has none there, and reads as
 * `amr: []`. The empty list costs nothing (no space, no text), and a session without a User-Agent keeps its
 * methods as ` pwd`. A release from before methods reads such a field as an unknown agent reference: it shows
 * the session without a User-Agent and keeps the field as it is on renewal, so a rollback loses nothing.
 *
 * Factors are packed too, one field of the user's factors hash (`user:{id}:factors`) each: the field is the
 * lookup key, the user the key's, and the value
 *
 *   id|kind|counter|createdAt|lastUsedAt|nameBytes|<name><data>
 *
 * with `lastUsedAt` empty for null. The name (the user's own text) and the data (opaque to stores) may hold
 * anything, so they come last, undelimited, split by the name's length in UTF-8 bytes (what Lua's `#` counts): no
 * escaping, and a rename or a use rewrites the value without reading into the data. Numbers are decimal digits,
 * compared and set as text by the scripts, so a counter never passes through a Lua double. `PACKED_FACTOR` and
 * `LUA_FACTOR_LAYOUT` define and generate it as for sessions. One hash per user rather than a key per factor:
 * a user's ten recovery codes cost ten hash fields, not ten keys.
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
  FactorKind,
  FactorRecord,
  FederatedIdentityRecord,
  OAuthClientRecord,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  RefreshFamilyRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '../types.js'
import { methodListText, parseMethodListText } from '../../core/sign-in-methods.js'
import { luaName } from './keys.js'

/** Field values of one hash, as HGETALL returns them. */
export type HashFields = Record<string, string>

type FieldValue = string | number | boolean | readonly string[] | null

/**
 * A record as the flat field/value list HSET takes; null fields are left out, and so are a family's sign-in
 * methods when there are none (see the header).
 */
export function toFieldList(
  record: UserRecord | FederatedIdentityRecord | OneTimeTokenRecord | RefreshFamilyRecord | OAuthClientRecord,
): string[] {
  const list: string[] = []
  for (const [field, value] of Object.entries(record) as Array<[string, FieldValue]>) {
    if (value === null) continue
    if (field === 'amr') {
      const methods = methodListText(value as readonly string[])
      if (methods !== '') list.push(field, methods)
      continue
    }
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
 * separator), a time (whole seconds, digits), the agent reference (never holds a space either), or the sign-in
 * methods, which are no `|` field of their own but follow the field before them after a space, and only when there
 * are any (see the header for why). The optional IP follows them all. TypeScript packs and unpacks by this table,
 * and the Lua the scripts use ({@link LUA_SESSION_LAYOUT}) is generated from it.
 */
const PACKED_SESSION = [
  ['id', 'id'],
  ['userId', 'id'],
  ['createdAt', 'time'],
  ['lastSeenAt', 'time'],
  ['expiresAt', 'time'],
  ['absoluteExpiresAt', 'time'],
  ['agentRef', 'ref'],
  ['amr', 'methods'],
] as const satisfies ReadonlyArray<readonly [string, 'id' | 'time' | 'ref' | 'methods']>

type PackedField = (typeof PACKED_SESSION)[number][0]
/** The `|` fields before the optional IP (the methods share the agent reference's). */
const PACKED_FIELDS = PACKED_SESSION.filter(([, kind]) => kind !== 'methods').length

/** A session as the packed string of the header, with `ref` as its agent reference ('' for none). */
export function packSession(session: SessionRecord, ref: string): string {
  const fields: string[] = []
  for (const [name, kind] of PACKED_SESSION) {
    if (kind === 'methods') {
      const methods = methodListText(session[name])
      if (methods !== '') fields.push(`${fields.pop()!} ${methods}`)
      continue
    }
    if (kind === 'time') {
      fields.push(String(packedTime(session[name])))
      continue
    }
    const value = kind === 'ref' ? ref : session[name]
    // Never the case for the engine's base64url ids (or a reference); refused rather than stored ambiguously.
    if (value.includes(SEPARATOR)) throw new TypeError(`A session field holds "${SEPARATOR}".`)
    if (kind === 'ref' && value.includes(' ')) throw new TypeError('An agent reference holds a space.')
    fields.push(value)
  }
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
  let previous: PackedField = PACKED_SESSION[0][0]
  for (const [name, kind] of PACKED_SESSION) {
    if (kind === 'methods') {
      // The methods, if any, after the first space of the field before them (which holds none itself).
      const space = field[previous].indexOf(' ')
      field[name] = space === -1 ? '' : field[previous].slice(space + 1)
      if (space !== -1) field[previous] = field[previous].slice(0, space)
      continue
    }
    field[name] = values.shift()!
    previous = name
  }
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
    amr: parseMethodListText(field.amr),
  }
}

/**
 * The same layout as Lua, for the scripts (after `LUA_KEY_LAYOUT`):
 * - `session_fields(packed)`: the fields by their Lua names (`user_id`, `agent_ref`, ...; `amr` the methods'
 *   text, '' for none; `ip` nil for none), or nil for a string that is not a packed session;
 * - `pack_session(f)`: the packed string of such a table;
 * - `valid_session(f)`: whether `pack_session(f)` would read back (ids present and free of the separator,
 *   times whole digits), the check TypeScript makes on write, for fields a script assembles itself;
 * - `session_from_record(h, ref)`: such a table from fields named as in `SessionRecord` (Sesame 0.1's hash,
 *   which `migrations.ts` converts, and which recorded no methods), with `ref` as the agent reference.
 */
export const LUA_SESSION_LAYOUT: string = (() => {
  const names = PACKED_SESSION.map(([name]) => luaName(name))
  // Each `|` field up to the next `|`; the agent reference stops at a space too, so that the methods' capture
  // takes the rest of its field: ' pwd mfa', or '' for none.
  const captures = PACKED_SESSION.map(([, kind], i) => {
    if (kind === 'methods') return `([^${SEPARATOR}]*)`
    const capture = kind === 'ref' ? `([^${SEPARATOR} ]*)` : `([^${SEPARATOR}]*)`
    return i === 0 ? capture : `${SEPARATOR}${capture}`
  })
  const pattern = `^${captures.join('')}(.*)$`
  const read = PACKED_SESSION.map(([name, kind]) => {
    const lua = luaName(name)
    return kind === 'methods' ? `${lua} = string.sub(${lua}, 2)` : `${lua} = ${lua}`
  })
  const packed: string[] = []
  for (const [name, kind] of PACKED_SESSION) {
    const value = `f.${luaName(name)}`
    if (kind === 'methods') packed.push(`${packed.pop()!} .. (${value} ~= '' and ' ' .. ${value} or '')`)
    else packed.push(value)
  }
  const fromRecord = PACKED_SESSION.map(([name, kind]) => {
    // Sesame 0.1 recorded no methods.
    const value = kind === 'ref' ? 'ref' : kind === 'methods' ? "''" : `h.${name}`
    return `${luaName(name)} = ${value}`
  })
  const checks = PACKED_SESSION.map(([name, kind]) => {
    const value = `f.${luaName(name)}`
    const present = `type(${value}) == 'string'`
    if (kind === 'time')
      return `${present} and #${value} >= 1 and #${value} <= 15 and not string.find(${value}, '%D')`
    const free = `${present} and not string.find(${value}, '${SEPARATOR}', 1, true)`
    return kind === 'ref' ? `${free} and not string.find(${value}, ' ', 1, true)` : free
  })
  return `
local function session_fields(packed)
  local ${names.join(', ')}, rest = string.match(packed, '${pattern}')
  if not ${names[0]} then return nil end
  return {${read.join(', ')}, ip = rest ~= '' and string.sub(rest, 2) or nil}
end

local function pack_session(f)
  local packed = table.concat({${packed.join(', ')}}, '${SEPARATOR}')
  if f.ip then packed = packed .. '${SEPARATOR}' .. f.ip end
  return packed
end

local function session_from_record(h, ref)
  return {${fromRecord.join(', ')}, ip = h.ip}
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

/**
 * The packed factor layout (see the header), the one definition of it: the `|` fields before the name's length,
 * each an id (never holds the separator), a count (digits) or an optional count (digits, '' for null). The name's
 * length in bytes, the name and the data follow them. TypeScript packs and unpacks by this table, and the Lua the
 * scripts use ({@link LUA_FACTOR_LAYOUT}) is generated from it.
 */
const PACKED_FACTOR = [
  ['id', 'id'],
  ['kind', 'id'],
  ['counter', 'count'],
  ['createdAt', 'count'],
  ['lastUsedAt', 'optional'],
] as const satisfies ReadonlyArray<readonly [keyof FactorRecord, 'id' | 'count' | 'optional']>

type PackedFactorField = (typeof PACKED_FACTOR)[number][0]

/** A factor as the value of its field in its user's factors hash (the field is its lookup key). */
export function packFactor(factor: FactorRecord): string {
  const fields = PACKED_FACTOR.map(([name, kind]): string | number => {
    if (kind === 'id') {
      const value = factor[name]
      // Never the case for the engine's base64url ids and the factor kinds; refused rather than stored ambiguously.
      if (value.includes(SEPARATOR)) throw new TypeError(`A factor field holds "${SEPARATOR}".`)
      return value
    }
    const value = factor[name]
    return value === null ? '' : packedCount(value)
  })
  return [...fields, Buffer.byteLength(factor.name), factor.name + factor.data].join(SEPARATOR)
}

/** A factor from the value {@link packFactor} stored under `lookupKey` in the factors hash of `userId`. */
export function unpackFactor(userId: string, lookupKey: string, packed: string): FactorRecord {
  // The table's fields, then the name's length: each ends at a separator.
  const values: string[] = []
  let start = 0
  while (values.length <= PACKED_FACTOR.length) {
    const end = packed.indexOf(SEPARATOR, start)
    if (end === -1) throw new Error('A stored Redis factor is not in the packed layout.')
    values.push(packed.slice(start, end))
    start = end + 1
  }
  const nameBytes = factorNumber(values.pop()!)
  const field = {} as Record<PackedFactorField, string>
  PACKED_FACTOR.forEach(([name], i) => (field[name] = values[i]!))
  // Split by bytes, as the length counts them: the name ends where its UTF-8 does.
  const rest = Buffer.from(packed.slice(start), 'utf8')
  return {
    id: field.id,
    userId,
    kind: field.kind as FactorKind,
    lookupKey,
    name: rest.subarray(0, nameBytes).toString('utf8'),
    data: rest.subarray(nameBytes).toString('utf8'),
    counter: factorNumber(field.counter),
    createdAt: factorNumber(field.createdAt),
    lastUsedAt: field.lastUsedAt === '' ? null : factorNumber(field.lastUsedAt),
  }
}

/** A number as {@link packFactor} wrote it: digits, a safe integer. */
function factorNumber(digits: string): number {
  const value = Number(digits)
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(value))
    throw new Error('A stored Redis factor has a malformed number.')
  return value
}

/**
 * `count` (a factor's counter or time), checked to be what a packed factor can hold and read back (whole, not
 * negative); refused on write, as {@link packedTime} is for sessions.
 */
export function packedCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new TypeError("A factor's counter and times must be whole numbers, not negative.")
  return count
}

/**
 * The factor layout as Lua, for the scripts (after `LUA_SESSION_LAYOUT`):
 * - `factor_fields(packed)`: the fields by their Lua names (`id`, `kind`, `counter`, `created_at`,
 *   `last_used_at` '' for none, `name`, `data`), all text; a value not in the layout is an error, so a script
 *   never judges a user's factors by one it cannot read;
 * - `pack_factor(f)`: the packed value of such a table, the name's length counted anew.
 */
export const LUA_FACTOR_LAYOUT: string = (() => {
  const names = PACKED_FACTOR.map(([name]) => luaName(name))
  const pattern = `^${PACKED_FACTOR.map(() => `([^${SEPARATOR}]*)${SEPARATOR}`).join('')}(%d+)${SEPARATOR}(.*)$`
  return `
local function factor_fields(packed)
  local ${names.join(', ')}, name_bytes, rest = string.match(packed, '${pattern}')
  if not ${names[0]} then error('A stored Redis factor is not in the packed layout.') end
  local n = tonumber(name_bytes)
  return {${names.map((name) => `${name} = ${name}`).join(', ')}, name = string.sub(rest, 1, n), data = string.sub(rest, n + 1)}
end

local function pack_factor(f)
  return table.concat({${names.map((name) => `f.${name}`).join(', ')}, #f.name, f.name .. f.data}, '${SEPARATOR}')
end`
})()

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
    amr: parseMethodListText(fields.amr),
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
