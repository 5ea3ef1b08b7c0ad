import { type AddressInfo, type Server, Socket, createServer } from 'node:net'

/**
 * Relays TCP to a server (Redis, PostgreSQL) named by URL; `cut()` drops every connection and refuses new ones
 * until `restore()`, on the same port.
 */
export class Relay {
  #server: Server | null = null
  readonly #sockets = new Set<Socket>()
  readonly #target: URL
  port = 0

  constructor(target: string) {
    this.#target = new URL(target)
  }

  async start(port = 0): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = new Socket()
      upstream.connect(Number(this.#target.port), this.#target.hostname)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => socket.destroy())
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((done) => this.#server!.listen(port, '127.0.0.1', done))
    this.port = (this.#server.address() as AddressInfo).port
  }

  async cut(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server!.close(() => done())
      for (const socket of this.#sockets) socket.destroy()
    })
  }

  restore(): Promise<void> {
    return this.start(this.port)
  }

  /** The target URL with the relay's host and port. */
  url(): string {
    const url = new URL(this.#target)
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.toString()
  }
}
