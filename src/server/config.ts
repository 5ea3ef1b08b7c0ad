/**
 * The server's configuration: environment variables through one schema, checked once at start. A bad value
 * stops the process with one line naming the variable (never echoing its value, which may be a secret).
 * Unknown `SESAME_*` variables are refused too, so a typo cannot silently leave a default in force.
 * An empty `SESAME_*` value is refused as well: `SESAME_JWT_SECRET=` surely meant something. Every variable is
 * documented in the README's configuration table. Defaults and ranges the library shares (session and token
 * lifetimes, throttling limits, the session limit, the cookie) come from the core policies, never restated.
 */
import { resolve } from 'node:path'
import { z } from 'zod'
import { isCanonicalBase64url } from '../core/jws/base64url.js'
import { COOKIE_NAME_PATTERN, SESSION_COOKIE_DEFAULTS } from '../core/cookie.js'
import type { Range } from '../core/option-checks.js'
import { DEFAULT_RATE_LIMIT_POLICY, RATE_LIMIT_RANGES } from '../core/rate-limit-policy.js'
import {
  SESSION_LIMIT_POLICIES,
  SESSION_LIMIT_RANGE,
  SESSION_POLICY_DEFAULTS,
  SESSION_POLICY_RANGES,
} from '../core/session-policy.js'
import { TOKEN_POLICY_DEFAULTS, TOKEN_POLICY_RANGES } from '../core/token-policy.js'
import { ACCOUNT_POLICY_DEFAULTS, ACCOUNT_POLICY_RANGES } from '../core/account-policy.js'
import type { ProviderSettings } from '../social/provider.js'
import { ConfigError } from './config-error.js'
import { readRedisTarget } from './redis-config.js'
import { hasHashTag } from '../store/redis/keys.js'
import type { RedisTarget } from '../store/redis/connection.js'
import { SESSION_CACHE_DEFAULTS } from '../engine/session-cache.js'
import { SOCIAL_PROVIDERS_VARIABLE, isSocialVariable, readSocialSettings } from './social-config.js'

export type StoreKind = 'sqlite' | 'memory' | 'postgres' | 'redis'

export { ConfigError }

/** The range of every numeric variable; the README's table states each (a test checks they agree). */
export const ENV_RANGES = {
  PORT: { min: 0, max: 65_535 },
  SESAME_SESSION_IDLE_SECONDS: SESSION_POLICY_RANGES.idleTimeoutSeconds,
  SESAME_SESSION_ABSOLUTE_SECONDS: SESSION_POLICY_RANGES.absoluteTimeoutSeconds,
  SESAME_BODY_LIMIT_BYTES: { min: 1024, max: 1_048_576 },
  SESAME_ACCESS_TTL_SECONDS: TOKEN_POLICY_RANGES.accessTtlSeconds,
  SESAME_KEY_ACTIVATION_DELAY_SECONDS: TOKEN_POLICY_RANGES.keyActivationDelaySeconds,
  SESAME_REFRESH_IDLE_SECONDS: TOKEN_POLICY_RANGES.refreshIdleSeconds,
  SESAME_REFRESH_ABSOLUTE_SECONDS: TOKEN_POLICY_RANGES.refreshAbsoluteSeconds,
  SESAME_REFRESH_GRACE_SECONDS: TOKEN_POLICY_RANGES.refreshGraceSeconds,
  SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP: RATE_LIMIT_RANGES.loginFailuresPerAccountAndAddress,
  SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: RATE_LIMIT_RANGES.loginAttemptsPerAccount,
  SESAME_LOGIN_FAILURES_PER_IP: RATE_LIMIT_RANGES.loginFailuresPerAddress,
  SESAME_SIGNUPS_PER_IP: RATE_LIMIT_RANGES.signupsPerAddress,
  SESAME_MAILS_PER_ACCOUNT: RATE_LIMIT_RANGES.mailsPerAccount,
  SESAME_MAILS_PER_IP: RATE_LIMIT_RANGES.mailsPerAddress,
  SESAME_SECOND_FACTOR_ATTEMPTS_PER_ACCOUNT: RATE_LIMIT_RANGES.secondFactorAttemptsPerAccount,
  SESAME_VERIFY_EMAIL_TTL_SECONDS: ACCOUNT_POLICY_RANGES.verifyEmailSeconds,
  SESAME_RESET_PASSWORD_TTL_SECONDS: ACCOUNT_POLICY_RANGES.resetPasswordSeconds,
  SESAME_CHANGE_EMAIL_TTL_SECONDS: ACCOUNT_POLICY_RANGES.changeEmailSeconds,
  SESAME_MAX_SESSIONS_PER_USER: SESSION_LIMIT_RANGE,
  SESAME_HSTS_MAX_AGE_SECONDS: { min: 0, max: 63_072_000 },
  SESAME_SESSION_CACHE_ENTRIES: { min: 1, max: 100_000_000 },
  SESAME_SESSION_CACHE_MB: { min: 1, max: 16_384 },
  SESAME_REDIS_REVOCATION_REPLICAS: { min: 0, max: 16 },
  SESAME_METRICS_PORT: { min: 0, max: 65_535 },
} as const satisfies Record<string, Range>

