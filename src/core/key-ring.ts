/**
 * The key ring: one key signs, and every key that may still have live tokens verifies and is published.
 *
 * Rotation is staged, so that no verifier ever meets a token signed by a key missing from the JWKS it cached:
 * a new key is published (in the ring and the JWKS) at once, but signs only from its `activatesAt`, which the
 * engine sets a JWKS cache lifetime plus a margin ahead. Until then the old key signs; it is retired at that
 * same moment and stays for verification, and in the JWKS, until every token it signed has expired. Which key
 * signs is decided at signing time from the caller's clock, so an instance switches at the activation time
 * without any event or reload.
 *
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
  /** When the key may start signing; it is published (and verifies) from its creation. */
  activatesAt: number
  /** When the key stops signing (it may lie ahead); it verifies for the retention after that. */
  retiredAt: number | null
}

/** A key that signs, with its pre-encoded access-token header. */
export interface Signer {
  readonly key: SigningKey
  readonly header: string
}

export interface KeyRing {
  /** The key new tokens are signed with at `now` (see {@link pickSigner}). */
  signerAt(now: number): Signer
  /** The key that signed at the `now` the ring was built for (for tests and benchmarks at a fixed time). */
  readonly signingKey: SigningKey
  /** Its pre-encoded access-token header. */
  readonly signingHeader: string
  /** Finds the verification key a token names by `kid`. No I/O. */
  readonly resolveKey: KeyResolver
  /** The public keys to publish, pending ones included (none for HS256, whose key is a shared secret). */
  readonly jwks: { keys: JWK[] }
  /** Kids of every key that verifies. */
  readonly kids: readonly string[]
  /** Equal for two rings built from the same keys in the same states: a reload that finds it unchanged keeps the ring. */
  readonly version: string
}

/**
 * Generates a fresh key for `alg` (asymmetric only), with its thumbprint as `kid`. It signs from `activatesAt`
 * (default: at once).
 */
export async function generateKeyMaterial(
  alg: Exclude<JwsAlgorithm, 'HS256'>,
  now: number,
  activatesAt: number = now,
): Promise<KeyMaterial> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' && { modulusLength: 2048 }),
  })
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey))
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateJwk: JSON.stringify(privateJwk), createdAt: now, activatesAt, retiredAt: null }
}

/**
 * Key material for HS256 from a configured shared secret. The `kid` is an HMAC of a fixed label under the secret:
 * stable across restarts and instances, and it reveals nothing about the secret (unlike a plain hash of it).
 */
export function hmacKeyMaterial(secret: Buffer, now: number): KeyMaterial {
  const kid = createHmac('sha256', secret).update('sesame key id').digest('base64url').slice(0, 16)
  const privateJwk: JWK = { kty: 'oct', k: secret.toString('base64url'), kid, alg: 'HS256', use: 'sig' }
  return {
    kid,
    alg: 'HS256',
    privateJwk: JSON.stringify(privateJwk),
    createdAt: now,
    activatesAt: now,
    retiredAt: null,
  }
}

/**
 * The key that signs at `now`, the same one on every instance with the same keys and clock: of the keys whose
 * activation has come and whose retirement has not, the latest activated (ties broken by creation, then kid).
 * When none has activated yet (only right after `rotate --now` on an instance whose clock is a little behind
 * the rotating one, since a rotation never leaves a gap otherwise) the next to activate signs: it is already in
 * every ring and JWKS. Null when no key can sign at all.
 */
export function pickSigner<M extends KeyMaterial>(candidates: readonly M[], now: number): M | null {
  let active: M | null = null
  let next: M | null = null
  for (const key of candidates) {
    if (key.retiredAt !== null && key.retiredAt <= now) continue
    if (key.activatesAt <= now) {
      if (!active || compareActivation(key, active) > 0) active = key
    } else if (!next || compareActivation(key, next) < 0) {
      next = key
    }
  }
  return active ?? next
}

/** Orders keys by activation, then creation, then kid: a total order, so every instance picks alike. */
function compareActivation(a: KeyMaterial, b: KeyMaterial): number {
  return (
    a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0)
  )
}

/**
 * Builds the ring from stored keys at `now`. Keys of `signingAlgorithm` (every key, when not given) may sign,
 * each from its `activatesAt` until its `retiredAt` (see {@link pickSigner}); every key verifies and is
 * published from its creation until `retiredAt + retentionSeconds` (the longest an access token it signed can
 * live, plus leeway). Throws `TypeError` when no key can sign at `now`.
 */
