/** Reading audit lines (`src/server/audit-log.ts`) out of captured output. */

export interface AuditLine {
  audit: string
  outcome: 'success' | 'failure'
  userId: string | null
  ip: string | null
  userAgent: string | null
  error?: string
  reason?: string
  via?: string
  clientId?: string
  provider?: string
  kid?: string
  level: number
  msg: string
}

/** Every line of `text`, each of which must be an audit line (JSON with `audit`): anything else throws. */
export function auditLinesIn(text: string): AuditLine[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as AuditLine
      if (typeof parsed.audit !== 'string') throw new Error(`not an audit line: ${line}`)
      return parsed
    })
}

/** The audit lines among a server's log lines (the others are left out). */
export function auditLinesOf(lines: readonly string[]): AuditLine[] {
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"audit":'))
    .map((line) => JSON.parse(line) as AuditLine)
    .filter((line) => typeof line.audit === 'string')
}
