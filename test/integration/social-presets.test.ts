/**
 * The plain-OAuth presets end to end (GitHub's and Naver's shapes), against a stand-in provider on loopback:
 * GitHub and Naver cannot run here, so this FAKE serves their documented endpoints (authorize, token, user API)
 * and checks what a real one would: the client's credentials, the redirect URI, and the PKCE verifier against
 * the challenge. What it proves is Sesame's side: the token exchange through `openid-client`, the user API
 * read with the access token, Naver's string `expires_in` repaired, and each failure ending on the login page.
 * The OpenID Connect protocol itself is tested against a real provider (social-login.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import { type IncomingMessage, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readGitHubProfile, readNaverProfile } from '../../src/social/presets.js'
import { createSocialProvider } from '../../src/social/provider.js'
import { type TestServer, startTestServer } from '../helpers/server.js'

const ISSUER = 'http://localhost:3998'
const CLIENT = { id: 'preset-client', secret: 'preset-secret-0123456789' }

interface FakeBehaviour {
  /** `naver`: `expires_in` as a string, `state` required at the token endpoint, the person under `response`. */
  shape: 'github' | 'naver'
  tokenError: boolean
  userApiStatus: number
}

const behaviour: FakeBehaviour = { shape: 'github', tokenError: false, userApiStatus: 200 }
const issued = new Map<string, { challenge: string; redirectUri: string; state: string }>()
let fake: Server
let base = ''

async function bodyOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

beforeAll(async () => {
  fake = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url!, base)
      const json = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(value))
      }
      if (url.pathname === '/authorize') {
        const code = randomBytes(12).toString('hex')
        issued.set(code, {
          challenge: url.searchParams.get('code_challenge')!,
          redirectUri: url.searchParams.get('redirect_uri')!,
          state: url.searchParams.get('state')!,
        })
        const back = new URL(url.searchParams.get('redirect_uri')!)
        back.searchParams.set('code', code)
        back.searchParams.set('state', url.searchParams.get('state')!)
        response.writeHead(302, { location: back.href })
        return response.end()
      }
      if (url.pathname === '/token' && request.method === 'POST') {
        const form = await bodyOf(request)
        const grant = issued.get(form.get('code') ?? '')
        issued.delete(form.get('code') ?? '')
        const verifier = form.get('code_verifier') ?? ''
        const pkceOk = grant && createHash('sha256').update(verifier).digest('base64url') === grant.challenge
        const clientOk = form.get('client_id') === CLIENT.id && form.get('client_secret') === CLIENT.secret
        const stateOk = behaviour.shape !== 'naver' || form.get('state') === grant?.state
        if (
          behaviour.tokenError ||
          !grant ||
          !pkceOk ||
          !clientOk ||
          !stateOk ||
          form.get('redirect_uri') !== grant.redirectUri
        ) {
          return json(400, { error: 'invalid_grant', error_description: 'bad code' })
        }
        return json(
          200,
          behaviour.shape === 'naver'
            ? { access_token: 'naver-access', refresh_token: 'r', token_type: 'bearer', expires_in: '3600' }
            : { access_token: 'gho_fake', token_type: 'bearer', scope: 'read:user,user:email' },
        )
      }
      const bearer = request.headers.authorization
      if (behaviour.userApiStatus !== 200) return json(behaviour.userApiStatus, { message: 'unavailable' })
      if (url.pathname === '/user' && bearer === 'Bearer gho_fake')
        return json(200, { login: 'octo', id: 583231 })
      if (url.pathname === '/user/emails' && bearer === 'Bearer gho_fake') {
        return json(200, [
          { email: 'octo@example.test', primary: true, verified: true, visibility: 'private' },
        ])
      }
      if (url.pathname === '/v1/nid/me' && bearer === 'Bearer naver-access') {
        return json(200, {
          resultcode: '00',
          message: 'success',
          response: { id: 'naver-77', email: 'n@example.test' },
        })
      }
      return json(401, { message: 'Bad credentials' })
    })()
  })
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
})

afterAll(async () => {
  fake.closeAllConnections()
  await new Promise((resolve) => fake.close(resolve))
})

async function serverWith(shape: FakeBehaviour['shape']): Promise<TestServer> {
  const metadata = {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
  }
  const provider = await createSocialProvider({
    id: shape,
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    presetOverride: {
      metadata,
      readProfile: (read) =>
        shape === 'github' ? readGitHubProfile(read, base) : readNaverProfile(read, base),
    },
  })
  return startTestServer({
    env: {
      SESAME_STORE: 'memory',
      SESAME_ISSUER: ISSUER,
      SESAME_COOKIE_NAME: 'sesame',
      SESAME_COOKIE_SECURE: 'false',
    },
    socialProviders: [provider],
  })
}

/** Start at Sesame, pass the fake's authorize step, and deliver its redirect to Sesame's callback. */
async function signIn(server: TestServer, id: string) {
  const started = await server.app.inject({ method: 'GET', url: `/auth/social/${id}` })
  expect(started.statusCode).toBe(303)
  const flowCookie = String(started.headers['set-cookie']).split(';')[0]!
  const authorize = await fetch(String(started.headers.location), { redirect: 'manual' })
  const back = new URL(authorize.headers.get('location')!)
  expect(back.origin + back.pathname).toBe(`${ISSUER}/auth/social/${id}/callback`)
  const done = await server.app.inject({
    method: 'GET',
    url: back.pathname + back.search,
    headers: { cookie: flowCookie },
  })
  const session = [done.headers['set-cookie'] ?? []]
    .flat()
    .find((line) => String(line).startsWith('sesame=') && !/max-age=0/i.test(String(line)))
  return { done, session: session ? String(session).split(';')[0]! : null }
}

describe('plain OAuth presets against a stand-in provider', () => {
  it('GitHub: signs up with the verified primary address from /user/emails', async () => {
    Object.assign(behaviour, { shape: 'github', tokenError: false, userApiStatus: 200 })
    const server = await serverWith('github')
    try {
      const { done, session } = await signIn(server, 'github')
      expect(done.headers.location).toBe('/account')
      const me = await server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: session! } })
      expect(me.json<{ user: object }>().user).toMatchObject({
        email: 'octo@example.test',
        email_verified: true,
      })
    } finally {
      await server.close()
    }
  })

  it('Naver: a string expires_in is accepted and the address counts as unverified', async () => {
    Object.assign(behaviour, { shape: 'naver', tokenError: false, userApiStatus: 200 })
    const server = await serverWith('naver')
    try {
      const { done, session } = await signIn(server, 'naver')
      expect(done.headers.location).toBe('/account')
      const me = await server.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: session! } })
      expect(me.json<{ user: object }>().user).toMatchObject({
        email: 'n@example.test',
        email_verified: false,
      })
    } finally {
      await server.close()
    }
  })

  it('ends on the login page when the token endpoint refuses or the user API fails', async () => {
    const server = await serverWith('github')
    try {
      Object.assign(behaviour, { shape: 'github', tokenError: true, userApiStatus: 200 })
      const refused = await signIn(server, 'github')
      expect(refused.done.headers.location).toBe('/login?notice=social_sign_in_failed')
      expect(refused.session).toBeNull()

      Object.assign(behaviour, { tokenError: false, userApiStatus: 503 })
      const down = await signIn(server, 'github')
      expect(down.done.headers.location).toBe('/login?notice=provider_unavailable')
      expect(down.session).toBeNull()
    } finally {
      behaviour.userApiStatus = 200
      await server.close()
    }
  })
})
