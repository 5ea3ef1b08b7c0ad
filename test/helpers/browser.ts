/** Debian's Chromium driven by playwright-core, launched the way every browser test needs it (never skipped). */
import { existsSync } from 'node:fs'
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
