/**
 * The embedding middleware, driven over real HTTP in Express 4, Express 5 and Fastify 5 apps that run the engine
 * in-process: one table of requests, the same answers from every framework (authentication, authorization,
 * CSRF for cookie-authenticated state changes, clearing a dead cookie).
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '../../src/auth.js'
import { createArgon2Hasher } from '../../src/core/password-hasher.js'
import { principalOf as expressPrincipal, sesameExpress } from '../../src/http/express.js'
import { principalOf as fastifyPrincipal, sesameFastify } from '../../src/http/fastify.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { sessionOf } from '../helpers/signed-in.js'

const ISSUER = 'http://sesame.test'
const PASSWORD = 'middleware test pw'

interface App {
  baseUrl: string
  close(): Promise<void>
}

/** The same routes in each framework: open, signed-in, admin-only, a permission rule, a state change. */
async function expressApp(express: typeof express5, auth: Auth): Promise<App> {
  const sesame = sesameExpress({ authenticator: auth })
  const app = express()
  const me = (req: object, res: { json(body: unknown): void }): void => res.json(expressPrincipal(req))
  app.get('/open', sesame.authenticate, me)
  app.get('/page', sesame.authenticatePage, me)
  app.get('/me', sesame.requireAuth(), me)
  app.get('/admin', sesame.requireRole('admin'), me)
  app.get(
    '/own/:userId',
    sesame.requirePermission(
      (p, req) => (req as unknown as { params: { userId: string } }).params.userId === p.userId,
    ),
    me,
  )
  app.post('/change', sesame.requireAuth(), me)
  app.get('/truthy', sesame.requirePermission((() => 1) as never), me)
  app.get('/async', sesame.requirePermission((async () => false) as never), me)
  app.get(
    '/throws',
    sesame.requirePermission(() => {
      throw new Error('rule bug')
    }),
    me,
  )
  app.use(
    (
      error: Error,
      _req: unknown,
      res: { status(code: number): { json(body: unknown): void } },
      _next: unknown,
    ) => res.status(500).json({ error: 'app_handler', message: error.message }),
  )
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function fastifyApp(auth: Auth): Promise<App> {
  const sesame = sesameFastify({ authenticator: auth })
  const app = Fastify()
  const me = async (request: Parameters<typeof fastifyPrincipal>[0]): Promise<unknown> =>
    fastifyPrincipal(request)
  app.get('/open', { preHandler: sesame.authenticate }, me)
  app.get('/page', { preHandler: sesame.authenticatePage }, me)
  app.get('/me', { preHandler: sesame.requireAuth() }, me)
  app.get('/admin', { preHandler: sesame.requireRole('admin') }, me)
  app.get(
    '/own/:userId',
    {
      preHandler: sesame.requirePermission(
        (p, req) => (req.params as { userId: string }).userId === p.userId,
      ),
    },
    me,
  )
  app.post('/change', { preHandler: sesame.requireAuth() }, me)
  app.get('/truthy', { preHandler: sesame.requirePermission((() => 1) as never) }, me)
  app.get('/async', { preHandler: sesame.requirePermission((async () => false) as never) }, me)
  app.get(
    '/throws',
    {
      preHandler: sesame.requirePermission(() => {
        throw new Error('rule bug')
      }),
    },
    me,
  )
  app.setErrorHandler((error: Error, _request, reply) =>
    reply.code(500).send({ error: 'app_handler', message: error.message }),
  )
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { baseUrl: address, close: () => app.close() }
}

async function errorOf(answer: Response): Promise<string> {
  return ((await answer.json()) as { error: string }).error
}

describe('middleware', () => {
  let auth: Auth
  const credentials = {} as {
    userBearer: string
    adminBearer: string
    userCookie: string
    adminCookie: string
  }

  beforeAll(async () => {
    const store = createMemoryStore()
    const hasher = createArgon2Hasher()
    auth = await createAuth({
      store,
      passwordHasher: hasher,
      cookie: { name: 'sid', secure: false },
      tokens: { issuer: ISSUER, audience: ISSUER },
    })
    // Roles are an operator's decision; the store holds them.
    for (const [id, roles] of [
      ['user-1', []],
      ['admin-1', ['admin']],
    ] as const) {
      await store.createUser({
        id,
        email: `${id}@example.com`,
        passwordHash: await hasher.hash(PASSWORD),
        roles,
        createdAt: Math.floor(Date.now() / 1000),
        disabledAt: null,
        emailVerifiedAt: null,
      })
    }
    const bearer = async (email: string): Promise<string> =>
      `Bearer ${(await auth.tokens.grantPassword({ username: email, password: PASSWORD })).accessToken}`
    const cookie = async (email: string): Promise<string> => {
      const { cookie } = sessionOf(await auth.signIn({ email, password: PASSWORD }))
      return `${cookie.name}=${cookie.value}`
    }
    credentials.userBearer = await bearer('user-1@example.com')
    credentials.adminBearer = await bearer('admin-1@example.com')
    credentials.userCookie = await cookie('user-1@example.com')
    credentials.adminCookie = await cookie('admin-1@example.com')
  })
  afterAll(() => auth.close())

  describe.each([
    ['Express 4', () => expressApp(express4, auth)],
    ['Express 5', () => expressApp(express5, auth)],
    ['Fastify 5', () => fastifyApp(auth)],
  ])('%s', (_name, start) => {
    let app: App
    beforeAll(async () => {
      app = await start()
    })
    afterAll(() => app.close())

    const call = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${app.baseUrl}${path}`, { method, headers })

    it('lets anonymous requests through authenticate, as null', async () => {
      const answer = await call('/open')
      expect(answer.status).toBe(200)
      expect(await answer.text()).toBe('null')
    })

    it('answers a guarded route without credentials 401 unauthenticated with a bare Bearer challenge', async () => {
      const answer = await call('/me')
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Bearer')
      expect(await answer.json()).toEqual({
        error: 'unauthenticated',
        error_description: 'No session cookie or bearer token was sent.',
      })
    })

    it('attaches the principal of a bearer token and of a session cookie', async () => {
      const byToken = await call('/me', { authorization: credentials.userBearer })
      expect(byToken.status).toBe(200)
      expect(await byToken.json()).toMatchObject({ userId: 'user-1', method: 'token', roles: [] })
      const byCookie = await call('/me', { cookie: credentials.userCookie })
      expect(byCookie.status).toBe(200)
      expect(await byCookie.json()).toMatchObject({ userId: 'user-1', method: 'cookie' })
    })

    it('refuses a bad token with invalid_token, whatever cookie comes with it', async () => {
      const answer = await call('/me', {
        authorization: `${credentials.userBearer}x`,
        cookie: credentials.userCookie,
      })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
      expect(await errorOf(answer)).toBe('invalid_token')
    })

    it('answers a missing role 403: insufficient_scope for a token, forbidden for a session', async () => {
      const token = await call('/admin', { authorization: credentials.userBearer })
      expect(token.status).toBe(403)
      expect(token.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"')
      expect(await errorOf(token)).toBe('insufficient_scope')
      const session = await call('/admin', { cookie: credentials.userCookie })
      expect(session.status).toBe(403)
      expect(await errorOf(session)).toBe('forbidden')
      const adminHeaders: Record<string, string>[] = [
        { authorization: credentials.adminBearer },
        { cookie: credentials.adminCookie },
      ]
      for (const headers of adminHeaders) {
        const admitted = await call('/admin', headers)
        expect(admitted.status).toBe(200)
        expect(await admitted.json()).toMatchObject({ userId: 'admin-1', roles: ['admin'] })
      }
    })

    it('applies a permission predicate that sees the request', async () => {
      expect((await call('/own/user-1', { authorization: credentials.userBearer })).status).toBe(200)
      expect((await call('/own/user-1', { authorization: credentials.adminBearer })).status).toBe(403)
      expect((await call('/own/admin-1', { cookie: credentials.adminCookie })).status).toBe(200)
    })

    it('admits only a plain true; a Promise or a throwing rule reaches the app as an error, never admits', async () => {
      const headers = { authorization: credentials.userBearer }
      expect((await call('/truthy', headers)).status).toBe(403)
      const asyncRule = await call('/async', headers)
      expect(asyncRule.status).toBe(500)
      expect(await asyncRule.json()).toEqual({
        error: 'app_handler',
        message: 'An access rule must answer true or false at once, not a Promise.',
      })
      const throwing = await call('/throws', headers)
      expect(throwing.status).toBe(500)
      expect(await throwing.json()).toEqual({ error: 'app_handler', message: 'rule bug' })
      expect((await call('/me', headers)).status).toBe(200) // and the process is still serving
    })

    it('refuses a cross-site state change by cookie, but not by bearer token', async () => {
      const crossSite = await call(
        '/change',
        { cookie: credentials.userCookie, origin: 'https://evil.example' },
        'POST',
      )
      expect(crossSite.status).toBe(403)
      expect(await errorOf(crossSite)).toBe('csrf_rejected')
      const noOrigin = await call('/change', { cookie: credentials.userCookie }, 'POST')
      expect(noOrigin.status).toBe(403)
      const sameOrigin = await call(
        '/change',
        { cookie: credentials.userCookie, origin: app.baseUrl },
        'POST',
      )
      expect(sameOrigin.status).toBe(200)
      const bearer = await call('/change', { authorization: credentials.userBearer }, 'POST')
      expect(bearer.status).toBe(200)
    })

    it('answers a dead session 401 invalid_session and clears its cookie', async () => {
      const answer = await call('/me', { cookie: `sid=${'A'.repeat(43)}` })
      expect(answer.status).toBe(401)
      expect(await errorOf(answer)).toBe('invalid_session')
      expect(answer.headers.get('set-cookie')).toMatch(/^sid=; .*Max-Age=0/)
      expect(answer.headers.get('cache-control')).toBe('no-store')
      // For pages the same cookie is anonymous (and still cleared); a bad bearer token is still refused.
      const page = await call('/page', { cookie: `sid=${'A'.repeat(43)}` })
      expect(page.status).toBe(200)
      expect(await page.text()).toBe('null')
      expect(page.headers.get('set-cookie')).toMatch(/^sid=; .*Max-Age=0/)
      expect((await call('/page', { authorization: `${credentials.userBearer}x` })).status).toBe(401)
    })
  })

  it('checks options at setup', () => {
    expect(() => sesameExpress({} as never)).toThrow(TypeError)
    expect(() => sesameFastify({ authenticator: null } as never)).toThrow(TypeError)
    const sesame = sesameExpress({ authenticator: auth })
    expect(() => sesame.requireRole('')).toThrow('requireRole needs a non-empty role name.')
    expect(() => sesame.requirePermission('admin' as never)).toThrow(TypeError)
  })
})
