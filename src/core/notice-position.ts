/**
 * Where one subscriber stands in one feed's numbered `sessions-changed` notices (`change-event.ts`), and what
 * each new fact means for a cache that trusts the notices to tell it about every change. Pure: the caller
 * passes the times, reads the store's count, and flushes when told to.
 *
 * A store numbers its notices 1, 2, 3… in the same atomic step as the change each announces, so the numbers
 * prove completeness two ways:
 * - a notice numbered past the next expected one means the ones in between were missed: flush;
 * - the store's own count, read every check interval, ahead of the last notice heard means a notice is late or
 *   lost. The cache is not trusted until the notices catch up; if they have not by the next check, they were
 *   lost: flush, and start again from the count just read.
 * A count below the last notice heard means the count was reset or a notice forged: flush, and start again from
 * the count. A cache is trusted only while the position is known, not behind, and checked recently: a store
 * this instance cannot reach may be taking changes from other instances that it cannot hear about.
 */
export type NoticeVerdict = 'keep' | 'flush'

export class NoticePosition {
  /** The last notice heard in order; null until the store's count is read after a (re)subscription. */
  #last: number | null = null
  /** The highest notice heard while #last was unknown. */
  #heardEarly = 0
  /** The store's count found ahead of #last at the last check, while the notices have not caught up. */
  #behind: number | null = null
  #checkedAt = Number.NEGATIVE_INFINITY
  /** Bumped by every restart, so a count read before one is not taken as the start after it. */
  #era = 0

  /** Which subscription a read of the count belongs to: pass it back to {@link NoticePosition.checked}. */
  get era(): number {
    return this.#era
  }

  /**
   * The subscription (re)started or dropped: notices may have been missed, and the caller flushes. Untrusted
   * until the store's count is read.
   */
  restart(): void {
    this.#era++
    this.#last = null
    this.#heardEarly = 0
    this.#behind = null
  }

  /** A notice arrived; `flush` when numbers were skipped on the way. */
  receive(seq: number): NoticeVerdict {
    if (this.#last === null) {
      this.#heardEarly = Math.max(this.#heardEarly, seq)
      return 'keep'
    }
    if (seq <= this.#last) return 'keep'
    const skipped = seq > this.#last + 1
    this.#last = seq
    if (this.#behind !== null && this.#last >= this.#behind) this.#behind = null
    return skipped ? 'flush' : 'keep'
  }

  /** The store's count, read at `nowMs` in subscription `era`; `flush` when notices were lost. */
  checked(count: number, nowMs: number, era: number): NoticeVerdict {
    if (era !== this.#era) return 'keep'
    this.#checkedAt = nowMs
    if (this.#last === null) {
      // Everything up to `count` committed before the read, and the caller flushed at the restart.
      this.#last = Math.max(count, this.#heardEarly)
      return 'keep'
    }
    if (count < this.#last) {
      // Numbers heard that the store never counted: the count was reset (a restored database, a deleted Redis
      // key) or a notice was forged. Either way the numbers no longer prove anything: start again from it.
      this.#last = count
      this.#behind = null
      return 'flush'
    }
    if (count === this.#last) {
      this.#behind = null
      return 'keep'
    }
    if (this.#behind === null) {
      this.#behind = count
      return 'keep'
    }
    // Still short of what the last check found: those notices are not late, they are lost.
    this.#last = count
    this.#behind = null
    return 'flush'
  }

  /** Notices the store had counted at the last check that have not been heard since (0 when caught up). */
  get lag(): number {
    return this.#behind === null || this.#last === null ? 0 : this.#behind - this.#last
  }

  /** Until when (same clock as `checked`) a cache may be served, given how long a check stays good. */
  trustedUntil(checkValidMs: number): number {
    if (this.#last === null || this.#behind !== null) return Number.NEGATIVE_INFINITY
    return this.#checkedAt + checkValidMs
  }
}
