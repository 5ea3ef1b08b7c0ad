/**
 * The cookie session in a real browser: Debian Chromium, driven by playwright-core, against an in-process
 * Sesame server on a loopback port. It checks what `inject()` cannot: that Chromium accepts the
 * `__Host-sesame` cookie (Secure, over plain http, because `localhost` is a secure context), keeps it out of
 * `document.cookie`, sends it back on reload, and forgets it on log out; and that the forms work under the
 * pages' Content-Security-Policy.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const COOKIE_NAME = '__Host-sesame'
const SCREENSHOT = join(tmpdir(), 'sesame-browser-account-page.png')

/** The browser globals the page functions read (the project's tsconfig has no DOM lib). */
interface BrowserGlobals {
  document: { cookie: string }
}

let server: TestServer | undefined
let browser: Browser | undefined
let base = ''

beforeAll(async () => {
  server = await startTestServer()
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

/** A fresh browser profile with one tab, collecting console errors (CSP violations are reported there). */
async function openTab(): Promise<{ context: BrowserContext; page: Page; consoleErrors: string[] }> {
  const context = await browser!.newContext()
  const page = await context.newPage()
  const consoleErrors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} @ ${message.location().url}`)
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  return { context, page, consoleErrors }
}

/** The session cookies the browser holds for the server, whatever their attributes. */
async function sessionCookies(context: BrowserContext): Promise<Cookie[]> {
  return (await context.cookies(base)).filter((cookie) => cookie.name === COOKIE_NAME)
}

function pathOf(page: Page): string {
  return new URL(page.url()).pathname
}

async function submitLogIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${base}/login`)
  await page.locator('input[name="email"]').fill(email)
  await page.locator('input[name="password"]').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
}

/**
 * Each test has its own browser profile and its own account, signed up through the form, so any one of them
 * runs alone (`-t`) and none depends on another's cookie or log out.
 */
