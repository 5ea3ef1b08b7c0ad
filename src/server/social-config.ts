/**
 * The sign-in providers' settings from the environment: `SESAME_SOCIAL_PROVIDERS` lists the ids, and each id
 * has `SESAME_SOCIAL_<ID>_CLIENT_ID`, `_CLIENT_SECRET`, an optional `_NAME` (the button's), and for a generic
 * OpenID Connect provider (any id but the presets) `_ISSUER`. Every problem stops the start with one line
 * naming the variable, like the other settings; a variable that belongs to no listed provider is refused too.
 */
import { PROVIDER_ID_PATTERN } from '../core/federation.js'
import { isPresetId } from '../social/presets.js'
import {
  type ProviderSettings,
  type SocialProvider,
  createSocialProvider,
  isAllowedProviderUrl,
} from '../social/provider.js'
import { ConfigError } from './config-error.js'

const PREFIX = 'SESAME_SOCIAL_'
/** The variable that lists the provider ids. */
export const SOCIAL_PROVIDERS_VARIABLE = `${PREFIX}PROVIDERS`
const LIST = SOCIAL_PROVIDERS_VARIABLE
const FIELDS = ['CLIENT_ID', 'CLIENT_SECRET', 'ISSUER', 'NAME'] as const
type Field = (typeof FIELDS)[number]

/** True for the variables this module reads (the main schema leaves them to it). */
export function isSocialVariable(name: string): boolean {
  return name.startsWith(PREFIX)
}

/** The variable of `field` for provider `id`. */
export function socialVariable(id: string, field: Field): string {
  return `${PREFIX}${id.toUpperCase().replaceAll('-', '_')}_${field}`
}

/**
 * Reads and checks the settings (no network). Throws {@link ConfigError}. `env` holds only `SESAME_SOCIAL_*`
 * variables with non-empty values.
 */
export function readSocialSettings(env: Readonly<Record<string, string>>): ProviderSettings[] {
  const ids = (env[LIST] ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean)
  const seen = new Set<string>()
  const expected = new Set<string>(env[LIST] === undefined ? [] : [LIST])
  const settings: ProviderSettings[] = []
  for (const id of ids) {
    if (!PROVIDER_ID_PATTERN.test(id)) {
      throw new ConfigError(
        `Invalid ${LIST}: "${id}" is not a provider id (lower-case letters, digits, "-" and "_", starting with a letter).`,
      )
    }
    // `a-b` and `a_b` would read the same variables.
    const variableName = socialVariable(id, 'NAME')
    if (seen.has(variableName)) {
      throw new ConfigError(`Invalid ${LIST}: "${id}" is listed twice (or as "-" and "_" variants).`)
    }
    seen.add(variableName)
    const variable = (field: Field): string => socialVariable(id, field)
    const value = (field: Field): string | undefined => {
      expected.add(variable(field))
      return env[variable(field)]
    }
    const clientId = value('CLIENT_ID')
    const clientSecret = value('CLIENT_SECRET')
    const issuer = value('ISSUER')
    const displayName = value('NAME')
    if (!clientId) throw new ConfigError(`Missing ${variable('CLIENT_ID')}: required for provider "${id}".`)
    if (!clientSecret)
      throw new ConfigError(`Missing ${variable('CLIENT_SECRET')}: required for provider "${id}".`)
    if (clientId.length > 512 || /\s/.test(clientId))
      throw new ConfigError(`Invalid ${variable('CLIENT_ID')}: at most 512 characters, no spaces.`)
    if (displayName !== undefined && (displayName.length > 64 || /[\p{Cc}]/u.test(displayName))) {
      throw new ConfigError(`Invalid ${variable('NAME')}: at most 64 characters, no control characters.`)
    }
    if (isPresetId(id)) {
      if (issuer !== undefined) {
        throw new ConfigError(
          `Invalid ${variable('ISSUER')}: "${id}" is a preset with its endpoints built in; remove it.`,
        )
      }
      settings.push({ id, clientId, clientSecret, displayName })
      continue
    }
    if (issuer === undefined) {
      throw new ConfigError(
        `Missing ${variable('ISSUER')}: "${id}" is not a preset (google, github, kakao, naver), so its OpenID issuer is required.`,
      )
    }
    let url: URL
    try {
      url = new URL(issuer)
    } catch {
      throw new ConfigError(`Invalid ${variable('ISSUER')}: not a URL.`)
    }
    if (!isAllowedProviderUrl(url)) {
      throw new ConfigError(
        `Invalid ${variable('ISSUER')}: must be https (http only on 127.0.0.1, localhost or [::1]).`,
      )
    }
    settings.push({ id, clientId, clientSecret, issuer: url, displayName })
  }
  for (const name of Object.keys(env)) {
    if (!expected.has(name)) {
      throw new ConfigError(
        ids.length === 0 && name !== LIST
          ? `Unknown environment variable ${name}: no provider is listed in ${LIST}.`
          : `Unknown environment variable ${name}; each provider in ${LIST} takes ${FIELDS.map((field) => `_${field}`).join(', ')}.`,
      )
    }
  }
  return settings
}

/** Builds the providers, discovering generic ones (network); a failure names the provider's variable. */
export async function openSocialProviders(settings: readonly ProviderSettings[]): Promise<SocialProvider[]> {
  return Promise.all(
    settings.map(async (entry) => {
      try {
        return await createSocialProvider(entry)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        const variable = entry.issuer ? socialVariable(entry.id, 'ISSUER') : LIST
        throw new ConfigError(`Invalid ${variable}: provider "${entry.id}": ${message}.`)
      }
    }),
  )
}
