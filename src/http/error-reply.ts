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

/** Sends `error` as the JSON error shape. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const authError = toAuthError(error)
  if (authError.code === 'internal_error') {
    request.log.error({ err: authError.cause }, 'unexpected error')
  } else {
    // The fine reason is for operators; the client sees only the stable code.
    request.log.info({ code: authError.code, reason: authError.reason }, 'request refused')
  }
  if (authError.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(authError.retryAfterSeconds))
  const body: ErrorBody = { error: authError.code, error_description: authError.message }
  // RFC 6750 §3: a bearer failure names the error in the challenge; a request without credentials gets a bare one.
  if (authError.code === 'invalid_token') reply.header('www-authenticate', 'Bearer error="invalid_token"')
  if (authError.code === 'unauthenticated') reply.header('www-authenticate', 'Bearer')
  return reply.code(ERROR_REGISTRY[authError.code].status).type('application/json; charset=utf-8').send(body)
}
