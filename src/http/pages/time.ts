/** Times as a person reads them, in the page's language: "5 minutes ago", "6 Dec 2026". */

const UNITS: readonly (readonly [Intl.RelativeTimeFormatUnit, number])[] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
]

/** How long ago `atSeconds` was (a time in the future, from another clock, counts as now). */
export function timeAgo(atSeconds: number, nowSeconds: number, locale: string): string {
  const elapsed = Math.max(0, nowSeconds - atSeconds)
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  for (const [unit, seconds] of UNITS) {
    if (elapsed >= seconds) return format.format(-Math.floor(elapsed / seconds), unit)
  }
  return format.format(0, 'second')
}

/** The calendar date of `atSeconds` (UTC: the server does not know the reader's zone). */
export function calendarDate(atSeconds: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(atSeconds * 1000)
}

/** The ISO form for a `<time datetime>`. */
export function isoTime(atSeconds: number): string {
  return new Date(atSeconds * 1000).toISOString()
}
