/**
 * A `User-Agent` header as a person recognises their device: "Chrome on macOS", "Safari on iOS". Only the
 * well-known browsers and systems are named; an app or tool is its first product token ("curl", "okhttp").
 * Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
 */

const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bWhale\//, 'Whale'],
  [/\bYaBrowser\//, 'Yandex Browser'],
  [/\bVivaldi\//, 'Vivaldi'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
]

const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/\biPad\b/, 'iPadOS'],
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]

/** What a user agent says of itself. */
export interface UserAgentSummary {
  browser: string | null
  os: string | null
  /** True for phones and tablets. */
  mobile: boolean
}

export function summarizeUserAgent(userAgent: string | null): UserAgentSummary {
  if (!userAgent) return { browser: null, os: null, mobile: false }
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null
  const mobile = /\b(?:Mobile|iPhone|iPad|Android)\b/.test(userAgent)
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? productOf(userAgent)
  return { browser, os, mobile }
}

/** An app or tool names itself first ("curl/8.5.0", "SesameNotes/2.1 (iPhone)"); browsers all say "Mozilla". */
function productOf(userAgent: string): string | null {
  const product = /^([A-Za-z][\w.-]{0,31})(?:\/|\s|$)/.exec(userAgent)?.[1] ?? null
  return product === 'Mozilla' ? null : product
}
