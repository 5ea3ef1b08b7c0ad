/**
 * The token engine's signing keys: the key ring read from the store (or made from the HS256 secret), kept
 * current by the shared key source (`core/key-source.ts`, the same one the resource-server verifier uses),
 * created once on a first start, rotated, and swept once a retired key can no longer have live tokens.
 *
 * Rotation is staged (see `core/key-ring.ts`): the new key is stored and published at once, and signs from
 * `keyActivationDelaySeconds` later, when every JWKS cached before the rotation has expired; the old key signs
 * until then, is retired at that moment, and verifies until its last token has expired. Instances learn of a
 * rotation from the change feed (or, without one between processes, at the periodic re-read) long before the
 * new key signs, and each switches at the activation time by its own clock, with no event.
 */
import type { Clock } from '../core/clock.js'
import type { JwsAlgorithm } from '../core/jws/algorithms.js'
import {
  type KeyMaterial,
  type KeyRing,
  buildKeyRing,
  generateKeyMaterial,
  hmacKeyMaterial,
  keyRingVersion,
} from '../core/key-ring.js'
import { KeySource } from '../core/key-source.js'
import type { Store } from '../store/types.js'

/** Least seconds between two key reloads triggered by tokens naming an unknown kid. */
const UNKNOWN_KEY_RELOAD_SECONDS = 5

/** How access tokens are signed. */
export interface SigningOptions {
  /** Default ES256. */
  algorithm: JwsAlgorithm
  /** The shared secret; required with HS256 (at least 32 bytes), refused otherwise. */
  hmacSecret?: Buffer | undefined
}

/** How a rotation takes effect. */
export interface RotationOptions {
  /**
   * For a leaked key: the new key signs at once, and every other key is deleted, so it stops verifying (and
   * leaves the JWKS) on each instance as soon as that instance reloads its keys. Every access token signed
   * before is refused from then on (clients recover with one refresh), and verifiers whose JWKS predates the
   * rotation refuse new tokens until they refetch it. Default false: a staged rotation.
   */
  immediate?: boolean
}

export interface SigningKeys {
  store: Store
  clock: Clock
  signing: SigningOptions
  /** A retired key verifies for this long after its retirement: the longest a token it signed can live. */
  retentionSeconds: number
  /** Seconds from a staged rotation to the new key signing. */
  activationDelaySeconds: number
  /** The ring in memory; bearer authentication reads it without I/O. */
  source: KeySource<KeyRing>
}

/**
 * Loads the key ring, creating the first key when the store has none for the algorithm. `onReplace` is told
 * whenever a reload replaces the ring (a key may have left it).
 */
export async function openSigningKeys(options: {
  store: Store
  clock: Clock
  signing: SigningOptions
  retentionSeconds: number
  activationDelaySeconds: number
  onReplace: () => void
  onError: (error: unknown) => void
}): Promise<SigningKeys> {
  checkSigningOptions(options.signing)
  const keys: SigningKeys = {
    store: options.store,
    clock: options.clock,
    signing: options.signing,
    retentionSeconds: options.retentionSeconds,
    activationDelaySeconds: options.activationDelaySeconds,
    source: new KeySource<KeyRing>({
      load: (current) => loadKeyRing(keys, current),
      clock: options.clock,
      unknownKeyReloadSeconds: UNKNOWN_KEY_RELOAD_SECONDS,
      onError: options.onError,
      onReplace: options.onReplace,
    }),
  }
  await keys.source.reload()
  return keys
}

/**
 * Adds a new signing key; returns its kid. Staged by default: published now, signing from
 * `activationDelaySeconds` later, when the current keys retire (they verify until their tokens expire). See
 * {@link RotationOptions} for `immediate`.
 */
