/** The engine's options as the configuration sets them; shared by the server and the `sesame` command. */
import type { AuthOptions } from '../auth.js'
import { DEFAULT_RATE_LIMIT_POLICY as DEFAULTS } from '../core/rate-limit-policy.js'
import type { Store } from '../store/types.js'
import type { Config } from './config.js'

export function authOptionsFromConfig(config: Readonly<Config>, store: Store): AuthOptions {
  const { hmacSecret, algorithm, passwordGrant, ...tokenPolicy } = config.tokens
  return {
    store,
    session: config.session,
    cookie: config.cookie,
    tokens: { ...tokenPolicy, signing: { algorithm, hmacSecret }, passwordGrant },
    sessionLimit: config.sessionLimit,
    sessionCache: config.sessionCache,
    accounts: config.accounts,
    ...(config.factorKeys.length > 0 && { secondFactors: { factorKeys: config.factorKeys } }),
    // The windows are the library's; the configuration sets the limits only.
    rateLimits: {
      loginFailuresPerAccountAndAddress: {
        ...DEFAULTS.loginFailuresPerAccountAndAddress,
        limit: config.rateLimits.loginFailuresPerAccountAndIp,
      },
      loginAttemptsPerAccount: {
        ...DEFAULTS.loginAttemptsPerAccount,
        limit: config.rateLimits.loginAttemptsPerAccount,
      },
      loginFailuresPerAddress: {
        ...DEFAULTS.loginFailuresPerAddress,
        limit: config.rateLimits.loginFailuresPerIp,
      },
      signupsPerAddress: { ...DEFAULTS.signupsPerAddress, limit: config.rateLimits.signupsPerIp },
      mailsPerAccount: { ...DEFAULTS.mailsPerAccount, limit: config.rateLimits.mailsPerAccount },
      mailsPerAddress: { ...DEFAULTS.mailsPerAddress, limit: config.rateLimits.mailsPerIp },
      secondFactorAttemptsPerAccount: {
        ...DEFAULTS.secondFactorAttemptsPerAccount,
        limit: config.rateLimits.secondFactorAttemptsPerAccount,
      },
    },
  }
}
