/**
 * Refusing the passwords attackers try first (NIST SP 800-63B §3.1.1.2: check new passwords against a list of
 * commonly used ones). The list is built into a Set on first use: about 10,000 entries, under a megabyte.
 */
import { COMMON_PASSWORDS_TEXT } from './list.js'

let commonPasswords: Set<string> | undefined

/** True when `password` (compared case-insensitively) is on the common-password list. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(COMMON_PASSWORDS_TEXT.split('\n'))
  return commonPasswords.has(password.toLowerCase())
}
