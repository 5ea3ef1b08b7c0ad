/**
 * The worked examples of RFC 7515 Appendix A (and RFC 8037 Appendix A.4 for EdDSA), with the exact tokens and
 * keys from the RFCs. Sesame must verify A.1 (HS256), A.2 (RS256), A.3 (ES256) and RFC 8037 A.4 (EdDSA), and
 * refuse A.4 (ES512, unsupported) and A.5 (unsecured, `alg: none`).
 */
import { createPublicKey, verify } from 'node:crypto'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { SUPPORTED_ALGORITHMS } from '../../../src/core/jws/algorithms.js'
import { encodeHeader, signCompact, verifyCompact } from '../../../src/core/jws/compact.js'
import { type VerificationKey, importSigningKey, importVerificationKey } from '../../../src/core/jws/keys.js'
import { expectInvalidToken, importRefusalOf } from './refusal.js'

/** The JWT claims all of A.1-A.3 sign, with the RFC's CRLF line breaks and leading spaces. */
const CLAIMS_TEXT = '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
const CLAIMS = { iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true }
const CLAIMS_SEGMENT =
  'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ'

// A.1: HMAC SHA-256
const A1_HEADER_SEGMENT = 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' // {"typ":"JWT",\r\n "alg":"HS256"}
const A1_JWS = `${A1_HEADER_SEGMENT}.${CLAIMS_SEGMENT}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`
const A1_JWK: JWK = {
  kty: 'oct',
  k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
}

// A.2: RSASSA-PKCS1-v1_5 SHA-256 (public members only: verification is what Sesame does with it)
const A2_JWS =
  `eyJhbGciOiJSUzI1NiJ9.${CLAIMS_SEGMENT}.` +
  'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr' +
  '7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--x' +
  'i12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_Io' +
  'ypGlUPQGe77Rw'
const A2_JWK: JWK = {
  kty: 'RSA',
  n:
    'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-' +
    'pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2Ca' +
    'pHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb5' +
    '4h4FRWyuXpoQ',
  e: 'AQAB',
}

// A.3: ECDSA P-256 SHA-256 (the signature is randomized; the RFC's one must still verify)
const A3_JWS =
  `eyJhbGciOiJFUzI1NiJ9.${CLAIMS_SEGMENT}.` +
  'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q'
const A3_PRIVATE_JWK: JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
}
const { d: _a3d, ...A3_PUBLIC_JWK } = A3_PRIVATE_JWK

// A.4: ECDSA P-521 SHA-512, payload "Payload"
const A4_JWS =
  'eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.' +
  'AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJ' +
  'ZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn'
const A4_PUBLIC_JWK: JWK = {
  kty: 'EC',
  crv: 'P-521',
  x: 'AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk',
  y: 'ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2',
}

// A.5: unsecured JWS
const A5_JWS = `eyJhbGciOiJub25lIn0.${CLAIMS_SEGMENT}.`

// RFC 8037 A.4: Ed25519, payload "Example of Ed25519 signing"
const EDDSA_HEADER_SEGMENT = 'eyJhbGciOiJFZERTQSJ9' // {"alg":"EdDSA"}
const EDDSA_JWS =
  `${EDDSA_HEADER_SEGMENT}.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.` +
  'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg'
const EDDSA_PRIVATE_JWK: JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
}

function tamperPayload(token: string): string {
  const [header, , signature] = token.split('.')
  const forged = Buffer.from(CLAIMS_TEXT.replace('"joe"', '"eve"')).toString('base64url')
  return `${header}.${forged}.${signature}`
}

