/** Key import rules of keys.ts: algorithm binding, intended use, minimum strengths. */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { encodeBase64url } from '../../../src/core/jws/base64url.js'
import { encodeHeader, signCompact, verifyCompact } from '../../../src/core/jws/compact.js'
import { importSigningKey, importVerificationKey } from '../../../src/core/jws/keys.js'
import { importRefusalOf } from './refusal.js'

/** RFC 7515 A.2's 2048-bit modulus. */
const RSA_N =
  'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-' +
  'pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2Ca' +
  'pHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb5' +
  '4h4FRWyuXpoQ'

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const EC_PRIVATE = ec.privateKey.export({ format: 'jwk' }) as JWK
const EC_PUBLIC = ec.publicKey.export({ format: 'jwk' }) as JWK

describe('importVerificationKey', () => {
  it('binds the key to the algorithm it was imported for', async () => {
    const key = await importVerificationKey({ ...EC_PUBLIC, kid: 'k' }, 'ES256')
    expect(key).toMatchObject({ alg: 'ES256', kid: 'k' })
    expect(key.keyObject.type).toBe('public')
  })

  it('reduces a private JWK to its public key', async () => {
    const key = await importVerificationKey(EC_PRIVATE, 'ES256')
    expect(key.keyObject.type).toBe('public')
  })

  it('refuses a JWK whose own alg is another algorithm', async () => {
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, alg: 'ES384' }, 'ES256'))
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, alg: 'HS256' }, 'ES256'))
  })

  it('refuses a key of the wrong type or curve for the algorithm', async () => {
    await importRefusalOf(() => importVerificationKey(EC_PUBLIC, 'HS256'))
    await importRefusalOf(() => importVerificationKey(EC_PUBLIC, 'RS256'))
    await importRefusalOf(() => importVerificationKey(EC_PUBLIC, 'EdDSA'))
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, crv: 'P-384' }, 'ES256'))
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) as JWK
    await importRefusalOf(() => importVerificationKey(x25519, 'EdDSA'))
  })

  it('refuses a key meant for encryption, and key_ops without "verify"', async () => {
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, use: 'enc' }, 'ES256'))
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, key_ops: ['encrypt'] }, 'ES256'))
    await importRefusalOf(() => importVerificationKey({ ...EC_PUBLIC, key_ops: [] }, 'ES256'))
    await expect(
      importVerificationKey({ ...EC_PUBLIC, use: 'sig', key_ops: ['verify'] }, 'ES256'),
    ).resolves.toBeTruthy()
  })

  it('refuses HMAC keys under 32 bytes', async () => {
    const short = { kty: 'oct', k: randomBytes(31).toString('base64url') }
    const error = await importRefusalOf(() => importVerificationKey(short, 'HS256'))
    expect(error.message).toContain('32 bytes')
    await importRefusalOf(() => importVerificationKey({ kty: 'oct', k: '' }, 'HS256'))
    await expect(
      importVerificationKey({ kty: 'oct', k: randomBytes(32).toString('base64url') }, 'HS256'),
    ).resolves.toBeTruthy()
  })

  it('refuses RSA moduli under 2048 bits', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    }) as JWK
    const error = await importRefusalOf(() => importVerificationKey(small, 'RS256'))
    expect(error.message).toContain('2048')
  })

  it('refuses an RSA key with public exponent 1 (no private key is needed to forge under it)', async () => {
    // Regression: only the modulus size was once checked. With e = 1 the PKCS#1 v1.5 encoding of any digest
    // is a valid signature of it, so anyone could mint tokens (Wycheproof json_web_key_test tcId 9).
    const jwk: JWK = { kty: 'RSA', n: RSA_N, e: 'AQ' }
    let key: Awaited<ReturnType<typeof importVerificationKey>>
    try {
      key = await importVerificationKey(jwk, 'RS256')
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError)
      return
    }
    const signingInput = `${encodeBase64url('{"alg":"RS256"}')}.${encodeBase64url('{"sub":"admin"}')}`
    const digestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex')
    const digest = createHash('sha256').update(signingInput).digest()
    const padding = Buffer.alloc(256 - 3 - digestInfo.length - digest.length, 0xff)
    const forgedSignature = Buffer.concat([
      Buffer.from([0, 1]),
      padding,
      Buffer.from([0]),
      digestInfo,
      digest,
    ])
    let forgeryVerified = false
    try {
      verifyCompact(`${signingInput}.${forgedSignature.toString('base64url')}`, () => key)
      forgeryVerified = true
    } catch {
      // refused: fine
    }
    expect.fail(
      `imported an RSA key with e = 1; a token forged without any private key ${forgeryVerified ? 'verifies' : 'was refused'} under it`,
    )
  })
})

describe('importSigningKey', () => {
  it('needs a kid', async () => {
    await importRefusalOf(() => importSigningKey(EC_PRIVATE, 'ES256'))
    await importRefusalOf(() => importSigningKey({ ...EC_PRIVATE, kid: '' }, 'ES256'))
  })

  it('needs a private key for asymmetric algorithms', async () => {
    const error = await importRefusalOf(() => importSigningKey({ ...EC_PUBLIC, kid: 'k' }, 'ES256'))
    expect(error.message).toContain('private')
  })

  it('refuses key_ops without "sign"', async () => {
    await importRefusalOf(() => importSigningKey({ ...EC_PRIVATE, kid: 'k', key_ops: ['verify'] }, 'ES256'))
    await expect(
      importSigningKey({ ...EC_PRIVATE, kid: 'k', key_ops: ['sign'] }, 'ES256'),
    ).resolves.toBeTruthy()
  })

  it('signs tokens the matching verification key accepts', async () => {
    const signingKey = await importSigningKey({ ...EC_PRIVATE, kid: 'k' }, 'ES256')
    const verificationKey = await importVerificationKey(EC_PUBLIC, 'ES256')
    const token = signCompact(encodeHeader(signingKey), 'ok', signingKey)
    expect(verifyCompact(token, () => verificationKey).payload.toString()).toBe('ok')
  })
})
