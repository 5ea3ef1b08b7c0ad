/**
 * The security-relevant actions the engine reports: one event per action, success or failure, for the audit
 * log and the metrics (`server/audit-log.ts`, `server/metrics.ts`), or an embedding app's own sink.
 *
 * An event names the user, never the secret: no token, password, cookie, one-time code or email goes in. A
 * sink runs synchronously on the request's path and must not throw; one that does is reported as a background
 * error and the action goes on, since an audit failure must not turn a sign-out into a 500.
 */
import { type AuthError, isAuthError } from '../core/errors.js'

/** Every event name, stable: docs/audit-log.md documents each one. */
export const AUTH_EVENT_NAMES = [
  'sign_in',
  'sign_up',
  'sign_out',
  'sign_out_others',
  'sign_out_everywhere',
  'device_end',
  'password_change',
  'password_reset',
  'email_change',
  'refresh',
  'refresh_reuse_detected',
  'token_revocation',
  'key_rotation',
  'client_registration',
  'client_removal',
  'account_disable',
  'account_delete',
] as const

export type AuthEventName = (typeof AUTH_EVENT_NAMES)[number]

/** What an action learns about itself while it runs: filled in by the action, reported when it ends. */
export interface AuthEventFields {
  userId?: string | null | undefined
  ip?: string | null | undefined
  userAgent?: string | null | undefined
  /** How the action came in: `cookie`, `password_grant`, `social`, `operator`… */
  via?: string | undefined
  clientId?: string | undefined
  provider?: string | undefined
  /** A signing key's id (key rotation). */
  kid?: string | undefined
}

export interface AuthEvent {
  name: AuthEventName
  outcome: 'success' | 'failure'
  userId: string | null
  ip: string | null
  /** As the client sent it (cut to 512 characters); the audit log writes a summary. */
  userAgent: string | null
  /** The error's stable code on failure (`invalid_credentials`, `rate_limited`, `internal`…); null on success. */
  error: string | null
  /** The error's finer reason where it has one (`wrong_password`, `refresh_token_reuse`…). */
  reason: string | null
  via: string | null
  clientId: string | null
  provider: string | null
  kid: string | null
}

export type AuthEventSink = (event: AuthEvent) => void

export interface EventReporter {
  /**
   * Runs `action`, which may fill `fields` as it learns them (the user, the client), and reports `name`: a
   * success when it resolves, a failure with the error's code when it throws (the error is rethrown as is).
   * `refusal` names the results that are a refusal without an error (`false`: no such device), and why.
   */
  observe<T>(
    name: AuthEventName,
    fields: AuthEventFields,
    action: (fields: AuthEventFields) => Promise<T>,
    refusal?: (result: T) => AuthError | null,
  ): Promise<T>
  /** Reports an event that is not simply the outcome of one call (refresh token reuse, found during a refresh). */
  report(name: AuthEventName, outcome: AuthEvent['outcome'], fields: AuthEventFields, error?: unknown): void
}

const MAX_USER_AGENT_LENGTH = 512

/** A reporter that tells `sink` (or nobody), and `onSinkError` when the sink throws. */
export function createEventReporter(
  sink: AuthEventSink | undefined,
  onSinkError: (error: unknown) => void,
): EventReporter {
  function emit(
    name: AuthEventName,
    outcome: AuthEvent['outcome'],
    fields: AuthEventFields,
    error?: unknown,
  ) {
    if (!sink) return
    const event: AuthEvent = {
      name,
      outcome,
      userId: fields.userId ?? null,
      ip: fields.ip ?? null,
      userAgent: fields.userAgent ? fields.userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      error: outcome === 'success' ? null : isAuthError(error) ? error.code : 'internal',
      reason: isAuthError(error) ? (error.reason ?? null) : null,
      via: fields.via ?? null,
      clientId: fields.clientId ?? null,
      provider: fields.provider ?? null,
      kid: fields.kid ?? null,
    }
    try {
      sink(event)
    } catch (sinkError) {
      onSinkError(sinkError)
    }
  }

  return {
    async observe(name, fields, action, refusal) {
      const seen = { ...fields }
      let result
      try {
        result = await action(seen)
      } catch (error) {
        emit(name, 'failure', seen, error)
        throw error
      }
      const refused = refusal?.(result) ?? null
      emit(name, refused ? 'failure' : 'success', seen, refused)
      return result
    },
    report: emit,
  }
}
