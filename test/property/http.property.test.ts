/**
 * Property-based tests over HTTP (`app.inject`, memory store): random bodies with random content types to the
 * state-changing endpoints, and random `Cookie` / `Authorization` headers to the authenticated ones. Whatever
 * arrives, the answer is never a 5xx, and every error is the one JSON shape `{ error, error_description }`.
 */
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SAME_ORIGIN, type TestServer, cookiePair, startTestServer } from '../helpers/server.js'

const NUM_RUNS = 150
const EMAIL = 'prop@example.com'
const PASSWORD = 'correct horse battery'

let server: TestServer
/** A live session cookie pair (`name=value`) and a live token pair, to mutate. */
let sessionCookie: string
let accessToken: string
let refreshToken: string

beforeAll(async () => {
  server = await startTestServer({ env: { SESAME_STORE: 'memory' } })
  const signUp = await server.app.inject({
    method: 'POST',
    url: '/auth/signup',
    headers: SAME_ORIGIN,
    payload: { email: EMAIL, password: PASSWORD },
  })
  expect(signUp.statusCode).toBe(201)
  const signIn = await server.app.inject({
    method: 'POST',
    url: '/auth/session',
    headers: SAME_ORIGIN,
    payload: { email: EMAIL, password: PASSWORD },
  })
  expect(signIn.statusCode).toBe(200)
  sessionCookie = cookiePair(signIn.headers['set-cookie'])
  const grant = await server.app.inject({
    method: 'POST',
    url: '/auth/token',
    payload: { grant_type: 'password', username: EMAIL, password: PASSWORD },
  })
  expect(grant.statusCode).toBe(200)
  ;({ access_token: accessToken, refresh_token: refreshToken } = grant.json<{
    access_token: string
    refresh_token: string
  }>())
})

afterAll(() => server.close())

/** The promise of the error mapper: no 5xx, and every error is JSON with a string code and description. */
function expectWellFormed(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBeLessThan(500)
  if (response.statusCode < 400) return
  expect(response.headers['content-type']).toMatch(/^application\/json\b/)
  const body = response.json<Record<string, unknown>>()
  expect(typeof body.error).toBe('string')
  expect(typeof body.error_description).toBe('string')
}

/** Text a real HTTP header value can carry: tab, visible ASCII, space, and obs-text (Latin-1). */
const headerChar = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  fc.constantFrom('\t', ';', '=', ',', '"', '\\', '.', ' '),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
)
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength })

/** Placeholders replaced at run time by the live credentials (fast-check builds values before `beforeAll`). */
const LIVE = { cookie: '\u0000cookie', access: '\u0000access', refresh: '\u0000refresh' } as const
function live(text: string): string {
  return text
    .replaceAll(LIVE.cookie, sessionCookie.slice(sessionCookie.indexOf('=') + 1))
    .replaceAll(LIVE.access, accessToken)
    .replaceAll(LIVE.refresh, refreshToken)
}

/** A credential-like string: random, or a live one with a small edit. */
const credential = fc.oneof(
  headerText(60),
  fc.constantFrom(LIVE.access, LIVE.refresh, LIVE.cookie),
  fc
    .tuple(
      fc.constantFrom(LIVE.access, LIVE.refresh, LIVE.cookie),
      fc.nat(),
      headerText(3),
      fc.nat({ max: 3 }),
    )
    .map(([base, at, insert, remove]) => `${base}\u0001${at}\u0001${insert}\u0001${remove}`),
)
/** Applies the edit encoded by {@link credential} once the live value is known. */
function realise(text: string): string {
  const parts = text.split('\u0001')
  if (parts.length !== 4) return live(text)
  const base = live(parts[0]!)
  const at = Number(parts[1]) % (base.length + 1)
  return base.slice(0, at) + parts[2]! + base.slice(at + Number(parts[3]))
}

const FIELDS = ['email', 'password', 'username', 'grant_type', 'refresh_token', 'token'] as const
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(EMAIL, PASSWORD, 'password', 'refresh_token', 'not an email', '') },
  fc.emailAddress(),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  credential,
)
const jsonFieldValue = fc.oneof({ weight: 4, arbitrary: fieldValue }, fc.jsonValue({ maxDepth: 2 }))

/** Fields that are often right, so requests get past validation to the engine (sign-up, sign-in, grants). */
const emailish = fc.oneof(fc.constant(EMAIL), fc.emailAddress(), fieldValue)
const passwordish = fc.oneof(fc.constant(PASSWORD), fc.string({ minLength: 8, maxLength: 30 }), fieldValue)
const plausibleFields = fc.record(
  {
    email: emailish,
    password: passwordish,
    username: emailish,
    grant_type: fc.oneof(fc.constantFrom('password', 'refresh_token'), fieldValue),
    refresh_token: fc.oneof(fc.constant(LIVE.refresh), credential),
    token: credential,
  },
  { requiredKeys: [] },
)

/** Bodies of every kind, serialised by {@link render} once the live credentials exist. */
type BodySpec =
  | { kind: 'text'; text: string }
  | { kind: 'json'; fields: Record<string, unknown> }
  | { kind: 'form'; pairs: Array<[string, string, boolean]> }
  | { kind: 'bytes'; bytes: Uint8Array }

