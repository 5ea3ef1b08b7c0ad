import { describe, expect, it } from 'vitest'
import { AuthError, ERROR_REGISTRY, type ErrorCode, isAuthError } from '../../src/core/errors.js'

const codes = Object.keys(ERROR_REGISTRY) as ErrorCode[]

describe('ERROR_REGISTRY', () => {
  it('is not empty', () => {
    expect(codes.length).toBeGreaterThan(0)
  })

  it.each(codes)('%s has an error HTTP status (400-599) and a one-line fix', (code) => {
    const entry = ERROR_REGISTRY[code]
    expect(Number.isInteger(entry.status)).toBe(true)
    expect(entry.status).toBeGreaterThanOrEqual(400)
    expect(entry.status).toBeLessThanOrEqual(599)
    expect(entry.fix.trim()).not.toBe('')
    expect(entry.fix).not.toContain('\n')
  })

  it.each(codes)('%s is snake_case', (code) => {
    expect(code).toMatch(/^[a-z]+(?:_[a-z]+)*$/)
  })

  it('maps the codes the HTTP layer relies on to their statuses', () => {
    expect(ERROR_REGISTRY.invalid_request.status).toBe(400)
    expect(ERROR_REGISTRY.invalid_credentials.status).toBe(401)
    expect(ERROR_REGISTRY.unauthenticated.status).toBe(401)
    expect(ERROR_REGISTRY.invalid_session.status).toBe(401)
    expect(ERROR_REGISTRY.csrf_rejected.status).toBe(403)
    expect(ERROR_REGISTRY.email_taken.status).toBe(409)
    expect(ERROR_REGISTRY.server_busy.status).toBe(503)
    expect(ERROR_REGISTRY.internal_error.status).toBe(500)
  })
})

describe('AuthError', () => {
  it('carries code, status from the registry, message and name', () => {
    const error = new AuthError('email_taken', 'The "email" field is already registered.')
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toMatchObject({
      name: 'AuthError',
      code: 'email_taken',
      status: 409,
      message: 'The "email" field is already registered.',
      reason: undefined,
      retryAfterSeconds: undefined,
    })
    expect('cause' in error).toBe(false)
  })

  it('carries reason, retryAfterSeconds and cause', () => {
    const cause = new Error('disk full')
    const error = new AuthError('store_unavailable', 'The session store cannot be reached.', {
      reason: 'store_timeout',
      retryAfterSeconds: 5,
      cause,
    })
    expect(error).toMatchObject({
      code: 'store_unavailable',
      status: 503,
      message: 'The session store cannot be reached.',
      reason: 'store_timeout',
      retryAfterSeconds: 5,
    })
    expect(error.cause).toBe(cause)
  })

  it.each(codes)('takes its status for %s from the registry', (code) => {
    expect(new AuthError(code, 'x').status).toBe(ERROR_REGISTRY[code].status)
  })

  it('has a stack and a readable toString', () => {
    const error = new AuthError('not_found', 'No route.')
    expect(String(error)).toBe('AuthError: No route.')
    expect(error.stack).toContain('AuthError: No route.')
  })
})

describe('isAuthError', () => {
  const busy = new AuthError('server_busy', 'Busy.', { retryAfterSeconds: 1 })

  it('is true for any AuthError without a code', () => {
    expect(isAuthError(busy)).toBe(true)
    expect(isAuthError(new AuthError('not_found', 'x'))).toBe(true)
  })

  it('matches the code when one is given', () => {
    expect(isAuthError(busy, 'server_busy')).toBe(true)
    expect(isAuthError(busy, 'internal_error')).toBe(false)
  })

  it.each([
    ['a plain Error', new Error('server_busy')],
    ['a TypeError', new TypeError('x')],
    ['a look-alike object', { name: 'AuthError', code: 'server_busy', status: 503, message: 'x' }],
    ['a string', 'server_busy'],
    ['null', null],
    ['undefined', undefined],
  ])('is false for %s, with or without a code', (_label, value) => {
    expect(isAuthError(value)).toBe(false)
    expect(isAuthError(value, 'server_busy')).toBe(false)
  })
})
