import { describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/core/hash.js'

describe('hashSecret', () => {
  it('matches known SHA-256 vectors as unpadded base64url', () => {
    // FIPS 180-2 vector: SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
    expect(hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')
    // SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855
    expect(hashSecret('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU')
  })

  it('hashes the UTF-8 bytes of the secret', () => {
    // SHA-256 of the UTF-8 bytes c3 a9 ("é"), not of the Latin-1 byte e9 (3i4zHYka…).
    expect(hashSecret('\u00e9')).toBe('SplVfkAzw1Od4utlRyAXytX5VX96BiWgnxw_biumnEw')
  })

  it('is 43 base64url characters and differs for different secrets', () => {
    const a = hashSecret('secret-a')
    const b = hashSecret('secret-b')
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(b).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(a).not.toBe(b)
    expect(hashSecret('secret-a')).toBe(a)
  })
})
