/**
 * A real SMTP server for the tests (the `smtp-server` package, on loopback) that keeps every mail it accepts,
 * parsed with `mailparser`: Sesame's nodemailer transport talks real SMTP to it. It can be told to refuse
 * mail (a 5xx answer to DATA), as a failing mail server would.
 */
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface CapturedMail {
  to: string
  subject: string
  text: string
  html: string
}

export interface MailCapture {
  /** `smtp://127.0.0.1:<port>` for `SESAME_SMTP_URL`. */
  readonly url: string
  readonly mails: CapturedMail[]
  /** When true, every mail is refused with `550`. */
  refuse: boolean
  /** The first mail to `to` (optionally whose subject matches) not yet returned, waiting up to 10 s. */
  next(to: string, subject?: RegExp): Promise<CapturedMail>
  close(): Promise<void>
}

/** The `token` query parameter of the first link in a mail's text. */
export function linkToken(mail: CapturedMail): { path: string; token: string } {
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0]
  if (!link) throw new Error(`no link in the mail "${mail.subject}"`)
  const url = new URL(link)
  return { path: url.pathname, token: url.searchParams.get('token') ?? '' }
}

export async function startMailCapture(): Promise<MailCapture> {
  const mails: CapturedMail[] = []
  const taken = new Set<CapturedMail>()
  const state = { refuse: false }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      if (state.refuse) {
        stream.resume()
        stream.on('end', () =>
          callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 })),
        )
        return
      }
      simpleParser(stream).then(
        (parsed) => {
          for (const recipient of session.envelope.rcptTo) {
            mails.push({
              to: recipient.address,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            })
          }
          callback()
        },
        (error: Error) => callback(error),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get refuse() {
      return state.refuse
    },
    set refuse(value) {
      state.refuse = value
    },
    async next(to, subject) {
      const deadline = Date.now() + 10_000
      for (;;) {
        const found = mails.find(
          (mail) =>
            !taken.has(mail) && mail.to === to && (subject === undefined || subject.test(mail.subject)),
        )
        if (found) {
          taken.add(found)
          return found
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} arrived`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
