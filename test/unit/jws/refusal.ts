/** Helpers for asserting how the JWS layer refuses a token (shared by the tests in this folder). */
import { expect } from 'vitest'
import { AuthError } from '../../../src/core/errors.js'

/**
 * Runs `verify` and returns the AuthError it throws. Fails when it returns (the token verified) and rethrows
 * anything that is not an AuthError, since the verifier promises one kind of failure only.
 */
export function refusalOf(verify: () => unknown): AuthError {
  try {
    verify()
  } catch (error) {
    if (error instanceof AuthError) return error
    throw error
  }
  throw new Error('Expected the token to be refused, but it verified.')
}

/** Asserts that `verify` refuses with `invalid_token` and the given fine reason. */
export function expectInvalidToken(verify: () => unknown, reason: string): void {
  const error = refusalOf(verify)
  expect(error.code).toBe('invalid_token')
  expect(error.reason).toBe(reason)
}

/** Runs an async import and returns the TypeError it rejects with; fails when it resolves. */
export async function importRefusalOf(load: () => Promise<unknown>): Promise<TypeError> {
  try {
    await load()
  } catch (error) {
    if (error instanceof TypeError) return error
    throw error
  }
  throw new Error('Expected the key to be refused, but it was imported.')
}
