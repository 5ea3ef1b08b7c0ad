/**
 * The Express example (`examples/express-pages/server.js`) in Debian's Chromium: a person signs in through the
 * form, gets the dashboard, is refused the admin page, and signs out; a second browser of the same user is
 * signed out by "log out everywhere" from the first. The session cookie keeps its production defaults (Secure,
 * HttpOnly, SameSite=Lax): `localhost` is a secure context, so Chromium accepts it over plain http.
 */
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { type ServerProcess, startNodeProcess } from '../helpers/process.js'
import { makeTempDir } from '../helpers/server.js'

const PASSWORD = 'browser example phrase'

describe('Express example in Chromium', () => {
  let app: ServerProcess
  let browser: Browser
  let base: string
  let dataDir: string

  beforeAll(async () => {
    dataDir = makeTempDir('sesame-example-browser-')
    app = await startNodeProcess(resolve(import.meta.dirname, '../../examples/express-pages/server.js'), {
      EXAMPLE_DATA_DIR: dataDir,
      EXAMPLE_PASSWORD: PASSWORD,
    })
    base = app.url.replace('127.0.0.1', 'localhost')
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    app?.child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${base}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/login') // anonymous: sent to sign in
    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', PASSWORD)
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('button[type=submit]')])
    return { context, page }
  }

  it('signs in through the form, keeps the cookie out of scripts, refuses the admin page, signs out', async () => {
    const { context, page } = await signIn('reader@example.com')
    expect(await page.textContent('body')).toContain('Signed in as reader@example.com')
    const [cookie] = await context.cookies(base)
    expect(cookie).toMatchObject({ name: 'example-session', httpOnly: true, secure: true, sameSite: 'Lax' })
    expect(await page.evaluate('document.cookie')).toBe('')

    const admin = await page.goto(`${base}/admin`)
    expect(admin?.status()).toBe(403)
    expect(await page.textContent('body')).toContain('forbidden')

    await page.goto(`${base}/dashboard`)
    await Promise.all([page.waitForURL(`${base}/login`), page.click('text=Sign out')])
    expect(await context.cookies(base)).toEqual([])
    await page.goto(`${base}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await context.close()
  })

  it('lets an admin in', async () => {
    const { context, page } = await signIn('admin@example.com')
    const admin = await page.goto(`${base}/admin`)
    expect(admin?.status()).toBe(200)
    expect(await page.textContent('body')).toContain('Only admins see this.')
    await context.close()
  })

  it('signs the other browser out with "log out everywhere" from a same-origin fetch', async () => {
    const laptop = await signIn('reader@example.com')
    const phone = await signIn('reader@example.com')
    const status = await laptop.page.evaluate(
      `fetch('/api/logout-everywhere', { method: 'POST' }).then((answer) => answer.status)`,
    )
    expect(status).toBe(204)
    await phone.page.goto(`${base}/dashboard`)
    expect(new URL(phone.page.url()).pathname).toBe('/login')
    await laptop.context.close()
    await phone.context.close()
  })
})
