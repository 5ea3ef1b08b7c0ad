/** The home page, `/`: what Sesame is, with the way in; or, signed in, the way to the account. */
import type { FastifyInstance } from 'fastify'
import type { Messages } from '../messages/index.js'
import { PAGE, type PageContext } from './context.js'
import { type Html, html } from './html.js'
import { ICONS } from './icons.js'

export function homePage(app: FastifyInstance, pages: PageContext): void {
  app.get('/', PAGE, async (request, reply) => {
    const session = pages.session(request)
    const { messages } = pages.speak(request)
    return pages.render(request, reply, {
      title: messages.home.title,
      signedInAs: session?.user.email ?? null,
      body: homeView(messages, session?.user.email ?? null),
    })
  })
}

function homeView(messages: Messages, email: string | null): Html {
  const t = messages.home
  if (email) {
    return html`<main class="hero">
      <div class="mark">${ICONS.logo}</div>
      <h1>${t.signedInHeading}</h1>
      <p class="lead">${t.signedInLead(email)}</p>
      <p class="actions"><a class="button" href="/account">${t.goToAccount}</a></p>
    </main>`
  }
  const features: [Html, string, string][] = [
    [ICONS.devices, t.devicesTitle, t.devicesText],
    [ICONS.lock, t.passwordsTitle, t.passwordsText],
    [ICONS.exit, t.everywhereTitle, t.everywhereText],
  ]
  return html`<main class="hero">
    <div class="mark">${ICONS.logo}</div>
    <h1>${t.heading}</h1>
    <p class="lead">${t.lead}</p>
    <p class="actions">
      <a class="button" href="/signup">${t.signUp}</a>
      <a class="button secondary" href="/login">${t.logIn}</a>
    </p>
    <ul class="features">
      ${features.map(
        ([icon, title, text]) =>
          html`<li>
            <span class="icon">${icon}</span>
            <h2>${title}</h2>
            <p>${text}</p>
          </li>`,
      )}
    </ul>
  </main>`
}
