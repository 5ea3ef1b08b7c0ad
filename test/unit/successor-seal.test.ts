import { describe, expect, it } from 'vitest'
import { generatePublicId, generateSecretToken } from '../../src/core/random.js'
import { openSuccessor, sealSuccessor } from '../../src/core/successor-seal.js'

describe('successor seal', () => {
  const previous = generateSecretToken()
  const successor = generateSecretToken()
  const family = generatePublicId()

  it('opens for the token it was sealed for, in the same family', () => {
    const seal = sealSuccessor(previous, successor, family)
    expect(openSuccessor(previous, seal, family)).toBe(successor)
    expect(seal).not.toContain(successor)
  })

  it('uses a fresh IV each time', () => {
    expect(sealSuccessor(previous, successor, family)).not.toBe(sealSuccessor(previous, successor, family))
  })

  it('does not open for another token, another family, a tampered seal, or no seal', () => {
    const seal = sealSuccessor(previous, successor, family)
    expect(openSuccessor(generateSecretToken(), seal, family)).toBeNull()
    expect(openSuccessor(previous, seal, generatePublicId())).toBeNull()
    const bytes = Buffer.from(seal, 'base64url')
    bytes[20] = bytes[20]! ^ 1
    expect(openSuccessor(previous, bytes.toString('base64url'), family)).toBeNull()
    expect(openSuccessor(previous, 'AAAA', family)).toBeNull()
    expect(openSuccessor(previous, null, family)).toBeNull()
  })
})