describe('RFC 7515 A.1: HS256', () => {
  it('verifies the RFC token and returns the RFC claims', async () => {
    const key = await importVerificationKey(A1_JWK, 'HS256')
    const { header, payload } = verifyCompact(A1_JWS, () => key)
    expect(header).toEqual({ typ: 'JWT', alg: 'HS256' })
    expect(payload.toString('utf8')).toBe(CLAIMS_TEXT)
    expect(JSON.parse(payload.toString('utf8'))).toEqual(CLAIMS)
  })

  it('uses a 64-byte key (above the 32-byte minimum)', () => {
    expect(Buffer.from(A1_JWK.k!, 'base64url')).toHaveLength(64)
  })

  it('signs the same bytes to the same token (HMAC is deterministic)', async () => {
    const key = await importSigningKey({ ...A1_JWK, kid: 'rfc7515-a1' }, 'HS256')
    expect(signCompact(A1_HEADER_SEGMENT, CLAIMS_TEXT, key)).toBe(A1_JWS)
  })

  it('refuses the token with a changed payload', async () => {
    const key = await importVerificationKey(A1_JWK, 'HS256')
    expectInvalidToken(() => verifyCompact(tamperPayload(A1_JWS), () => key), 'bad_signature')
  })
})

describe('RFC 7515 A.2: RS256', () => {
  it('verifies the RFC token and returns the RFC claims', async () => {
    const key = await importVerificationKey(A2_JWK, 'RS256')
    const { header, payload } = verifyCompact(A2_JWS, () => key)
    expect(header).toEqual({ alg: 'RS256' })
    expect(JSON.parse(payload.toString('utf8'))).toEqual(CLAIMS)
  })

  it('uses a 2048-bit modulus', async () => {
    const key = await importVerificationKey(A2_JWK, 'RS256')
    expect(key.keyObject.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('refuses the token with a changed payload', async () => {
    const key = await importVerificationKey(A2_JWK, 'RS256')
    expectInvalidToken(() => verifyCompact(tamperPayload(A2_JWS), () => key), 'bad_signature')
  })
})

describe('RFC 7515 A.3: ES256', () => {
  it('verifies the RFC token with the RFC public key', async () => {
    const key = await importVerificationKey(A3_PUBLIC_JWK, 'ES256')
    const { header, payload } = verifyCompact(A3_JWS, () => key)
    expect(header).toEqual({ alg: 'ES256' })
    expect(JSON.parse(payload.toString('utf8'))).toEqual(CLAIMS)
  })

  it('verifies the RFC token with a key imported from the private JWK (reduced to its public part)', async () => {
    const key = await importVerificationKey(A3_PRIVATE_JWK, 'ES256')
    expect(key.keyObject.type).toBe('public')
    expect(verifyCompact(A3_JWS, () => key).payload.toString('utf8')).toBe(CLAIMS_TEXT)
  })

  it('signs a fresh (different, randomized) signature over the same input that also verifies', async () => {
    const signingKey = await importSigningKey({ ...A3_PRIVATE_JWK, kid: 'rfc7515-a3' }, 'ES256')
    const verificationKey = await importVerificationKey(A3_PUBLIC_JWK, 'ES256')
    const token = signCompact('eyJhbGciOiJFUzI1NiJ9', CLAIMS_TEXT, signingKey)
    expect(token.slice(0, token.lastIndexOf('.'))).toBe(A3_JWS.slice(0, A3_JWS.lastIndexOf('.')))
    expect(token).not.toBe(A3_JWS)
    expect(Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')).toHaveLength(64)
    expect(verifyCompact(token, () => verificationKey).payload.toString('utf8')).toBe(CLAIMS_TEXT)
  })

  it('refuses the token with a changed payload', async () => {
    const key = await importVerificationKey(A3_PUBLIC_JWK, 'ES256')
    expectInvalidToken(() => verifyCompact(tamperPayload(A3_JWS), () => key), 'bad_signature')
  })
})

describe('RFC 7515 A.4: ES512 (unsupported)', () => {
  it('is a genuine, valid ES512 token (checked with node:crypto directly)', () => {
    const publicKey = createPublicKey({ key: A4_PUBLIC_JWK, format: 'jwk' })
    const signingInput = A4_JWS.slice(0, A4_JWS.lastIndexOf('.'))
    const signature = Buffer.from(A4_JWS.slice(A4_JWS.lastIndexOf('.') + 1), 'base64url')
    expect(
      verify('sha512', Buffer.from(signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true)
  })

  it('cannot import the P-521 key for any supported algorithm', async () => {
    for (const alg of SUPPORTED_ALGORITHMS) {
      const error = await importRefusalOf(() => importVerificationKey(A4_PUBLIC_JWK, alg))
      expect(error.message).toContain(alg)
    }
  })

  it('refuses the token before asking for a key, whatever key the resolver would give', async () => {
    const keys: VerificationKey[] = [
      await importVerificationKey(A1_JWK, 'HS256'),
      await importVerificationKey(A2_JWK, 'RS256'),
      await importVerificationKey(A3_PUBLIC_JWK, 'ES256'),
    ]
    for (const key of keys) {
      let asked = false
      expectInvalidToken(
        () =>
          verifyCompact(A4_JWS, () => {
            asked = true
            return key
          }),
        'unsupported_algorithm',
      )
      expect(asked).toBe(false)
    }
  })
})

describe('RFC 7515 A.5: unsecured JWS (alg "none")', () => {
  it('has the RFC shape: header {"alg":"none"} and an empty signature', () => {
    const [header, , signature] = A5_JWS.split('.')
    expect(Buffer.from(header!, 'base64url').toString()).toBe('{"alg":"none"}')
    expect(signature).toBe('')
  })

  it('is refused with every kind of key, before the resolver is asked', async () => {
    const keys: VerificationKey[] = [
      await importVerificationKey(A1_JWK, 'HS256'),
      await importVerificationKey(A2_JWK, 'RS256'),
      await importVerificationKey(A3_PUBLIC_JWK, 'ES256'),
      await importVerificationKey(EDDSA_PRIVATE_JWK, 'EdDSA'),
    ]
    for (const key of keys) {
      let asked = false
      expectInvalidToken(
        () =>
          verifyCompact(A5_JWS, () => {
            asked = true
            return key
          }),
        'unsupported_algorithm',
      )
      expect(asked).toBe(false)
    }
  })

  it('is refused in its case variants too ("None", "NONE")', async () => {
    const key = await importVerificationKey(A1_JWK, 'HS256')
    for (const alg of ['None', 'NONE', 'nOnE']) {
      const header = Buffer.from(JSON.stringify({ alg })).toString('base64url')
      expectInvalidToken(
        () => verifyCompact(`${header}.${CLAIMS_SEGMENT}.`, () => key),
        'unsupported_algorithm',
      )
    }
  })
})

describe('RFC 8037 A.4: EdDSA (Ed25519)', () => {
  it('verifies the RFC token', async () => {
    const key = await importVerificationKey(EDDSA_PRIVATE_JWK, 'EdDSA')
    const { header, payload } = verifyCompact(EDDSA_JWS, () => key)
    expect(header).toEqual({ alg: 'EdDSA' })
    expect(payload.toString('utf8')).toBe('Example of Ed25519 signing')
  })

  it('signs the same bytes to the same token (Ed25519 is deterministic)', async () => {
    const key = await importSigningKey({ ...EDDSA_PRIVATE_JWK, kid: 'rfc8037' }, 'EdDSA')
    expect(signCompact(EDDSA_HEADER_SEGMENT, 'Example of Ed25519 signing', key)).toBe(EDDSA_JWS)
  })

  it('signs under its own header with the kid, and that verifies too', async () => {
    const signingKey = await importSigningKey({ ...EDDSA_PRIVATE_JWK, kid: 'rfc8037' }, 'EdDSA')
    const verificationKey = await importVerificationKey(EDDSA_PRIVATE_JWK, 'EdDSA')
    const token = signCompact(encodeHeader(signingKey), 'Example of Ed25519 signing', signingKey)
    expect(verifyCompact(token, () => verificationKey).header).toEqual({ alg: 'EdDSA', kid: 'rfc8037' })
  })
})
