/**
 * The audit log: one JSON line per security-relevant action (docs/audit-log.md lists every event), written by
 * the server's logger whatever `SESAME_LOG_LEVEL` says, so that turning request noise down never turns the
 * record of sign-ins off. Lines carry `"audit": "<event>"` to be picked out (`jq 'select(.audit)'`).
 *
 * What goes in is what the engine's event holds: ids, the client's address, a summary of its user agent
 * ("Chrome on Linux"; the full header is the client's to choose, and could smuggle anything into a log), the
 * outcome and the error's code. Never a token, password, cookie, email or one-time code: the event has none.
 * Successful refreshes are left out (an app refreshes every few minutes; the metrics count them); a failed
 * refresh and a detected reuse are in.
 */
import type { FastifyBaseLogger } from 'fastify'
import { summarizeUserAgent } from '../core/user-agent.js'
import type { AuthEvent } from '../engine/events.js'

/** Events whose successes are not written (their failures are). */
const UNLOGGED_SUCCESSES = new Set<AuthEvent['name']>(['refresh'])
/** Events written at `warn`: someone else holds a user's token. */
const WARNINGS = new Set<AuthEvent['name']>(['refresh_reuse_detected'])

/** A sink for `createAuth({ onEvent })` writing audit lines through `logger`. */
export function createAuditLog(logger: FastifyBaseLogger): (event: AuthEvent) => void {
  // Its own level: audit lines are written even when the server's level hides `info`.
  const audit = logger.child({}, { level: 'info' })
  return (event) => {
    if (!isAudited(event)) return
    if (WARNINGS.has(event.name)) audit.warn(auditRecord(event), auditMessage(event))
    else audit.info(auditRecord(event), auditMessage(event))
  }
}

/**
 * The same lines as {@link createAuditLog}, written as JSON to `stream` without a logger library: for the CLI,
 * which runs without Fastify (and so without its pino).
 */
export function createAuditLines(stream: { write(line: string): unknown }): (event: AuthEvent) => void {
  return (event) => {
    if (!isAudited(event)) return
    const level = WARNINGS.has(event.name) ? PINO_WARN : PINO_INFO
    const line = { level, time: Date.now(), ...auditRecord(event), msg: auditMessage(event) }
    stream.write(`${JSON.stringify(line)}\n`)
  }
}

/** pino's numbers for its levels, so both writers' lines read alike. */
const PINO_INFO = 30
const PINO_WARN = 40

function isAudited(event: AuthEvent): boolean {
  return !(event.outcome === 'success' && UNLOGGED_SUCCESSES.has(event.name))
}

function auditMessage(event: AuthEvent): string {
  return `${event.name} ${event.outcome}`
}

/** The fields of one audit line. */
export function auditRecord(event: AuthEvent): Record<string, string | null> {
  return {
    audit: event.name,
    outcome: event.outcome,
    userId: event.userId,
    ip: event.ip,
    userAgent: describeUserAgent(event.userAgent),
    ...(event.error !== null && { error: event.error }),
    ...(event.reason !== null && { reason: event.reason }),
    ...(event.via !== null && { via: event.via }),
    ...(event.clientId !== null && { clientId: event.clientId }),
    ...(event.provider !== null && { provider: event.provider }),
    ...(event.kid !== null && { kid: event.kid }),
  }
}

/** One line for a person: `audit: key_rotation success (kid 2x…, staged)`. */
export function describeEvent(event: AuthEvent): string {
  const details = [
    event.userId && `user ${event.userId}`,
    event.clientId && `client ${event.clientId}`,
    event.kid && `kid ${event.kid}`,
    event.error && `${event.error}${event.reason ? ` (${event.reason})` : ''}`,
    event.via,
  ].filter(Boolean)
  return `audit: ${event.name} ${event.outcome}${details.length > 0 ? ` (${details.join(', ')})` : ''}`
}

/** "Chrome on Linux", "curl", or null when the client sent none. */
function describeUserAgent(userAgent: string | null): string | null {
  if (userAgent === null) return null
  const { browser, os } = summarizeUserAgent(userAgent)
  if (browser && os) return `${browser} on ${os}`
  return browser ?? os ?? 'unrecognised'
}
