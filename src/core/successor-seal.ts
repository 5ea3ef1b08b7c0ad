/**
 * Sealing a refresh family's live token for its grace window. When token T(n) is rotated to a fresh random
 * T(n+1), the family stores T(n+1) encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from T(n). A
 * retry that presents T(n) inside the grace window can open the seal and receive the same T(n+1); nobody else
 * can, because T(n) itself is never stored (only its hash). A store dump plus any older token opens nothing:
 * each seal is keyed by the token just before it, and successors are random, not derived.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const SALT = 'sesame refresh successor seal v1'
const IV_BYTES = 12
const TAG_BYTES = 16

function sealKey(previousToken: string, familyId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', previousToken, SALT, familyId, 32))
}

/** Seals `successor` for whoever holds `previousToken` (base64url of IV || ciphertext || tag). */
export function sealSuccessor(previousToken: string, successor: string, familyId: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', sealKey(previousToken, familyId), iv)
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')
}

/** The successor sealed for `previousToken`, or null when the seal is absent, malformed or not theirs. */
export function openSuccessor(previousToken: string, seal: string | null, familyId: string): string | null {
  if (seal === null) return null
  const bytes = Buffer.from(seal, 'base64url')
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealKey(previousToken, familyId),
      bytes.subarray(0, IV_BYTES),
    )
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    return null // wrong key or tampered seal: GCM authentication failed
  }
}