export async function rotateSigningKey(keys: SigningKeys, options: RotationOptions = {}): Promise<string> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('rotateSigningKey options must be an object.')
  if (options.immediate !== undefined && typeof options.immediate !== 'boolean')
    throw new TypeError('Rotation option "immediate" must be a boolean.')
  if (keys.signing.algorithm === 'HS256')
    throw new TypeError('HS256 keys come from SESAME_JWT_SECRET; rotate the secret instead.')
  const now = keys.clock.nowSeconds()
  const activatesAt = options.immediate ? now : now + keys.activationDelaySeconds
  const material = await generateKeyMaterial(keys.signing.algorithm, now, activatesAt)
  await keys.store.createSigningKey(material)
  if (options.immediate) {
    // Written after the new key, so a failure part-way leaves the new key signing (it activated last) and a
    // retry deletes what is left.
    for (const key of await keys.store.listSigningKeys()) {
      if (key.kid !== material.kid) await keys.store.deleteSigningKey(key.kid)
    }
  } else {
    // The current keys sign until the new one activates, then verify for the retention after that.
    await keys.store.retireSigningKeysExcept(material.kid, activatesAt)
    // Two rotations at once can each retire the other's new key. Then no key would sign after the activation;
    // one (exactly one: the store decides) is added to take over at the same time.
    await ensureSigningKey(keys, await keys.store.listSigningKeys(), now, activatesAt)
  }
  // Other instances publish the new key at once (and drop deleted ones); on stores without a feed between
  // processes they do so at their periodic re-read, well within a staged rotation's delay.
  await keys.store.changes.publish({ type: 'keys-changed' })
  await keys.source.reload()
  return material.kid
}

/** Deletes retired keys no live token can carry any more, and drops them from the ring. */
export async function sweepSigningKeys(keys: SigningKeys, now: number): Promise<void> {
  let removed = false
  for (const key of await keys.store.listSigningKeys()) {
    if (key.retiredAt !== null && now >= key.retiredAt + keys.retentionSeconds) {
      removed = (await keys.store.deleteSigningKey(key.kid)) || removed
    }
  }
  if (removed) await keys.source.reload()
}

/** The ring as the store holds it now; `current` itself when nothing changed (so no cache is cleared). */
async function loadKeyRing(keys: SigningKeys, current: KeyRing | null): Promise<KeyRing> {
  const { store, clock, signing, retentionSeconds } = keys
  const now = clock.nowSeconds()
  if (signing.algorithm === 'HS256') {
    // The secret is configuration: it cannot change while the process runs.
    return current ?? buildKeyRing([hmacKeyMaterial(signing.hmacSecret!, now)], now, retentionSeconds)
  }
  let materials = await store.listSigningKeys()
  if (await ensureSigningKey(keys, materials, now, now)) materials = await store.listSigningKeys()
  if (current && current.version === keyRingVersion(materials, now, retentionSeconds, signing.algorithm)) {
    return current
  }
  return buildKeyRing(materials, now, retentionSeconds, signing.algorithm)
}

/**
 * Makes sure a key of the algorithm is unretired, offering one that signs from `activatesAt` when none is; true
 * when it had to. On a first start (`activatesAt` now: nothing signed before, so no cached JWKS can miss it),
 * the store keeps exactly one of the keys instances starting together offer, and every instance then reads and
 * signs with that one. Retiring is left to an explicit rotation, so a reload never rotates.
 */
async function ensureSigningKey(
  keys: SigningKeys,
  materials: readonly KeyMaterial[],
  now: number,
  activatesAt: number,
): Promise<boolean> {
  const alg = keys.signing.algorithm as Exclude<JwsAlgorithm, 'HS256'>
  if (materials.some((m) => m.retiredAt === null && m.alg === alg)) return false
  const material = await generateKeyMaterial(alg, now, activatesAt)
  const winner = await keys.store.createFirstSigningKey(material)
  // Instances already running (with another algorithm, or after a rotation race) learn of the key at once.
  if (winner.kid === material.kid) await keys.store.changes.publish({ type: 'keys-changed' })
  return true
}

/** Refuses signing options that cannot work, before anything is loaded. */
function checkSigningOptions(signing: SigningOptions): void {
  if (signing.algorithm === 'HS256') {
    if (!signing.hmacSecret || signing.hmacSecret.length < 32) {
      throw new TypeError('Signing option "hmacSecret" must be at least 32 bytes with HS256.')
    }
  } else if (signing.hmacSecret) {
    throw new TypeError('Signing option "hmacSecret" is only for HS256.')
  }
}
