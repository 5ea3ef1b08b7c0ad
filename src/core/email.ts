/**
 * Email addresses as account keys. Normalised once at the edge (trim, lower case, then Unicode NFC: in that
 * order the result is stable) so that `Ann@Example.com` and `ann@example.com` are one account; that form is
 * what is stored and shown. Validation is deliberately loose (one `@`, a dotted domain, sane lengths, no
 * spaces, and no invisible, control, private-use or unassigned characters): the only real proof of an address
 * is mail delivered to it, and strict RFC 5322 parsers reject addresses people really use.
 *
 * Uniqueness and lookup go through a second, coarser form, {@link emailKey}, so that look-alikes (fullwidth
 * letters, ligatures, `ß`/`ss`, invisible characters) can not open a second account beside the first.
 */
import { AuthError } from './errors.js'

const MAX_EMAIL_LENGTH = 254 // RFC 5321 §4.5.3.1.3 path limit, less the angle brackets
const MAX_LOCAL_LENGTH = 64 // RFC 5321 §4.5.3.1.1
const EMAIL_PATTERN = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}.]+(?:\.[^\s@\p{Cc}.]+)+$/u
/**
 * Characters no address may hold, beyond the controls and spaces the pattern already refuses: format
 * characters such as U+200B ZERO WIDTH SPACE or the bidi overrides (Cf), lone surrogates (Cs), private use
 * (Co), code points unassigned in this Node's Unicode (Cn: their case and normalisation are unknown until
 * assigned), and whatever else Unicode says renders as nothing (Default_Ignorable_Code_Point: Hangul fillers,
 * variation selectors, the combining grapheme joiner).
 */
const INVISIBLE = /[\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u

/** The canonical form of an address, without validating it (sign-in looks up whatever was typed). */
export function canonicalizeEmail(input: string): string {
  return input.trim().toLowerCase().normalize('NFC')
}

/** Returns the canonical form of `input`, or throws `invalid_request` naming the "email" field. */
export function normalizeEmail(input: unknown): string {
  if (typeof input !== 'string') throw new AuthError('invalid_request', 'The "email" field must be a string.')
  const email = canonicalizeEmail(input)
  const at = email.indexOf('@')
  if (email.length > MAX_EMAIL_LENGTH || at > MAX_LOCAL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new AuthError('invalid_request', 'The "email" field is not a valid email address.')
  }
  if (INVISIBLE.test(email)) {
    throw new AuthError(
      'invalid_request',
      'The "email" field contains an invisible, private-use or unassigned character.',
    )
  }
  return email
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu
/** U+0131 LATIN SMALL LETTER DOTLESS I: upper-cases to `I`, but Unicode's case folding keeps it a letter apart. */
const DOTLESS_I = '\u0131'

/**
 * Full Unicode case folding as `toLowerCase(toUpperCase(x))`: upper-casing first is what folds `ß` and `ẞ` to
 * `ss`, final `ς` to `σ`, the iota subscript of `ᾳ` to `ι` and the Cyrillic letter variants (`ᲀ`) to their
 * plain letters, none of which `toLowerCase` alone does. Both are locale-independent in JavaScript (`I` is `i`,
 * Turkish or not; `İ` is `i̇`). Dotless `ı` is the one letter this would wrongly merge (into `i`), so it is
 * kept out of it. A test checks the result against every code point's upper- and lower-case forms.
 */
function foldCase(text: string): string {
  return text
    .split(DOTLESS_I)
    .map((part) => part.toUpperCase().toLowerCase())
    .join(DOTLESS_I)
}

/**
 * The key two addresses must not share, and the one sign-in looks an address up by: in effect Unicode's
 * NFKC_Casefold (UAX #44 / DerivedNormalizationProps), written out because JavaScript has no case fold.
 * Default-ignorable characters (U+200B and friends) are removed; NFKC folds compatibility forms (fullwidth
 * `ｖ`, the `ﬁ` ligature, `ℌ`, superscripts) into their plain letters; {@link foldCase} folds case fully; NFKC
 * again recomposes. The steps repeat until nothing changes (a second round suffices in practice), so the key
 * of a key is itself.
 *
 * Deliberately not folded: letters that merely look alike across scripts (Cyrillic `а`, Latin `a`) and
 * Turkish dotless `ı`, a letter of its own; confusable detection (UTS #39) is a different, moving target.
 * Works on any string (a stored email, whatever was typed at sign-in); it does not validate.
 */
export function emailKey(email: string): string {
  let key = email
  for (let round = 0; round < 4; round++) {
    const next = foldCase(key.replace(IGNORABLE, '').normalize('NFKC')).normalize('NFKC')
    if (next === key) break
    key = next
  }
  return key
}
