/**
 * Builds the standalone server: Fastify with body parsers, the error mapper, the API, the web pages and the
 * health routes, over one engine and one store. `inject()` drives it in tests with no port.
 */
import { join } from 'node:path'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { type Auth, createAuth } from '../auth.js'
import { authOptionsFromConfig } from './auth-options.js'
import { type Clock, systemClock } from '../core/clock.js'
import { AuthError } from '../core/errors.js'
import type { PasswordHasher } from '../core/password-hasher.js'
import { apiRoutes } from '../http/api-routes.js'
import { passkeyRoutes } from '../http/passkey-routes.js'
import { oauthRoutes } from '../http/oauth-routes.js'
import { tokenRoutes } from '../http/token-routes.js'
import { deviceRoutes } from '../http/device-routes.js'
import { installBodyParsers } from '../http/body-parsers.js'
import { createClientDirectory } from '../http/client-directory.js'
import { installCors } from '../http/cors.js'
import { installPipeline } from '../http/pipeline.js'
import { installRouteTable } from '../http/route-table.js'
import { createCsrfGuard } from '../http/csrf.js'
import { handleClientError } from '../http/client-errors.js'
import { sendError } from '../http/error-reply.js'
import { pageRoutes } from '../http/pages/page-routes.js'
import { dropsSecureCookie } from '../http/secure-context.js'
import { revocationFeedRoutes } from '../http/revocation-feed-routes.js'
import { identityRoutes, socialRoutes } from '../http/social-routes.js'
import { accountRoutes } from '../http/account-routes.js'
import type { SocialProvider } from '../social/provider.js'
import { createSocialLogin } from '../social/social-login.js'
import type { Store } from '../store/types.js'
import type { Config } from './config.js'
import { healthRoutes } from './health-routes.js'
import { openStore } from './open-store.js'
import { openSocialProviders } from './social-config.js'
import { renderMail } from './mail/render.js'
import { createOutboxMailer, createSmtpMailer } from './mail/transports.js'
import { emitSesameWarning } from './warnings.js'
import { createServerLogger, deferredChildLoggers, logsEveryRequest } from './logger.js'
import type { AuthEvent } from '../engine/events.js'
import { createAuditLog } from './audit-log.js'
import { type ServerMetrics, createServerMetrics } from './metrics.js'
import { metricsRoutes, startMetricsListener } from './metrics-routes.js'

/** Expired sessions, refresh families, revocations and retired keys are purged this often. */
const SWEEP_INTERVAL_MS = 60_000

export interface BuildServerOptions {
  config: Readonly<Config>
  /** Default: opened from the config. A given store is closed with the server too. */
  store?: Store
  clock?: Clock
  passwordHasher?: PasswordHasher
  /** Waits for the soft delay of repeated failed sign-ins; tests pass one that records instead. */
  sleep?: (ms: number) => Promise<void>
  /** Default: a pino logger at the configured level. */
  logger?: boolean
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: { write(line: string): void }
  /** Default: built from the configuration's `social` settings (discovering generic providers). */
  socialProviders?: SocialProvider[]
}

export interface SesameServer {
  app: FastifyInstance
  auth: Auth
  store: Store
  /** The metrics registry when metrics are on (`SESAME_METRICS_*`), else null. */
  metrics: ServerMetrics | null
  /** The loopback metrics listener's port once the server is ready (with `SESAME_METRICS_PORT`), else null. */
  metricsPort(): number | null
}

