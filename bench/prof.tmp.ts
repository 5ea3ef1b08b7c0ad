import { createHmac } from 'node:crypto'
import { signAccessToken, verifyAccessToken } from '../src/core/access-token.js'
import { buildKeyRing, hmacKeyMaterial } from '../src/core/key-ring.js'
import { parseStrictJsonObject } from '../src/core/jws/strict-json.js'
import { isCanonicalBase64url } from '../src/core/jws/base64url.js'
const now = Math.floor(Date.now() / 1000)
const ring = await buildKeyRing([hmacKeyMaterial(Buffer.alloc(32, 9), now)], now, 900)
const claims = {
  iss: 'https://auth.example.com',
  sub: 'YnS-sMwQWnabY1sslXPkBw',
  aud: 'https://api.example.com',
  exp: now + 3600,
  iat: now,
  jti: 'vxzWunt7xn-5E7XP7fXFwA',
  sid: 'Q2pTn0r4xWcXhM2vOZ1k3g',
  roles: ['user'],
}
const token = signAccessToken(claims, ring.signingKey, ring.signingHeader)
const rules = { issuer: claims.iss, audience: claims.aud, leewaySeconds: 30, maxTokenLength: 4096 }
function time(name: string, fn: () => unknown) {
  const n = 300000
  for (let i = 0; i < 20000; i++) fn()
  const t = performance.now()
  for (let i = 0; i < n; i++) fn()
  const us = ((performance.now() - t) * 1000) / n
  console.log(name.padEnd(30), us.toFixed(3), 'us')
}
const dot = token.lastIndexOf('.')
const p1 = token.indexOf('.')
const payloadSeg = token.slice(p1 + 1, dot)
const text = Buffer.from(payloadSeg, 'base64url').toString()
time('full verify', () => verifyAccessToken(token, ring.resolveKey, rules, now))
time('hmac string input', () =>
  createHmac('sha256', ring.signingKey.keyObject).update(token.slice(0, dot)).digest(),
)
time('sig decode', () => Buffer.from(token.slice(dot + 1), 'base64url'))
time('canonical check payload', () => isCanonicalBase64url(payloadSeg))
time('payload decode', () => Buffer.from(payloadSeg, 'base64url').toString('utf8'))
time('JSON.parse', () => JSON.parse(text))
time('strict parse', () => parseStrictJsonObject(text))
time('token.slice x3', () => [token.slice(0, p1), token.slice(p1 + 1, dot), token.slice(dot + 1)])
import { verifyCompact } from '../src/core/jws/compact.js'
time('verifyCompact', () => verifyCompact(token, ring.resolveKey, { maxLength: 4096 }))
time('full verify again', () => verifyAccessToken(token, ring.resolveKey, rules, now))
time('hmac again', () => createHmac('sha256', ring.signingKey.keyObject).update(token.slice(0, dot)).digest())
