/**
 * Second factors beyond the password: an authenticator app (TOTP) and the recovery codes that stand in for it
 * (passkeys, the other factor, have their own module and share the store's factor records and the rules here
 * for listing and removing). What this module guarantees:
 * - A TOTP secret is stored sealed (A256GCM) under the factor key, bound to its user: a sealed secret copied
 *   onto another user's record does not open, and when the key is given from outside the database
 *   (`factorKeys`, `SESAME_FACTOR_KEY`) a dump alone does not yield codes. Without it the key is a store
 *   secret, in the same database as what it seals.
 * - A code is accepted once: the factor's counter is the last time step accepted, moved by compare-and-set,
 *   so a replayed code (or an older one) fails, also when two requests race with the same code.
 * - Enrolment proves the app works before it counts: the secret travels sealed in the enrolment until a code
 *   from it is confirmed; nothing is stored before that.
 * - Every code attempt counts against the account's second-factor limit before it is checked.
 */
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { generatePublicId, generateSecretToken } from '../core/random.js'
import { generateRecoveryCodes, recoveryCodeLookupKey } from '../core/recovery-codes.js'
import { type SealedBox, createRotatingSealedBox, createSealedBox } from '../core/sealed-box.js'
import { formatTotpKey, generateTotpKey, matchTotpStep, totpUri } from '../core/totp.js'
import { FACTOR_TAKEN, type FactorRecord, LAST_SIGN_IN_METHOD, type Store } from '../store/types.js'
import type { Throttle } from './throttle.js'

/** A factor as the account page and the API show it: never its key material. */
export interface FactorSummary {
  id: string
  kind: 'passkey' | 'totp'
  name: string
  createdAt: number
  lastUsedAt: number | null
}

export interface SecondFactorStatus {
  /** Passkeys and the authenticator app, oldest first. */
  factors: FactorSummary[]
  /** Unused recovery codes. */
  recoveryCodesLeft: number
}

/** An authenticator app being set up: shown to the user, confirmed with a code within the enrolment's life. */
export interface TotpEnrolment {
  /** Sealed for this server: the secret, for this user, until it expires. Sent back with the confirming code. */
  enrolment: string
  /** The secret as base32 text in groups of four, for an app that cannot scan. */
  secret: string
  /** The `otpauth://` URI the QR code carries. */
  uri: string
  expiresAt: number
}

export interface SecondFactors {
  status(userId: string): Promise<SecondFactorStatus>
  /** Whether a sign-in of `userId` with a password must also pass a second factor (a TOTP app or a passkey). */
  requiresSecondFactor(userId: string): Promise<boolean>
  /** Starts setting up an authenticator app for `user` (stores nothing). */
  beginTotp(user: { id: string; email: string }): Promise<TotpEnrolment>
  /** The enrolment `enrolment` of `user` shown again (a page after a mistyped code); null if it lapsed. */
  reopenTotp(user: { id: string; email: string }, enrolment: string): Promise<TotpEnrolment | null>
  /**
   * Confirms an enrolment with a code from the app and stores the secret. Returns fresh recovery codes, shown
   * once, when the user had none; else null. Throws `invalid_second_factor`, `factor_exists`, `rate_limited`.
   */
  confirmTotp(userId: string, enrolment: string, code: string): Promise<{ recoveryCodes: string[] | null }>
  /** Checks a code of the user's app, accepting it once. Throws `invalid_second_factor`, `rate_limited`. */
  verifyTotp(userId: string, code: string): Promise<void>
  /** Uses up one of the user's recovery codes. Throws `invalid_second_factor`, `rate_limited`. */
  useRecoveryCode(userId: string, code: string): Promise<void>
  /**
   * Checks a code the user typed to confirm a sensitive change (turning the app off, new recovery codes): six
   * digits are the app's code, anything else a recovery code; either is used up. Throws `invalid_second_factor`,
   * `rate_limited`.
   */
  confirmWithCode(userId: string, code: string): Promise<void>
  /** Replaces the user's recovery codes with ten new ones, returned to be shown once. Throws `not_found`. */
  regenerateRecoveryCodes(userId: string): Promise<string[]>
  /** Renames a passkey (or the app). Throws `invalid_request` (name), `not_found`. */
  rename(userId: string, factorId: string, name: string): Promise<void>
  /**
   * Removes a passkey or the app; with the user's last second factor go its recovery codes. Throws `not_found`,
   * `last_sign_in_method` (a passkey that is the only way in).
   */
  remove(userId: string, factorId: string): Promise<void>
}