const body: fc.Arbitrary<BodySpec> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 200 }) }),
  fc.record({ kind: fc.constant('text' as const), text: fc.json({ maxDepth: 3 }) }),
  fc.record({
    kind: fc.constant('json' as const),
    fields: plausibleFields,
  }),
  fc.record({
    kind: fc.constant('json' as const),
    fields: fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'x'), jsonFieldValue, {
      maxKeys: 6,
    }),
  }),
  fc.record({
    kind: fc.constant('form' as const),
    pairs: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...FIELDS, '__proto__', 'a[b]', ''), fc.string({ maxLength: 6 })),
        fieldValue,
        fc.boolean(),
      ),
      { maxLength: 6 },
    ),
  }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
)

function matchingType(spec: BodySpec): string {
  return spec.kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json'
}

function render(spec: BodySpec): string | Buffer {
  switch (spec.kind) {
    case 'text':
      return spec.text
    case 'json':
      return JSON.stringify(spec.fields, (_key, value: unknown) =>
        typeof value === 'string' ? realise(value) : value,
      )
    case 'form':
      return spec.pairs
        .map(([name, raw, encode]) => {
          const value = realise(raw)
          return encode ? `${encodeURIComponent(name)}=${encodeURIComponent(value)}` : `${name}=${value}`
        })
        .join('&')
    case 'bytes':
      return Buffer.from(spec.bytes)
  }
}
/** The content type that matches the body (JSON for JSON, form for form), resolved in the property. */
const MATCHING = 'matching'
const contentType = fc.option(
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(MATCHING) },
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=utf-16',
      'application/json;;',
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'text/plain',
      'text/plain; charset=utf-8',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
      'application/octet-stream',
      '',
    ),
    headerText(40),
  ),
  { nil: undefined, freq: 12 },
)
/** Mostly same-origin (so bodies reach validation), sometimes another or a broken origin. */
const originHeaders = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Record<string, string>>(SAME_ORIGIN) },
  fc.constant<Record<string, string>>({}),
  fc.record(
    {
      origin: fc.oneof(
        fc.constantFrom('null', 'http://evil.example', 'http://localhost:80', ''),
        headerText(30),
      ),
      'sec-fetch-site': fc.oneof(
        fc.constantFrom('same-origin', 'cross-site', 'same-site', 'none'),
        headerText(10),
      ),
      host: fc.oneof(fc.constant('localhost:80'), headerText(20)),
    },
    { requiredKeys: [] },
  ),
)
/** Spread the requests over many client addresses so per-IP throttling does not stop them before validation. */
const clientIp = fc.ipV4()

describe('HTTP API under random input (property)', () => {
  it('POST endpoints: any body with any content type answers < 500 with the JSON error shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/auth/signup', '/auth/session', '/auth/token', '/auth/revoke'),
        body,
        contentType,
        originHeaders,
        clientIp,
        async (url, payload, type, origin, ip) => {
          const headers: Record<string, string> = { ...origin }
          if (type !== undefined) headers['content-type'] = type === MATCHING ? matchingType(payload) : type
          const response = await server.app.inject({
            method: 'POST',
            url,
            headers,
            payload: render(payload),
            remoteAddress: ip,
          })
          expectWellFormed(response)
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    )
  })

  it('authenticated endpoints: any Cookie and Authorization header answers < 500 with the JSON error shape', async () => {
    const cookieName = fc.oneof(
      { weight: 4, arbitrary: fc.constant('__Host-sesame') },
      fc.constantFrom('__host-sesame', '__Host-Sesame', ' __Host-sesame', 'sesame', 'other'),
    )
    const cookieHeader = fc.oneof(
      headerText(120),
      fc
        .array(fc.tuple(cookieName, credential, fc.constantFrom('; ', ';', ' ; ', ';;')), {
          minLength: 1,
          maxLength: 4,
        })
        .map((pairs) => pairs.map(([name, value, sep]) => `${name}=${value}${sep}`).join('')),
    )
    const authorization = fc.oneof(
      headerText(120),
      fc
        .tuple(
          fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer', 'Basic ', 'Bearer\t', ''),
          credential,
        )
        .map(([scheme, value]) => scheme + value),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          { method: 'GET', url: '/auth/me' },
          { method: 'GET', url: '/auth/me' },
          { method: 'GET', url: '/auth/sessions' },
          { method: 'DELETE', url: '/auth/session' },
        ),
        fc.option(cookieHeader, { nil: undefined }),
        fc.option(authorization, { nil: undefined, freq: 2 }),
        originHeaders,
        clientIp,
        async (route, cookie, bearer, origin, ip) => {
          const headers: Record<string, string> = { ...origin }
          if (cookie !== undefined) headers.cookie = realise(cookie)
          if (bearer !== undefined) headers.authorization = realise(bearer)
          const response = await server.app.inject({
            method: route.method,
            url: route.url,
            headers,
            remoteAddress: ip,
          })
          expectWellFormed(response)
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    )
  })
})
