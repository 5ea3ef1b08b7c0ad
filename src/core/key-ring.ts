/**
 * The key ring: one key signs (the newest live one), and every key that may still have live tokens verifies.
 * A rotated-out key stays for verification, and in the JWKS, until every token it signed has expired.
 * Key generation, JWK export and thumbprints come from `jose`; signing and verification run on `node:crypto`.
 */
import { createHmac } from 'node:crypto'
import { type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { encodeAccessTokenHeader } from './access-token.js'
import { type JwsAlgorithm, isAsymmetric, isSupportedAlgorithm } from './jws/algorithms.js'
import type { KeyResolver } from './jws/compact.js'
import { type SigningKey, type VerificationKey, importSigningKey, importVerificationKey } from './jws/keys.js'

/** A stored key, as the ring reads it (see the Store's `SigningKeyRecord`). */
export interface KeyMaterial {
  kid: string
  alg: string
  privateJwk: string
  createdAt: number
  retiredAt: number | null
}

export interface KeyRing {
  /** The key new tokens are signed with. */
  readonly signingKey: SigningKey
  /** Its pre-encoded access-token header. */
  readonly signingHeader: string
  /** Finds the verification key a token names by `kid`. No I/O. */
  readonly resolveKey: KeyResolver
  /** The public keys to publish (none for HS256, whose key is a shared secret). */
  readonly jwks: { keys: JWK[] }
  /** Kids of every key that verifies. */
  readonly kids: readonly string[]
}

/** Generates a fresh key for `alg` (asymmetric only), with its thumbprint as `kid`. */
export async function generateKeyMaterial(
  alg: Exclude<JwsAlgorithm, 'HS256'>,
  now: number,
): Promise<KeyMaterial> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' && { modulusLength: 2048 }),
  })
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey))
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateJwk: JSON.stringify(privateJwk), createdAt: now, retiredAt: null }
}

/**
 * Key material for HS256 from a configured shared secret. The `kid` is an HMAC of a fixed label under the secret:
 * stable across restarts and instances, and it reveals nothing about the secret (unlike a plain hash of it).
 */
export function hmacKeyMaterial(secret: Buffer, now: number): KeyMaterial {
  const kid = createHmac('sha256', secret).update('sesame key id').digest('base64url').slice(0, 16)
  const privateJwk: JWK = { kty: 'oct', k: secret.toString('base64url'), kid, alg: 'HS256', use: 'sig' }
  return { kid, alg: 'HS256', privateJwk: JSON.stringify(privateJwk), createdAt: now, retiredAt: null }
}

/**
 * Builds the ring from stored keys. The newest unretired key (of `signingAlgorithm`, when given) signs, the
 * same one on every instance (ties broken by kid); every unretired key verifies, and retired keys verify while
 * `now < retiredAt + retentionSeconds` (the longest an access token they signed can live, plus leeway).
 * Throws `TypeError` when no key can sign.
 */
export async function buildKeyRing(
  materials: readonly KeyMaterial[],
  now: number,
  retentionSeconds: number,
  signingAlgorithm?: string,
): Promise<KeyRing> {
  const live = materials
    .filter((m) => m.retiredAt === null || now < m.retiredAt + retentionSeconds)
    .sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0))
  const current = live.find(
    (m) => m.retiredAt === null && (signingAlgorithm === undefined || m.alg === signingAlgorithm),
  )
  if (!current) throw new TypeError('The key ring has no key that can sign.')
  const verification = new Map<string, VerificationKey>()
  const jwks: JWK[] = []
  for (const material of live) {
    if (!isSupportedAlgorithm(material.alg)) continue
    const privateJwk = JSON.parse(material.privateJwk) as JWK
    verification.set(material.kid, await importVerificationKey(privateJwk, material.alg))
    if (isAsymmetric(material.alg)) jwks.push(publicJwkOf(privateJwk))
  }
  if (!isSupportedAlgorithm(current.alg))
    throw new TypeError(`The current key's algorithm "${current.alg}" is unsupported.`)
  const signingKey = await importSigningKey(JSON.parse(current.privateJwk) as JWK, current.alg)
  return {
    signingKey,
    signingHeader: encodeAccessTokenHeader(signingKey),
    resolveKey: (header) => (header.kid === undefined ? null : (verification.get(header.kid) ?? null)),
    jwks: { keys: jwks },
    kids: [...verification.keys()],
  }
}

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])

/** The public half of a private JWK: every private member dropped. */
function publicJwkOf(privateJwk: JWK): JWK {
  const publicJwk: Record<string, unknown> = {}
  for (const [member, value] of Object.entries(privateJwk)) {
    if (!PRIVATE_JWK_MEMBERS.has(member)) publicJwk[member] = value
  }
  return publicJwk
}
