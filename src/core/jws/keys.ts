/**
 * Keys for JWS, each bound to exactly one algorithm when it is imported: the algorithm a token's header names
 * must equal its key's own (RFC 8725 §3.1), so a public RSA/EC key can never be replayed as an HMAC secret.
 * JWK parsing is done by `jose` (well reviewed); the checks here add what a JWK may say about its intended
 * use (`alg`, `use`, `key_ops`) and the minimum strengths (RFC 7518 §3.2, §3.3).
 */
import { KeyObject, createPublicKey, createSecretKey } from 'node:crypto'
import { type JWK, importJWK } from 'jose'
import type { JwsAlgorithm } from './algorithms.js'

/** A key that verifies one algorithm's signatures. */
export interface VerificationKey {
  readonly kid: string | undefined
  readonly alg: JwsAlgorithm
  /** Public key, or the shared secret for HS256. */
  readonly keyObject: KeyObject
}

/** A key that signs with one algorithm. */
export interface SigningKey {
  readonly kid: string
  readonly alg: JwsAlgorithm
  /** Private key, or the shared secret for HS256. */
  readonly keyObject: KeyObject
}

const KEY_TYPE: Record<JwsAlgorithm, { kty: string; crv?: string }> = {
  HS256: { kty: 'oct' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
}

const MIN_HMAC_KEY_BYTES = 32 // RFC 7518 §3.2: at least the hash output size
const MIN_RSA_MODULUS_BITS = 2048 // RFC 7518 §3.3
const MIN_RSA_PUBLIC_EXPONENT = 65537n // NIST SP 800-56B / FIPS 186-5

/** Imports `jwk` for verifying `alg`; throws `TypeError` naming what makes the key unusable for it. */
export async function importVerificationKey(jwk: JWK, alg: JwsAlgorithm): Promise<VerificationKey> {
  return { kid: jwk.kid, alg, keyObject: await importChecked(jwk, alg, 'verify') }
}

/** Imports a private (or secret) `jwk` for signing with `alg`; it must carry a `kid`. */
export async function importSigningKey(jwk: JWK, alg: JwsAlgorithm): Promise<SigningKey> {
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new TypeError('A signing JWK needs a "kid".')
  const keyObject = await importChecked(jwk, alg, 'sign')
  if (alg !== 'HS256' && keyObject.type !== 'private')
    throw new TypeError('A signing JWK must hold a private key.')
  return { kid: jwk.kid, alg, keyObject }
}

async function importChecked(jwk: JWK, alg: JwsAlgorithm, operation: 'sign' | 'verify'): Promise<KeyObject> {
  const expected = KEY_TYPE[alg]
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new TypeError(`The JWK is bound to "${String(jwk.alg)}", not "${alg}".`)
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new TypeError('The JWK "use" is not "sig".')
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes(operation))) {
    throw new TypeError(`The JWK "key_ops" do not allow "${operation}".`)
  }
  if (jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) {
    throw new TypeError(`The JWK type does not fit "${alg}".`)
  }
  let imported: Awaited<ReturnType<typeof importJWK>>
  try {
    imported = await importJWK({ ...jwk, ext: true }, alg)
  } catch (error) {
    throw new TypeError(`The JWK cannot be imported for "${alg}".`, { cause: error })
  }
  if (imported instanceof Uint8Array) {
    if (imported.length < MIN_HMAC_KEY_BYTES) {
      throw new TypeError(`An HS256 key must be at least ${MIN_HMAC_KEY_BYTES} bytes.`)
    }
    return createSecretKey(imported)
  }
  let keyObject = KeyObject.from(imported)
  if (operation === 'verify' && keyObject.type === 'private') keyObject = createPublicKey(keyObject)
  if (alg === 'RS256') {
    const details = keyObject.asymmetricKeyDetails
    if ((details?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
      throw new TypeError(`An RS256 key must have a modulus of at least ${MIN_RSA_MODULUS_BITS} bits.`)
    }
    // With e = 1 (or any tiny or even exponent) signatures can be forged without the private key.
    const exponent = details?.publicExponent ?? 0n
    if (exponent < MIN_RSA_PUBLIC_EXPONENT || exponent % 2n === 0n) {
      throw new TypeError('An RS256 key must have an odd public exponent of at least 65537.')
    }
  }
  return keyObject
}