export interface SecondFactorOptions {
  store: Store
  clock: Clock
  throttle: Throttle
  /** The name authenticator apps show above the code (the issuer's host by default). */
  issuerName: string
  /**
   * Keys of 32 bytes that seal TOTP secrets at rest, kept outside the store (`SESAME_FACTOR_KEY`): the first
   * seals, every one opens (a rotation lists the new key first and the old one after it). The store's own key
   * still opens what was sealed before any was given. None: the store's key seals, which protects against
   * nothing a database dump does not also hold.
   */
  factorKeys?: readonly Uint8Array[]
}

// Control characters (C0, DEL, C1) have no place in a name shown on a page.
const CONTROL = /\p{Cc}/u

/** How long an enrolment waits for its confirming code. */
export const TOTP_ENROLMENT_SECONDS = 600
/** The longest passkey name, in characters. */
export const MAX_FACTOR_NAME_LENGTH = 64

const FACTOR_KEY_SECRET = 'factor-key'
const ENROLMENT_KEY_SECRET = 'totp-enrolment-key'

/** A TOTP secret at rest: its user and the key (base64url). */
interface SealedTotpKey {
  u: string
  k: string
}

/** An enrolment: its user, the key, and when it lapses. */
interface SealedEnrolment extends SealedTotpKey {
  e: number
}

