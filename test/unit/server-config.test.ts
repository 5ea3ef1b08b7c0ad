import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, ENV_RANGES, ENV_VARIABLES, loadConfig } from '../../src/server/config.js'

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: 'localhost',
      production: false,
      store: 'sqlite',
      sessionStore: 'sqlite',
      databaseUrl: undefined,
      redis: undefined,
      redisRevocationReplicas: 0,
      postgresSchema: 'sesame',
      redisPrefix: 'sesame:',
      migrateOnStart: true,
      dataDir: resolve('./data'),
      session: { idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 43_200 },
      cookie: { name: '__Host-sesame', secure: true, sameSite: 'lax' },
      bodyLimitBytes: 16_384,
      trustProxy: false,
      trustedOrigins: [],
      logLevel: 'info',
      social: [],
      hstsMaxAgeSeconds: 0,
      revocationFeedToken: null,
      factorKeys: [],
      metrics: { token: null, port: null },
      auditLog: true,
      rateLimits: {
        loginFailuresPerAccountAndIp: 10,
        loginAttemptsPerAccount: 100,
        loginFailuresPerIp: 100,
        signupsPerIp: 20,
        mailsPerAccount: 5,
        mailsPerIp: 30,
        secondFactorAttemptsPerAccount: 5,
      },
      mail: { smtpUrl: null, from: 'Sesame <no-reply@localhost>' },
      accounts: {
        verifyEmailSeconds: 86_400,
        resetPasswordSeconds: 1800,
        changeEmailSeconds: 86_400,
        requireEmailVerification: false,
      },
      sessionLimit: { max: 0, policy: 'evict-oldest' },
      sessionCache: { maxEntries: 100_000, maxBytes: 128 * 1024 * 1024 },
      tokens: {
        issuer: 'http://localhost:3000',
        audience: 'http://localhost:3000',
        algorithm: 'ES256',
        hmacSecret: undefined,
        accessTtlSeconds: 900,
        keyActivationDelaySeconds: 360,
        refreshIdleSeconds: 1_209_600,
        refreshAbsoluteSeconds: 2_592_000,
        refreshGraceSeconds: 10,
        passwordGrant: true,
      },
    })
  })

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      NODE_ENV: 'production',
      SESAME_STORE: 'memory',
      SESAME_DATA_DIR: '/var/lib/sesame',
      SESAME_SESSION_IDLE_SECONDS: '600',
      SESAME_SESSION_ABSOLUTE_SECONDS: '3600',
      SESAME_COOKIE_NAME: 'sid',
      SESAME_COOKIE_SECURE: 'false',
      SESAME_COOKIE_SAMESITE: 'strict',
      SESAME_BODY_LIMIT_BYTES: '4096',
      SESAME_TRUST_PROXY: 'true',
      SESAME_LOG_LEVEL: 'warn',
      SESAME_SMTP_URL: 'smtps://user:secret@smtp.example.com',
      SESAME_MAIL_FROM: 'Accounts <accounts@example.com>',
      SESAME_REQUIRE_EMAIL_VERIFICATION: 'true',
      SESAME_RESET_PASSWORD_TTL_SECONDS: '900',
      UNRELATED_VARIABLE: 'ignored',
    })
    expect(config).toMatchObject({
      mail: { smtpUrl: 'smtps://user:secret@smtp.example.com', from: 'Accounts <accounts@example.com>' },
      accounts: { requireEmailVerification: true, resetPasswordSeconds: 900, verifyEmailSeconds: 86_400 },
      port: 8080,
      host: '0.0.0.0',
      production: true,
      store: 'memory',
      dataDir: '/var/lib/sesame',
      session: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 },
      cookie: { name: 'sid', secure: false, sameSite: 'strict' },
      bodyLimitBytes: 4096,
      trustProxy: true,
      logLevel: 'warn',
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it.each([
    [{ PORT: 'eighty' }, 'Invalid PORT: must be a number.'],
    [
      { NODE_ENV: 'production' },
      'Missing SESAME_SMTP_URL: required with NODE_ENV=production (without it mail only goes to the outbox folder).',
    ],
    [{ SESAME_SMTP_URL: 'http://smtp.example.com' }, 'Invalid SESAME_SMTP_URL: has an invalid format.'],
    [{ PORT: '70000' }, 'Invalid PORT: must be at most 65535.'],
    [{ SESAME_STORE: 'mongo' }, 'Invalid SESAME_STORE: must be one of sqlite, memory, postgres, redis.'],
    [{ SESAME_SESSION_IDLE_SECONDS: '1.5' }, 'Invalid SESAME_SESSION_IDLE_SECONDS: must be a whole number.'],
    [{ SESAME_SESSION_IDLE_SECONDS: '0' }, 'Invalid SESAME_SESSION_IDLE_SECONDS: must be at least 2.'],
    [{ SESAME_SESSION_IDLE_SECONDS: '1' }, 'Invalid SESAME_SESSION_IDLE_SECONDS: must be at least 2.'],
    [{ SESAME_JWT_SECRET: '' }, 'Empty SESAME_JWT_SECRET: give it a value, or unset it for the default.'],
    [{ SESAME_STORE: '' }, 'Empty SESAME_STORE: give it a value, or unset it for the default.'],
    [
      { SESAME_MIGRATE_ON_START: '' },
      'Empty SESAME_MIGRATE_ON_START: give it a value, or unset it for the default.',
    ],
    [{ SESAME_SESSION_IDLE_SECONDS: '-5' }, 'Invalid SESAME_SESSION_IDLE_SECONDS: must be at least 2.'],
    [
      { SESAME_SESSION_ABSOLUTE_SECONDS: String(400 * 86_400 + 1) },
      'Invalid SESAME_SESSION_ABSOLUTE_SECONDS: must be at most 34560000.',
    ],
    [{ SESAME_SIGNUPS_PER_IP: '-5' }, 'Invalid SESAME_SIGNUPS_PER_IP: must be at least 0.'],
    [{ SESAME_MAX_SESSIONS_PER_USER: '1001' }, 'Invalid SESAME_MAX_SESSIONS_PER_USER: must be at most 1000.'],
    [
      { SESAME_SESSION_IDLE_SECONDS: '7200', SESAME_SESSION_ABSOLUTE_SECONDS: '3600' },
      'Invalid SESAME_SESSION_IDLE_SECONDS: must not exceed SESAME_SESSION_ABSOLUTE_SECONDS.',
    ],
    [{ SESAME_COOKIE_SECURE: 'yes' }, 'Invalid SESAME_COOKIE_SECURE: must be one of 0, 1, true, false.'],
    [
      { SESAME_COOKIE_SECURE: 'false' },
      'Invalid SESAME_COOKIE_SECURE: a "__Host-" cookie name requires true.',
    ],
    [{ SESAME_COOKIE_NAME: 'bad name' }, 'Invalid SESAME_COOKIE_NAME: has an invalid format.'],
    [{ SESAME_JWT_ALG: 'none' }, 'Invalid SESAME_JWT_ALG: must be one of ES256, EdDSA, RS256, HS256.'],
    [{ SESAME_JWT_ALG: 'HS256' }, 'Missing SESAME_JWT_SECRET: required with SESAME_JWT_ALG=HS256.'],
    [
      { SESAME_JWT_ALG: 'HS256', SESAME_JWT_SECRET: 'c2hvcnQ' },
      'Invalid SESAME_JWT_SECRET: must decode to at least 32 bytes.',
    ],
    [
      { SESAME_JWT_ALG: 'HS256', SESAME_JWT_SECRET: 'not base64url!' },
      'Invalid SESAME_JWT_SECRET: must be unpadded base64url.',
    ],
    [
      { SESAME_JWT_SECRET: 'A'.repeat(43) },
      'Invalid SESAME_JWT_SECRET: only used with SESAME_JWT_ALG=HS256.',
    ],
    [{ SESAME_ACCESS_TTL_SECONDS: '3601' }, 'Invalid SESAME_ACCESS_TTL_SECONDS: must be at most 3600.'],
    ...[
      'c2hvcnQ',
      `${'A'.repeat(43)}=`,
      'A'.repeat(44),
      `${'A'.repeat(43)},`,
      `${'A'.repeat(43)},not base64url!`,
    ].map((value): [Record<string, string>, string] => [
      { SESAME_FACTOR_KEY: value },
      'Invalid SESAME_FACTOR_KEY: each key must be 32 random bytes in unpadded base64url (43 characters), keys separated by commas.',
    ]),
    [
      { SESAME_FACTOR_KEY: `${'A'.repeat(43)},${'A'.repeat(43)}` },
      'Invalid SESAME_FACTOR_KEY: a key is listed twice.',
    ],
    [
      { SESAME_KEY_ACTIVATION_DELAY_SECONDS: '86401' },
      'Invalid SESAME_KEY_ACTIVATION_DELAY_SECONDS: must be at most 86400.',
    ],
    [
      { SESAME_KEY_ACTIVATION_DELAY_SECONDS: '-1' },
      'Invalid SESAME_KEY_ACTIVATION_DELAY_SECONDS: must be at least 0.',
    ],
    [{ SESAME_REFRESH_GRACE_SECONDS: '61' }, 'Invalid SESAME_REFRESH_GRACE_SECONDS: must be at most 60.'],
    [{ SESAME_ISSUER: 'ftp://example.com' }, 'Invalid SESAME_ISSUER: has an invalid format.'],
    [
      { SESAME_REFRESH_IDLE_SECONDS: '100', SESAME_REFRESH_ABSOLUTE_SECONDS: '50' },
      'Invalid SESAME_REFRESH_IDLE_SECONDS: must not exceed SESAME_REFRESH_ABSOLUTE_SECONDS.',
    ],
    [{ SESAME_STORE: 'postgres' }, 'Missing DATABASE_URL: required with the postgres store.'],
    [
      { SESAME_STORE: 'sqlite', SESAME_SESSION_STORE: 'redis' },
      'Missing REDIS_URL: required with the redis store (or SESAME_REDIS_CLUSTER_NODES, or SESAME_REDIS_SENTINELS).',
    ],
    [
      {
        SESAME_STORE: 'redis',
        SESAME_SESSION_STORE: 'postgres',
        REDIS_URL: 'redis://h',
        DATABASE_URL: 'postgres://h/d',
      },
      'Invalid SESAME_SESSION_STORE: with SESAME_STORE=redis, sessions live in Redis too.',
    ],
    [{ DATABASE_URL: 'mysql://h/d' }, 'Invalid DATABASE_URL: has an invalid format.'],
    [{ SESAME_POSTGRES_SCHEMA: 'Bad-Name' }, 'Invalid SESAME_POSTGRES_SCHEMA: has an invalid format.'],
    [
      { SESAME_SESION_IDLE_SECONDS: '60' },
      "Unknown environment variable SESAME_SESION_IDLE_SECONDS; see the README's configuration table.",
    ],
    [
      { SESAME_LOGIN_FAILURES_PER_ACCOUNT: '10' },
      'Unknown environment variable SESAME_LOGIN_FAILURES_PER_ACCOUNT: it was replaced by SESAME_LOGIN_FAILURES_PER_ACCOUNT_AND_IP (per address) and SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT (per hour).',
    ],
    [
      { SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: '101' },
      'Invalid SESAME_LOGIN_ATTEMPTS_PER_ACCOUNT: must be at most 100.',
    ],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message))
  })

  it('sends HSTS only when the issuer is https, for a year unless told otherwise', () => {
    expect(loadConfig({ SESAME_ISSUER: 'https://auth.example.com' }).hstsMaxAgeSeconds).toBe(31_536_000)
    expect(
      loadConfig({ SESAME_ISSUER: 'https://auth.example.com', SESAME_HSTS_MAX_AGE_SECONDS: '0' })
        .hstsMaxAgeSeconds,
    ).toBe(0)
    expect(loadConfig({ SESAME_HSTS_MAX_AGE_SECONDS: '600' }).hstsMaxAgeSeconds).toBe(0)
  })

  it('decodes the factor keys, in their order', () => {
    const [first, second] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]
    const config = loadConfig({
      SESAME_FACTOR_KEY: `${first.toString('base64url')}, ${second.toString('base64url')}`,
    })
    expect(config.factorKeys).toEqual([first, second])
  })

  it('decodes an HS256 secret and defaults the audience to the issuer', () => {
    const secret = Buffer.alloc(32, 7)
    const config = loadConfig({
      SESAME_JWT_ALG: 'HS256',
      SESAME_JWT_SECRET: secret.toString('base64url'),
      SESAME_ISSUER: 'https://auth.example.com',
    })
    expect(config.tokens).toMatchObject({
      algorithm: 'HS256',
      issuer: 'https://auth.example.com',
      audience: 'https://auth.example.com',
    })
    expect(config.tokens.hmacSecret).toEqual(secret)
  })

  it('never echoes a value in its message', () => {
    let thrown: unknown
    try {
      loadConfig({ SESAME_COOKIE_NAME: 'secret value 123' })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect((thrown as Error).message).toMatch(/^Invalid SESAME_COOKIE_NAME/)
    expect((thrown as Error).message).not.toContain('secret value 123')
  })

  it("matches the README's configuration table, both ways", () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8')
    const table = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('## Running several instances'),
    )
    const documented = [...table.matchAll(/^\| `([A-Z_0-9]+)`/gm)].map((match) => match[1])
    expect([...documented].sort()).toEqual([...ENV_VARIABLES].sort())
    // The range column states each numeric variable's range exactly as the schema enforces it.
    const ranges = new Map(
      [...table.matchAll(/^\| `([A-Z_0-9]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|/gm)].map((m) => [m[1], m[2]]),
    )
    for (const [name, { min, max }] of Object.entries(ENV_RANGES)) {
      expect(ranges.get(name), name).toBe(`${min} to ${max}`)
    }
  })

  it('keeps an empty PORT, HOST, NODE_ENV or store URL as unset (shared with other software)', () => {
    expect(loadConfig({ PORT: '', HOST: '', NODE_ENV: '', DATABASE_URL: '', REDIS_URL: '' })).toMatchObject({
      port: 3000,
      host: 'localhost',
      production: false,
    })
  })

  it('refuses an empty unknown SESAME_ variable as unknown', () => {
    expect(() => loadConfig({ SESAME_NOPE: '' })).toThrow(/^Unknown environment variable SESAME_NOPE;/)
  })
})
