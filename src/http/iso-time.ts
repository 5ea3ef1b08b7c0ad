/**
 * Unix seconds as the ISO 8601 text the API answers with. `GET /auth/me` sends two per request, and
 * `new Date().toISOString()` cost about a microsecond each in its profile (`npm run bench:profile`), while
 * the values repeat: a client's session or token keeps its times. So recent ones are remembered, in a map
 * cleared when it fills.
 */
const MAX_REMEMBERED = 4096
const remembered = new Map<number, string>()

/** `seconds` (whole Unix seconds) as e.g. `2026-12-01T22:10:52.000Z`. */
export function isoTime(seconds: number): string {
  let text = remembered.get(seconds)
  if (text === undefined) {
    text = new Date(seconds * 1000).toISOString()
    if (remembered.size >= MAX_REMEMBERED) remembered.clear()
    remembered.set(seconds, text)
  }
  return text
}
