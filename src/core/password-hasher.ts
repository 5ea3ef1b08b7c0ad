/**
 * Password hashing with argon2id (RFC 9106) at OWASP's first recommended setting: m=19456 KiB, t=2, p=1.
 * Each hash holds ~19 MiB for ~tens of ms, so calls run through a {@link Semaphore}: a login flood queues and
 * is then shed, instead of exhausting memory. Hashes are PHC strings, so their parameters travel with them and
 * `needsRehash` can upgrade old hashes at the next successful login.
 */
import { hash, parseOptions, verify } from '@node-rs/argon2'
import { isAuthError } from './errors.js'
import { Semaphore } from './semaphore.js'

/** argon2id parameters. */
export interface Argon2Params {
  /** Memory in KiB. Default 19456 (19 MiB). */
  memoryCost: number
  /** Passes over memory. Default 2. */
  timeCost: number
  /** Lanes. Default 1. */
  parallelism: number
}

export const DEFAULT_ARGON2_PARAMS: Readonly<Argon2Params> = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
})

/** Hashes and verifies passwords; the engine depends on this shape only. */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** False for a wrong password and for a hash it cannot read (fails closed). */
  verify(passwordHash: string, password: string): Promise<boolean>
  /**
   * Spends the same work as a real `verify` against a fixed dummy hash, for unknown accounts, so that the
   * response time does not reveal whether an email is registered. Always resolves to false.
   */
  verifyDummy(password: string): Promise<false>
  /** True when `passwordHash` was made with other parameters than the current ones. */
  needsRehash(passwordHash: string): boolean
}

export interface Argon2HasherOptions {
  params?: Argon2Params
  /** Hashes computed at once. Default 4 (≈ 76 MiB at the default memory cost). */
  maxConcurrent?: number
  /** Hashes waiting for a slot before new ones are refused with `server_busy`. Default 256. */
  maxQueued?: number
}

const ARGON2ID = 2 // `Algorithm.Argon2id`; the package exports it as a const enum, which isolated modules cannot inline.

/** Creates the argon2id {@link PasswordHasher}. */
export function createArgon2Hasher(options: Argon2HasherOptions = {}): PasswordHasher {
  const params = { ...(options.params ?? DEFAULT_ARGON2_PARAMS) }
  for (const key of ['memoryCost', 'timeCost', 'parallelism'] as const) {
    if (!Number.isSafeInteger(params[key]) || params[key] < 1) {
      throw new TypeError(`Argon2 parameter "${key}" must be a positive integer.`)
    }
  }
  if (params.memoryCost < 8 * params.parallelism) {
    // RFC 9106 §3.1: at least 8 KiB per lane.
    throw new TypeError('Argon2 parameter "memoryCost" must be at least 8 KiB per lane of "parallelism".')
  }
  const limiter = new Semaphore({
    maxConcurrent: options.maxConcurrent ?? 4,
    maxQueued: options.maxQueued ?? 256,
  })
  const hashOptions = { ...params, algorithm: ARGON2ID }
  let dummyHash: Promise<string> | undefined

  async function verifyHash(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await limiter.run(() => verify(passwordHash, password))
    } catch (error) {
      if (isAuthError(error)) throw error // server_busy from the limiter
      return false // an unreadable stored hash never authenticates
    }
  }

  return {
    hash: (password) => limiter.run(() => hash(password, hashOptions)),
    verify: verifyHash,
    async verifyDummy(password) {
      // A refused first attempt (server_busy) must not poison every later call.
      dummyHash ??= limiter
        .run(() => hash('sesame-dummy-password', hashOptions))
        .catch((error: unknown) => {
          dummyHash = undefined
          throw error
        })
      await verifyHash(await dummyHash, password)
      return false
    },
    needsRehash(passwordHash) {
      try {
        const used = parseOptions(passwordHash)
        return (
          Number(used.algorithm) !== ARGON2ID ||
          used.memoryCost !== params.memoryCost ||
          used.timeCost !== params.timeCost ||
          used.parallelism !== params.parallelism
        )
      } catch {
        return true
      }
    },
  }
}
