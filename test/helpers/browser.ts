/** Debian's Chromium driven by playwright-core, launched the way every browser test needs it (never skipped). */
import { existsSync, readFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Launches headless Chromium; throws a clear error when it is not installed (the test script installs it). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's "chromium" package to run the browser tests ` +
        '(they do not skip).',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // No background networking: this machine has no internet, and Chromium's own requests would only fail.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/**
 * A browser app on its own origin (`http://localhost:<port>`): serves the client SDK (`dist/client/index.js`)
 * at `/client.js` and `html` at every other path.
 */
export async function startAppServer(html: string): Promise<{ server: Server; origin: string }> {
  const source = resolve(import.meta.dirname, '../../dist/client/index.js')
  const server = createServer((request, response) => {
    if (request.url === '/client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(source, 'utf8'))
    } else {
      response.writeHead(200, { 'content-type': 'text/html' }).end(html)
    }
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` }
}
