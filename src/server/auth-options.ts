/** The engine's options as the configuration sets them; shared by the server and the `sesame` command. */
import type { AuthOptions } from '../auth.js'
import type { Store } from '../store/types.js'
import type { Config } from './config.js'

export function authOptionsFromConfig(config: Readonly<Config>, store: Store): AuthOptions {
  const { hmacSecret, algorithm, ...tokenPolicy } = config.tokens
  return {
    store,
    session: config.session,
    cookie: config.cookie,
    tokens: { ...tokenPolicy, signing: { algorithm, hmacSecret } },
    sessionLimit: config.sessionLimit,
    rateLimits: {
      loginFailuresPerAccountAndAddress: {
        limit: config.rateLimits.loginFailuresPerAccountAndIp,
        windowSeconds: 900,
      },
      loginAttemptsPerAccount: { limit: config.rateLimits.loginAttemptsPerAccount, windowSeconds: 3600 },
      loginFailuresPerAddress: { limit: config.rateLimits.loginFailuresPerIp, windowSeconds: 900 },
      signupsPerAddress: { limit: config.rateLimits.signupsPerIp, windowSeconds: 3600 },
    },
  }
}
