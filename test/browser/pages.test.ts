/**
 * The web pages as a person meets them, in Chromium: the welcome after sign-up and the word after sign-out,
 * field errors in plain words, the show-password button, the busy submit button, English and Korean (the
 * switch, remembered, and Accept-Language), the devices on the account page (end one, end all), a 390 px
 * screen with nothing touching its edges, and no console error anywhere (CSP violations are reported there).
 * The run also takes screenshots (light and dark, 390 px and desktop; see SCREENSHOTS for where they go).
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseTotpKey, totpCode, totpStep } from '../../src/core/totp.js'
import { launchChromium } from '../helpers/browser.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Every run writes the screenshots under .test-data/ (CI keeps them as artifacts); with
 * SESAME_UPDATE_SCREENSHOTS=1 they replace the committed set in docs/screenshots/ that the README links.
 */
const SCREENSHOTS = resolve(
  import.meta.dirname,
  process.env['SESAME_UPDATE_SCREENSHOTS'] === '1'
    ? '../../docs/screenshots'
    : '../../.test-data/screenshots',
)
const PASSWORD = 'correct horse battery staple'
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }
// Timeouts: every sign-in hashes with argon2, slow on a shared 2-core machine; a test signs in several times.

/** The browser globals the page functions read (the project's tsconfig has no DOM lib). */
interface BrowserGlobals {
  document: { documentElement: { scrollWidth: number } }
}

interface PageElement {
  disabled: boolean
  textContent: string | null
  getAttribute(name: string): string | null
  querySelector(selector: string): PageElement | null
}

interface PageGlobals {
  document: { querySelector(selector: string): PageElement | null }
  console: { info(text: string): void }
  getComputedStyle(element: PageElement): { display: string }
  MutationObserver: new (callback: () => void) => { observe(target: PageElement, options: object): void }
}

interface ButtonState {
  disabled: boolean
  busy: string | null
  label: string | null
  spinner: string
}

/** While set, `POST /login` waits for it: the page stays on its busy state as long as the test looks. */
let loginHeld: Promise<void> | null = null

/** Holds the next `POST /login` answers until the returned function is called. */
function holdLogInPosts(): () => void {
  let release: () => void = () => {}
  loginHeld = new Promise<void>((resolve) => (release = resolve))
  return () => {
    loginHeld = null
    release()
  }
}

let server: TestServer | undefined
let browser: Browser | undefined
let base = ''
let accounts = 0

