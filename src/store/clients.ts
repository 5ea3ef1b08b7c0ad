/**
 * What every adapter does alike with OAuth clients and consents (`OAuthClientRecord`, `ConsentRecord`): the
 * copies it keeps and hands out, and the order it lists them in.
 */
import type { ConsentRecord, OAuthClientRecord } from './types.js'

/** A client with lists of its own, so a caller mutating one cannot change what is stored. */
export function copyClient(client: OAuthClientRecord): OAuthClientRecord {
  return {
    ...client,
    redirectUris: [...client.redirectUris],
    postLogoutRedirectUris: [...client.postLogoutRedirectUris],
    origins: [...client.origins],
    scopes: [...client.scopes],
  }
}

/** A consent with a scope list of its own. */
export function copyConsent(consent: ConsentRecord): ConsentRecord {
  return { ...consent, scopes: [...consent.scopes] }
}

/**
 * The order of `listClients` (by `id`) and `listUserConsents` (by `clientId`): code unit by code unit, as
 * SQLite's BINARY and PostgreSQL's "C" collation sort the ids, never by the locale's rules.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
