/**
 * Several real Sesame processes behind a real nginx on loopback, the way a deployment runs them. nginx adds
 * `X-Upstream` (the instance that answered) to each response so tests can see where requests went.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startServerProcess, type ServerProcess } from './process.js'

export const NGINX = '/usr/sbin/nginx'

export interface Cluster {
  /** The load balancer's base URL. */
  url: string
  instances: ServerProcess[]
  /** Stops nginx and every instance still running. */
  stop(): Promise<void>
}

export interface ClusterOptions {
  instances: number
  /** Environment shared by every instance (store, issuer, ...). */
  env: Record<string, string>
  /** `round-robin` (default) or `ip-hash` (sticky sessions by client address). */
  balancing?: 'round-robin' | 'ip-hash'
}

/**
 * An nginx.conf that runs in the foreground with every file it writes under `dir`, and `http` (server and
 * upstream blocks) as its http block's content.
 */
export function nginxMainConfig(dir: string, http: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const instances: ServerProcess[] = []
  // One at a time, which keeps the test about balancing; concurrent starts are safe too (each may add a key,
  // every instance verifies them all and signs with the same newest one).
  for (let i = 0; i < options.instances; i++) {
    instances.push(await startServerProcess({ SESAME_ISSUER: url, SESAME_LOG_LEVEL: 'warn', ...options.env }))
  }
  const dir = mkdtempSync(join(tmpdir(), 'sesame-nginx-'))
  const servers = instances.map(
    (instance) => `    server ${new URL(instance.url).host} max_fails=1 fail_timeout=30s;`,
  )
  writeFileSync(
    join(dir, 'nginx.conf'),
    nginxMainConfig(
      dir,
      `  upstream sesame {
${options.balancing === 'ip-hash' ? '    ip_hash;\n' : ''}${servers.join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sesame;
      proxy_set_header Host $http_host;
      proxy_next_upstream error timeout;
      add_header X-Upstream $upstream_addr always;
    }
  }`,
    ),
  )
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let nginxError = ''
  nginx.stderr.on('data', (chunk: Buffer) => (nginxError += chunk.toString()))
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (attempt > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${nginxError}`)
    await new Promise((done) => setTimeout(done, 50))
  }
  return {
    url,
    instances,
    async stop() {
      nginx.kill('SIGTERM')
      for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGTERM')
      await Promise.all(instances.map((instance) => instance.exited))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
