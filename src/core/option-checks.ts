/**
 * Checks shared by every resolver of options: each failure is a {@link SesameOptionError} naming the option
 * by its path from the options object (`rateLimits.signupsPerAddress.limit`), so callers can tell which one.
 */
import { SesameOptionError } from './errors.js'

/** An inclusive range of whole numbers. */
export interface Range {
  readonly min: number
  readonly max: number
}

/** `value` as a whole number within `range`; else throws `message` (default: the generic range message). */
export function checkWholeNumber(option: string, value: unknown, range: Range, message?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new SesameOptionError(
      option,
      message ?? `Option "${option}" must be a whole number from ${range.min} to ${range.max}.`,
    )
  }
  return value
}

/**
 * `value` as a plain object whose keys are all in `known` (a typo must not leave a default silently in
 * force), or `undefined` when it is undefined.
 */
export function checkOptionObject(
  option: string,
  value: unknown,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SesameOptionError(option, `Option "${option}" must be an object.`)
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const path = option ? `${option}.${key}` : key
      throw new SesameOptionError(
        path,
        `Unknown option "${path}"; known: ${known.map((name) => `"${name}"`).join(', ')}.`,
      )
    }
  }
  return value as Record<string, unknown>
}

/** Throws unless `value` is a function (or undefined, when `optional`). */
export function checkFunction(option: string, value: unknown, optional = true): void {
  if ((optional && value === undefined) || typeof value === 'function') return
  throw new SesameOptionError(option, `Option "${option}" must be a function.`)
}

/** Throws unless `value` is an object with each of `methods` as a function. */
export function checkMethods(option: string, value: unknown, methods: readonly string[], what: string): void {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  if (!ok) throw new SesameOptionError(option, `Option "${option}" must be ${what}.`)
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SesameOptionError(
      option,
      `Option "${option}" must be ${allowed.map((name) => `"${name}"`).join(' or ')}.`,
    )
  }
  return value as T
}
