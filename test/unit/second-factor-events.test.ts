/**
 * The audit events of a sign-in with a second factor (`createAuth({ onEvent })`): the password step reports no
 * sign-in, the code step reports it with the user, and a refused code names the user too (the pending
 * sign-in says whose it was), so code guessing after a password leak shows on the account.
 */
import { describe, expect, it } from 'vitest'
import { type AuthEvent, createAuth } from '../../src/auth.js'
import { serializeCookie } from '../../src/core/cookie.js'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { createManualClock } from '../helpers/clock.js'

describe('second-factor sign-in events', () => {
  it('reports the sign-in at the code step, and names the user on a refused code', async () => {
    const events: AuthEvent[] = []
    const clock = createManualClock()
    const auth = await createAuth({
      store: createMemoryStore(),
      clock,
      sleep: async () => {},
      onEvent: (event) => events.push(event),
    })
    const user = await auth.signUp({ email: 'events@example.com', password: 'events passphrase' })
    const enrolment = await auth.secondFactors.beginTotp(user)
    const key = parseTotpKey(enrolment.secret)!
    await auth.secondFactors.confirmTotp(
      user.id,
      enrolment.enrolment,
      totpCode(key, totpStep(clock.nowSeconds())),
    )
    events.length = 0

    const halfway = await auth.signIn({ email: 'events@example.com', password: 'events passphrase' })
    if (!('pendingCookie' in halfway)) throw new Error('expected a pending sign-in')
    expect(events.filter((event) => event.name === 'sign_in')).toEqual([])

    const cookieHeader = serializeCookie(halfway.pendingCookie).split(';')[0]!
    await expect(auth.completeSignIn({ proof: { code: 'nope' }, cookieHeader })).rejects.toMatchObject({
      code: 'invalid_second_factor',
    })
    clock.advance(30)
    await auth.completeSignIn({ proof: { code: totpCode(key, totpStep(clock.nowSeconds())) }, cookieHeader })
    expect(
      events.map(({ name, outcome, userId, via, error }) => ({ name, outcome, userId, via, error })),
    ).toEqual([
      {
        name: 'sign_in',
        outcome: 'failure',
        userId: user.id,
        via: 'second_factor',
        error: 'invalid_second_factor',
      },
      { name: 'sign_in', outcome: 'success', userId: user.id, via: 'second_factor', error: null },
    ])
  })
})
