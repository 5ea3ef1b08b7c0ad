/**
 * The one shape every authenticated request ends in, whichever way the client proved itself, so route
 * handlers and authorization rules never care whether it was a cookie or a token.
 */

export type AuthMethod = 'cookie' | 'token'

export interface Principal {
  userId: string
  /** The cookie session's public id (or, for tokens, the refresh family's id). */
  sessionId: string
  roles: readonly string[]
  method: AuthMethod
  /**
   * How the user signed in (`core/sign-in-methods.ts`): the session's, or the token's `amr` claim. Empty when
   * not known (sessions and tokens from before methods were recorded).
   */
  amr: readonly string[]
  /** When the session or token was issued, Unix seconds. */
  issuedAt: number
  /** When it ends unless renewed, Unix seconds. */
  expiresAt: number
  /** For tokens: the OAuth client it was issued to. */
  clientId?: string
  /** For tokens: the scopes it grants (none when it was issued without a scope). */
  scopes?: readonly string[]
}
