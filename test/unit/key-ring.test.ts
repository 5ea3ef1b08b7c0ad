import { type JsonWebKey, createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import { type JWK, calculateJwkThumbprint } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type KeyMaterial,
  buildKeyRing,
  generateKeyMaterial,
  hmacKeyMaterial,
  keyRingVersion,
  pickSigner,
} from '../../src/core/key-ring.js'
import { encodeHeader, signCompact, verifyCompact } from '../../src/core/jws/compact.js'
import type { SigningKey } from '../../src/core/jws/keys.js'
import { expectInvalidToken } from './jws/refusal.js'

const T0 = 1_800_000_000
const RETENTION = 1000
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** The public JWK of a private one, derived by node:crypto (independently of the ring's own derivation). */
function publicJwkByNode(privateJwk: JWK): JWK {
  const privateKey = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' })
  return createPublicKey(privateKey).export({ format: 'jwk' })
}

function parseJwk(material: KeyMaterial): JWK {
  return JSON.parse(material.privateJwk) as JWK
}

/** A token signed by `key` that the ring's resolver must find (or not) by its `kid`. */
function tokenFor(key: SigningKey): string {
  return signCompact(encodeHeader(key, { typ: 'at+jwt' }), '{"sub":"u"}', key)
}

let es256A: KeyMaterial
let es256B: KeyMaterial
let eddsa: KeyMaterial
let rs256: KeyMaterial
let es256BSigner: SigningKey

beforeAll(async () => {
  es256A = await generateKeyMaterial('ES256', T0)
  es256B = await generateKeyMaterial('ES256', T0 + 10)
  eddsa = await generateKeyMaterial('EdDSA', T0)
  rs256 = await generateKeyMaterial('RS256', T0)
  es256BSigner = (await buildKeyRing([es256B], T0 + 10, RETENTION)).signingKey
})

describe('generateKeyMaterial', () => {
  it('uses the RFC 7638 thumbprint of the public JWK as kid', async () => {
    for (const material of [es256A, es256B, eddsa, rs256]) {
      const publicJwk = publicJwkByNode(parseJwk(material))
      for (const member of PRIVATE_MEMBERS) expect(publicJwk).not.toHaveProperty(member)
      expect(material.kid).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'))
    }
  })

  it('gives distinct keys distinct kids', () => {
    expect(es256A.kid).not.toBe(es256B.kid)
  })

  it('stores a private JWK carrying its kid, alg and use "sig"', () => {
    const cases: Array<[KeyMaterial, string, string]> = [
      [es256A, 'ES256', 'EC'],
      [eddsa, 'EdDSA', 'OKP'],
      [rs256, 'RS256', 'RSA'],
    ]
    for (const [material, alg, kty] of cases) {
      const jwk = parseJwk(material)
      expect(material.alg).toBe(alg)
      expect(jwk.alg).toBe(alg)
      expect(jwk.use).toBe('sig')
      expect(jwk.kid).toBe(material.kid)
      expect(jwk.kty).toBe(kty)
      expect(typeof jwk.d).toBe('string')
    }
    expect(parseJwk(es256A).crv).toBe('P-256')
    expect(parseJwk(eddsa).crv).toBe('Ed25519')
  })

  it('records the creation time, activates at once unless told otherwise, and leaves the key unretired', async () => {
    expect(es256A.createdAt).toBe(T0)
    expect(es256B.createdAt).toBe(T0 + 10)
    expect(es256A.activatesAt).toBe(T0)
    expect(es256A.retiredAt).toBeNull()
    expect((await generateKeyMaterial('ES256', T0, T0 + 360)).activatesAt).toBe(T0 + 360)
  })

  it('generates RSA keys with a 2048-bit modulus', () => {
    const key = createPrivateKey({ key: parseJwk(rs256) as JsonWebKey, format: 'jwk' })
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })
})

describe('hmacKeyMaterial', () => {
  const secret = Buffer.alloc(32, 1)

  it('derives a stable kid from the secret', () => {
    expect(hmacKeyMaterial(secret, T0).kid).toBe(hmacKeyMaterial(Buffer.alloc(32, 1), T0 + 500).kid)
  })

  it('derives different kids from different secrets', () => {
    expect(hmacKeyMaterial(secret, T0).kid).not.toBe(hmacKeyMaterial(Buffer.alloc(32, 2), T0).kid)
  })

  it('does not put the secret, or a plain hash of it, in the kid', () => {
    const { kid } = hmacKeyMaterial(secret, T0)
    expect(kid).toHaveLength(16)
    for (const encoding of ['base64url', 'base64', 'hex'] as const) {
      const text = secret.toString(encoding)
      expect(text).not.toContain(kid)
      expect(kid).not.toContain(text.slice(0, 8))
    }
    expect(kid).not.toBe(createHash('sha256').update(secret).digest('base64url').slice(0, 16))
  })

  it('stores an oct JWK for HS256 with kid and use "sig"', () => {
    const material = hmacKeyMaterial(secret, T0)
    expect(material).toMatchObject({ alg: 'HS256', createdAt: T0, retiredAt: null })
    expect(parseJwk(material)).toEqual({
      kty: 'oct',
      k: secret.toString('base64url'),
      kid: material.kid,
      alg: 'HS256',
      use: 'sig',
    })
  })
})

describe('buildKeyRing', () => {
  it('signs with the newest unretired key and verifies every live one', async () => {
    const ring = await buildKeyRing([es256B, es256A], T0 + 20, RETENTION)
    expect(ring.signingKey.kid).toBe(es256B.kid)
    expect(ring.signingKey.alg).toBe('ES256')
    expect(ring.kids).toEqual([es256B.kid, es256A.kid])
  })

  it('skips retired keys when picking the signer, even newer ones', async () => {
    const retiredNewer = { ...es256B, retiredAt: T0 + 15 }
    const ring = await buildKeyRing([retiredNewer, es256A], T0 + 20, RETENTION)
    expect(ring.signingKey.kid).toBe(es256A.kid)
    expect(ring.kids).toEqual([es256B.kid, es256A.kid])
  })

  it('pre-encodes the access-token header for the signing key', async () => {
    const ring = await buildKeyRing([es256A], T0, RETENTION)
    expect(JSON.parse(Buffer.from(ring.signingHeader, 'base64url').toString('utf8'))).toEqual({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: es256A.kid,
    })
  })

  it('resolves the signing key by kid so its own tokens verify', async () => {
    for (const material of [es256A, eddsa, rs256, hmacKeyMaterial(Buffer.alloc(32, 1), T0)]) {
      const ring = await buildKeyRing([material], T0, RETENTION)
      const { payload, key } = verifyCompact(tokenFor(ring.signingKey), ring.resolveKey)
      expect(payload.toString('utf8')).toBe('{"sub":"u"}')
      expect(key.kid).toBe(material.kid)
      expect(key.alg).toBe(material.alg)
    }
  })

  it('resolves verification keys without private parts', async () => {
    const ring = await buildKeyRing([es256A], T0, RETENTION)
    const key = ring.resolveKey({ alg: 'ES256', kid: es256A.kid })
    expect(key?.keyObject.type).toBe('public')
    expect(key?.alg).toBe('ES256')
  })

  it('resolves null for a header without kid and for an unknown kid', async () => {
    const ring = await buildKeyRing([es256A], T0, RETENTION)
    expect(ring.resolveKey({ alg: 'ES256' })).toBeNull()
    expect(ring.resolveKey({ alg: 'ES256', kid: 'no-such-kid' })).toBeNull()
    expect(ring.resolveKey({ alg: 'ES256', kid: es256B.kid })).toBeNull()
    expectInvalidToken(() => verifyCompact(tokenFor(es256BSigner), ring.resolveKey), 'unknown_key')
  })

  describe('staged activation', () => {
    const rotatedAt = T0 + 100
    const activatesAt = rotatedAt + 360
    let outgoing: KeyMaterial
    let pending: KeyMaterial

    beforeAll(() => {
      // As a staged rotation leaves them: the new key signs from activatesAt, when the old one retires.
      outgoing = { ...es256A, retiredAt: activatesAt }
      pending = { ...es256B, createdAt: rotatedAt, activatesAt }
    })

    it('publishes and verifies the pending key at once, but signs with the outgoing one until activation', async () => {
      const ring = await buildKeyRing([pending, outgoing], rotatedAt, RETENTION)
      expect(ring.jwks.keys.map((jwk) => jwk.kid)).toEqual([es256B.kid, es256A.kid])
      expect(ring.resolveKey({ alg: 'ES256', kid: es256B.kid })).not.toBeNull()
      expect(ring.signerAt(rotatedAt).key.kid).toBe(es256A.kid)
      expect(ring.signerAt(activatesAt - 1).key.kid).toBe(es256A.kid)
    })

    it('switches to the pending key at its activation time, from the same ring (no reload)', async () => {
      const ring = await buildKeyRing([pending, outgoing], rotatedAt, RETENTION)
      const signer = ring.signerAt(activatesAt)
      expect(signer.key.kid).toBe(es256B.kid)
      expect(JSON.parse(Buffer.from(signer.header, 'base64url').toString('utf8'))).toMatchObject({
        kid: es256B.kid,
      })
      expect(ring.signerAt(activatesAt + 10_000).key.kid).toBe(es256B.kid)
    })

    it('signs with the next key when none has activated yet (a clock behind the one that rotated at once)', async () => {
      const ring = await buildKeyRing([{ ...pending, activatesAt: rotatedAt + 2 }], rotatedAt, RETENTION)
      expect(ring.signerAt(rotatedAt).key.kid).toBe(es256B.kid)
    })

    it('picks the latest activated key, the same on every instance whatever the listing order', () => {
      const a = { ...es256A, activatesAt: T0 + 10 }
      const b = { ...es256B, activatesAt: T0 + 20 }
      expect(pickSigner([a, b], T0 + 15)?.kid).toBe(es256A.kid)
      expect(pickSigner([b, a], T0 + 20)?.kid).toBe(es256B.kid)
      expect(pickSigner([a, b], T0 + 5)?.kid).toBe(es256A.kid) // none active yet: the next to activate
      expect(pickSigner([{ ...a, retiredAt: T0 }], T0)).toBeNull()
    })

    it('changes its version only when a key or its times change', async () => {
      const ring = await buildKeyRing([pending, outgoing], rotatedAt, RETENTION)
      expect(keyRingVersion([outgoing, pending], rotatedAt + 50, RETENTION)).toBe(ring.version)
      expect(
        keyRingVersion([outgoing, { ...pending, activatesAt: activatesAt + 1 }], rotatedAt, RETENTION),
      ).not.toBe(ring.version)
      // The outgoing key leaving the ring after its retention changes it too.
      expect(keyRingVersion([outgoing, pending], activatesAt + RETENTION, RETENTION)).not.toBe(ring.version)
    })
  })

  describe('retired keys', () => {
    const retiredAt = T0 + 100
    let materials: KeyMaterial[]
    let oldSigner: SigningKey
    beforeAll(async () => {
      oldSigner = (await buildKeyRing([es256A], T0, RETENTION)).signingKey
      materials = [es256B, { ...es256A, retiredAt }]
    })

    it('verify until retiredAt + retention, exclusive', async () => {
      const ring = await buildKeyRing(materials, retiredAt + RETENTION - 1, RETENTION)
      expect(ring.signingKey.kid).toBe(es256B.kid)
      expect(ring.kids).toEqual([es256B.kid, es256A.kid])
      expect(ring.resolveKey({ alg: 'ES256', kid: es256A.kid })).not.toBeNull()
      expect(verifyCompact(tokenFor(oldSigner), ring.resolveKey).key.kid).toBe(es256A.kid)
      expect(ring.jwks.keys.map((jwk) => jwk.kid)).toEqual([es256B.kid, es256A.kid])
    })

    it('disappear from resolveKey, kids and jwks at retiredAt + retention', async () => {
      for (const now of [retiredAt + RETENTION, retiredAt + RETENTION + 1]) {
        const ring = await buildKeyRing(materials, now, RETENTION)
        expect(ring.signingKey.kid).toBe(es256B.kid)
        expect(ring.kids).toEqual([es256B.kid])
        expect(ring.resolveKey({ alg: 'ES256', kid: es256A.kid })).toBeNull()
        expectInvalidToken(() => verifyCompact(tokenFor(oldSigner), ring.resolveKey), 'unknown_key')
        expect(ring.jwks.keys.map((jwk) => jwk.kid)).toEqual([es256B.kid])
      }
    })

    it('with zero retention stop verifying at retiredAt', async () => {
      const ring = await buildKeyRing(materials, retiredAt, 0)
      expect(ring.kids).toEqual([es256B.kid])
    })
  })

  describe('jwks', () => {
    it('publishes only public members for ES256, EdDSA and RS256', async () => {
      for (const material of [es256A, eddsa, rs256]) {
        const ring = await buildKeyRing([material], T0, RETENTION)
        expect(ring.jwks.keys).toHaveLength(1)
        const [jwk] = ring.jwks.keys
        for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member)
        expect(jwk).toEqual({
          ...publicJwkByNode(parseJwk(material)),
          kid: material.kid,
          alg: material.alg,
          use: 'sig',
        })
        expect(await calculateJwkThumbprint(jwk!, 'sha256')).toBe(material.kid)
      }
    })

    it('is empty for HS256, whose key is a shared secret', async () => {
      const ring = await buildKeyRing([hmacKeyMaterial(Buffer.alloc(32, 1), T0)], T0, RETENTION)
      expect(ring.jwks).toEqual({ keys: [] })
      expect(JSON.stringify(ring.jwks)).not.toContain(Buffer.alloc(32, 1).toString('base64url'))
    })

    it('leaves an HS256 key out of a mixed ring but lists the asymmetric ones', async () => {
      const hmac = { ...hmacKeyMaterial(Buffer.alloc(32, 1), T0), retiredAt: T0 + 5 }
      const ring = await buildKeyRing([es256A, hmac], T0 + 10, RETENTION)
      expect([...ring.kids].sort()).toEqual([es256A.kid, hmac.kid].sort())
      expect(ring.jwks.keys.map((jwk) => jwk.kid)).toEqual([es256A.kid])
    })
  })

  describe('refusals', () => {
    const message = 'The key ring has no key that can sign.'

    it('refuses an empty ring', async () => {
      await expect(buildKeyRing([], T0, RETENTION)).rejects.toThrow(new TypeError(message))
    })

    it('refuses a ring whose keys are all retired, even ones that still verify', async () => {
      await expect(
        buildKeyRing(
          [
            { ...es256B, retiredAt: T0 + 50 },
            { ...es256A, retiredAt: T0 + 20 },
          ],
          T0 + 60,
          RETENTION,
        ),
      ).rejects.toThrow(new TypeError(message))
    })

    it('refuses an HMAC secret shorter than 32 bytes', async () => {
      await expect(buildKeyRing([hmacKeyMaterial(Buffer.alloc(31, 1), T0)], T0, RETENTION)).rejects.toThrow(
        new TypeError('An HS256 key must be at least 32 bytes.'),
      )
    })

    it('refuses a current key with an unsupported algorithm', async () => {
      const bad = { ...es256A, alg: 'ES384' }
      await expect(buildKeyRing([bad], T0, RETENTION)).rejects.toThrow(
        new TypeError('The current key\'s algorithm "ES384" is unsupported.'),
      )
    })
  })
})
