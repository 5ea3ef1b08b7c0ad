/**
 * JSON objects parsed the strict way RFC 7515 §4 and RFC 8725 §3.x want for JOSE: the text must be one JSON
 * object, and no object in it may repeat a member name. `JSON.parse` keeps the last duplicate silently, so a
 * token could show one value to one parser and another to the next.
 *
 * Duplicate detection without a second parser: in valid JSON every member contributes exactly one `:` outside
 * string literals, while `JSON.parse` collapses duplicates into one key. So the text has a duplicate exactly
 * when its count of such colons exceeds the number of keys in the parsed result. One linear scan.
 */

/** The parsed object, or null when `text` is not exactly one JSON object without duplicate member names. */
export function parseStrictJsonObject(text: string): Record<string, unknown> | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return namesAMemberTwice(text, value) ? null : (value as Record<string, unknown>)
}

/** True when `text`, which `JSON.parse` turned into `value`, repeats a member name in any object. */
export function namesAMemberTwice(text: string, value: unknown): boolean {
  return countMemberColons(text) !== countKeys(value)
}

/** Colons outside string literals. Jumps from quote to quote with `indexOf`, which is far faster than a char loop. */
function countMemberColons(text: string): number {
  let colons = 0
  let position = 0
  for (;;) {
    const open = text.indexOf('"', position)
    const end = open === -1 ? text.length : open
    for (
      let colon = text.indexOf(':', position);
      colon !== -1 && colon < end;
      colon = text.indexOf(':', colon + 1)
    ) {
      colons++
    }
    if (open === -1) return colons
    // The closing quote is the next one not escaped by an odd run of backslashes. JSON.parse already accepted
    // the text, so every string is terminated.
    let close = text.indexOf('"', open + 1)
    while (isEscaped(text, close)) close = text.indexOf('"', close + 1)
    position = close + 1
  }
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0
  for (let i = index - 1; text.charCodeAt(i) === 0x5c; i--) backslashes++
  return backslashes % 2 === 1
}

/** Keys in `value` and everything nested in it. Iterative: nesting depth must not exhaust the call stack. */
function countKeys(value: unknown): number {
  let count = 0
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item !== 'object' || item === null) continue
    if (Array.isArray(item)) {
      for (const element of item) pending.push(element)
      continue
    }
    for (const key in item) {
      count++
      pending.push((item as Record<string, unknown>)[key])
    }
  }
  return count
}
