/**
 * The web pages: home, sign up, log in, account (with its forms), log out, and the language switch. Plain
 * HTML forms posting to the same origin; one small script (`/assets/app.js`) adds the show-password buttons
 * and the busy state of a posting form, and every form works without it. Every page is served with a strict
 * Content-Security-Policy and `Cache-Control: no-store` (`context.ts`), in English or Korean (`language.ts`).
 *
 * The page groups live in their own modules: `home-page.ts`, `sign-in-pages.ts`, `account-pages.ts`.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth } from '../../auth.js'
import { accountPages } from './account-pages.js'
import { authorizePages } from './authorize-pages.js'
import { linkPages } from './link-pages.js'
import type { ProviderButton } from './components.js'
import { createPageContext } from './context.js'
import { homePage } from './home-page.js'
import { languageRoute } from './language.js'
import { APP_SCRIPT } from './script.js'
import { secondFactorPages } from './second-factor-pages.js'
import { signInPages } from './sign-in-pages.js'
import { twoStepPages } from './two-step-pages.js'
import { ICON_SVG, STYLESHEET } from './style.js'

export type { ProviderButton }

export interface PageRoutesOptions {
  auth: Auth
  /** Sign-in providers, in the order their buttons appear; none by default. */
  providers?: readonly ProviderButton[]
}

/**
 * Registers `/`, `/signup`, `/login`, `/logout`, `/account` and its forms, the pages links in mails open
 * (`/verify-email`, `/reset-password`, `/confirm-email`) and `/forgot-password`, `/language`, the `/assets/`,
 * and with tokens the OAuth authorization endpoint `/auth/authorize` (its consent screen).
 */
export async function pageRoutes(
  app: FastifyInstance,
  { auth, providers = [] }: PageRoutesOptions,
): Promise<void> {
  for (const [path, type, body] of [
    ['/assets/style.css', 'text/css; charset=utf-8', STYLESHEET],
    ['/assets/icon.svg', 'image/svg+xml', ICON_SVG],
    ['/assets/app.js', 'text/javascript; charset=utf-8', APP_SCRIPT],
  ] as const) {
    app.get(path, async (_request, reply) =>
      reply
        .type(type)
        .header('cache-control', 'public, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    )
  }

  const pages = createPageContext(auth, providers)
  homePage(app, pages)
  signInPages(app, pages)
  secondFactorPages(app, pages)
  twoStepPages(app, pages)
  accountPages(app, pages)
  linkPages(app, pages)
  if (auth.authorization) authorizePages(app, pages, auth.authorization)
  languageRoute(app, { secureCookies: auth.config.cookie.secure })
}
