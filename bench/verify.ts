/**
 * Access-token verification ops/s per algorithm: Sesame's full verify (every claim checked) against the raw
 * node:crypto limit and the libraries a Node team would otherwise pick, all on one token and one ready key, in
 * one run. "Raw limit" is the least any correct verifier must do: find the signature, decode it, and run the
 * primitive over the signing input; no header or claims parsing at all.
 */
import { type KeyObject, createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import { importJWK, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { type AccessTokenClaims, signAccessToken, verifyAccessToken } from '../src/core/access-token.js'
import type { JwsAlgorithm } from '../src/core/jws/algorithms.js'
import { buildKeyRing, generateKeyMaterial, hmacKeyMaterial } from '../src/core/key-ring.js'
import { VerifiedTokenCache } from '../src/core/verified-token-cache.js'
import { median } from './stats.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'

interface Case {
  name: string
  run: () => unknown
  async?: boolean
}

/** Runs `testCase` for about `sliceMs`; the operations done and the milliseconds taken. */
async function slice(testCase: Case, sliceMs: number): Promise<{ ops: number; ms: number }> {
  let ops = 0
  const started = performance.now()
  const deadline = started + sliceMs
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i++) {
      if (testCase.async) await testCase.run()
      else testCase.run()
    }
    ops += 50
  }
  return { ops, ms: performance.now() - started }
}

/** Slices per contender per round: each round alternates the contenders every `sampleMs / SLICES` ms. */
const SLICES = 20

/**
 * Per case: the median ops/s and the median ratio to the first case (the raw limit), over `samples` rounds
 * after a warm-up round. Within a round the contenders take turns in short slices, so the shared machine's
 * slow and fast moments, which last longer than a slice, land on every contender alike; each ratio is taken
 * within one round.
 */
async function measureInRounds(
  cases: Case[],
  sampleMs: number,
  samples: number,
): Promise<Map<string, { rate: number; ratio: number }>> {
  const rates = new Map<string, number[]>(cases.map((testCase) => [testCase.name, []]))
  const ratios = new Map<string, number[]>(cases.map((testCase) => [testCase.name, []]))
  for (let round = 0; round < samples + 1; round++) {
    const totals = new Map(cases.map((testCase) => [testCase.name, { ops: 0, ms: 0 }]))
    for (let turn = 0; turn < SLICES; turn++) {
      for (const testCase of cases) {
        const done = await slice(testCase, sampleMs / SLICES)
        const total = totals.get(testCase.name)!
        total.ops += done.ops
        total.ms += done.ms
      }
    }
    if (round === 0) continue // warm-up
    const rateOf = (name: string): number => {
      const total = totals.get(name)!
      return total.ops / (total.ms / 1000)
    }
    const raw = rateOf(cases[0]!.name)
    for (const testCase of cases) {
      rates.get(testCase.name)!.push(rateOf(testCase.name))
      ratios.get(testCase.name)!.push(rateOf(testCase.name) / raw)
    }
  }
  return new Map(
    cases.map((testCase) => [
      testCase.name,
      { rate: median(rates.get(testCase.name)!), ratio: median(ratios.get(testCase.name)!) },
    ]),
  )
}

