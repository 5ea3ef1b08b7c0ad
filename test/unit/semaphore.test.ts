import { describe, expect, it } from 'vitest'
import { AuthError } from '../../src/core/errors.js'
import { Semaphore } from '../../src/core/semaphore.js'

interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every pending promise callback run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

const BUSY: unknown = expect.objectContaining({
  name: 'AuthError',
  code: 'server_busy',
  status: 503,
  message: 'Too many sign-ins are in progress; retry shortly.',
  retryAfterSeconds: 1,
})

/** Tasks that record when they start and finish only when the test says so. */
function harness(semaphore: Semaphore, count: number) {
  const gates = Array.from({ length: count }, () => deferred())
  const started: number[] = []
  let running = 0
  let peak = 0
  const results = gates.map((gate, i) =>
    semaphore.run(async () => {
      started.push(i)
      running++
      peak = Math.max(peak, running)
      try {
        await gate.promise
        return i
      } finally {
        running--
      }
    }),
  )
  return {
    gates,
    started,
    results,
    running: () => running,
    peak: () => peak,
  }
}

describe('Semaphore', () => {
  it('never runs more than maxConcurrent tasks at once', async () => {
    const h = harness(new Semaphore({ maxConcurrent: 2, maxQueued: 10 }), 6)
    await settle()
    expect(h.started).toEqual([0, 1])
    expect(h.running()).toBe(2)

    h.gates[0]!.resolve()
    await settle()
    expect(h.started).toEqual([0, 1, 2])
    expect(h.running()).toBe(2)

    h.gates[2]!.resolve()
    h.gates[1]!.resolve()
    await settle()
    expect(h.started).toEqual([0, 1, 2, 3, 4])
    expect(h.running()).toBe(2)

    for (const gate of h.gates) gate.resolve()
    await expect(Promise.all(h.results)).resolves.toEqual([0, 1, 2, 3, 4, 5])
    expect(h.peak()).toBe(2)
    expect(h.running()).toBe(0)
  })

  it('starts queued tasks in FIFO order', async () => {
    const h = harness(new Semaphore({ maxConcurrent: 1, maxQueued: 10 }), 5)
    await settle()
    expect(h.started).toEqual([0])
    for (let i = 0; i < 5; i++) {
      h.gates[i]!.resolve()
      await settle()
    }
    expect(h.started).toEqual([0, 1, 2, 3, 4])
    expect(h.peak()).toBe(1)
    await expect(Promise.all(h.results)).resolves.toEqual([0, 1, 2, 3, 4])
  })

  it('does not let a newcomer jump ahead of waiting tasks when a slot frees', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 10 })
    const h = harness(semaphore, 3)
    await settle()
    h.gates[0]!.resolve()
    await h.results[0]
    // The slot went straight to task 1; a task submitted now must wait behind task 2.
    let lateStarted = false
    const late = semaphore.run(async () => {
      lateStarted = true
    })
    await settle()
    expect(h.started).toEqual([0, 1])
    expect(lateStarted).toBe(false)
    h.gates[1]!.resolve()
    await settle()
    expect(h.started).toEqual([0, 1, 2])
    expect(lateStarted).toBe(false)
    h.gates[2]!.resolve()
    await late
    expect(lateStarted).toBe(true)
  })

  it('refuses with server_busy once the queue is full, without running the task', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 2 })
    const h = harness(semaphore, 3) // one running, two queued
    await settle()
    let refusedRan = false
    const refused = semaphore.run(async () => {
      refusedRan = true
    })
    await expect(refused).rejects.toBeInstanceOf(AuthError)
    await expect(refused).rejects.toEqual(BUSY)
    for (const gate of h.gates) gate.resolve()
    await Promise.all(h.results)
    expect(refusedRan).toBe(false)
    // Capacity is back once the backlog drains.
    await expect(semaphore.run(async () => 'ok')).resolves.toBe('ok')
  })

  it('with maxQueued 0 refuses anything beyond the running tasks', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 0 })
    const h = harness(semaphore, 1)
    await expect(semaphore.run(async () => 'second')).rejects.toEqual(BUSY)
    h.gates[0]!.resolve()
    await h.results[0]
    await expect(semaphore.run(async () => 'third')).resolves.toBe('third')
  })

  it('frees the slot of a task that rejects', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 0 })
    const boom = new Error('boom')
    await expect(semaphore.run(() => Promise.reject(boom))).rejects.toBe(boom)
    await expect(semaphore.run(async () => 'after')).resolves.toBe('after')
  })

  it('frees the slot of a task that throws synchronously', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 0 })
    const boom = new Error('sync boom')
    await expect(
      semaphore.run(() => {
        throw boom
      }),
    ).rejects.toBe(boom)
    await expect(semaphore.run(async () => 'after')).resolves.toBe('after')
  })

  it('hands a rejected task’s slot to the next waiter', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1, maxQueued: 1 })
    const first = deferred<string>()
    const failing = semaphore.run(() => first.promise)
    const queued = semaphore.run(async () => 'queued ran')
    first.reject(new Error('first failed'))
    await expect(failing).rejects.toThrow('first failed')
    await expect(queued).resolves.toBe('queued ran')
    // And the semaphore is back to one free slot, not more and not less.
    const h = harness(semaphore, 2)
    await settle()
    expect(h.started).toEqual([0])
    for (const gate of h.gates) gate.resolve()
    await Promise.all(h.results)
  })

  it('passes the task’s value through', async () => {
    const semaphore = new Semaphore({ maxConcurrent: 3, maxQueued: 0 })
    await expect(semaphore.run(async () => ({ ok: 1 }))).resolves.toEqual({ ok: 1 })
  })

  it.each([[0], [-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], ['2']])(
    'refuses maxConcurrent %j',
    (maxConcurrent) => {
      expect(() => new Semaphore({ maxConcurrent: maxConcurrent as number, maxQueued: 0 })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: 'Semaphore option "maxConcurrent" must be a non-negative integer (maxConcurrent >= 1).',
        }),
      )
    },
  )

  it.each([[-1], [0.5], [Number.NaN], [Number.POSITIVE_INFINITY], [undefined]])(
    'refuses maxQueued %j',
    (maxQueued) => {
      expect(() => new Semaphore({ maxConcurrent: 1, maxQueued: maxQueued as number })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: 'Semaphore option "maxQueued" must be a non-negative integer (maxConcurrent >= 1).',
        }),
      )
    },
  )
})
