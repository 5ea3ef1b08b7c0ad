/** The one place a Fastify reply gets a cookie: `Set-Cookie` appended, and `Cache-Control: no-store`. */
import type { FastifyReply } from 'fastify'
import { type CookieDescription, serializeCookie } from '../core/cookie.js'

/** Appends serialized `Set-Cookie` values, keeping earlier ones, and marks the response uncacheable. */
export function appendSetCookies(reply: FastifyReply, values: readonly string[]): void {
  if (values.length === 0) return
  const previous = reply.getHeader('set-cookie')
  const earlier = previous === undefined ? [] : [previous].flat().map(String)
  reply.header('set-cookie', [...earlier, ...values])
  // No shared cache may keep, and hand to someone else, a response that carries a credential.
  reply.header('cache-control', 'no-store')
}

/** Appends `Set-Cookie` for `cookie`. */
export function setCookie(reply: FastifyReply, cookie: CookieDescription): void {
  appendSetCookies(reply, [serializeCookie(cookie)])
}
