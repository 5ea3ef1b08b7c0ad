/** Writes cookie descriptions to a reply, with `Cache-Control: no-store` so no cache keeps a credential. */
import type { FastifyReply } from 'fastify'
import { type CookieDescription, serializeCookie } from '../core/cookie.js'

/** Appends `Set-Cookie` for `cookie` and marks the response uncacheable. */
export function setCookie(reply: FastifyReply, cookie: CookieDescription): void {
  const previous = reply.getHeader('set-cookie')
  const value = serializeCookie(cookie)
  reply.header('set-cookie', previous === undefined ? [value] : [...[previous].flat().map(String), value])
  reply.header('cache-control', 'no-store')
}
