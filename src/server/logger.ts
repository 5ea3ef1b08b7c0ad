/**
 * The server's logger, and the per-request loggers Fastify hands to handlers.
 *
 * Fastify given a logger makes a pino child for every request and times every response (a listener added and
 * removed on each), even with its per-request lines off. Below debug, where nothing logs a plain request, Sesame
 * instead gives Fastify no logger and a child factory whose children cost one small object each and become pino
 * children only when something logs (a refusal, an error).
 */
import { createRequire } from 'node:module'
import type { FastifyBaseLogger, FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions, LogFn, LoggerOptions } from 'pino'
import type { Config } from './config.js'

type LoggerFactory = (options: LoggerOptions, stream?: { write(line: string): void }) => FastifyBaseLogger

// The pino Fastify itself runs on (a direct dependency of Fastify), found from Fastify's own location so that no
// package-manager layout can give Sesame a second, different copy.
const pino = createRequire(createRequire(import.meta.url).resolve('fastify'))('pino') as LoggerFactory

/** The server's pino logger at the configured level, writing to `stream` (default stdout). */
export function createServerLogger(
  config: Pick<Readonly<Config>, 'logLevel'>,
  stream?: { write(line: string): void },
): FastifyBaseLogger {
  return pino(
    {
      level: config.logLevel,
      // Defence in depth: the serializers below log no headers, but never let a credential through.
      redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
      serializers: {
        // The path without its query: links in mails carry one-time tokens there (`/reset-password?token=`), and
        // a provider's callback its code and state.
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: request.url.split('?')[0],
          host: request.host,
          remoteAddress: request.ip,
        }),
        res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      },
    },
    stream,
  )
}

/** Whether Fastify should log every request's arrival and answer (only at debug and trace). */
export function logsEveryRequest(config: Pick<Readonly<Config>, 'logLevel'>): boolean {
  return config.logLevel === 'debug' || config.logLevel === 'trace'
}

/** A Fastify child-logger factory whose children are children of `parent`, made on their first line. */
export function deferredChildLoggers(
  parent: FastifyBaseLogger,
): NonNullable<FastifyServerOptions['childLoggerFactory']> {
  return (_fastifyLogger, bindings, options) => new DeferredChildLogger(parent, bindings, options)
}

// Methods on the prototype, not arrow fields: a request that never logs pays for one object, not seven closures.
class DeferredChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #logger(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options))
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level
  }
  set level(level: string) {
    this.#logger().level = level
  }

  fatal(...args: Parameters<LogFn>): void {
    this.#logger().fatal(...args)
  }
  error(...args: Parameters<LogFn>): void {
    this.#logger().error(...args)
  }
  warn(...args: Parameters<LogFn>): void {
    this.#logger().warn(...args)
  }
  info(...args: Parameters<LogFn>): void {
    this.#logger().info(...args)
  }
  debug(...args: Parameters<LogFn>): void {
    this.#logger().debug(...args)
  }
  trace(...args: Parameters<LogFn>): void {
    this.#logger().trace(...args)
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options)
  }
}
