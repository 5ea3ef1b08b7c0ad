/**
 * Maps any error to the one JSON error shape `{ error, error_description }` with the status from the error
 * registry. Framework errors (bad JSON, wrong content type, oversized body) get stable codes too, so no
 * input can produce a 500 or a stack trace; an unexpected error is logged and answered `internal_error`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AuthError, ERROR_REGISTRY, type ErrorCode } from '../core/errors.js'

/** The JSON body of every error response. */
export interface ErrorBody {
  error: ErrorCode
  error_description: string
}

/** Converts any thrown value into an {@link AuthError} (unknown errors become `internal_error`). */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error
  const status =
    typeof (error as { statusCode?: unknown })?.statusCode === 'number'
      ? (error as { statusCode: number }).statusCode
      : 500
  const fastifyCode = (error as { code?: unknown })?.code
  if (status === 413)
    return new AuthError('payload_too_large', 'The request body is too large.', { cause: error })
  if (status === 415) {
    return new AuthError('unsupported_media_type', 'The request body has an unsupported content type.', {
      cause: error,
    })
  }
  if (
    fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    (status === 400 && error instanceof SyntaxError)
  ) {
    return new AuthError('malformed_json', 'The request body is not valid JSON.', { cause: error })
  }
  if (status >= 400 && status < 500) {
    return new AuthError('invalid_request', 'The request is malformed.', { cause: error })
  }
  return new AuthError('internal_error', 'An unexpected error occurred.', { cause: error })
}

/** An error as an HTTP answer, for any framework: status, headers and the JSON body. */
export interface ErrorResponse {
  status: number
  headers: Record<string, string>
  body: ErrorBody
}

/** The HTTP answer for `error` (after {@link toAuthError}). */
export function describeError(authError: AuthError): ErrorResponse {
  // No error answer is worth caching, and RFC 6749 §5.2 requires it of the token endpoint's.
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
  }
  if (authError.retryAfterSeconds !== undefined) headers['retry-after'] = String(authError.retryAfterSeconds)
  // RFC 6750 §3: a bearer failure names the error in the challenge; a request without credentials gets a bare one.
  if (authError.code === 'invalid_token') headers['www-authenticate'] = 'Bearer error="invalid_token"'
  if (authError.code === 'insufficient_scope')
    headers['www-authenticate'] = 'Bearer error="insufficient_scope"'
  if (authError.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer'
  // RFC 6749 §5.2: a failed client authentication answers 401 with the challenge of the scheme it offers.
  if (authError.code === 'invalid_client') headers['www-authenticate'] = 'Basic realm="sesame"'
  return {
    status: ERROR_REGISTRY[authError.code].status,
    headers,
    body: { error: authError.code, error_description: authError.message },
  }
}

/** Sends `error` as the JSON error shape. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const authError = toAuthError(error)
  if (authError.code === 'internal_error') {
    request.log.error({ err: authError.cause }, 'unexpected error')
  } else {
    // The fine reason is for operators; the client sees only the stable code.
    request.log.info({ code: authError.code, reason: authError.reason }, 'request refused')
  }
  const { status, headers, body } = describeError(authError)
  return reply.code(status).headers(headers).send(body)
}