/** A whole number within the variable's range in {@link ENV_RANGES}. */
function whole(name: keyof typeof ENV_RANGES, fallback: number) {
  const { min, max } = ENV_RANGES[name]
  return z.coerce.number().int().min(min).max(max).default(fallback)
}

/** A whole number within the variable's range in {@link ENV_RANGES}, or unset. */
function optionalWhole(name: keyof typeof ENV_RANGES) {
  const { min, max } = ENV_RANGES[name]
  return z.coerce.number().int().min(min).max(max).optional()
}

/** A secret a client presents as `Authorization: Bearer`: 32 to 512 characters, no spaces; or unset. */
const bearerSecret = z.string().min(32).max(512).regex(/^\S+$/).optional()

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')

const ENV_SCHEMA = z
  .object({
    PORT: whole('PORT', 3000),
    HOST: z.string().min(1).default('localhost'),
    NODE_ENV: z.string().optional(),
    SESAME_STORE: z.enum(['sqlite', 'memory', 'postgres', 'redis']).default('sqlite'),
    SESAME_SESSION_STORE: z.enum(['sqlite', 'memory', 'postgres', 'redis']).optional(),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    SESAME_POSTGRES_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('sesame'),
    SESAME_MIGRATE_ON_START: flag.default(true),
    // Braces are allowed: on a Redis Cluster, a `{tag}` prefix puts every key in one slot instead of spreading
    // users over the shards (`store/redis/sharded.ts`).
    SESAME_REDIS_PREFIX: z.string().min(1).max(64).regex(/^\S+$/).default('sesame:'),
    // Read further by redis-config.ts, which names the entry at fault.
    SESAME_REDIS_CLUSTER_NODES: z.string().max(8192).optional(),
    SESAME_REDIS_SENTINELS: z.string().max(8192).optional(),
    SESAME_REDIS_SENTINEL_NAME: z.string().min(1).max(256).regex(/^\S+$/).optional(),
    SESAME_REDIS_SENTINEL_USERNAME: z.string().min(1).max(256).optional(),
    SESAME_REDIS_SENTINEL_PASSWORD: z.string().min(1).max(512).optional(),
    SESAME_REDIS_REVOCATION_REPLICAS: optionalWhole('SESAME_REDIS_REVOCATION_REPLICAS'),
    SESAME_DATA_DIR: z.string().min(1).default('./data'),
    SESAME_SESSION_IDLE_SECONDS: whole(
      'SESAME_SESSION_IDLE_SECONDS',
      SESSION_POLICY_DEFAULTS.idleTimeoutSeconds,
    ),
    SESAME_SESSION_ABSOLUTE_SECONDS: whole(
      'SESAME_SESSION_ABSOLUTE_SECONDS',
      SESSION_POLICY_DEFAULTS.absoluteTimeoutSeconds,
    ),
    SESAME_COOKIE_NAME: z.string().regex(COOKIE_NAME_PATTERN).default(SESSION_COOKIE_DEFAULTS.name),
    SESAME_COOKIE_SECURE: flag.default(SESSION_COOKIE_DEFAULTS.secure),
    SESAME_COOKIE_SAMESITE: z.enum(['lax', 'strict']).default(SESSION_COOKIE_DEFAULTS.sameSite),
    SESAME_BODY_LIMIT_BYTES: whole('SESAME_BODY_LIMIT_BYTES', 16_384),
    SESAME_TRUST_PROXY: flag.default(false),
    SESAME_TRUSTED_ORIGINS: z.string().optional(),
    SESAME_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
    SESAME_AUDIENCE: z.string().min(1).max(512).optional(),
    SESAME_JWT_ALG: z.enum(['ES256', 'EdDSA', 'RS256', 'HS256']).default('ES256'),
    SESAME_JWT_SECRET: z.string().optional(),
    SESAME_FACTOR_KEY: z.string().optional(),
    SESAME_ACCESS_TTL_SECONDS: whole('SESAME_ACCESS_TTL_SECONDS', TOKEN_POLICY_DEFAULTS.accessTtlSeconds),
    SESAME_KEY_ACTIVATION_DELAY_SECONDS: whole(
      'SESAME_KEY_ACTIVATION_DELAY_SECONDS',
      TOKEN_POLICY_DEFAULTS.keyActivationDelaySeconds,
    ),
    SESAME_REFRESH_IDLE_SECONDS: whole(
      'SESAME_REFRESH_IDLE_SECONDS',
      TOKEN_POLICY_DEFAULTS.refreshIdleSeconds,
    ),
    SESAME_REFRESH_ABSOLUTE_SECONDS: whole(
      'SESAME_REFRESH_ABSOLUTE_SECONDS',
      TOKEN_POLICY_DEFAULTS.refreshAbsoluteSeconds,
    ),
    SESAME_REFRESH_GRACE_SECONDS: whole(
      'SESAME_REFRESH_GRACE_SECONDS',
      TOKEN_POLICY_DEFAULTS.refreshGraceSeconds,
    ),
    SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP: whole(
      'SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP',
      DEFAULT_RATE_LIMIT_POLICY.loginFailuresPerAccountAndAddress.limit,
    ),
    SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: whole(
      'SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT',
      DEFAULT_RATE_LIMIT_POLICY.loginAttemptsPerAccount.limit,
    ),
    SESAME_LOGIN_FAILURES_PER_IP: whole(
      'SESAME_LOGIN_FAILURES_PER_IP',
      DEFAULT_RATE_LIMIT_POLICY.loginFailuresPerAddress.limit,
    ),
    SESAME_SIGNUPS_PER_IP: whole('SESAME_SIGNUPS_PER_IP', DEFAULT_RATE_LIMIT_POLICY.signupsPerAddress.limit),
    SESAME_MAILS_PER_ACCOUNT: whole(
      'SESAME_MAILS_PER_ACCOUNT',
      DEFAULT_RATE_LIMIT_POLICY.mailsPerAccount.limit,
    ),
    SESAME_MAILS_PER_IP: whole('SESAME_MAILS_PER_IP', DEFAULT_RATE_LIMIT_POLICY.mailsPerAddress.limit),
    SESAME_SECOND_FACTOR_ATTEMPTS_PER_ACCOUNT: whole(
      'SESAME_SECOND_FACTOR_ATTEMPTS_PER_ACCOUNT',
      DEFAULT_RATE_LIMIT_POLICY.secondFactorAttemptsPerAccount.limit,
    ),
    SESAME_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    SESAME_MAIL_FROM: z.string().min(3).max(256).optional(),
    SESAME_REQUIRE_EMAIL_VERIFICATION: flag.default(ACCOUNT_POLICY_DEFAULTS.requireEmailVerification),
    SESAME_PASSWORD_GRANT: flag.default(true),
    SESAME_VERIFY_EMAIL_TTL_SECONDS: whole(
      'SESAME_VERIFY_EMAIL_TTL_SECONDS',
      ACCOUNT_POLICY_DEFAULTS.verifyEmailSeconds,
    ),
    SESAME_RESET_PASSWORD_TTL_SECONDS: whole(
      'SESAME_RESET_PASSWORD_TTL_SECONDS',
      ACCOUNT_POLICY_DEFAULTS.resetPasswordSeconds,
    ),
    SESAME_CHANGE_EMAIL_TTL_SECONDS: whole(
      'SESAME_CHANGE_EMAIL_TTL_SECONDS',
      ACCOUNT_POLICY_DEFAULTS.changeEmailSeconds,
    ),
    SESAME_MAX_SESSIONS_PER_USER: whole('SESAME_MAX_SESSIONS_PER_USER', 0),
    SESAME_SESSION_LIMIT_POLICY: z.enum(SESSION_LIMIT_POLICIES).default('evict-oldest'),
    SESAME_SESSION_CACHE: flag.default(true),
    SESAME_SESSION_CACHE_ENTRIES: whole('SESAME_SESSION_CACHE_ENTRIES', SESSION_CACHE_DEFAULTS.maxEntries),
    SESAME_SESSION_CACHE_MB: whole('SESAME_SESSION_CACHE_MB', SESSION_CACHE_DEFAULTS.maxBytes / 2 ** 20),
    SESAME_REVOCATION_FEED_TOKEN: bearerSecret,
    SESAME_METRICS_TOKEN: bearerSecret,
    SESAME_METRICS_PORT: optionalWhole('SESAME_METRICS_PORT'),
    SESAME_AUDIT_LOG: flag.default(true),
    SESAME_HSTS_MAX_AGE_SECONDS: whole('SESAME_HSTS_MAX_AGE_SECONDS', 31_536_000),
    SESAME_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()

/**
 * Every environment variable the server reads by a fixed name (the README's configuration table lists exactly
 * these); the per-provider `SESAME_SOCIAL_<ID>_*` variables are read by `social-config.ts`.
 */
export const ENV_VARIABLES: readonly string[] = [...Object.keys(ENV_SCHEMA.shape), SOCIAL_PROVIDERS_VARIABLE]

/** Variables an earlier version read, and what took their place, so an upgrade fails with a pointer. */
const RENAMED_VARIABLES: Readonly<Record<string, string>> = {
  SESAME_LOGIN_FAILURES_PER_ACCOUNT:
    'SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP (per address) and SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT (per hour)',
}

/** The resolved configuration. */
export interface Config {
  port: number
  host: string
  production: boolean
  /** Where users, keys and (unless `sessionStore` differs) everything else live. */
  store: StoreKind
  /** Where session state lives: cookie sessions, refresh families, revocations, the change feed. */
  sessionStore: StoreKind
  /** Required when a store is `postgres`. */
  databaseUrl: string | undefined
  /** Where Redis is (one server, Sentinel or Cluster); required when a store is `redis`. */
  redis: RedisTarget | undefined
  /** Replicas that must confirm each revocation on Redis (WAIT); default 1 with Sentinel or Cluster, else 0. */
  redisRevocationReplicas: number
  postgresSchema: string
  redisPrefix: string
  /** Apply pending schema migrations when the server starts (else run `npm run migrate`). */
  migrateOnStart: boolean
  /** Absolute path. */
  dataDir: string
  session: { idleTimeoutSeconds: number; absoluteTimeoutSeconds: number }
  cookie: { name: string; secure: boolean; sameSite: 'lax' | 'strict' }
  bodyLimitBytes: number
  /** Trust `X-Forwarded-*` from a proxy in front (for client IPs and protocol). */
  trustProxy: boolean
  /** Other origins whose pages may make cookie-authenticated state changes here. */
  trustedOrigins: string[]
  /**
   * Throttling limits (0 turns one off): failed sign-ins per (account, IP) and per IP in 15 min, sign-in
   * attempts per account and sign-ups per IP per hour.
   */
  rateLimits: {
    loginFailuresPerAccountAndIp: number
    loginAttemptsPerAccount: number
    loginFailuresPerIp: number
    signupsPerIp: number
    mailsPerAccount: number
    mailsPerIp: number
    secondFactorAttemptsPerAccount: number
  }
  /** Devices a user may have at once (0 = no limit), and what happens at the limit. */
  sessionLimit: { max: number; policy: 'evict-oldest' | 'deny' }
  /**
   * The per-instance cookie-session cache (on Redis and PostgreSQL session stores; `engine/session-cache.ts`):
   * false when off, else its limits.
   */
  sessionCache: false | { maxEntries: number; maxBytes: number }
  /**
   * Keys that seal authenticator-app secrets at rest (`SESAME_FACTOR_KEY`, comma-separated, the first sealing);
   * empty when none is given (then a key kept in the store seals them).
   */
  factorKeys: Buffer[]
  tokens: {
    issuer: string
    audience: string
    algorithm: 'ES256' | 'EdDSA' | 'RS256' | 'HS256'
    /** The HS256 secret, decoded; only with HS256. */
    hmacSecret: Buffer | undefined
    accessTtlSeconds: number
    /** Seconds from `sesame keys rotate` publishing a new key to that key signing (see `core/key-ring.ts`). */
    keyActivationDelaySeconds: number
    refreshIdleSeconds: number
    refreshAbsoluteSeconds: number
    refreshGraceSeconds: number
    /** Whether first-party clients may use the password grant (`SESAME_PASSWORD_GRANT`). */
    passwordGrant: boolean
  }
  /** The bearer secret of `GET /auth/revocations` for resource-server verifiers; null = no feed. */
  revocationFeedToken: string | null
  /** `Strict-Transport-Security` max-age sent when the issuer is https; 0 = never sent. */
  hstsMaxAgeSeconds: number
  /**
   * Prometheus metrics: the bearer secret of `GET /metrics` on the main listener, and the port of a loopback
   * listener of their own; both null = off (nothing measured).
   */
  metrics: { token: string | null; port: number | null }
  /** Whether security events are written to the log (`server/audit-log.ts`), whatever the log level. */
  auditLog: boolean
  logLevel: string
  /** Sign-in providers (`SESAME_SOCIAL_*`), in the order `SESAME_SOCIAL_PROVIDERS` lists them. */
  social: ProviderSettings[]
  /** Outgoing mail: an SMTP URL (null: the outbox folder under the data directory), and the sender. */
  mail: { smtpUrl: string | null; from: string }
  /** Link lifetimes and whether sign-in waits for a verified email. */
  accounts: {
    verifyEmailSeconds: number
    resetPasswordSeconds: number
    changeEmailSeconds: number
    requireEmailVerification: boolean
  }
}

/**
 * Reads the configuration from `env` (only `PORT`, `HOST`, `NODE_ENV` and `SESAME_*` are looked at).
 * Throws {@link ConfigError} naming the first bad variable. The result is frozen.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Readonly<Config> {
  const relevant: Record<string, string> = {}
  const socialEnv: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || !(key.startsWith('SESAME_') || key in ENV_SCHEMA.shape)) continue
    if (value === '') {
      // PORT, HOST, NODE_ENV and the store URLs are shared with other software, where empty means unset.
      if (!key.startsWith('SESAME_')) continue
      if (key in ENV_SCHEMA.shape || isSocialVariable(key)) {
        throw new ConfigError(`Empty ${key}: give it a value, or unset it for the default.`)
      }
    }
    if (isSocialVariable(key)) socialEnv[key] = value
    else relevant[key] = value
  }
  const parsed = ENV_SCHEMA.safeParse(relevant)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    if (issue.code === 'unrecognized_keys') {
      const name = issue.keys[0]!
      const replacement = RENAMED_VARIABLES[name]
      throw new ConfigError(
        replacement
          ? `Unknown environment variable ${name}: it was replaced by ${replacement}.`
          : `Unknown environment variable ${name}; see the README's configuration table.`,
      )
    }
    throw new ConfigError(`Invalid ${String(issue.path[0])}: ${describe(issue)}.`)
  }
  const e = parsed.data
  if (e.SESAME_SESSION_IDLE_SECONDS > e.SESAME_SESSION_ABSOLUTE_SECONDS) {
    throw new ConfigError(
      'Invalid SESAME_SESSION_IDLE_SECONDS: must not exceed SESAME_SESSION_ABSOLUTE_SECONDS.',
    )
  }
  if (/^__host-/i.test(e.SESAME_COOKIE_NAME) && !e.SESAME_COOKIE_SECURE) {
    throw new ConfigError('Invalid SESAME_COOKIE_SECURE: a "__Host-" cookie name requires true.')
  }
  if (e.SESAME_REFRESH_IDLE_SECONDS > e.SESAME_REFRESH_ABSOLUTE_SECONDS) {
    throw new ConfigError(
      'Invalid SESAME_REFRESH_IDLE_SECONDS: must not exceed SESAME_REFRESH_ABSOLUTE_SECONDS.',
    )
  }
  const hmacSecret = readJwtSecret(e.SESAME_JWT_ALG, e.SESAME_JWT_SECRET)
  const factorKeys = readFactorKeys(e.SESAME_FACTOR_KEY)
  const sessionStore = e.SESAME_SESSION_STORE ?? e.SESAME_STORE
  const kinds = [e.SESAME_STORE, sessionStore]
  if (kinds.includes('postgres') && !e.DATABASE_URL) {
    throw new ConfigError('Missing DATABASE_URL: required with the postgres store.')
  }
  const redis = readRedisTarget(e, kinds.includes('redis'))
  if (
    redis &&
    'cluster' in redis &&
    /[{}]/.test(e.SESAME_REDIS_PREFIX) &&
    !hasHashTag(e.SESAME_REDIS_PREFIX)
  ) {
    throw new ConfigError(
      'Invalid SESAME_REDIS_PREFIX: on a Redis Cluster, a prefix with braces needs a {hash tag} (every key in one slot), or no braces at all (users spread over the shards).',
    )
  }
  if (e.SESAME_STORE === 'redis' && sessionStore !== 'redis') {
    throw new ConfigError(
      'Invalid SESAME_SESSION_STORE: with SESAME_STORE=redis, sessions live in Redis too.',
    )
  }
  const issuer = e.SESAME_ISSUER ?? `http://localhost:${e.PORT}`
  const production = e.NODE_ENV === 'production'
  if (production && !e.SESAME_SMTP_URL) {
    throw new ConfigError(
      'Missing SESAME_SMTP_URL: required with NODE_ENV=production (without it mail only goes to the outbox folder).',
    )
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    production,
    store: e.SESAME_STORE,
    sessionStore,
    databaseUrl: e.DATABASE_URL,
    redis,
    redisRevocationReplicas: e.SESAME_REDIS_REVOCATION_REPLICAS ?? (redis && !('url' in redis) ? 1 : 0),
    postgresSchema: e.SESAME_POSTGRES_SCHEMA,
    redisPrefix: e.SESAME_REDIS_PREFIX,
    migrateOnStart: e.SESAME_MIGRATE_ON_START,
    dataDir: resolve(e.SESAME_DATA_DIR),
    session: {
      idleTimeoutSeconds: e.SESAME_SESSION_IDLE_SECONDS,
      absoluteTimeoutSeconds: e.SESAME_SESSION_ABSOLUTE_SECONDS,
    },
    cookie: {
      name: e.SESAME_COOKIE_NAME,
      secure: e.SESAME_COOKIE_SECURE,
      sameSite: e.SESAME_COOKIE_SAMESITE,
    },
    bodyLimitBytes: e.SESAME_BODY_LIMIT_BYTES,
    trustProxy: e.SESAME_TRUST_PROXY,
    trustedOrigins: readTrustedOrigins(e.SESAME_TRUSTED_ORIGINS),
    rateLimits: {
      loginFailuresPerAccountAndIp: e.SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP,
      loginAttemptsPerAccount: e.SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT,
      loginFailuresPerIp: e.SESAME_LOGIN_FAILURES_PER_IP,
      signupsPerIp: e.SESAME_SIGNUPS_PER_IP,
      mailsPerAccount: e.SESAME_MAILS_PER_ACCOUNT,
      mailsPerIp: e.SESAME_MAILS_PER_IP,
      secondFactorAttemptsPerAccount: e.SESAME_SECOND_FACTOR_ATTEMPTS_PER_ACCOUNT,
    },
    sessionLimit: { max: e.SESAME_MAX_SESSIONS_PER_USER, policy: e.SESAME_SESSION_LIMIT_POLICY },
    sessionCache: e.SESAME_SESSION_CACHE && {
      maxEntries: e.SESAME_SESSION_CACHE_ENTRIES,
      maxBytes: e.SESAME_SESSION_CACHE_MB * 2 ** 20,
    },
    tokens: {
      issuer,
      audience: e.SESAME_AUDIENCE ?? issuer,
      algorithm: e.SESAME_JWT_ALG,
      hmacSecret,
      accessTtlSeconds: e.SESAME_ACCESS_TTL_SECONDS,
      keyActivationDelaySeconds: e.SESAME_KEY_ACTIVATION_DELAY_SECONDS,
      refreshIdleSeconds: e.SESAME_REFRESH_IDLE_SECONDS,
      refreshAbsoluteSeconds: e.SESAME_REFRESH_ABSOLUTE_SECONDS,
      refreshGraceSeconds: e.SESAME_REFRESH_GRACE_SECONDS,
      passwordGrant: e.SESAME_PASSWORD_GRANT,
    },
    revocationFeedToken: e.SESAME_REVOCATION_FEED_TOKEN ?? null,
    factorKeys,
    // HSTS over plain HTTP is ignored by browsers and would only mislead: it follows the issuer's scheme.
    hstsMaxAgeSeconds: issuer.startsWith('https:') ? e.SESAME_HSTS_MAX_AGE_SECONDS : 0,
    metrics: { token: e.SESAME_METRICS_TOKEN ?? null, port: e.SESAME_METRICS_PORT ?? null },
    auditLog: e.SESAME_AUDIT_LOG,
    logLevel: e.SESAME_LOG_LEVEL,
    social: readSocialSettings(socialEnv),
    mail: {
      smtpUrl: e.SESAME_SMTP_URL ?? null,
      from: e.SESAME_MAIL_FROM ?? `Sesame <no-reply@${new URL(issuer).hostname}>`,
    },
    accounts: {
      verifyEmailSeconds: e.SESAME_VERIFY_EMAIL_TTL_SECONDS,
      resetPasswordSeconds: e.SESAME_RESET_PASSWORD_TTL_SECONDS,
      changeEmailSeconds: e.SESAME_CHANGE_EMAIL_TTL_SECONDS,
      requireEmailVerification: e.SESAME_REQUIRE_EMAIL_VERIFICATION,
    },
  })
}

/** `SESAME_TRUSTED_ORIGINS`: comma-separated http(s) origins, each exactly `scheme://host[:port]`. */
function readTrustedOrigins(value: string | undefined): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  for (const origin of origins) {
    let url: URL | undefined
    try {
      url = new URL(origin)
    } catch {
      url = undefined
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError(
        'Invalid SESAME_TRUSTED_ORIGINS: each entry must be an origin like https://app.example.com.',
      )
    }
  }
  return origins
}

/** The HS256 secret: required with HS256 (canonical base64url of at least 32 bytes), refused otherwise. */
function readJwtSecret(alg: string, secret: string | undefined): Buffer | undefined {
  if (alg !== 'HS256') {
    if (secret !== undefined)
      throw new ConfigError('Invalid SESAME_JWT_SECRET: only used with SESAME_JWT_ALG=HS256.')
    return undefined
  }
  if (secret === undefined)
    throw new ConfigError('Missing SESAME_JWT_SECRET: required with SESAME_JWT_ALG=HS256.')
  if (!isCanonicalBase64url(secret))
    throw new ConfigError('Invalid SESAME_JWT_SECRET: must be unpadded base64url.')
  const bytes = Buffer.from(secret, 'base64url')
  if (bytes.length < 32) throw new ConfigError('Invalid SESAME_JWT_SECRET: must decode to at least 32 bytes.')
  return bytes
}

/** `SESAME_FACTOR_KEY`: one or more keys of exactly 32 bytes, unpadded base64url, comma-separated. */
function readFactorKeys(value: string | undefined): Buffer[] {
  if (value === undefined) return []
  const keys = value.split(',').map((text) => text.trim())
  for (const text of keys) {
    if (!isCanonicalBase64url(text) || Buffer.from(text, 'base64url').length !== 32) {
      throw new ConfigError(
        'Invalid SESAME_FACTOR_KEY: each key must be 32 random bytes in unpadded base64url (43 characters), keys separated by commas.',
      )
    }
  }
  if (new Set(keys).size !== keys.length)
    throw new ConfigError('Invalid SESAME_FACTOR_KEY: a key is listed twice.')
  return keys.map((text) => Buffer.from(text, 'base64url'))
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`
    case 'invalid_format':
      return 'has an invalid format'
    default:
      return issue.message.toLowerCase()
  }
}