/** Builds (but does not start) the server. Closing `app` also stops the sweeper and closes the store. */
export async function buildServer(options: BuildServerOptions): Promise<SesameServer> {
  const { config } = options
  if (!config.cookie.secure) emitSesameWarning('SESAME_W002')
  else if (dropsSecureCookie(new URL(config.tokens.issuer).origin)) emitSesameWarning('SESAME_W003')
  // A deployment served over https is taken for production; development on http is spared the advice.
  if (config.factorKeys.length === 0 && config.tokens.issuer.startsWith('https:')) {
    emitSesameWarning('SESAME_W006')
  }
  // Providers first: a provider whose discovery fails stops the start before the store is opened.
  const providers = options.socialProviders ?? (await openSocialProviders(config.social))
  const metrics = config.metrics.token !== null || config.metrics.port !== null ? createServerMetrics() : null
  const opened = options.store ?? (await openStore(config))
  // Every call but the closing one goes through the timing wrapper.
  const store = metrics ? metrics.instrumentStore(opened) : opened
  const log = options.logger === false ? null : createServerLogger(config, options.logStream)
  // Audit lines ignore the log level (a quieter log must not lose them), but `silent` means no output at all.
  const audit = log !== null && config.auditLog && config.logLevel !== 'silent' ? createAuditLog(log) : null
  // A line when each request comes in and another when it is answered cost a small route about 40% of its
  // throughput (bench/RESULTS.md): kept for debug and trace. Errors and refusals are logged by `sendError`.
  const perRequestLines = log !== null && logsEveryRequest(config)
  const app = Fastify({
    ...(perRequestLines ? { loggerInstance: log } : { logger: false }),
    ...(log !== null && !perRequestLines && { childLoggerFactory: deferredChildLoggers(log) }),
    logController: new LogController({ disableRequestLogging: !perRequestLines }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Request ids are generated, never taken from the client, so logs cannot be forged through them.
    requestIdHeader: false,
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
  })
  // Without a logger of its own, Fastify's `app.log` is a no-op: the server's lines go to the server's logger.
  if (log !== null && !perRequestLines) app.log = log

  const mailOptions = { from: config.mail.from, render: renderMail }
  const smtp = config.mail.smtpUrl ? createSmtpMailer(config.mail.smtpUrl, mailOptions) : null
  const mailer =
    smtp ??
    createOutboxMailer(join(config.dataDir, 'outbox'), {
      ...mailOptions,
      log: (fields, message) => app.log.info(fields, message),
    })

  const auth = await createAuth({
    ...authOptionsFromConfig(config, store),
    mail: { mailer, linkBase: config.tokens.issuer },
    onBackgroundError: (error) => app.log.warn({ err: error }, 'background work failed'),
    ...((audit || metrics) && {
      onEvent: (event: AuthEvent) => {
        audit?.(event)
        metrics?.onEvent(event)
      },
    }),
    ...(options.clock && { clock: options.clock }),
    ...(options.passwordHasher && { passwordHasher: options.passwordHasher }),
    ...(options.sleep && { sleep: options.sleep }),
  })

  installBodyParsers(app, config.bodyLimitBytes)
  if (metrics) {
    metrics.observeRequests(app)
    if (auth.sessionCache) metrics.observeSessionCache(auth.sessionCache)
  }

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error))
  const routes = installRouteTable(app)
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = routes.methodsFor(path)
    if (allowed.length === 0) {
      return sendError(request, reply, new AuthError('not_found', `No route for ${request.method} ${path}.`))
    }
    reply.header('allow', allowed.join(', '))
    return sendError(
      request,
      reply,
      new AuthError('method_not_allowed', `${path} answers ${allowed.join(', ')}, not ${request.method}.`),
    )
  })

  if (config.hstsMaxAgeSeconds > 0) {
    // RFC 6797: once a browser has seen this over HTTPS it refuses plain HTTP to the host, so a network
    // attacker cannot strip TLS and read the session cookie.
    const hsts = `max-age=${config.hstsMaxAgeSeconds}`
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('strict-transport-security', hsts)
    })
  }

  const csrf = createCsrfGuard(config.trustedOrigins)
  // Both put hooks in front of each route's own; CORS, installed second, goes first, so that a refusal by the
  // pipeline still carries the CORS headers a trusted page needs to read it.
  const clients = createClientDirectory(auth.clients)
  installPipeline(app, { authenticator: auth, csrf, trustedOrigins: config.trustedOrigins, clients })
  installCors(app, config.trustedOrigins, routes, clients)
  await app.register(healthRoutes, { store })
  await app.register(apiRoutes, { auth })
  await app.register(passkeyRoutes, { auth })
  await app.register(tokenRoutes, { auth, csrf })
  await app.register(oauthRoutes, { auth, clients })
  await app.register(deviceRoutes, { auth })
  await app.register(accountRoutes, { auth })
  if (providers.length > 0) {
    const social = await createSocialLogin({
      providers,
      store,
      clock: options.clock ?? systemClock,
      issuer: config.tokens.issuer,
      secureCookies: config.cookie.secure,
    })
    await app.register(socialRoutes, { auth, social })
  }
  await app.register(identityRoutes, { auth })
  await app.register(pageRoutes, { auth, providers })
  await app.register(revocationFeedRoutes, { auth, feedToken: config.revocationFeedToken })
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | null = null
  if (metrics) {
    await app.register(metricsRoutes, { metrics, token: config.metrics.token })
    const port = config.metrics.port
    if (port !== null) {
      // When the server gets ready (before it listens): a port that cannot be bound fails the start, as the
      // main port would, instead of leaving a server without its metrics.
      app.addHook('onReady', async () => {
        metricsListener = await startMetricsListener(metrics, port)
        app.log.info({ port: metricsListener.port }, 'metrics listening on 127.0.0.1')
      })
    }
  }

  const sweeper = setInterval(() => {
    auth.sweep().catch((error: unknown) => app.log.warn({ err: error }, 'could not purge expired records'))
  }, SWEEP_INTERVAL_MS)
  sweeper.unref()

  app.addHook('onClose', async () => {
    clearInterval(sweeper)
    await auth.close()
    smtp?.close()
    await metricsListener?.close()
    await opened.close()
  })
  return { app, auth, store: opened, metrics, metricsPort: () => metricsListener?.port ?? null }
}
