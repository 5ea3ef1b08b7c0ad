/**
 * Bounded concurrency with a bounded queue. Password hashing is memory-hard on purpose (19 MiB per argon2id
 * call), so a login flood must queue rather than run unbounded; and the queue itself is capped, so a flood
 * is shed with `server_busy` instead of growing memory without limit.
 */
import { AuthError } from './errors.js'

export interface SemaphoreOptions {
  /** Tasks running at once. */
  maxConcurrent: number
  /** Tasks waiting beyond those; one more is refused with `server_busy`. */
  maxQueued: number
}

/** Runs async tasks at most `maxConcurrent` at a time. */
export class Semaphore {
  readonly #maxConcurrent: number
  readonly #maxQueued: number
  readonly #waiting: Array<() => void> = []
  #running = 0

  constructor(options: SemaphoreOptions) {
    for (const key of ['maxConcurrent', 'maxQueued'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < (key === 'maxConcurrent' ? 1 : 0)) {
        throw new TypeError(`Semaphore option "${key}" must be a non-negative integer (maxConcurrent >= 1).`)
      }
    }
    this.#maxConcurrent = options.maxConcurrent
    this.#maxQueued = options.maxQueued
  }

  /** Runs `task` when a slot is free; throws `server_busy` at once when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxConcurrent) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new AuthError('server_busy', 'Too many sign-ins are in progress; retry shortly.', {
          retryAfterSeconds: 1,
        })
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    } else {
      this.#running++
    }
    try {
      return await task()
    } finally {
      const next = this.#waiting.shift()
      // Hand the slot straight to the next waiter, so `#running` never dips and a newcomer cannot jump the queue.
      if (next) next()
      else this.#running--
    }
  }
}
