/**
 * Sign-in through an OpenID provider in Chromium, on every store: the "Continue with" button on /login, the
 * provider's own login and consent screens (panva's `oidc-provider` on loopback), and back on /account
 * signed in; a second sign-in reaching the same user; linking a provider to a password account from the
 * account page and unlinking it. Sesame listens on a real port here, with its default `__Host-` cookies.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.js'
import { EVERY_STORE, useEveryStore } from '../helpers/every-store.js'
import { type TestOidcProvider, freePort, startOidcProvider } from '../helpers/oidc-provider.js'
import type { TestServer } from '../helpers/server.js'

/** One Sesame port per store, known before the provider starts: it registers their redirect URIs. */
const ports = new Map<string, number>()
let provider: TestOidcProvider
let browser: Browser

beforeAll(async () => {
  for (const target of EVERY_STORE) ports.set(target.name, await freePort())
  provider = await startOidcProvider({
    redirectUris: [...ports.values()].map((port) => `http://localhost:${port}/auth/social/corp/callback`),
  })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await provider?.close()
})

/** Signs in at the provider's development screens: any login name, any password, then consent. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.origin === provider.issuer)
  await page.locator('input[name="login"]').fill(login)
  await page.locator('input[name="password"]').fill('any password')
  await page.locator('button[type="submit"]').click()
  // The consent screen: "Continue".
  await page.getByRole('button', { name: 'Continue' }).click()
}

describe.each(EVERY_STORE)('social sign-in in Chromium on $name', (target) => {
  const stores = useEveryStore(target)
  let base = ''
  let context: BrowserContext | undefined

  afterEach(async () => {
    await context?.close()
    context = undefined
  })

  let server: TestServer | undefined

  async function startSesame(): Promise<void> {
    const port = ports.get(target.name)!
    base = `http://localhost:${port}`
    server = await stores.start({
      env: {
        SESAME_ISSUER: base,
        SESAME_SOCIAL_PROVIDERS: 'corp',
        SESAME_SOCIAL_CORP_CLIENT_ID: provider.clientId,
        SESAME_SOCIAL_CORP_CLIENT_SECRET: provider.clientSecret,
        SESAME_SOCIAL_CORP_ISSUER: provider.issuer,
        SESAME_SOCIAL_CORP_NAME: 'Corp ID',
      },
    })
    await server.app.listen({ port, host: '127.0.0.1' })
  }

  async function newTab(): Promise<Page> {
    await context?.close()
    context = await browser.newContext()
    return context.newPage()
  }

  it('signs in with the button on /login, through the provider, and lands signed in on /account', async () => {
    await startSesame()
    provider.accounts.set('jun', { email: 'jun@example.test', email_verified: true })
    const page = await newTab()
    await page.goto(`${base}/login`)
    await page.getByRole('link', { name: 'Continue with Corp ID' }).click()
    await signInAtProvider(page, 'jun')
    await page.waitForURL(`${base}/account`)
    expect(await page.locator('#account-email').textContent()).toBe('jun@example.test')
    expect(await page.locator('#identities').textContent()).toContain('Corp ID')
    if (target.name === 'sqlite') await page.screenshot({ path: join(tmpdir(), 'sesame-social-account.png') })
    const userId = await page.locator('dd').nth(1).textContent()

    // Another browser, the same person at the provider: the same account.
    const again = await newTab()
    await again.goto(`${base}/login`)
    if (target.name === 'sqlite') await again.screenshot({ path: join(tmpdir(), 'sesame-social-login.png') })
    await again.getByRole('link', { name: 'Continue with Corp ID' }).click()
    await signInAtProvider(again, 'jun')
    await again.waitForURL(`${base}/account`)
    expect(await again.locator('dd').nth(1).textContent()).toBe(userId)
  })

  it('links a provider to a password account from the account page, and unlinks it', async () => {
    await startSesame()
    const page = await newTab()
    await page.goto(`${base}/signup`)
    await page.locator('input[name="email"]').fill('kim@example.test')
    await page.locator('input[name="password"]').fill('correct horse battery staple')
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL(`${base}/account?notice=welcome`)
    // Linking waits for a verified email; the verification link itself is tested in account-lifecycle.
    const userId = (await page.locator('#account-id').textContent())!
    await server!.store.setEmailVerified(userId, 'kim@example.test', Math.floor(Date.now() / 1000))

    await page.locator('#identities').getByRole('button', { name: 'Link' }).click()
    await signInAtProvider(page, 'kim-at-corp')
    await page.waitForURL(`${base}/account?notice=linked`)
    expect(await page.locator('.success').textContent()).toContain('The provider is linked')
    expect(await page.locator('#identities').textContent()).toContain('kim-at-corp@example.test')

    await page.locator('#identities').getByRole('button', { name: 'Unlink' }).click()
    await page.waitForURL(`${base}/account?notice=unlinked`)
    expect(await page.locator('#identities').getByRole('button', { name: 'Link' }).count()).toBe(1)
  })
})
