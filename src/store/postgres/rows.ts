/**
 * Row shapes of the PostgreSQL tables and their mapping to store records. postgres.js returns BIGINT as a
 * string (a JavaScript number cannot hold every 64-bit value); the columns hold whole Unix seconds, far
 * inside `Number.MAX_SAFE_INTEGER`, so the mappers turn them back into numbers here, in one place.
 */
import { parseMethodListText } from '../../core/sign-in-methods.js'
import type {
  AccessRevocationRecord,
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
  UserEpochRecord,
  UserRecord,
} from '../types.js'

/** A BIGINT column as postgres.js returns it. */
type Int8 = string

export interface UserRow {
  id: string
  email: string
  password_hash: string | null
  /** JSONB, parsed by postgres.js. */
  roles: string[]
  created_at: Int8
  disabled_at: Int8 | null
  email_verified_at: Int8 | null
}

/** A user's columns beside a session's, as the session-with-user join names them. */
export type PrefixedUserRow = { [K in keyof UserRow as `u_${K}`]: UserRow[K] | null }

export function unprefixUser(row: PrefixedUserRow): UserRow {
  return {
    id: row.u_id!,
    email: row.u_email!,
    password_hash: row.u_password_hash,
    roles: row.u_roles!,
    created_at: row.u_created_at!,
    disabled_at: row.u_disabled_at,
    email_verified_at: row.u_email_verified_at,
  }
}

export interface SessionRow {
  token_hash: string
  id: string
  user_id: string
  created_at: Int8
  last_seen_at: Int8
  expires_at: Int8
  absolute_expires_at: Int8
  user_agent: string | null
  ip: string | null
  /** The sign-in methods, as `methodListText` (core/sign-in-methods.ts) writes them. */
  amr: string
}

export interface SigningKeyRow {
  kid: string
  alg: string
  private_jwk: string
  created_at: Int8
  activates_at: Int8
  retired_at: Int8 | null
}

export interface FamilyRow {
  id: string
  user_id: string
  created_at: Int8
  last_used_at: Int8
  expires_at: Int8
  absolute_expires_at: Int8
  generation: number
  rotated_at: Int8 | null
  revoked_at: Int8 | null
  successor_seal: string | null
  user_agent: string | null
  ip: string | null
  client_id: string | null
  scope: string | null
  /** The sign-in methods, as `methodListText` (core/sign-in-methods.ts) writes them. */
  amr: string
}

export interface ClientRow {
  id: string
  name: string
  type: ClientType
  /** JSONB, parsed by postgres.js, as every list below. */
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  origins: string[]
  first_party: boolean
  scopes: string[]
  secret_hash: string | null
  created_at: Int8
}

export interface ConsentRow {
  user_id: string
  client_id: string
  /** JSONB, parsed by postgres.js. */
  scopes: string[]
  granted_at: Int8
}

export interface IdentityRow {
  provider: string
  subject: string
  user_id: string
  email: string | null
  created_at: Int8
}

export interface FactorRow {
  id: string
  user_id: string
  kind: FactorKind
  lookup_key: string
  name: string
  data: string
  counter: Int8
  created_at: Int8
  last_used_at: Int8 | null
}

export interface OneTimeTokenRow {
  token_hash: string
  user_id: string
  purpose: OneTimeTokenPurpose
  email: string
  created_at: Int8
  expires_at: Int8
}

export interface RevocationRow {
  kind: 'jti' | 'sid'
  value: string
  expires_at: Int8
}

export interface EpochRow {
  user_id: string
  epoch: Int8
  expires_at: Int8
}

function seconds(value: Int8): number {
  return Number(value)
}

function secondsOrNull(value: Int8 | null): number | null {
  return value === null ? null : Number(value)
}

export function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    email: r.email,
    passwordHash: r.password_hash,
    roles: [...r.roles],
    createdAt: seconds(r.created_at),
    disabledAt: secondsOrNull(r.disabled_at),
    emailVerifiedAt: secondsOrNull(r.email_verified_at),
  }
}

export function toIdentity(r: IdentityRow): FederatedIdentityRecord {
  return {
    provider: r.provider,
    subject: r.subject,
    userId: r.user_id,
    email: r.email,
    createdAt: seconds(r.created_at),
  }
}

export function toOneTimeToken(r: OneTimeTokenRow): OneTimeTokenRecord {
  return {
    tokenHash: r.token_hash,
    userId: r.user_id,
    purpose: r.purpose,
    createdAt: seconds(r.created_at),
    expiresAt: seconds(r.expires_at),
    email: r.email,
  }
}

export function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    userId: r.user_id,
    createdAt: seconds(r.created_at),
    lastSeenAt: seconds(r.last_seen_at),
    expiresAt: seconds(r.expires_at),
    absoluteExpiresAt: seconds(r.absolute_expires_at),
    userAgent: r.user_agent,
    ip: r.ip,
    amr: parseMethodListText(r.amr),
  }
}

export function toSigningKey(r: SigningKeyRow): SigningKeyRecord {
  return {
    kid: r.kid,
    alg: r.alg,
    privateJwk: r.private_jwk,
    createdAt: seconds(r.created_at),
    activatesAt: seconds(r.activates_at),
    retiredAt: secondsOrNull(r.retired_at),
  }
}

export function toFamily(r: FamilyRow): RefreshFamilyRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: seconds(r.created_at),
    lastUsedAt: seconds(r.last_used_at),
    expiresAt: seconds(r.expires_at),
    absoluteExpiresAt: seconds(r.absolute_expires_at),
    generation: r.generation,
    rotatedAt: secondsOrNull(r.rotated_at),
    revokedAt: secondsOrNull(r.revoked_at),
    successorSeal: r.successor_seal,
    userAgent: r.user_agent,
    ip: r.ip,
    clientId: r.client_id,
    scope: r.scope,
    amr: parseMethodListText(r.amr),
  }
}

export function toFactor(r: FactorRow): FactorRecord {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    lookupKey: r.lookup_key,
    name: r.name,
    data: r.data,
    // BIGINT, as the times: a signature counter is at most 2^32 - 1, a TOTP step far less.
    counter: Number(r.counter),
    createdAt: seconds(r.created_at),
    lastUsedAt: secondsOrNull(r.last_used_at),
  }
}

export function toClient(r: ClientRow): OAuthClientRecord {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    redirectUris: [...r.redirect_uris],
    postLogoutRedirectUris: [...r.post_logout_redirect_uris],
    origins: [...r.origins],
    firstParty: r.first_party,
    scopes: [...r.scopes],
    secretHash: r.secret_hash,
    createdAt: seconds(r.created_at),
  }
}

export function toConsent(r: ConsentRow): ConsentRecord {
  return {
    userId: r.user_id,
    clientId: r.client_id,
    scopes: [...r.scopes],
    grantedAt: seconds(r.granted_at),
  }
}

export function toRevocation(r: RevocationRow): AccessRevocationRecord {
  return { kind: r.kind, value: r.value, expiresAt: seconds(r.expires_at) }
}

export function toEpoch(r: EpochRow): UserEpochRecord {
  return { userId: r.user_id, epoch: seconds(r.epoch), expiresAt: seconds(r.expires_at) }
}
