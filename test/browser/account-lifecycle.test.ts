/**
 * The account lifecycle in Chromium, with real mail: sign up, receive the verification mail over SMTP (the
 * capture server of `test/helpers/mail-capture.ts`), open its link, confirm; forget the password, reset it
 * from the mailed link, and see another signed-in browser signed out; the same in Korean.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { type MailCapture, startMailCapture } from '../helpers/mail-capture.js'
import { freePort } from '../helpers/oidc-provider.js'
import { type TestServer, startTestServer } from '../helpers/server.js'

const PASSWORD = 'correct horse battery staple'
let capture: MailCapture
let server: TestServer
let browser: Browser
let base = ''
const contexts: BrowserContext[] = []

beforeAll(async () => {
  capture = await startMailCapture()
  const port = await freePort()
  base = `http://localhost:${port}`
  server = await startTestServer({
    env: { SESAME_ISSUER: base, SESAME_SMTP_URL: capture.url, SESAME_STORE: 'sqlite' },
  })
  await server.app.listen({ port, host: '127.0.0.1' })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await capture?.close()
})

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()))
})

async function newTab(locale?: string): Promise<Page> {
  const context = await browser.newContext(
    locale ? { locale, extraHTTPHeaders: { 'accept-language': locale } } : {},
  )
  contexts.push(context)
  return context.newPage()
}

/** The link in the mail's text. */
function linkIn(text: string): string {
  const link = /https?:\/\/\S+/.exec(text)?.[0]
  if (!link) throw new Error('no link in the mail')
  return link
}

async function signUp(page: Page, email: string): Promise<void> {
  await page.goto(`${base}/signup`)
  await page.locator('input[name="email"]').fill(email)
  await page.locator('input[name="password"]').fill(PASSWORD)
  await page.locator('form[action="/signup"] button[type="submit"]').click()
  await page.waitForURL(`${base}/account?notice=welcome`)
}

describe('account lifecycle in Chromium', () => {
  it('verifies the email from the mailed link: the page confirms with a button, not on opening', async () => {
    const page = await newTab()
    await signUp(page, 'verify-me@example.test')
    expect(await page.locator('#email-status').textContent()).toBe('Not verified')
    const mail = await capture.next('verify-me@example.test')
    await page.goto(linkIn(mail.text))
    // Opening the link changed nothing yet.
    await page.goto(`${base}/account`)
    expect(await page.locator('#email-status').textContent()).toBe('Not verified')
    await page.goto(linkIn(mail.text))
    await page.getByRole('button', { name: 'Confirm my email' }).click()
    await page.waitForURL(`${base}/account?notice=email_verified`)
    expect(await page.locator('#email-status').textContent()).toBe('Verified')
  })

  it('resets a forgotten password from the mail, and the other signed-in browser is signed out', async () => {
    const email = 'forgetful@example.test'
    const signedIn = await newTab()
    await signUp(signedIn, email)
    await capture.next(email) // its verification mail

    const page = await newTab()
    await page.goto(`${base}/login`)
    await page.getByRole('link', { name: 'Forgot password?' }).click()
    await page.waitForURL(`${base}/forgot-password`)
    await page.locator('input[name="email"]').fill(email)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.locator('.success').waitFor()
    expect(await page.locator('.success').textContent()).toContain('If an account uses this address')

    const mail = await capture.next(email, /reset/i)
    await page.goto(linkIn(mail.text))
    await page.locator('input[name="new_password"]').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.waitForURL(`${base}/login?notice=password_reset`)

    await signedIn.goto(`${base}/account`)
    expect(new URL(signedIn.url()).pathname).toBe('/login')

    await page.locator('input[name="email"]').fill(email)
    await page.locator('input[name="password"]').fill('a brand new passphrase')
    await page.locator('form[action="/login"] button[type="submit"]').click()
    await page.waitForURL(`${base}/account`)
  })

  it('speaks Korean with Accept-Language: ko, in the pages and in the mail', async () => {
    const page = await newTab('ko-KR')
    await page.goto(`${base}/forgot-password`)
    expect(await page.locator('h1').textContent()).toBe('비밀번호 재설정')
    await signUp(page, 'hangul@example.test')
    const mail = await capture.next('hangul@example.test')
    expect(mail.subject).toMatch(/[\uac00-\ud7a3]/)
    await page.goto(linkIn(mail.text))
    expect(await page.locator('h1').textContent()).toBe('이메일 주소 확인')
  })
})
