/**
 * Where mail goes: a real SMTP server (`SESAME_SMTP_URL`, through nodemailer), or, with none configured, an
 * outbox folder under the data directory, so `npm start` works with no mail server: each mail is written there
 * as an `.eml` file (0600) and its link is logged, for a developer to open. Production refuses the outbox
 * (`server/config.ts`).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type { Mailer, MailRequest } from '../../auth.js'
import type { RenderedMail } from './render.js'

export interface MailerOptions {
  /** The `From` header, e.g. `Sesame <no-reply@example.com>`. */
  from: string
  render: (mail: MailRequest) => RenderedMail
}

/** Seconds nodemailer gives the SMTP server to connect, greet and answer each command. */
const SMTP_TIMEOUT_MS = 10_000

/** Sends over SMTP (`smtp://` with STARTTLS when offered, or `smtps://`), credentials in the URL. */
export function createSmtpMailer(url: string, options: MailerOptions): Mailer & { close(): void } {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  })
  return {
    async send(mail) {
      const rendered = options.render(mail)
      await transport.sendMail({ from: options.from, to: mail.to, ...rendered })
    },
    close: () => transport.close(),
  }
}

/** Writes each mail to `directory` and tells `log` where it is and the link it carries. */
export function createOutboxMailer(
  directory: string,
  options: MailerOptions & { log: (fields: Record<string, unknown>, message: string) => void },
): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    async send(mail) {
      const rendered = options.render(mail)
      const { message } = (await transport.sendMail({ from: options.from, to: mail.to, ...rendered })) as {
        message: Buffer
      }
      mkdirSync(directory, { recursive: true, mode: 0o700 })
      const file = join(directory, `${Date.now()}-${mail.kind}-${randomBytes(4).toString('hex')}.eml`)
      writeFileSync(file, message, { mode: 0o600 })
      // Development only (no mail server): the link is what a developer needs to go on.
      options.log(
        { kind: mail.kind, file, link: mail.link },
        'mail written to the outbox (no SESAME_SMTP_URL)',
      )
    },
  }
}
