/**
 * One source of keys for access-token verification, shared by the token engine (keys read from the store) and
 * the resource-server verifier (keys fetched from the JWKS). It holds the current key set, replaces it when a
 * reload finishes, and rations the reloads a token naming an unknown `kid` may trigger. It does no I/O itself:
 * the caller's `load` does, and verification only ever reads the set already in memory.
 */
import type { Clock } from './clock.js'
import type { KeyResolver } from './jws/compact.js'

/** What a key source holds: at least a way to find a token's key by its header. */
export interface KeySet {
  readonly resolveKey: KeyResolver
}

export interface KeySourceOptions<K extends KeySet> {
  /**
   * Reads the keys as they are now. Given the current set, it may return that very object to say "unchanged",
   * which then replaces nothing (and so clears no cache of tokens verified under it).
   */
  load: (current: K | null) => Promise<K>
  clock: Clock
  /**
   * Least seconds between two reloads triggered by unknown kids. A forged token can name any kid, so without
   * this bound every forged request would cost a store read or a JWKS fetch.
   */
  unknownKeyReloadSeconds: number
  /** Told about failed background reloads; they never throw. */
  onError: (error: unknown) => void
  /** Called with each set that replaces the current one (a key may have left it: clear what it vouched for). */
  onReplace?: (keys: K) => void
}

export class KeySource<K extends KeySet> {
  readonly #options: KeySourceOptions<K>
  #current: K | null = null
  // Loads may overlap (a timer, a change event, an unknown kid): an older, slower load must never replace the
  // set a newer one already applied, or a key just added could vanish again.
  #loadsStarted = 0
  #loadApplied = 0
  #lastUnknownKeyReload: number | null = null

  constructor(options: KeySourceOptions<K>) {
    this.#options = options
  }

  /** The current set. Throws before the first load has completed: nothing can be verified without keys. */
  get current(): K {
    if (this.#current === null) throw new Error('The keys have not been loaded yet.')
    return this.#current
  }

  /** Whether a load has completed. */
  get loaded(): boolean {
    return this.#current !== null
  }

  /** Finds a token's key in the current set; null before the first load, so every token is refused then. */
  readonly resolveKey: KeyResolver = (header) => this.#current?.resolveKey(header) ?? null

  /** Loads the keys and makes them current, unless a load started later has been applied first. */
  async reload(): Promise<void> {
    const load = ++this.#loadsStarted
    const next = await this.#options.load(this.#current)
    if (load < this.#loadApplied) return
    this.#loadApplied = load
    if (next === this.#current) return
    this.#current = next
    this.#options.onReplace?.(next)
  }

  /**
   * Told that a token named a key the current set lacks (another instance may just have added it, or a rotation
   * reached the JWKS first). Starts a reload in the background, at most once per `unknownKeyReloadSeconds`; the
   * token itself stays refused, since verification does no I/O.
   */
  readonly onUnknownKey = (): void => {
    const now = this.#options.clock.nowSeconds()
    const last = this.#lastUnknownKeyReload
    if (last !== null && now - last < this.#options.unknownKeyReloadSeconds) return
    this.#lastUnknownKeyReload = now
    this.reload().catch(this.#options.onError)
  }
}