export async function createSecondFactors(options: SecondFactorOptions): Promise<SecondFactors> {
  const { store, clock, throttle } = options
  const secretKey = async (name: string) =>
    Buffer.from(await store.getOrCreateSecret(name, generateSecretToken()), 'base64url')
  const atRest: SealedBox<SealedTotpKey> = createRotatingSealedBox([
    ...(options.factorKeys ?? []),
    await secretKey(FACTOR_KEY_SECRET),
  ])
  const enrolments: SealedBox<SealedEnrolment> = createSealedBox(await secretKey(ENROLMENT_KEY_SECRET))

  const wrongCode = (reason: string) =>
    new AuthError('invalid_second_factor', 'The code is not valid.', { reason })

  /** The user's TOTP key, or null when the sealed secret does not open for this user (damaged, moved). */
  async function totpKeyOf(factor: FactorRecord): Promise<Uint8Array | null> {
    const sealed = await atRest.open(factor.data)
    return sealed && sealed.u === factor.userId ? new Uint8Array(Buffer.from(sealed.k, 'base64url')) : null
  }

  async function newRecoveryCodes(userId: string): Promise<string[] | null> {
    const codes = generateRecoveryCodes()
    const now = clock.nowSeconds()
    const records = codes.map((code): FactorRecord => ({
      id: generatePublicId(),
      userId,
      kind: 'recovery-code',
      lookupKey: recoveryCodeLookupKey(code)!,
      name: '',
      data: '',
      counter: 0,
      createdAt: now,
      lastUsedAt: null,
    }))
    return (await store.replaceFactors(userId, 'recovery-code', records)) ? codes : null
  }

  /** Whether the user has a passkey or an app: a second factor a password sign-in must pass. */
  async function hasSecondFactor(userId: string): Promise<boolean> {
    return (await store.listUserFactors(userId)).some((factor) => factor.kind !== 'recovery-code')
  }

  async function verifyTotp(userId: string, code: string): Promise<void> {
    await throttle.checkSecondFactor(userId)
    const factor = await store.findUserFactor(userId, 'totp')
    if (!factor || factor.kind !== 'totp') throw wrongCode('no_totp')
    const key = await totpKeyOf(factor)
    if (!key) throw wrongCode('unreadable_secret')
    const now = clock.nowSeconds()
    const step = matchTotpStep(key, code, now)
    if (step === null) throw wrongCode('wrong_code')
    if (step <= factor.counter) throw wrongCode('code_reused')
    // Of two requests with one code, the one whose compare-and-set lands first wins; the other is a replay.
    if (!(await store.advanceFactor(userId, factor.id, factor.counter, step, now))) {
      throw wrongCode('code_reused')
    }
    await throttle.recordSecondFactorSuccess(userId)
  }

  async function useRecoveryCode(userId: string, code: string): Promise<void> {
    await throttle.checkSecondFactor(userId)
    const lookupKey = recoveryCodeLookupKey(code)
    if (lookupKey === null || !(await store.takeFactor(userId, 'recovery-code', lookupKey))) {
      throw wrongCode('wrong_recovery_code')
    }
    await throttle.recordSecondFactorSuccess(userId)
  }

  return {
    async status(userId) {
      const factors = await store.listUserFactors(userId)
      return {
        factors: factors
          .filter((factor) => factor.kind !== 'recovery-code')
          .map((factor) => ({
            id: factor.id,
            kind: factor.kind as FactorSummary['kind'],
            name: factor.name,
            createdAt: factor.createdAt,
            lastUsedAt: factor.lastUsedAt,
          })),
        recoveryCodesLeft: factors.filter((factor) => factor.kind === 'recovery-code').length,
      }
    },

    requiresSecondFactor: hasSecondFactor,

    async beginTotp(user) {
      const key = generateTotpKey()
      const expiresAt = clock.nowSeconds() + TOTP_ENROLMENT_SECONDS
      return {
        enrolment: await enrolments.seal({
          u: user.id,
          k: Buffer.from(key).toString('base64url'),
          e: expiresAt,
        }),
        secret: formatTotpKey(key),
        uri: totpUri(options.issuerName, user.email, key),
        expiresAt,
      }
    },

    async reopenTotp(user, enrolment) {
      const opened = enrolment.length <= 4096 ? await enrolments.open(enrolment) : null
      if (!opened || opened.u !== user.id || !(opened.e > clock.nowSeconds())) return null
      const key = new Uint8Array(Buffer.from(opened.k, 'base64url'))
      return {
        enrolment,
        secret: formatTotpKey(key),
        uri: totpUri(options.issuerName, user.email, key),
        expiresAt: opened.e,
      }
    },

    async confirmTotp(userId, enrolment, code) {
      const now = clock.nowSeconds()
      const opened = enrolment.length <= 4096 ? await enrolments.open(enrolment) : null
      if (!opened || opened.u !== userId) throw wrongCode('unreadable_enrolment')
      if (!(opened.e > now)) throw wrongCode('enrolment_expired')
      await throttle.checkSecondFactor(userId)
      const key = new Uint8Array(Buffer.from(opened.k, 'base64url'))
      const step = matchTotpStep(key, code, now)
      if (step === null) throw wrongCode('wrong_code')
      const added = await store.addFactor({
        id: generatePublicId(),
        userId,
        kind: 'totp',
        lookupKey: 'totp',
        name: '',
        data: await atRest.seal({ u: userId, k: opened.k }),
        // The confirming code is spent: it cannot sign in too.
        counter: step,
        createdAt: now,
        lastUsedAt: now,
      })
      if (added === FACTOR_TAKEN) {
        throw new AuthError('factor_exists', 'An authenticator app is already set up for this account.')
      }
      if (!added) throw new AuthError('not_found', 'The account no longer exists.')
      await throttle.recordSecondFactorSuccess(userId)
      const hasCodes = (await store.listUserFactors(userId)).some((factor) => factor.kind === 'recovery-code')
      return { recoveryCodes: hasCodes ? null : await newRecoveryCodes(userId) }
    },

    verifyTotp,
    useRecoveryCode,

    async confirmWithCode(userId, code) {
      if (/^\d{6}$/.test(code.replace(/\s+/g, ''))) await verifyTotp(userId, code)
      else await useRecoveryCode(userId, code)
    },

    async regenerateRecoveryCodes(userId) {
      // Codes stand in for a second factor: without one they would only be a way around nothing.
      if (!(await hasSecondFactor(userId))) {
        throw new AuthError('invalid_request', 'Set up an authenticator app or a passkey first.')
      }
      const codes = await newRecoveryCodes(userId)
      if (!codes) throw new AuthError('not_found', 'The account no longer exists.')
      return codes
    },

    async rename(userId, factorId, name) {
      const trimmed = name.trim()
      if (trimmed.length === 0 || [...trimmed].length > MAX_FACTOR_NAME_LENGTH || CONTROL.test(trimmed)) {
        throw new AuthError(
          'invalid_request',
          `A name must be 1 to ${MAX_FACTOR_NAME_LENGTH} characters, without control characters.`,
        )
      }
      if (!(await store.renameFactor(userId, factorId, trimmed))) {
        throw new AuthError('not_found', 'There is no such passkey or app on this account.')
      }
    },

    async remove(userId, factorId) {
      const factors = await store.listUserFactors(userId)
      const factor = factors.find((f) => f.id === factorId && f.kind !== 'recovery-code')
      if (!factor) throw new AuthError('not_found', 'There is no such passkey or app on this account.')
      const removed = await store.removeFactor(userId, factorId)
      if (removed === LAST_SIGN_IN_METHOD) {
        throw new AuthError('last_sign_in_method', 'This passkey is your only way to sign in.')
      }
      if (!removed) throw new AuthError('not_found', 'There is no such passkey or app on this account.')
      // Recovery codes stand in for a second factor; with none left they would only be a way around nothing.
      // Read again after the removal, so two removals at once do not each count the other as remaining.
      if (!(await hasSecondFactor(userId))) await store.replaceFactors(userId, 'recovery-code', [])
    },
  }
}