export async function buildKeyRing(
  materials: readonly KeyMaterial[],
  now: number,
  retentionSeconds: number,
  signingAlgorithm?: string,
): Promise<KeyRing> {
  const live = liveKeys(materials, now, retentionSeconds)
  const candidates = live.filter(
    (m) =>
      (signingAlgorithm === undefined || m.alg === signingAlgorithm) &&
      (m.retiredAt === null || now < m.retiredAt),
  )
  const current = pickSigner(candidates, now)
  if (!current) throw new TypeError('The key ring has no key that can sign.')
  if (!isSupportedAlgorithm(current.alg))
    throw new TypeError(`The current key's algorithm "${current.alg}" is unsupported.`)
  const verification = new Map<string, VerificationKey>()
  const jwks: JWK[] = []
  for (const material of live) {
    if (!isSupportedAlgorithm(material.alg)) continue
    const privateJwk = JSON.parse(material.privateJwk) as JWK
    verification.set(material.kid, await importVerificationKey(privateJwk, material.alg))
    if (isAsymmetric(material.alg)) jwks.push(publicJwkOf(privateJwk))
  }
  // Every key that may sign from now on, imported once; the choice among them is made per token.
  const signers = new Map<string, Signer>()
  for (const material of candidates) {
    if (!isSupportedAlgorithm(material.alg)) continue
    const key = await importSigningKey(JSON.parse(material.privateJwk) as JWK, material.alg)
    signers.set(material.kid, { key, header: encodeAccessTokenHeader(key) })
  }
  const signable = candidates.filter((m) => signers.has(m.kid))
  const atBuild = signers.get(current.kid)!
  return {
    signerAt(at) {
      const signer = pickSigner(signable, at)
      // Only when the clock has passed the retirement of every key read (the store could not be re-read for
      // that long): refuse to sign rather than sign with a key that no longer verifies anywhere.
      if (!signer) throw new Error('No signing key is active: the key ring could not be reloaded in time.')
      return signers.get(signer.kid)!
    },
    signingKey: atBuild.key,
    signingHeader: atBuild.header,
    resolveKey: resolverOf(verification),
    jwks: { keys: jwks },
    kids: [...verification.keys()],
    version: versionOf(live, signingAlgorithm),
  }
}

/**
 * The {@link KeyRing.version} `buildKeyRing` would give these keys at `now`, computed without importing any:
 * a reload compares it with the current ring's and keeps that ring when nothing changed.
 */
export function keyRingVersion(
  materials: readonly KeyMaterial[],
  now: number,
  retentionSeconds: number,
  signingAlgorithm?: string,
): string {
  return versionOf(liveKeys(materials, now, retentionSeconds), signingAlgorithm)
}

/** The keys that still verify at `now`, newest first (ties broken by kid, so every instance lists alike). */
function liveKeys(materials: readonly KeyMaterial[], now: number, retentionSeconds: number): KeyMaterial[] {
  return materials
    .filter((m) => m.retiredAt === null || now < m.retiredAt + retentionSeconds)
    .sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0))
}

function versionOf(live: readonly KeyMaterial[], signingAlgorithm: string | undefined): string {
  return JSON.stringify([
    signingAlgorithm ?? null,
    live.map((m) => [m.kid, m.alg, m.activatesAt, m.retiredAt]),
  ])
}

/**
 * A resolver over every given key, whatever its state (signing, retired, even past its retention): for telling
 * which stored key signed a token, not whether the token is still accepted. Keys of unsupported algorithms are
 * left out.
 */
export async function resolverOfStoredKeys(materials: readonly KeyMaterial[]): Promise<KeyResolver> {
  const byKid = new Map<string, VerificationKey>()
  for (const material of materials) {
    if (!isSupportedAlgorithm(material.alg)) continue
    byKid.set(material.kid, await importVerificationKey(JSON.parse(material.privateJwk) as JWK, material.alg))
  }
  return resolverOf(byKid)
}

/** The keys of a published JWKS that may be trusted, by kid, with the resolver that finds them. */
export interface PublishedKeys {
  readonly resolveKey: KeyResolver
  readonly kids: readonly string[]
}

/**
 * Imports the keys of a JWKS as a resource server must: only keys with a `kid` bound to one supported
 * asymmetric algorithm. Anything else cannot be used safely (an `oct` key or an alg-less entry would let
 * whoever serves the JWKS plant an HMAC secret); a key that fails to import is reported to `onError` and left
 * out. Used by the verifier and by `sesame token decode --jwks`.
 */
export async function importPublishedKeys(
  keys: readonly unknown[],
  onError: (error: unknown) => void = () => {},
): Promise<PublishedKeys> {
  const byKid = new Map<string, VerificationKey>()
  for (const jwk of keys as Array<JWK | null | undefined>) {
    if (typeof jwk?.kid !== 'string' || !isSupportedAlgorithm(jwk.alg) || !isAsymmetric(jwk.alg)) continue
    try {
      byKid.set(jwk.kid, await importVerificationKey(jwk, jwk.alg))
    } catch (error) {
      onError(error)
    }
  }
  return { resolveKey: resolverOf(byKid), kids: [...byKid.keys()] }
}

function resolverOf(byKid: ReadonlyMap<string, VerificationKey>): KeyResolver {
  return (header) => (header.kid === undefined ? null : (byKid.get(header.kid) ?? null))
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
