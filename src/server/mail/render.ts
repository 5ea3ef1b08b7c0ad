/**
 * A mail's subject and bodies in the recipient's language, from the same message catalogues the pages use
 * (`http/messages/`): plain text, and HTML made from it with every value escaped and the link clickable.
 */
import type { MailRequest } from '../../auth.js'
import { mailText } from '../../http/messages/index.js'
import { escapeHtml } from '../../http/pages/html.js'

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

export function renderMail(mail: MailRequest): RenderedMail {
  const { subject, text } = mailText(mail)
  const html = text
    .split(/\n{2,}/)
    .map((paragraph) => {
      const escaped = escapeHtml(paragraph).replaceAll('\n', '<br>')
      return mail.link !== null && paragraph.trim() === mail.link
        ? `<p><a href="${escaped}">${escaped}</a></p>`
        : `<p>${escaped}</p>`
    })
    .join('\n')
  return { subject, text, html }
}
