/**
 * How a request to the token, revocation or introspection endpoint names its client (RFC 6749 §2.3.1): HTTP
 * Basic with the form-encoded id and secret (`client_secret_basic`), or `client_id` and `client_secret` in the
 * body (`client_secret_post`); a public client sends only `client_id`. One method per request.
 */
import type { FastifyRequest } from 'fastify'
import { AuthError } from '../core/errors.js'
import type { ClientCredentials } from '../engine/clients.js'
import { readStringFields } from './request-fields.js'

export function readClientCredentials(request: FastifyRequest): ClientCredentials {
  const body = readStringFields(request.body ?? {}, ['client_id', 'client_secret'])
  const basic = readBasic(request.headers.authorization)
  if (!basic) return { clientId: body.client_id, secret: body.client_secret }
  if (body.client_secret !== undefined) {
    throw new AuthError(
      'invalid_request',
      'Authenticate the client one way: HTTP Basic or the body, not both.',
    )
  }
  if (body.client_id !== undefined && body.client_id !== basic.clientId) {
    throw new AuthError('invalid_request', 'The "client_id" in the body is not the one in HTTP Basic.')
  }
  return basic
}

/** The Basic credentials in `authorization`, null without a Basic header; `invalid_client` when garbled. */
function readBasic(authorization: string | undefined): { clientId: string; secret: string } | null {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization ?? '')
  if (!match) {
    if (authorization !== undefined && /^Basic\b/i.test(authorization)) throw garbled()
    return null
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) throw garbled()
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    throw garbled()
  }
}

/** RFC 6749 §2.3.1: id and secret are `application/x-www-form-urlencoded` before Basic encodes them. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function garbled(): AuthError {
  return new AuthError('invalid_client', 'Client authentication failed.', { reason: 'malformed_basic' })
}
