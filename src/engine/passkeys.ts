/**
 * Passkeys (WebAuthn), through `@simplewebauthn/server`: registering one for a signed-in user, and signing in
 * with one alone (a discoverable credential: the browser offers the user's passkeys, and the assertion names the
 * user by its user handle, which is the Sesame user id).
 *
 * What this module adds to the library's verification (origin, RP ID, challenge, signature, user
 * verification, a counter that must grow):
 * - The challenge travels sealed (A256GCM) in a ceremony the client sends back, for five minutes, bound to its
 *   purpose and (for a registration) its user, and is good once (a single-use claim in the store): a captured
 *   assertion cannot be replayed, also from an authenticator whose counter stays at 0.
 * - A credential is looked up under the user the assertion names, so it can only sign that user in; its
 *   counter moves by compare-and-set, so of two racing uses read at one counter only one passes.
 * - User verification is required (a PIN or a biometric on the authenticator): a passkey sign-in is then two
 *   factors in one (`amr`: `hwk` or `swk`, and `mfa`).
 */
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { Clock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import { hashSecret } from '../core/hash.js'
import { generatePublicId, generateSecretToken } from '../core/random.js'
import { type SealedBox, createSealedBox } from '../core/sealed-box.js'
import { SIGN_IN_METHOD } from '../core/sign-in-methods.js'
import { FACTOR_TAKEN, type FactorRecord, type Store } from '../store/types.js'
import type { FactorSummary } from './second-factors.js'

/** Where passkeys are valid: the site (RP ID: the host, or a parent domain of it), its name, and its origin. */
export interface RelyingParty {
  id: string
  name: string
  origin: string
}

export interface PasskeyOptions {
  store: Pick<
    Store,
    'getOrCreateSecret' | 'claimOnce' | 'listUserFactors' | 'findUserFactor' | 'addFactor' | 'advanceFactor'
  >
  clock: Clock
  relyingParty: RelyingParty
}

export interface Passkeys {
  /** What `navigator.credentials.create` takes, and the ceremony to send back with its answer. */
  beginRegistration(user: {
    id: string
    email: string
  }): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; ceremony: string }>
  /**
   * Verifies the authenticator's answer and stores the passkey. Throws `invalid_passkey` (a lapsed or foreign
   * ceremony, an answer that does not verify), `factor_exists` (that passkey is registered already),
   * `not_found` (the account is gone).
   */
  finishRegistration(
    userId: string,
    ceremony: string,
    response: unknown,
    name: string,
  ): Promise<FactorSummary>
  /**
   * What `navigator.credentials.get` takes: for a passkey alone, no credential named (the browser offers the
   * user's own); for `userId`'s second step, that user's passkeys, and only that user's answer is accepted.
   */
  beginSignIn(userId?: string): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; ceremony: string }>
  /** Verifies an assertion; returns whose passkey it is and how it signed in. Throws `invalid_passkey`. */
  finishSignIn(ceremony: string, response: unknown): Promise<{ userId: string; amr: string[] }>
}

/** How long a ceremony waits for the authenticator. */
export const PASSKEY_CEREMONY_SECONDS = 300
/** Credential ids shorter than this carry too little entropy to be one (WebAuthn: at least 16 bytes). */
const MIN_CREDENTIAL_ID_BYTES = 16
/** The longest credential id WebAuthn allows (1023 bytes), as base64url. */
const MAX_CREDENTIAL_ID_CHARS = 1366

const CEREMONY_KEY_SECRET = 'passkey-ceremony-key'
/** What a user id from a user handle may look like before it reaches a store: visible ASCII, bounded. */
const USER_ID_SHAPE = /^[\x21-\x7e]{1,255}$/
const TRANSPORTS = new Set<string>(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])

interface Ceremony {
  /** The challenge, base64url. */
  c: string
  /** `r`egistration (of user `u`) or `s`ign-in. */
  p: 'r' | 's'
  u: string | null
  e: number
}

/** A passkey's stored key material. */
interface StoredPasskey {
  /** The COSE public key, base64url. */
  pk: string
  transports: AuthenticatorTransportFuture[]
  /** Whether it can leave the device (synced): `swk` rather than `hwk`. */
  backedUp: boolean
}