describe('cookie session in Chromium', () => {
  const password = 'correct horse battery staple'
  let accounts = 0
  let tab: Awaited<ReturnType<typeof openTab>> | undefined

  afterEach(async () => {
    await tab?.context.close()
    tab = undefined
  })

  /** A fresh tab signed up (and so signed in) through the /signup form as a new account; returns its email. */
  async function signUpInNewTab(): Promise<{ page: Page; context: BrowserContext; email: string }> {
    tab = await openTab()
    const email = `browser-user-${++accounts}@example.com`
    const { page } = tab
    await page.goto(`${base}/signup`)
    expect(await page.title()).toBe('Sign up · Sesame')
    await page.locator('input[name="email"]').fill(email)
    await page.locator('input[name="password"]').fill(password)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL(`${base}/account?notice=welcome`)
    return { page, context: tab.context, email }
  }

  /** The one session cookie the browser holds. */
  async function theSessionCookie(context: BrowserContext): Promise<Cookie> {
    const cookies = await sessionCookies(context)
    expect(cookies).toHaveLength(1)
    return cookies[0]!
  }

  async function logOut(page: Page): Promise<void> {
    // Exact: the account page also has "Log out everywhere".
    await page.getByRole('button', { name: 'Log out', exact: true }).click()
    await page.waitForURL(`${base}/login?notice=signed_out`)
  }

  it('signs up through the /signup form and lands on the account page showing the email', async () => {
    const { page, email } = await signUpInNewTab()
    expect(await page.locator('#account-email').textContent()).toBe(email)
    expect(await page.locator('header .who').textContent()).toBe(email)
  })

  it('stays signed in across a reload', async () => {
    const { page, email } = await signUpInNewTab()
    const response = await page.reload()
    expect(response?.status()).toBe(200)
    expect(pathOf(page)).toBe('/account')
    expect(await page.locator('#account-email').textContent()).toBe(email)
  })

  it('holds the session in an HttpOnly, Secure, SameSite=Lax, host-only __Host- cookie', async () => {
    const { page, context } = await signUpInNewTab()
    const documentCookie = await page.evaluate(
      () => (globalThis as unknown as BrowserGlobals).document.cookie,
    )
    expect(documentCookie).not.toContain(COOKIE_NAME)
    expect(documentCookie).toBe('')

    const cookie = await theSessionCookie(context)
    expect(cookie).toMatchObject({
      name: COOKIE_NAME,
      domain: 'localhost', // host-only: no leading dot, as the __Host- prefix demands
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    })
    expect(cookie.value.length).toBeGreaterThan(20)
    // A persistent cookie (Max-Age), not a browser-session one, expiring in the future.
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000)
  })

  it('loads the account page with its stylesheet and no console or CSP errors, and looks right', async () => {
    const { page } = await signUpInNewTab()
    // The stylesheet really applied (it would not if the CSP blocked it): the account page is 40rem wide at most.
    expect((await page.locator('main.page').boundingBox())?.width).toBe(640)
    expect(tab!.consoleErrors).toEqual([])

    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
  })

  it('logs out with the "Log out" button, lands on /login and forgets the cookie', async () => {
    const { page, context } = await signUpInNewTab()
    await logOut(page)
    expect(await page.locator('h1').textContent()).toBe('Log in')
    expect(await sessionCookies(context)).toEqual([])

    const response = await page.goto(`${base}/account`)
    expect(pathOf(page)).toBe('/login')
    expect(response?.request().redirectedFrom()?.url()).toBe(`${base}/account`)
    expect(await page.locator('#account-email').count()).toBe(0)
  })

  it('revoked the session on the server: replaying the old cookie does not sign in', async () => {
    const { page, context } = await signUpInNewTab()
    const old = await theSessionCookie(context)
    await logOut(page)
    await context.addCookies([
      {
        name: old.name,
        value: old.value,
        domain: 'localhost',
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
      },
    ])
    expect(await sessionCookies(context)).toHaveLength(1)

    await page.goto(`${base}/account`)
    expect(pathOf(page)).toBe('/login')
    // The server told the browser to drop the dead cookie.
    expect(await sessionCookies(context)).toEqual([])
  })

  it('logs in again through the /login form with a new session', async () => {
    const { page, context, email } = await signUpInNewTab()
    const old = await theSessionCookie(context)
    await logOut(page)
    await submitLogIn(page, email, password)
    await page.waitForURL(`${base}/account`)
    expect(await page.locator('#account-email').textContent()).toBe(email)

    const cookie = await theSessionCookie(context)
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })
    expect(cookie.value).not.toBe(old.value)
    expect(tab!.consoleErrors).toEqual([])
  })
})

describe('wrong password in Chromium', () => {
  it('shows an error on /login, stays there and sets no session cookie', async () => {
    const email = 'wrong-password@example.com'
    await server!.auth.signUp({ email, password: 'the right password' })
    const { context, page, consoleErrors } = await openTab()
    try {
      const posted = page.waitForResponse(
        (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/login',
      )
      await submitLogIn(page, email, 'not the right password')
      const response = await posted
      expect(response.status()).toBe(401)
      await page.locator('.error').waitFor()

      expect(pathOf(page)).toBe('/login')
      expect(await page.locator('.error').textContent()).toMatch(/\S/)
      expect(await page.locator('input[name="email"]').inputValue()).toBe(email)
      expect(await page.locator('input[name="password"]').inputValue()).toBe('')
      expect(await sessionCookies(context)).toEqual([])
      // Chromium logs the 401 document itself; nothing else (no CSP violation, no script error).
      expect(consoleErrors).toEqual([
        expect.stringMatching(/status of 401 .* @ http:\/\/localhost:\d+\/login$/),
      ])

      await page.goto(`${base}/account`)
      expect(pathOf(page)).toBe('/login')
    } finally {
      await context.close()
    }
  })
})
