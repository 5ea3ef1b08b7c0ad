// An Express app whose pages are protected by Sesame cookie sessions, with the engine running in-process on the
// embedded SQLite store. Sign in at /login; /dashboard needs a session, /admin the "admin" role.
//
//   npm run example:express        then open http://localhost:4001
//
// Two demo accounts are created on first start: reader@example.com and admin@example.com, both with the
// password in EXAMPLE_PASSWORD (default "correct horse battery"). Environment: PORT (default 4001),
// EXAMPLE_DATA_DIR (default ./data/express-example), COOKIE_SECURE=false only for plain http on a host other
// than localhost.
import { join } from 'node:path'
import express from 'express'
import { createArgon2Hasher, createAuth } from 'sesame-auth'
import { principalOf, sesameErrorHandler, sesameExpress, sesameExpressSessions } from 'sesame-auth/express'
import { createSqliteStore } from 'sesame-auth/store/sqlite'

const dataDir = process.env.EXAMPLE_DATA_DIR ?? './data/express-example'
const store = createSqliteStore({ path: join(dataDir, 'sesame.db') })
const hasher = createArgon2Hasher()
const auth = await createAuth({
  store,
  passwordHasher: hasher,
  cookie: { name: 'example-session', secure: process.env.COOKIE_SECURE !== 'false' },
})
await seedAccounts()

const sesame = sesameExpress({ authenticator: auth })
const sessions = sesameExpressSessions(auth)
const app = express()
app.disable('x-powered-by')
app.use(express.urlencoded({ extended: false, limit: '4kb' }))

app.get('/healthz', (_req, res) => res.json({ ok: true }))
app.get('/', (_req, res) => res.redirect(303, '/dashboard'))

app.get('/login', (_req, res) => res.type('html').send(page('Sign in', loginForm())))
app.post('/login', async (req, res, next) => {
  try {
    const result = await sessions.signIn(req, res, { email: req.body.email, password: req.body.password })
    // An account with an authenticator app: the password was right, the code is still to come.
    if ('secondFactorRequired' in result) return res.type('html').send(page('Sign in', codeForm()))
    if (result.ok) return res.redirect(303, '/dashboard')
    res
      .status(result.error.status)
      .type('html')
      .send(page('Sign in', loginForm(result.error.body.error_description)))
  } catch (error) {
    next(error)
  }
})
app.post('/login/code', async (req, res, next) => {
  try {
    const result = await sessions.completeSignIn(req, res, { code: String(req.body.code ?? '') })
    if (result.ok) return res.redirect(303, '/dashboard')
    res
      .status(result.error.status)
      .type('html')
      .send(page('Sign in', codeForm(result.error.body.error_description)))
  } catch (error) {
    next(error)
  }
})
app.post('/logout', async (req, res, next) => {
  try {
    await sessions.signOut(req, res)
    res.redirect(303, '/login')
  } catch (error) {
    next(error)
  }
})

// Pages: anonymous visitors (and those whose session ended) are sent to the sign-in page, not shown a 401.
app.get('/dashboard', sesame.authenticatePage, async (req, res) => {
  const principal = principalOf(req)
  if (!principal) return res.redirect(303, '/login')
  const user = await auth.findUser(principal.userId)
  res
    .type('html')
    .send(page('Dashboard', `<p>Signed in as <b>${escape(user?.email ?? '?')}</b>.</p>${logoutForm()}`))
})
app.get('/admin', sesame.requireRole('admin'), (_req, res) =>
  res.type('html').send(page('Admin', '<p>Only admins see this.</p>')),
)

// A JSON endpoint, and "log out everywhere" (a state change by cookie: CSRF-checked by the middleware).
app.get('/api/me', sesame.requireAuth(), (req, res) => res.json(principalOf(req)))
app.post('/api/logout-everywhere', sesame.requireAuth(), async (req, res, next) => {
  try {
    await auth.devices.endAll(principalOf(req))
    res.status(204).end()
  } catch (error) {
    next(error)
  }
})

// Sesame's errors (a cross-site sign-out, a store outage) as its JSON error shape; anything else goes on to Express.
app.use(sesameErrorHandler())

const server = app.listen(Number(process.env.PORT ?? 4001), process.env.HOST ?? 'localhost')
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () =>
    server.close(
      () =>
        void auth
          .close()
          .then(() => store.close())
          .then(() => process.exit(0)),
    ),
  )
}

async function seedAccounts() {
  const password = process.env.EXAMPLE_PASSWORD ?? 'correct horse battery'
  for (const [email, roles] of [
    ['reader@example.com', []],
    ['admin@example.com', ['admin']],
  ]) {
    if (await store.findUserByEmail(email)) continue
    await store.createUser({
      id: email.split('@')[0],
      email,
      passwordHash: await hasher.hash(password),
      roles,
      createdAt: Math.floor(Date.now() / 1000),
      disabledAt: null,
      emailVerifiedAt: null,
    })
  }
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`
}
function loginForm(error) {
  return `${error ? `<p role="alert">${escape(error)}</p>` : ''}<form method="post" action="/login">
<label>Email <input name="email" type="email" required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form>`
}
function codeForm(error) {
  return `${error ? `<p role="alert">${escape(error)}</p>` : ''}<form method="post" action="/login/code">
<label>Code from your authenticator app <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
<button type="submit">Continue</button></form>`
}
function logoutForm() {
  return '<form method="post" action="/logout"><button type="submit">Sign out</button></form>'
}
function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
