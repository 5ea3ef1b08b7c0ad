/**
 * Numbered operator warnings, emitted through `process.emitWarning` so they can be filtered by code.
 * A retired code is never reused.
 */
export const WARNINGS = {
  SESAME_W001:
    'The memory store keeps sessions in this process only: they are lost on restart and not shared between instances. Use SESAME_STORE=sqlite (or a shared store) in production.',
  SESAME_W002:
    'SESAME_COOKIE_SECURE=false: the session cookie will be sent over plain HTTP. Use it only for local development.',
  SESAME_W003:
    'SESAME_ISSUER is plain http on a host other than localhost: browsers refuse the Secure session cookie there, so browser sign-ins will not stick. Serve Sesame over https and set SESAME_ISSUER to that URL; for development on another host only, set SESAME_COOKIE_SECURE=false and SESAME_COOKIE_NAME=sesame.',
  // Emitted by the store migrations themselves (store/email-keys.ts), with the accounts' ids appended; listed
  // here so the code is never reused.
  SESAME_W004:
    'Some accounts share an email key (NFKC + case fold) with an older account and were given none: they sign in with their exact email only.',
  // Emitted by the Redis store itself (store/redis/index.ts), once per store, naming the prefix.
  SESAME_W005:
    'The Redis store met a session in the 0.1 hash layout and treated it as signed out: run `sesame migrate` to convert such sessions.',
  SESAME_W006:
    'SESAME_FACTOR_KEY is not set: authenticator-app secrets are sealed with a key kept in the store, so a copy of the store yields them. Set SESAME_FACTOR_KEY to 32 random bytes in base64url (`openssl rand 32 | basenc --base64url | tr -d =`), kept outside the store.',
} as const

export type WarningCode = keyof typeof WARNINGS

/** Emits the warning `code` once per process. */
export function emitSesameWarning(code: WarningCode): void {
  if (emitted.has(code)) return
  emitted.add(code)
  process.emitWarning(WARNINGS[code], { type: 'SesameWarning', code })
}

const emitted = new Set<WarningCode>()
