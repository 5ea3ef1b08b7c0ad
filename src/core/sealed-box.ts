/**
 * A value sealed for a later request to this server (any instance): JSON, encrypted and authenticated under a
 * 32-byte server secret (JWE compact, `dir` + A256GCM, with jose), so it can travel through a browser or a
 * client and come back unread and unchanged. Each use has its own secret, so one kind cannot pass for another.
 * A box proves only that this server made it: single use and expiry are the caller's to enforce.
 */
import { CompactEncrypt, compactDecrypt } from 'jose'

const ENCRYPTION = { alg: 'dir', enc: 'A256GCM' } as const

export interface SealedBox<T> {
  seal(value: T): Promise<string>
  /** The value sealed in `sealed`, or null when it was not sealed under this key (forged, damaged, other use). */
  open(sealed: string): Promise<T | null>
}

/** `key` must be 32 random bytes, the same on every instance (a store secret). */
export function createSealedBox<T>(key: Uint8Array): SealedBox<T> {
  if (key.length !== 32) throw new TypeError('A sealing key must be 32 bytes.')
  return {
    async seal(value) {
      const plaintext = new TextEncoder().encode(JSON.stringify(value))
      return new CompactEncrypt(plaintext).setProtectedHeader(ENCRYPTION).encrypt(key)
    },

    async open(sealed) {
      try {
        const { plaintext } = await compactDecrypt(sealed, key, {
          keyManagementAlgorithms: [ENCRYPTION.alg],
          contentEncryptionAlgorithms: [ENCRYPTION.enc],
        })
        return JSON.parse(new TextDecoder().decode(plaintext)) as T
      } catch {
        return null
      }
    },
  }
}

/**
 * A box over several keys, for a key that is rotated: seals under the first, opens under any (newest first), so
 * values sealed before a rotation still open while the old key is listed.
 */
export function createRotatingSealedBox<T>(keys: readonly Uint8Array[]): SealedBox<T> {
  if (keys.length === 0) throw new TypeError('A rotating box needs at least one key.')
  const boxes = keys.map((key) => createSealedBox<T>(key))
  return {
    seal: (value) => boxes[0]!.seal(value),
    async open(sealed) {
      for (const box of boxes) {
        const value = await box.open(sealed)
        if (value !== null) return value
      }
      return null
    },
  }
}
