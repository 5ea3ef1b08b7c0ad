/**
 * Requests Node rejects before Fastify sees them (headers too large, malformed HTTP) still get the one JSON
 * error shape instead of Node's bare answers.
 */
import type { Socket } from 'node:net'
import { ERROR_REGISTRY, type ErrorCode } from '../core/errors.js'

const REASONS: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' }

/** A Fastify `clientErrorHandler`. */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [code, description]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'The request headers are too large.']
      : ['invalid_request', 'The request is not valid HTTP.']
  const status = ERROR_REGISTRY[code].status
  const body = JSON.stringify({ error: code, error_description: description })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
