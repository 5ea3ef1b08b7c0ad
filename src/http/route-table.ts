/**
 * Every route the server declares, collected as it is declared (`onRoute`), so that rules about routes are
 * stated against the real router rather than a list kept by hand: which methods a path answers (`405` with
 * `Allow`, CORS preflights) and which routes change state (the CSRF test walks them all).
 */
import type { FastifyInstance, RouteOptions } from 'fastify'

export interface DeclaredRoute {
  method: string
  /** The full path pattern, e.g. `/auth/sessions/:id`. */
  url: string
  config: RouteOptions['config']
}

export interface RouteTable {
  /** The methods routes answer for the concrete `path` (HEAD with GET, OPTIONS where declared); [] if none. */
  methodsFor(path: string): string[]
  /** Every route declared so far, in declaration order (OPTIONS and HEAD included). */
  routes(): readonly DeclaredRoute[]
}

const tables = new WeakMap<FastifyInstance, RouteTable>()

/** Starts collecting `app`'s routes; call before any route is declared. */
export function installRouteTable(app: FastifyInstance): RouteTable {
  const declared: DeclaredRoute[] = []
  const byPattern = new Map<string, { matcher: RegExp; methods: Set<string> }>()

  app.addHook('onRoute', (route: RouteOptions) => {
    let entry = byPattern.get(route.url)
    if (!entry) {
      entry = { matcher: patternToRegExp(route.url), methods: new Set() }
      byPattern.set(route.url, entry)
    }
    for (const method of [route.method].flat()) {
      entry.methods.add(method)
      declared.push({ method, url: route.url, config: route.config })
    }
  })

  const table: RouteTable = {
    methodsFor(path) {
      const methods = new Set<string>()
      for (const { matcher, methods: declaredMethods } of byPattern.values()) {
        if (matcher.test(path)) for (const method of declaredMethods) methods.add(method)
      }
      if (methods.has('GET')) methods.add('HEAD')
      return ORDER.filter((method) => methods.has(method))
    },
    routes: () => declared,
  }
  tables.set(app, table)
  return table
}

/** The table installed on `app` (for tests that walk every route). */
export function routeTableOf(app: FastifyInstance): RouteTable {
  const table = tables.get(app)
  if (!table) throw new TypeError('No route table is installed on this instance.')
  return table
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/** `/a/:id/b` → /^\/a\/[^/]+\/b$/ (Fastify's parameters match one non-empty segment; `*` matches the rest). */
function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*'
      if (segment.startsWith(':')) return '[^/]+'
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${source}$`)
}