export async function createPasskeys(options: PasskeyOptions): Promise<Passkeys> {
  const { store, clock, relyingParty } = options
  const key = await store.getOrCreateSecret(CEREMONY_KEY_SECRET, generateSecretToken())
  const ceremonies: SealedBox<Ceremony> = createSealedBox(Buffer.from(key, 'base64url'))
  // The library's own words (which check failed) stay in `cause`, for logs; the client gets one line.
  const refuse = (reason: string, message = 'The passkey could not be verified.', cause?: unknown) =>
    new AuthError('invalid_passkey', message, { reason, ...(cause !== undefined && { cause }) })

  async function openCeremony(sealed: string, purpose: Ceremony['p']): Promise<Ceremony> {
    const ceremony = sealed.length <= 4096 ? await ceremonies.open(sealed) : null
    if (!ceremony || ceremony.p !== purpose) throw refuse('unreadable_ceremony')
    if (!(ceremony.e > clock.nowSeconds()))
      throw refuse('ceremony_expired', 'The passkey request has expired.')
    return ceremony
  }

  /** Uses the ceremony up: one answer per challenge, whatever the authenticator's counter does. */
  async function claim(ceremony: Ceremony): Promise<void> {
    const claimed = await store.claimOnce(hashSecret(`passkey:${ceremony.c}`), ceremony.e, clock.nowSeconds())
    if (!claimed) throw refuse('ceremony_used', 'The passkey request was used already.')
  }

  async function seal(challenge: string, purpose: Ceremony['p'], userId: string | null): Promise<string> {
    return ceremonies.seal({
      c: challenge,
      p: purpose,
      u: userId,
      e: clock.nowSeconds() + PASSKEY_CEREMONY_SECONDS,
    })
  }

  /** The user's passkeys as options name them (to exclude at registration, to allow at a second step). */
  async function credentialsOf(userId: string) {
    return (await store.listUserFactors(userId))
      .filter((factor) => factor.kind === 'passkey')
      .map((factor) => ({ id: factor.lookupKey, transports: storedPasskey(factor).transports }))
  }

  return {
    async beginRegistration(user) {
      const creation = await generateRegistrationOptions({
        rpName: relyingParty.name,
        rpID: relyingParty.id,
        userName: user.email,
        userID: new TextEncoder().encode(user.id),
        timeout: PASSKEY_CEREMONY_SECONDS * 1000,
        attestationType: 'none',
        excludeCredentials: await credentialsOf(user.id),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      })
      return { options: creation, ceremony: await seal(creation.challenge, 'r', user.id) }
    },

    async finishRegistration(userId, sealed, response, name) {
      const ceremony = await openCeremony(sealed, 'r')
      if (ceremony.u !== userId) throw refuse('unreadable_ceremony')
      await claim(ceremony)
      let verified
      try {
        verified = await verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge: ceremony.c,
          expectedOrigin: relyingParty.origin,
          expectedRPID: relyingParty.id,
          requireUserVerification: true,
        })
      } catch (error) {
        throw refuse('registration_not_verified', undefined, error)
      }
      if (!verified.verified) throw refuse('registration_not_verified')
      const { credential, credentialBackedUp } = verified.registrationInfo
      if (!isCredentialId(credential.id)) throw refuse('credential_id_unusable')
      const now = clock.nowSeconds()
      const record: FactorRecord = {
        id: generatePublicId(),
        userId,
        kind: 'passkey',
        lookupKey: credential.id,
        name,
        data: JSON.stringify({
          pk: Buffer.from(credential.publicKey).toString('base64url'),
          // The client's list: only the transports WebAuthn names are kept (they go back out in later options).
          transports: (credential.transports ?? []).filter((transport) => TRANSPORTS.has(transport)),
          backedUp: credentialBackedUp,
        } satisfies StoredPasskey),
        counter: credential.counter,
        createdAt: now,
        lastUsedAt: null,
      }
      const added = await store.addFactor(record)
      if (added === FACTOR_TAKEN) throw new AuthError('factor_exists', 'This passkey is registered already.')
      if (!added) throw new AuthError('not_found', 'The account no longer exists.')
      return { id: record.id, kind: 'passkey', name, createdAt: now, lastUsedAt: null }
    },

    async beginSignIn(userId) {
      const request = await generateAuthenticationOptions({
        rpID: relyingParty.id,
        timeout: PASSKEY_CEREMONY_SECONDS * 1000,
        userVerification: 'required',
        allowCredentials: userId === undefined ? [] : await credentialsOf(userId),
      })
      return { options: request, ceremony: await seal(request.challenge, 's', userId ?? null) }
    },

    async finishSignIn(sealed, response) {
      const ceremony = await openCeremony(sealed, 's')
      const answer = response as Partial<AuthenticationResponseJSON> | null
      const credentialId = typeof answer?.id === 'string' ? answer.id : ''
      const handle = answer?.response?.userHandle
      if (!isCredentialId(credentialId) || typeof handle !== 'string') throw refuse('malformed_assertion')
      const userId = Buffer.from(handle, 'base64url').toString('utf8')
      // The handle is the client's word (unsigned): only a visible-ASCII id goes on to a store lookup.
      if (!USER_ID_SHAPE.test(userId)) throw refuse('malformed_assertion')
      // A second step's ceremony names its user: another account's passkey does not finish it.
      if (ceremony.u !== null && ceremony.u !== userId) throw refuse('other_user')
      // Claimed before the lookup: a replayed answer fails the same way whether or not the passkey exists.
      await claim(ceremony)
      const factor = await store.findUserFactor(userId, credentialId)
      if (!factor || factor.kind !== 'passkey') throw refuse('unknown_passkey')
      const stored = storedPasskey(factor)
      let verified
      try {
        verified = await verifyAuthenticationResponse({
          response: answer as AuthenticationResponseJSON,
          expectedChallenge: ceremony.c,
          expectedOrigin: relyingParty.origin,
          expectedRPID: relyingParty.id,
          credential: {
            id: factor.lookupKey,
            publicKey: new Uint8Array(Buffer.from(stored.pk, 'base64url')),
            counter: factor.counter,
            transports: stored.transports,
          },
          requireUserVerification: true,
        })
      } catch (error) {
        // A counter that did not grow lands here too: a cloned authenticator, or a replay.
        throw refuse('assertion_not_verified', undefined, error)
      }
      if (!verified.verified) throw refuse('assertion_not_verified')
      const { newCounter, credentialBackedUp } = verified.authenticationInfo
      if (!(await store.advanceFactor(userId, factor.id, factor.counter, newCounter, clock.nowSeconds()))) {
        throw refuse('used_concurrently')
      }
      const kind = credentialBackedUp ? SIGN_IN_METHOD.softwareKey : SIGN_IN_METHOD.hardwareKey
      return { userId, amr: [kind, SIGN_IN_METHOD.multiFactor] }
    },
  }
}

function storedPasskey(factor: FactorRecord): StoredPasskey {
  return JSON.parse(factor.data) as StoredPasskey
}

function isCredentialId(id: string): boolean {
  return (
    id.length <= MAX_CREDENTIAL_ID_CHARS &&
    /^[A-Za-z0-9_-]+$/.test(id) &&
    Buffer.from(id, 'base64url').length >= MIN_CREDENTIAL_ID_BYTES
  )
}
