/** The page frame shared by every web page: head, header with the session state, main content. */
import { type Html, html } from './html.js'

export interface LayoutOptions {
  title: string
  /** The signed-in user's email, shown in the header; null when signed out. */
  signedInAs: string | null
  body: Html
}

/** A whole HTML document. */
export function layout({ title, signedInAs, body }: LayoutOptions): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Sesame</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header class="bar">
          <a class="brand" href="/">Sesame</a>
          <nav>
            ${
              signedInAs
                ? html`<span class="who">${signedInAs}</span><a href="/account">Account</a>`
                : html`<a href="/login">Log in</a><a href="/signup">Sign up</a>`
            }
          </nav>
        </header>
        <main class="card">${body}</main>
      </body>
    </html>`.value
}
