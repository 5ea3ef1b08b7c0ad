/**
 * One shared copy of each distinct string in use, counted by its users. Sessions repeat a handful of
 * User-Agent strings, but each arrives as a fresh copy from the HTTP parser (100-200 bytes each), which
 * was a third of a memory-store session's bytes (`npm run bench`, bytes per session). Counting lets a
 * string go when its last session does, so a client sending random User-Agents grows the pool no further
 * than its sessions.
 */
export class StringPool {
  readonly #entries = new Map<string, { value: string; users: number }>()

  /** The pooled copy of `value` (null stays null), counted as one more user. */
  acquire(value: string | null): string | null {
    if (value === null) return null
    const entry = this.#entries.get(value)
    if (entry) {
      entry.users++
      return entry.value
    }
    this.#entries.set(value, { value, users: 1 })
    return value
  }

  /** One user of `value` fewer; the last one drops it. */
  release(value: string | null): void {
    if (value === null) return
    const entry = this.#entries.get(value)
    if (!entry) return
    if (--entry.users === 0) this.#entries.delete(value)
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
