/**
 * The page frame shared by every web page: head (stylesheet, icon, the one script), a header with the session
 * state, the content, and a footer with the language switch.
 */
import { LANGUAGES, type Language, type Messages, messagesFor } from '../messages/index.js'
import { type Html, html } from './html.js'
import { ICONS } from './icons.js'

export interface LayoutOptions {
  /** The page's own title; the document's is "<title> · Sesame". */
  title: string
  /** The signed-in user's email, shown in the header; null when signed out. */
  signedInAs: string | null
  language: Language
  messages: Messages
  /** The path the language switch brings the browser back to. */
  path: string
  body: Html
}

/** A whole HTML document. */
export function layout({ title, signedInAs, language, messages, path, body }: LayoutOptions): string {
  const t = messages.layout
  return html`<!doctype html>
    <html lang="${language}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>${title} · ${t.siteName}</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <header class="bar">
          <a class="brand" href="/" aria-label="${t.homeLabel}">${ICONS.logo}<span>${t.siteName}</span></a>
          <nav>
            ${
              signedInAs
                ? html`<span class="who" title="${t.signedInAs} ${signedInAs}">${signedInAs}</span
                    ><a href="/account">${t.account}</a>`
                : html`<a href="/login">${t.logIn}</a><a class="cta" href="/signup">${t.signUp}</a>`
            }
          </nav>
        </header>
        ${body}
        <footer class="foot">
          <p>${t.footer}</p>
          ${languageSwitch(language, messages, path)}
        </footer>
      </body>
    </html>`.value
}

/** One button per other language, posting to `/language`; the current one is marked, not a button. */
function languageSwitch(current: Language, messages: Messages, path: string): Html {
  return html`<form
    class="languages"
    method="post"
    action="/language"
    aria-label="${messages.language.switchLabel}"
  >
    ${ICONS.globe}
    <input type="hidden" name="return_to" value="${path}" />
    ${LANGUAGES.map((language) => {
      const name = messagesFor(language).language.name
      return language === current
        ? html`<span class="current" lang="${language}" aria-current="true">${name}</span>`
        : html`<button type="submit" name="language" value="${language}" lang="${language}">${name}</button>`
    })}
  </form>`
}
