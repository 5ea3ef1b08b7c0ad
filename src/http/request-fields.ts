/**
 * Reads named string fields from a parsed JSON or form body. Anything else (an array, a repeated form field,
 * a nested object) is `invalid_request` naming the field, so handlers only ever see strings or undefined.
 */
import { AuthError } from '../core/errors.js'

/** The `names` fields of `body`, each a string or undefined. */
export function readStringFields<const Name extends string>(
  body: unknown,
  names: readonly Name[],
): Record<Name, string | undefined> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AuthError('invalid_request', 'The request body must be a JSON object or a form.')
  }
  const fields = {} as Record<Name, string | undefined>
  for (const name of names) {
    const value: unknown = Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined
    if (value !== undefined && typeof value !== 'string') {
      throw new AuthError('invalid_request', `The "${name}" field must be a single string.`)
    }
    fields[name] = value
  }
  return fields
}

/** Like {@link readStringFields}, but every field must be present. */
export function readRequiredStringFields<const Name extends string>(
  body: unknown,
  names: readonly Name[],
): Record<Name, string> {
  const fields = readStringFields(body, names)
  for (const name of names) {
    if (fields[name] === undefined) throw new AuthError('invalid_request', `The "${name}" field is required.`)
  }
  return fields as Record<Name, string>
}