async function casesFor(alg: JwsAlgorithm): Promise<{ cases: Case[]; check: () => Promise<void> }> {
  const now = Math.floor(Date.now() / 1000)
  const material =
    alg === 'HS256' ? hmacKeyMaterial(Buffer.alloc(32, 9), now) : await generateKeyMaterial(alg, now)
  const ring = await buildKeyRing([material], now, 900)
  const claims: AccessTokenClaims = {
    iss: ISSUER,
    sub: 'YnS-sMwQWnabY1sslXPkBw',
    aud: AUDIENCE,
    exp: now + 3600,
    iat: now,
    jti: 'vxzWunt7xn-5E7XP7fXFwA',
    sid: 'Q2pTn0r4xWcXhM2vOZ1k3g',
    roles: ['user'],
  }
  const token = signAccessToken(claims, ring.signingKey, ring.signingHeader)
  // Cold: a different token (jti) every call, so no per-token cache can help, the same 1024 tokens in the same
  // order for every contender without a cache (CPU caches and V8 favour one input repeated). Warm: the same token
  // repeated, which is what a client sends on every request, through the engine's verified-token cache.
  const coldTokens = Array.from({ length: 1024 }, (_, i) =>
    signAccessToken(
      { ...claims, jti: `${claims.jti.slice(0, 18)}${String(i).padStart(4, '0')}` },
      ring.signingKey,
      ring.signingHeader,
    ),
  )
  /** A contender's own walk through `coldTokens`. */
  const coldWalk = (): (() => string) => {
    let next = 0
    return () => coldTokens[next++ & 1023]!
  }
  const cache = new VerifiedTokenCache()
  const verifyWarm = (): unknown => {
    let verified = cache.get(token, now, 30)
    if (!verified) cache.set(token, (verified = verifyAccessToken(token, ring.resolveKey, rules, now)))
    return verified
  }
  const rules = {
    issuer: ISSUER,
    audience: AUDIENCE,
    leewaySeconds: 30,
    maxTokenLength: 4096,
    maxLifetimeSeconds: 3600,
  }
  const privateJwk = JSON.parse(material.privateJwk) as Record<string, unknown>
  const verifyKey: KeyObject =
    alg === 'HS256' ? ring.signingKey.keyObject : createPublicKey(ring.signingKey.keyObject)
  const joseKey = await importJWK(
    alg === 'HS256' ? privateJwk : (verifyKey.export({ format: 'jwk' }) as Record<string, unknown>),
    alg,
  )
  const pem =
    alg === 'HS256' ? Buffer.alloc(32, 9) : (verifyKey.export({ format: 'pem', type: 'spki' }) as string)
  const fastJwt = createVerifier({
    key: pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: false,
  })
  const fastJwtCached = createVerifier({
    key: pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: true,
  })

  // Per call, like any verifier: find the last dot, take the signing input's bytes, decode the signature.
  const rawToken = coldWalk()
  const rawLimit = {
    HS256: () => {
      const input = rawToken()
      const dot = input.lastIndexOf('.')
      const expected = createHmac('sha256', verifyKey).update(input.slice(0, dot)).digest()
      return timingSafeEqual(Buffer.from(input.slice(dot + 1), 'base64url'), expected)
    },
    ES256: () => {
      const input = rawToken()
      const dot = input.lastIndexOf('.')
      return verify(
        'sha256',
        Buffer.from(input.slice(0, dot)),
        { key: verifyKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(input.slice(dot + 1), 'base64url'),
      )
    },
    EdDSA: () => {
      const input = rawToken()
      const dot = input.lastIndexOf('.')
      return verify(
        null,
        Buffer.from(input.slice(0, dot)),
        verifyKey,
        Buffer.from(input.slice(dot + 1), 'base64url'),
      )
    },
    RS256: () => {
      const input = rawToken()
      const dot = input.lastIndexOf('.')
      return verify(
        'sha256',
        Buffer.from(input.slice(0, dot)),
        verifyKey,
        Buffer.from(input.slice(dot + 1), 'base64url'),
      )
    },
  }[alg]
  const sesameToken = coldWalk()
  const joseToken = coldWalk()
  const fastJwtToken = coldWalk()
  const jsonwebtokenToken = coldWalk()

  const cases: Case[] = [
    { name: 'raw node:crypto limit', run: rawLimit },
    {
      name: 'Sesame cold',
      run: () => verifyAccessToken(sesameToken(), ring.resolveKey, rules, now),
    },
    { name: 'Sesame warm', run: verifyWarm },
    {
      name: 'jose jwtVerify',
      run: () =>
        jwtVerify(joseToken(), joseKey, {
          issuer: ISSUER,
          audience: AUDIENCE,
          typ: 'at+jwt',
          algorithms: [alg],
        }),
      async: true,
    },
    { name: 'fast-jwt (no cache)', run: (): unknown => fastJwt(fastJwtToken()) as unknown },
    { name: 'fast-jwt (cache)', run: (): unknown => fastJwtCached(token) as unknown },
  ]
  if (alg !== 'EdDSA') {
    cases.push({
      name: 'jsonwebtoken',
      run: () =>
        jsonwebtoken.verify(jsonwebtokenToken(), pem, {
          algorithms: [alg],
          issuer: ISSUER,
          audience: AUDIENCE,
        }),
    })
  }
  // Every contender must accept the token before it is timed, or its numbers would mean nothing.
  const check = async (): Promise<void> => {
    for (const testCase of cases) {
      const result = await testCase.run()
      if (result === false) throw new Error(`${alg} ${testCase.name} rejected the benchmark token`)
    }
  }
  return { cases, check }
}

/** Runs the verify table: Markdown, and the raw node:crypto limit per algorithm (for other sections' ratios). */
export async function verifyTable(
  quick: boolean,
): Promise<{ markdown: string; rawLimits: Record<JwsAlgorithm, number> }> {
  const rawLimits = {} as Record<JwsAlgorithm, number>
  const sampleMs = quick ? 200 : 1000
  const samples = quick ? 3 : 5
  const lines = [
    '## Access-token verify, ops/s (one core, ready key)',
    '',
    `${samples} rounds after a warm-up round; in each, the contenders take turns in ${SLICES} slices of ${sampleMs / SLICES} ms each, and`,
    'the table gives the median ops/s and the median of the per-round ratios to the raw node:crypto limit:',
    'decoding the signature and running the primitive, with no header or claims work.',
    'Every contender checks signature, `iss` and `aud` (and `exp`). Without a cache (the raw limit, Sesame cold,',
    'jose, fast-jwt, jsonwebtoken), every contender walks the same 1024 tokens in the same order: a new token each',
    "call. Warm and fast-jwt + cache: the same token again (what clients send), through Sesame's verified-token",
    'cache; the time claims are rechecked on every hit and revocation is checked after it in the engine.',
    '',
    '| alg | raw limit | Sesame cold | Sesame warm | jose | fast-jwt | fast-jwt + cache | jsonwebtoken |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const alg of ['HS256', 'ES256', 'EdDSA', 'RS256'] as const) {
    const { cases, check } = await casesFor(alg)
    await check()
    const measured = await measureInRounds(cases, sampleMs, samples)
    const raw = measured.get('raw node:crypto limit')!.rate
    rawLimits[alg] = raw
    const cell = (name: string): string => {
      const value = measured.get(name)
      return value === undefined
        ? 'n/a'
        : `${Math.round(value.rate).toLocaleString('en-US')} (${value.ratio.toFixed(2)}x)`
    }
    lines.push(
      `| ${alg} | ${Math.round(raw).toLocaleString('en-US')} | **${cell('Sesame cold')}** | **${cell('Sesame warm')}** | ${cell('jose jwtVerify')} | ${cell('fast-jwt (no cache)')} | ${cell('fast-jwt (cache)')} | ${cell('jsonwebtoken')} |`,
    )
    process.stderr.write(`  ${alg} done\n`)
  }
  return { markdown: `${lines.join('\n')}\n`, rawLimits }
}
