/** What a client may register, how redirect URIs match (RFC 9700 §4.1.3, RFC 8252 §7.3), and the origin cache. */
import { describe, expect, it } from 'vitest'
import { redirectUriMatches, redirectUriProblem } from '../../src/core/client-rules.js'
import { createClientDirectory } from '../../src/http/client-directory.js'
import type { OAuthClientRecord } from '../../src/store/types.js'

describe('redirect URIs a client may register', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com/callback?tenant=1',
    'http://127.0.0.1/callback',
    'http://[::1]:8080/callback',
    'http://localhost:3000/callback',
    'com.example.notes:/callback',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeNull())

  it.each([
    ['http://app.example.com/callback', /https/],
    ['https://app.example.com/callback#done', /fragment/],
    ['https://user:pw@app.example.com/callback', /user name/],
    ['javascript:alert(1)', /reversed-domain/],
    ['data:text/html,hi', /reversed-domain/],
    ['notes:/callback', /reversed-domain/],
    ['/callback', /absolute/],
    [`https://app.example.com/${'a'.repeat(2000)}`, /too long/],
  ])('refuses %s', (uri, problem) => expect(redirectUriProblem(uri)).toMatch(problem))
})

describe('redirect URI matching', () => {
  const registered = ['https://app.example.com/callback', 'http://127.0.0.1/callback', 'http://localhost/cb']

  it('matches exactly, and a loopback IP literal on any port', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/callback')).toBe(true)
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback')).toBe(true)
    expect(redirectUriMatches(registered, 'http://127.0.0.1/callback')).toBe(true)
  })

  it.each([
    'https://app.example.com/callback/',
    'https://app.example.com/Callback',
    'https://app.example.com:443/callback',
    'http://127.0.0.1:51234/callback?x=1',
    'http://127.0.0.1:51234/other',
    'http://localhost:8080/cb', // a name may resolve elsewhere: its port is not relaxed
    'http://127.0.0.1:51234/callback#x',
  ])('does not match %s', (asked) => expect(redirectUriMatches(registered, asked)).toBe(false))
})

describe('the client directory cache', () => {
  const client = (origins: string[]): OAuthClientRecord => ({
    id: 'c',
    name: 'c',
    type: 'public',
    redirectUris: [],
    postLogoutRedirectUris: [],
    origins,
    firstParty: false,
    scopes: [],
    secretHash: null,
    createdAt: 0,
  })

  it('sees a new origin at once, stops re-reading for a flood of unknown ones, and forgets a removed one', async () => {
    let registered = [client(['https://a.example'])]
    let reads = 0
    let now = 0
    const directory = createClientDirectory(
      {
        list: async () => {
          reads++
          return registered
        },
      },
      () => now,
    )
    expect(await directory.hasOrigin('https://a.example')).toBe(true)
    expect(reads).toBe(1)
    registered = [client(['https://a.example', 'https://b.example'])]
    now += 1500
    expect(await directory.hasOrigin('https://b.example')).toBe(true) // a miss re-reads
    expect(reads).toBe(2)
    for (let i = 0; i < 100; i++) expect(await directory.hasOrigin(`https://x${i}.example`)).toBe(false)
    expect(reads).toBe(2) // within a second of the last read: no re-read
    registered = []
    now += 6000
    expect(await directory.hasOrigin('https://a.example')).toBe(false) // stale after 5 s
    expect(reads).toBe(3)
    registered = [{ ...client([]), id: 'mine', firstParty: true }]
    now += 1500
    expect(await directory.isFirstParty('mine')).toBe(true) // a miss re-reads (over a second since)
    expect(await directory.isFirstParty('c')).toBe(false)
  })
})