beforeAll(async () => {
  // Many sign-ups from one address: the per-address limit is raised so the tests never meet it.
  server = await startTestServer({
    env: { SESAME_SIGNUPS_PER_IP: '1000' },
    configure: (app) =>
      app.addHook('onRequest', async (request) => {
        if (request.method === 'POST' && request.url === '/login' && loginHeld) await loginHeld
      }),
  })
  await server.app.listen({ port: 0, host: '127.0.0.1' })
  const address = server.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address')
  // `localhost`, not 127.0.0.1: Chromium treats it as a secure context, so it accepts Secure cookies over http.
  base = `http://localhost:${address.port}`
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

interface Tab {
  context: BrowserContext
  page: Page
  /** Console errors and page errors, except Chromium's line for a 4xx document the test asked for. */
  consoleErrors: string[]
}

const opened: Tab[] = []

afterEach(async () => {
  for (const tab of opened.splice(0)) {
    expect(tab.consoleErrors, 'console errors').toEqual([])
    await tab.context.close()
  }
})

/** A fresh browser profile with one tab; its console errors are checked when the test ends. */
async function openTab(options: BrowserContextOptions = {}): Promise<Tab> {
  const context = await browser!.newContext(options)
  // A step that cannot happen fails with the step's own message, well before the test's timeout.
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const consoleErrors: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // A refused form answers 4xx, which Chromium logs for the document itself.
    if (/the server responded with a status of 4\d\d/.test(message.text())) return
    consoleErrors.push(`${message.text()} @ ${message.location().url}`)
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  const tab = { context, page, consoleErrors }
  opened.push(tab)
  return tab
}

function newEmail(): string {
  return `pages-${++accounts}@example.com`
}

function pathOf(page: Page): string {
  const url = new URL(page.url())
  return url.pathname + url.search
}

async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/login`)
  await page.locator('input[name="email"]').fill(email)
  await page.locator('input[name="password"]').fill(password)
  // By its place, not its name: the page may be in any language.
  await page.locator('form[action="/login"] button[type="submit"]').click()
  await page.waitForURL(`${base}/account`)
}

/** An account made through the engine (no form), and a tab signed in to it. */
async function signedInTab(options: BrowserContextOptions = {}): Promise<Tab & { email: string }> {
  const email = newEmail()
  await server!.auth.signUp({ email, password: PASSWORD })
  const tab = await openTab(options)
  await logIn(tab.page, email)
  return { ...tab, email }
}

describe('sign-up, log-in and log-out', { timeout: 90_000 }, () => {
  it('welcomes a new account on the account page, which shows the email as not verified', async () => {
    const { page } = await openTab()
    const email = newEmail()
    await page.goto(`${base}/signup`)
    expect(await page.title()).toBe('Sign up · Sesame')
    await page.locator('input[name="email"]').fill(email)
    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL(`${base}/account?notice=welcome`)
    expect(await page.locator('.success').textContent()).toContain('Welcome')
    expect(await page.locator('#account-email').textContent()).toBe(email)
    expect(await page.locator('#email-status').textContent()).toBe('Not verified')
    expect(await page.locator('header .who').textContent()).toBe(email)
  })

  it('explains a weak password next to the field in plain words, keeping the email', async () => {
    const { page } = await openTab()
    const email = newEmail()
    await page.goto(`${base}/signup`)
    await page.locator('input[name="email"]').fill(email)
    await page.locator('input[name="password"]').fill('password')
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.locator('#password-error').waitFor()

    expect(pathOf(page)).toBe('/signup')
    expect(await page.locator('#password-error').textContent()).toBe(
      'This password is too common and easy to guess. Choose another one.',
    )
    const password = page.locator('input[name="password"]')
    expect(await password.getAttribute('aria-invalid')).toBe('true')
    expect(await password.getAttribute('aria-describedby')).toContain('password-error')
    expect(await password.inputValue()).toBe('') // a password is never written back
    expect(await page.locator('input[name="email"]').inputValue()).toBe(email)
    const text = await page.locator('main').textContent()
    expect(text).not.toContain('"password"')
    expect(text).not.toContain('field')

    // A taken email is said next to the email field.
    await server!.auth.signUp({ email: 'taken@example.com', password: PASSWORD }).catch(() => undefined)
    await page.locator('input[name="email"]').fill('taken@example.com')
    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.locator('#email-error').waitFor()
    expect(await page.locator('#email-error').textContent()).toContain('already exists')
    expect(await page.locator('#password-error').count()).toBe(0)
  })

  it('says "You are signed out" on /login after logging out, which links "Forgot password?"', async () => {
    const { page, context } = await signedInTab()
    await page.getByRole('button', { name: 'Log out', exact: true }).click()
    await page.waitForURL(`${base}/login?notice=signed_out`)
    expect(await page.locator('.success').textContent()).toContain('You are signed out')
    expect((await context.cookies(base)).filter((cookie) => cookie.name === '__Host-sesame')).toEqual([])
    const forgot = page.getByRole('link', { name: 'Forgot password?' })
    expect(await forgot.getAttribute('href')).toBe('/forgot-password')
  })

  it('shows a wrong password as one message for the form, not naming which was wrong', async () => {
    const { page, email } = await signedInTab()
    await page.getByRole('button', { name: 'Log out', exact: true }).click()
    await page.waitForURL(`${base}/login?notice=signed_out`)
    await page.locator('input[name="email"]').fill(email)
    await page.locator('input[name="password"]').fill('not the password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.locator('.error').waitFor()
    expect(await page.locator('.error').textContent()).toContain('The email or password is incorrect.')
    expect(await page.locator('.success').count()).toBe(0)
  })

  it('the show-password button flips the input between hidden and plain text', async () => {
    const { page } = await openTab()
    await page.goto(`${base}/login`)
    const input = page.locator('input[name="password"]')
    const toggle = page.getByRole('button', { name: 'Show password' })
    await toggle.waitFor({ state: 'visible' }) // shown by /assets/app.js: the script ran under the CSP
    await input.fill('a secret')
    expect(await input.getAttribute('type')).toBe('password')
    expect(await toggle.getAttribute('aria-pressed')).toBe('false')

    await toggle.click()
    expect(await input.getAttribute('type')).toBe('text')
    expect(await toggle.getAttribute('aria-pressed')).toBe('true')
    expect(await toggle.textContent()).toContain('Hide')
    expect(await input.inputValue()).toBe('a secret')

    await toggle.click()
    expect(await input.getAttribute('type')).toBe('password')
    expect(await toggle.textContent()).toContain('Show')
  })

  it('disables the submit button with a spinner and a label while the form posts', async () => {
    const email = newEmail()
    await server!.auth.signUp({ email, password: PASSWORD })
    const { page } = await openTab()
    await page.goto(`${base}/login`)
    // While a navigation is pending Playwright does not query the page, so the page reports its button's
    // state itself, on the console, each time the button changes.
    const states: ButtonState[] = []
    page.on('console', (message) => {
      if (message.type() === 'info' && message.text().startsWith('button-state ')) {
        states.push(JSON.parse(message.text().slice('button-state '.length)) as ButtonState)
      }
    })
    await page.evaluate(() => {
      const page = globalThis as unknown as PageGlobals
      const button = page.document.querySelector('form[action="/login"] button[type="submit"]')!
      const report = (): void =>
        page.console.info(
          'button-state ' +
            JSON.stringify({
              disabled: button.disabled,
              busy: button.getAttribute('aria-busy'),
              label: button.querySelector('.label')?.textContent ?? null,
              spinner: page.getComputedStyle(button.querySelector('.spinner')!).display,
            }),
        )
      new page.MutationObserver(report).observe(button, {
        attributes: true,
        childList: true,
        subtree: true,
        characterData: true,
      })
      report()
    })
    expect(states.at(-1)).toEqual({ disabled: false, busy: null, label: 'Log in', spinner: 'none' })

    const release = holdLogInPosts()
    try {
      await page.locator('input[name="email"]').fill(email)
      await page.locator('input[name="password"]').fill(PASSWORD)
      await page.locator('form[action="/login"] button[type="submit"]').click({ noWaitAfter: true })
      await expect
        .poll(() => states.at(-1))
        .toEqual({
          disabled: true,
          busy: 'true',
          label: 'Logging in…',
          spinner: expect.not.stringMatching(/^none$/), // shown
        })
    } finally {
      release()
    }
    await page.waitForURL(`${base}/account`)
  })
})

describe('languages', { timeout: 90_000 }, () => {
  it('switches to Korean with the switch, and every page stays Korean', async () => {
    const { page, context } = await openTab()
    await page.goto(`${base}/login`)
    expect(await page.locator('html').getAttribute('lang')).toBe('en')
    await page.getByRole('button', { name: '한국어' }).click()
    await page.waitForURL(`${base}/login`)
    expect(await page.locator('html').getAttribute('lang')).toBe('ko')
    expect(await page.locator('h1').textContent()).toBe('로그인')
    expect(await page.getByRole('link', { name: '비밀번호를 잊으셨나요?' }).count()).toBe(1)

    const cookie = (await context.cookies(base)).find((found) => found.name === 'sesame-lang')
    expect(cookie).toMatchObject({ value: 'ko', sameSite: 'Lax', httpOnly: true, path: '/' })
    expect(cookie!.expires - Date.now() / 1000).toBeGreaterThan(360 * 24 * 3600)

    await page.goto(`${base}/signup`)
    expect(await page.title()).toBe('회원가입 · Sesame')
    await page.locator('input[name="email"]').fill(newEmail())
    await page.locator('input[name="password"]').fill('password')
    await page.getByRole('button', { name: '회원가입' }).click()
    await page.locator('#password-error').waitFor()
    expect(await page.locator('#password-error').textContent()).toContain('추측하기 쉬운 비밀번호')

    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.getByRole('button', { name: '회원가입' }).click()
    await page.waitForURL(`${base}/account?notice=welcome`)
    expect(await page.locator('.success').textContent()).toContain('환영합니다')
    expect(await page.locator('h1').textContent()).toBe('내 계정')

    await page.goto(`${base}/`)
    expect(await page.locator('html').getAttribute('lang')).toBe('ko')

    // And back: the choice is remembered the other way too.
    await page.getByRole('button', { name: 'English' }).click()
    await page.waitForURL(`${base}/`)
    expect(await page.locator('html').getAttribute('lang')).toBe('en')
  })

  it('serves Korean pages to a browser asking for Korean, and English to one asking for neither', async () => {
    const korean = await openTab({ extraHTTPHeaders: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } })
    for (const [path, title] of [
      ['/', '환영합니다 · Sesame'],
      ['/login', '로그인 · Sesame'],
      ['/signup', '회원가입 · Sesame'],
    ]) {
      const response = await korean.page.goto(`${base}${path}`)
      expect(await korean.page.title(), path).toBe(title)
      expect(response?.headers()['content-language'], path).toBe('ko')
    }
    await korean.page.goto(`${base}/login?notice=signed_out`)
    expect(await korean.page.locator('.success').textContent()).toContain('로그아웃되었습니다')

    const french = await openTab({ extraHTTPHeaders: { 'accept-language': 'fr-FR,fr;q=0.9' } })
    await french.page.goto(`${base}/login`)
    expect(await french.page.title()).toBe('Log in · Sesame')

    // English weighted above Korean wins.
    const both = await openTab({ extraHTTPHeaders: { 'accept-language': 'ko;q=0.5, en;q=0.8' } })
    await both.page.goto(`${base}/login`)
    expect(await both.page.locator('html').getAttribute('lang')).toBe('en')
  })
})

describe('the devices on the account page', { timeout: 90_000 }, () => {
  it('lists two browsers, marks this one, and ending the other signs that browser out', async () => {
    const first = await signedInTab()
    const second = await openTab({ userAgent: FIREFOX_ON_WINDOWS })
    await logIn(second.page, first.email)

    await first.page.goto(`${base}/account`)
    const devices = first.page.locator('#devices li')
    expect(await devices.count()).toBe(2)
    const current = first.page.locator('#devices li[data-current]')
    expect(await current.textContent()).toContain('This device')
    expect(await current.locator('.device-name').textContent()).toBe('Chrome on Linux')
    expect(await current.getByRole('button').count()).toBe(0)
    const other = first.page.locator('#devices li:not([data-current])')
    expect(await other.locator('.device-name').textContent()).toBe('Firefox on Windows')
    expect(await other.locator('.meta').textContent()).toContain('Active now')
    expect(await other.locator('.ip').textContent()).toBe('127.0.0.1')

    await other.getByRole('button', { name: 'Log out Firefox on Windows' }).click()
    await first.page.waitForURL(`${base}/account?notice=device_ended`)
    expect(await first.page.locator('.success').textContent()).toContain('That device is logged out.')
    expect(await first.page.locator('#devices li').count()).toBe(1)

    await second.page.goto(`${base}/account`)
    expect(new URL(second.page.url()).pathname).toBe('/login')
    // The first browser is still signed in.
    await first.page.reload()
    expect(pathOf(first.page)).toBe('/account?notice=device_ended')
  })

  it('logs out the other devices, keeping this one', async () => {
    const first = await signedInTab()
    const second = await openTab({ userAgent: FIREFOX_ON_WINDOWS })
    await logIn(second.page, first.email)
    await first.page.goto(`${base}/account`)
    await first.page.getByRole('button', { name: 'Log out other devices' }).click()
    await first.page.waitForURL(`${base}/account?notice=others_ended`)
    expect(await first.page.locator('#devices li').count()).toBe(1)
    expect(await first.page.getByRole('button', { name: 'Log out other devices' }).count()).toBe(0)
    await second.page.goto(`${base}/account`)
    expect(new URL(second.page.url()).pathname).toBe('/login')
  })

  it('logs out everywhere: both browsers are signed out and this one forgets its cookie', async () => {
    const first = await signedInTab()
    const second = await openTab({ userAgent: FIREFOX_ON_WINDOWS })
    await logIn(second.page, first.email)
    await first.page.goto(`${base}/account`)
    await first.page.getByRole('button', { name: 'Log out everywhere' }).click()
    await first.page.waitForURL(`${base}/login?notice=signed_out_everywhere`)
    expect(await first.page.locator('.success').textContent()).toContain('signed out on every device')
    expect((await first.context.cookies(base)).filter((cookie) => cookie.name === '__Host-sesame')).toEqual(
      [],
    )
    for (const tab of [first, second]) {
      await tab.page.goto(`${base}/account`)
      expect(new URL(tab.page.url()).pathname).toBe('/login')
    }
  })

  it('changes the password: a wrong current one is said next to its field, then the change is made', async () => {
    const { page, email } = await signedInTab()
    await page.goto(`${base}/account`)
    await page.locator('#password input[name="current_password"]').fill('not my password')
    await page.locator('input[name="new_password"]').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.locator('#current-password-error').waitFor()
    expect(await page.locator('#current-password-error').textContent()).toBe(
      'That is not your current password.',
    )

    await page.locator('#password input[name="current_password"]').fill(PASSWORD)
    await page.locator('input[name="new_password"]').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForURL(`${base}/account?notice=password_changed`)
    await page.getByRole('button', { name: 'Log out', exact: true }).click()
    await page.waitForURL(`${base}/login?notice=signed_out`)
    await logIn(page, email, 'a brand new passphrase')
  })
})

describe('the home page', { timeout: 90_000 }, () => {
  it('says what Sesame is with the ways in, or leads a signed-in person to the account', async () => {
    const anonymous = await openTab()
    const response = await anonymous.page.goto(`${base}/`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['x-frame-options']).toBe('DENY')
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
    expect(await anonymous.page.locator('h1').textContent()).toBe('One account, kept safe')
    const main = anonymous.page.locator('main')
    expect(await main.getByRole('link', { name: 'Log in' }).getAttribute('href')).toBe('/login')
    expect(await main.getByRole('link', { name: 'Create an account' }).getAttribute('href')).toBe('/signup')

    const { page, email } = await signedInTab()
    await page.goto(`${base}/`)
    expect(await page.locator('main').textContent()).toContain(`You are signed in as ${email}.`)
    await page.getByRole('link', { name: 'Go to your account' }).click()
    await page.waitForURL(`${base}/account`)
  })
})

describe('at 390 px', { timeout: 90_000 }, () => {
  it.each(['en', 'ko'])('(%s) no page overflows sideways and no card touches the edges', async (language) => {
    const tab = await signedInTab({ viewport: PHONE, extraHTTPHeaders: { 'accept-language': language } })
    const second = await openTab({ userAgent: FIREFOX_ON_WINDOWS })
    await logIn(second.page, tab.email)
    for (const path of ['/', '/account', '/login', '/signup']) {
      if (path === '/login') {
        await tab.page
          .getByRole('button', { name: language === 'ko' ? '로그아웃' : 'Log out', exact: true })
          .click()
        await tab.page.waitForURL(`${base}/login?notice=signed_out`)
      } else {
        await tab.page.goto(`${base}${path}`)
      }
      const width = await tab.page.evaluate(() => {
        const root = (globalThis as unknown as BrowserGlobals).document.documentElement
        return root.scrollWidth
      })
      expect(width, path).toBeLessThanOrEqual(390)
      for (const box of await tab.page.locator('main.card, main .panel, .features li').all()) {
        const bounds = (await box.boundingBox())!
        expect(bounds.x, path).toBeGreaterThanOrEqual(12)
        expect(bounds.x + bounds.width, path).toBeLessThanOrEqual(390 - 12)
      }
    }
  })
})

/** Light and dark at 390 px and on a desktop, in English; and light at 390 px in Korean. */
const SCREENSHOT_VARIANTS = [
  ...(['light', 'dark'] as const).flatMap((colorScheme) =>
    (['390', 'desktop'] as const).map((size) => ({ colorScheme, size, language: 'en' })),
  ),
  { colorScheme: 'light', size: '390', language: 'ko' },
] as const

describe('screenshots', { timeout: 300_000 }, () => {
  it('takes light and dark, 390 px and desktop screenshots of /, /login, /signup, /account and the consent screen', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    const email = 'ada@example.com'
    const user = await server!.auth.signUp({ email, password: PASSWORD })
    // An app the person allowed in, and one asking (the consent screen).
    await server!.auth.clients.register({
      id: 'notes',
      name: 'Sesame Notes',
      redirectUris: ['https://notes.example.com/callback'],
    })
    await server!.store.putConsent({
      userId: user.id,
      clientId: 'notes',
      scopes: ['openid', 'email', 'offline_access'],
      grantedAt: Math.floor(Date.now() / 1000) - 86_400 * 3,
    })
    const consentUrl = `${base}/auth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'notes',
      redirect_uri: 'https://notes.example.com/callback',
      scope: 'openid email offline_access',
      state: 'screenshot',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      prompt: 'consent',
    }).toString()}`
    // Another browser and an app, so the device list shows what it can.
    const other = await openTab({ userAgent: FIREFOX_ON_WINDOWS })
    await logIn(other.page, email)
    await server!.auth.tokens.grantPassword({
      username: email,
      password: PASSWORD,
      userAgent: 'SesameNotes/2.1 (iPhone; iOS 18.1)',
      ip: '203.0.113.7',
    })

    for (const { colorScheme, size, language } of SCREENSHOT_VARIANTS) {
      const tab = await openTab({
        viewport: size === '390' ? PHONE : DESKTOP,
        deviceScaleFactor: size === '390' ? 2 : 1,
        colorScheme,
        extraHTTPHeaders: { 'accept-language': language },
      })
      const shot = (name: string) =>
        tab.page.screenshot({
          path: join(
            SCREENSHOTS,
            `${name}-${colorScheme}-${size}${language === 'en' ? '' : `-${language}`}.png`,
          ),
          fullPage: true,
        })
      await tab.page.goto(`${base}/`)
      await shot('home')
      await tab.page.goto(`${base}/signup`)
      await shot('signup')
      if (size === '390' && colorScheme === 'light') {
        // A refused sign-up: the words next to the field.
        await tab.page.locator('input[name="email"]').fill('new-person@example.com')
        await tab.page.locator('input[name="password"]').fill('password')
        await tab.page.locator('form[action="/signup"] button[type="submit"]').click()
        await tab.page.locator('#password-error').waitFor()
        await shot('signup-error')
      }
      await tab.page.goto(`${base}/login`)
      await shot('login')
      await logIn(tab.page, email)
      await shot('account')
      await tab.page.goto(consentUrl)
      await tab.page.locator('ul.scopes').waitFor()
      await shot('consent')
      await tab.page.goto(`${base}/account`)
      // Logged out again, so that every account screenshot shows the same three devices.
      await tab.page.locator('form[action="/logout"] button[type="submit"]').click()
      await tab.page.waitForURL(`${base}/login?notice=signed_out`)
    }
  })

  it('sets up two-step sign-in and signs in with it, taking screenshots of each step', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    for (const { colorScheme, size, language } of SCREENSHOT_VARIANTS) {
      const email = newEmail()
      await server!.auth.signUp({ email, password: PASSWORD })
      const tabOptions = {
        viewport: size === '390' ? PHONE : DESKTOP,
        deviceScaleFactor: size === '390' ? 2 : 1,
        colorScheme,
        extraHTTPHeaders: { 'accept-language': language },
      }
      const name = (page: string) =>
        join(SCREENSHOTS, `${page}-${colorScheme}-${size}${language === 'en' ? '' : `-${language}`}.png`)
      const setup = await openTab(tabOptions)
      await logIn(setup.page, email)
      await setup.page.locator('a[href="/account/two-step/setup"]').click()
      await setup.page.waitForURL(`${base}/account/two-step/setup`)
      await setup.page.screenshot({ path: name('two-step-setup'), fullPage: true })
      // What a person with an authenticator app does: the app reads the key and shows the current code.
      const key = parseTotpKey((await setup.page.locator('#totp-secret').textContent())!)!
      await setup.page.locator('input[name="code"]').fill(totpCode(key, totpStep(Date.now() / 1000)))
      await setup.page.locator('form[action="/account/two-step/setup"] button[type="submit"]').click()
      await setup.page.locator('#recovery-codes').waitFor()
      await setup.page.screenshot({ path: name('recovery-codes'), fullPage: true })
      const codes = await setup.page.locator('#recovery-codes li').allTextContents()
      expect(codes).toHaveLength(10)
      await setup.page.locator('a[href="/account?notice=two_step_on"]').click()
      await setup.page.locator('#recovery-codes-left').waitFor()
      await setup.page.screenshot({ path: name('account-two-step'), fullPage: true })

      // Another browser: the password leads to the code page (the Strict pending cookie travels with the
      // form's post in a real browser), and a recovery code finishes the sign-in.
      const other = await openTab(tabOptions)
      await other.page.goto(`${base}/login`)
      await other.page.locator('input[name="email"]').fill(email)
      await other.page.locator('input[name="password"]').fill(PASSWORD)
      await other.page.locator('form[action="/login"] button[type="submit"]').click()
      await other.page.waitForURL(`${base}/login/second-factor`)
      await other.page.screenshot({ path: name('second-factor'), fullPage: true })
      await other.page.locator('a[href="/login/second-factor?method=recovery_code"]').click()
      await other.page.locator('input[name="recovery_code"]').fill(codes[0]!)
      await other.page.locator('form[action="/login/second-factor"] button[type="submit"]').click()
      await other.page.waitForURL(`${base}/account`)
      expect(await other.page.locator('#recovery-codes-left').textContent()).toMatch(/9/)
    }
  })
})
