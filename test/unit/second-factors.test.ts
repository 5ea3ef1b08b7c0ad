/**
 * The second-factor engine (`engine/second-factors.ts`) over the memory store: enrolment, codes accepted
 * once, recovery codes, removal. The same store operations are held to the contract on every store in
 * test/contract; here the rules the engine adds on top.
 */
import { randomBytes } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { isAuthError } from '../../src/core/errors.js'
import { resolveRateLimitPolicy } from '../../src/core/rate-limit-policy.js'
import { generatePublicId } from '../../src/core/random.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { type SecondFactors, createSecondFactors } from '../../src/engine/second-factors.js'
import { openPendingSignIns } from '../../src/engine/pending-sign-ins.js'
import { createThrottle } from '../../src/engine/throttle.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { LAST_SIGN_IN_METHOD, type Store, type UserRecord } from '../../src/store/types.js'
import { createManualClock, type ManualClock } from '../helpers/clock.js'

async function refusal(promise: Promise<unknown>): Promise<{ code: string; reason: string | undefined }> {
  try {
    await promise
  } catch (error) {
    if (isAuthError(error)) return { code: error.code, reason: error.reason }
    throw error
  }
  throw new Error('expected a refusal')
}

describe('second factors (engine)', () => {
  let store: Store
  let clock: ManualClock
  let factors: SecondFactors
  let user: UserRecord

  async function open(limit = 5, factorKeys?: Uint8Array[]): Promise<SecondFactors> {
    const throttle = createThrottle({
      store,
      clock,
      policy: resolveRateLimitPolicy({ secondFactorAttemptsPerAccount: { limit } }),
      sleep: async () => {},
    })
    return createSecondFactors({
      store,
      clock,
      throttle,
      issuerName: 'auth.example.com',
      ...(factorKeys && { factorKeys }),
    })
  }

  beforeEach(async () => {
    store = createMemoryStore()
    clock = createManualClock()
    factors = await open()
    user = {
      id: generatePublicId(),
      email: 'ana@example.com',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      roles: [],
      createdAt: clock.nowSeconds(),
      disabledAt: null,
      emailVerifiedAt: null,
    }
    await store.createUser(user)
  })

  /** Sets up an app; returns its key and the recovery codes shown. */
  async function enrol(): Promise<{ key: Uint8Array; recoveryCodes: string[] }> {
    const enrolment = await factors.beginTotp(user)
    const key = parseTotpKey(enrolment.secret)!
    const { recoveryCodes } = await factors.confirmTotp(
      user.id,
      enrolment.enrolment,
      totpCode(key, totpStep(clock.nowSeconds())),
    )
    return { key, recoveryCodes: recoveryCodes! }
  }

  it('stores nothing until the enrolment is confirmed with a code from the app', async () => {
    const enrolment = await factors.beginTotp(user)
    expect(new URL(enrolment.uri).searchParams.get('secret')).toBe(enrolment.secret.replace(/ /g, ''))
    expect(await store.listUserFactors(user.id)).toEqual([])
    expect(await factors.requiresSecondFactor(user.id)).toBe(false)
    const key = parseTotpKey(enrolment.secret)!
    expect(await refusal(factors.confirmTotp(user.id, enrolment.enrolment, '000000'))).toMatchObject({
      code: 'invalid_second_factor',
    })
    const { recoveryCodes } = await factors.confirmTotp(
      user.id,
      enrolment.enrolment,
      totpCode(key, totpStep(clock.nowSeconds())),
    )
    expect(recoveryCodes).toHaveLength(10)
    expect(await factors.requiresSecondFactor(user.id)).toBe(true)
    expect(await factors.status(user.id)).toMatchObject({
      factors: [{ kind: 'totp', name: '', lastUsedAt: clock.nowSeconds() }],
      recoveryCodesLeft: 10,
    })
  })

  it('keeps the secret sealed at rest, and only hashes of recovery codes', async () => {
    const { key, recoveryCodes } = await enrol()
    const stored = await store.listUserFactors(user.id)
    const text = JSON.stringify(stored)
    expect(text).not.toContain(Buffer.from(key).toString('base64url'))
    expect(text).not.toContain(Buffer.from(key).toString('hex'))
    for (const code of recoveryCodes) {
      expect(text).not.toContain(code)
      expect(text).not.toContain(code.replace(/-/g, ''))
    }
    expect(stored.find((f) => f.kind === 'totp')!.data).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    // A sealed secret copied onto another user's record does not open for that user.
    const other = { ...user, id: generatePublicId(), email: 'bo@example.com' }
    await store.createUser(other)
    await store.addFactor({
      ...stored.find((f) => f.kind === 'totp')!,
      id: generatePublicId(),
      userId: other.id,
    })
    clock.advance(60)
    expect(await refusal(factors.verifyTotp(other.id, totpCode(key, totpStep(clock.nowSeconds()))))).toEqual({
      code: 'invalid_second_factor',
      reason: 'unreadable_secret',
    })
  })

  it('opens no sealed value of another kind as an enrolment: a pending sign-in, a stored secret', async () => {
    const { sealed: pending } = await (await openPendingSignIns({ store, clock })).start(user.id, ['pwd'])
    const code = '123456'
    expect(await refusal(factors.confirmTotp(user.id, pending, code))).toMatchObject({
      reason: 'unreadable_enrolment',
    })
    await enrol()
    const stored = (await store.listUserFactors(user.id)).find((f) => f.kind === 'totp')!
    expect(await refusal(factors.confirmTotp(user.id, stored.data, code))).toMatchObject({
      reason: 'unreadable_enrolment',
    })
  })

  it('refuses an enrolment of another user, an expired one, and a second app', async () => {
    const enrolment = await factors.beginTotp(user)
    const key = parseTotpKey(enrolment.secret)!
    const code = () => totpCode(key, totpStep(clock.nowSeconds()))
    expect(await refusal(factors.confirmTotp(generatePublicId(), enrolment.enrolment, code()))).toMatchObject(
      {
        reason: 'unreadable_enrolment',
      },
    )
    expect(await refusal(factors.confirmTotp(user.id, `${enrolment.enrolment}x`, code()))).toMatchObject({
      reason: 'unreadable_enrolment',
    })
    clock.advance(601)
    expect(await refusal(factors.confirmTotp(user.id, enrolment.enrolment, code()))).toMatchObject({
      reason: 'enrolment_expired',
    })
    await enrol()
    const again = await factors.beginTotp(user)
    const againKey = parseTotpKey(again.secret)!
    expect(
      await refusal(
        factors.confirmTotp(user.id, again.enrolment, totpCode(againKey, totpStep(clock.nowSeconds()))),
      ),
    ).toMatchObject({ code: 'factor_exists' })
  })

  it('accepts a code once: the confirming code, a replay and an older code fail; the next step passes', async () => {
    const { key } = await enrol()
    const now = () => totpStep(clock.nowSeconds())
    // The code that confirmed the enrolment is spent.
    expect(await refusal(factors.verifyTotp(user.id, totpCode(key, now())))).toMatchObject({
      reason: 'code_reused',
    })
    clock.advance(30)
    const code = totpCode(key, now())
    await factors.verifyTotp(user.id, code)
    expect(await refusal(factors.verifyTotp(user.id, code))).toMatchObject({ reason: 'code_reused' })
    // The previous step's code is inside the window but older than the last accepted: refused.
    expect(await refusal(factors.verifyTotp(user.id, totpCode(key, now() - 1)))).toMatchObject({
      reason: 'code_reused',
    })
    // The next step (a phone a little ahead) is accepted.
    await factors.verifyTotp(user.id, totpCode(key, now() + 1))
    expect((await factors.status(user.id)).factors[0]!.lastUsedAt).toBe(clock.nowSeconds())
  })

  it('seals under a key given from outside the store: the store alone opens nothing, a rotation keeps codes working', async () => {
    const [keyA, keyB] = [randomBytes(32), randomBytes(32)]
    factors = await open(5, [keyA])
    const { key } = await enrol()
    const codeAt = (steps: number) => {
      clock.advance(30 * steps)
      return totpCode(key, totpStep(clock.nowSeconds()))
    }
    // What a dump of the store holds (its own key included) does not open the secret.
    const storeOnly = await open()
    expect(await refusal(storeOnly.verifyTotp(user.id, codeAt(1)))).toMatchObject({
      reason: 'unreadable_secret',
    })
    // Rotated: the new key first, the old one still listed.
    await (await open(5, [keyB, keyA])).verifyTotp(user.id, codeAt(1))
    // The old key gone: the secret sealed under it does not open.
    expect(await refusal((await open(5, [keyB])).verifyTotp(user.id, codeAt(1)))).toMatchObject({
      reason: 'unreadable_secret',
    })
  })

  it('still opens secrets sealed before a key was given', async () => {
    const { key } = await enrol()
    clock.advance(30)
    await (await open(5, [randomBytes(32)])).verifyTotp(user.id, totpCode(key, totpStep(clock.nowSeconds())))
  })

  it('refuses a code two steps away', async () => {
    const { key } = await enrol()
    clock.advance(300)
    const step = totpStep(clock.nowSeconds())
    const near = new Set([step - 1, step, step + 1].map((s) => totpCode(key, s)))
    for (const far of [totpCode(key, step - 2), totpCode(key, step + 2)]) {
      if (near.has(far)) continue // one in a million: the far code equals a near one
      expect(await refusal(factors.verifyTotp(user.id, far))).toMatchObject({ reason: 'wrong_code' })
    }
  })

  it('lets exactly one of two racing requests with one code in', async () => {
    const { key } = await enrol()
    clock.advance(30)
    const code = totpCode(key, totpStep(clock.nowSeconds()))
    const results = await Promise.allSettled([
      factors.verifyTotp(user.id, code),
      factors.verifyTotp(user.id, code),
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })

  it('uses each recovery code once, typed in any case and spacing', async () => {
    const { recoveryCodes } = await enrol()
    await factors.useRecoveryCode(user.id, recoveryCodes[0]!.toUpperCase().replace(/-/g, ' '))
    expect(await refusal(factors.useRecoveryCode(user.id, recoveryCodes[0]!))).toMatchObject({
      reason: 'wrong_recovery_code',
    })
    expect(await refusal(factors.useRecoveryCode(user.id, 'not a code'))).toMatchObject({
      reason: 'wrong_recovery_code',
    })
    expect((await factors.status(user.id)).recoveryCodesLeft).toBe(9)
    const fresh = await factors.regenerateRecoveryCodes(user.id)
    expect((await factors.status(user.id)).recoveryCodesLeft).toBe(10)
    expect(await refusal(factors.useRecoveryCode(user.id, recoveryCodes[1]!))).toMatchObject({
      code: 'invalid_second_factor',
    })
    // Another user's codes are no codes of this user.
    const other = { ...user, id: generatePublicId(), email: 'bo@example.com' }
    await store.createUser(other)
    // Codes only come with a second factor.
    expect(await refusal(factors.regenerateRecoveryCodes(other.id))).toMatchObject({
      code: 'invalid_request',
    })
    await store.addFactor({
      id: generatePublicId(),
      userId: other.id,
      kind: 'passkey',
      lookupKey: 'credential-of-other',
      name: 'Key',
      data: '{}',
      counter: 0,
      createdAt: clock.nowSeconds(),
      lastUsedAt: null,
    })
    const othersCodes = await factors.regenerateRecoveryCodes(other.id)
    expect(await refusal(factors.useRecoveryCode(user.id, othersCodes[0]!))).toMatchObject({
      code: 'invalid_second_factor',
    })
    await factors.useRecoveryCode(user.id, fresh[1]!)
    expect((await factors.status(user.id)).recoveryCodesLeft).toBe(9)
    expect((await factors.status(other.id)).recoveryCodesLeft).toBe(10)
  })

  it('throttles code attempts per account, counted before the check, cleared by a correct code', async () => {
    factors = await open(3)
    const { key } = await enrol()
    clock.advance(30)
    for (let i = 0; i < 2; i++) await refusal(factors.verifyTotp(user.id, '000000'))
    await factors.verifyTotp(user.id, totpCode(key, totpStep(clock.nowSeconds())))
    for (let i = 0; i < 3; i++) await refusal(factors.verifyTotp(user.id, '000000'))
    clock.advance(30)
    // Over the limit: even the right code is refused until the window ends.
    expect(
      await refusal(factors.verifyTotp(user.id, totpCode(key, totpStep(clock.nowSeconds())))),
    ).toMatchObject({
      code: 'rate_limited',
    })
    expect(await refusal(factors.useRecoveryCode(user.id, 'aaaa-aaaa-aaaa-aaaa'))).toMatchObject({
      code: 'rate_limited',
    })
    clock.advance(900)
    await factors.verifyTotp(user.id, totpCode(key, totpStep(clock.nowSeconds())))
  })

  it('renames and removes; with the last second factor go the recovery codes', async () => {
    await enrol()
    const [app] = (await factors.status(user.id)).factors
    await factors.rename(user.id, app!.id, '  Phone — 휴대폰  ')
    expect((await factors.status(user.id)).factors[0]!.name).toBe('Phone — 휴대폰')
    for (const bad of ['', '   ', 'a'.repeat(65), 'tab\there']) {
      expect(await refusal(factors.rename(user.id, app!.id, bad))).toMatchObject({ code: 'invalid_request' })
    }
    expect(await refusal(factors.rename(user.id, generatePublicId(), 'x'))).toMatchObject({
      code: 'not_found',
    })
    expect(await refusal(factors.remove(generatePublicId(), app!.id))).toMatchObject({ code: 'not_found' })
    await factors.remove(user.id, app!.id)
    expect(await factors.status(user.id)).toEqual({ factors: [], recoveryCodesLeft: 0 })
    expect(await factors.requiresSecondFactor(user.id)).toBe(false)
  })

  it("refuses to remove a passkey-only account's last passkey", async () => {
    expect(await store.removePassword(user.id)).toBe(LAST_SIGN_IN_METHOD)
    const passkey = {
      id: generatePublicId(),
      userId: user.id,
      kind: 'passkey' as const,
      lookupKey: 'credential-id',
      name: 'Key',
      data: '{}',
      counter: 0,
      createdAt: clock.nowSeconds(),
      lastUsedAt: null,
    }
    expect(await store.addFactor(passkey)).toBe(true)
    expect(await store.removePassword(user.id)).toBe(true)
    expect(await refusal(factors.remove(user.id, passkey.id))).toMatchObject({ code: 'last_sign_in_method' })
    expect((await factors.status(user.id)).factors).toHaveLength(1)
  })
})
