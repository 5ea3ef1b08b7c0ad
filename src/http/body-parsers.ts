/**
 * The two request body formats Sesame accepts, parsed strictly, so that what a handler reads is exactly what
 * the client sent:
 * - JSON: valid UTF-8 (a lenient decoder would turn bad bytes into U+FFFD and store that as an email), one
 *   object, no member named twice at any depth (`JSON.parse` keeps the last silently, so two parsers could
 *   read two different requests), and no `__proto__` or `constructor` member (prototype poisoning).
 * - Forms (`application/x-www-form-urlencoded`): every percent-escape must decode to valid UTF-8; a repeated
 *   field becomes an array, which the field readers refuse by name.
 * Everything else is `415 unsupported_media_type` (Fastify's answer for a type with no parser); `text/plain`
 * has none on purpose, since a cross-site form could post a JSON-looking body with it.
 */
import type { FastifyInstance } from 'fastify'
import { AuthError } from '../core/errors.js'
import { namesAMemberTwice } from '../core/jws/strict-json.js'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Replaces Fastify's parsers with the strict ones, for bodies of at most `bodyLimit` bytes. */
export function installBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit },
    (_request, body, done) => {
      try {
        done(null, parseFormBody(body as Buffer))
      } catch (error) {
        done(error as Error, undefined)
      }
    },
  )
}

/** One JSON object, strictly (see the module comment). Throws `AuthError`. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  const text = decodeUtf8(body)
  if (text.trim() === '') throw new AuthError('malformed_json', 'The request body is empty.')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new AuthError('malformed_json', 'The request body is not valid JSON.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError('invalid_request', 'The request body must be a JSON object or a form.')
  }
  if (namesAMemberTwice(text, value)) {
    throw new AuthError('invalid_request', 'The JSON body names a member more than once.')
  }
  if (hasPoisonedKey(value)) throw new AuthError('malformed_json', 'The request body is not valid JSON.')
  return value as Record<string, unknown>
}

/** The fields of a form body; a repeated name gives an array. Throws `AuthError`. */
export function parseFormBody(body: Buffer): Record<string, string | string[]> {
  const text = decodeUtf8(body)
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  if (text === '') return fields
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals))
    const value = equals === -1 ? '' : decodeFormComponent(pair.slice(equals + 1))
    const previous = fields[name]
    fields[name] = previous === undefined ? value : [previous, value].flat()
  }
  return fields
}

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body)
  } catch {
    throw new AuthError('invalid_request', 'The request body is not valid UTF-8.')
  }
}

function decodeFormComponent(component: string): string {
  try {
    // `decodeURIComponent` throws on a malformed escape and on escapes that are not valid UTF-8.
    return decodeURIComponent(component.replaceAll('+', ' '))
  } catch {
    throw new AuthError('invalid_request', 'The form body has an escape that is not valid UTF-8.')
  }
}

/** True when any object in `value` has an own `__proto__` or `constructor` member. */
function hasPoisonedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return value.some(hasPoisonedKey)
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor') return true
    if (hasPoisonedKey((value as Record<string, unknown>)[key])) return true
  }
  return false
}
