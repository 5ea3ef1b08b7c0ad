/**
 * The package as a user gets it: `npm pack` the built repository, install the tarball into an empty project,
 * and use it there by its public name. The install needs no network: the package's dependencies are linked in
 * from this repository's `node_modules` first, and npm runs `--offline`. Each `exports` subpath imports with
 * only its own driver present (the drivers are optional peer dependencies: a peer is linked in for one import
 * and removed after, since installing better-sqlite3 would compile it); a TypeScript file using every subpath
 * type-checks against the shipped declarations; the engine signs up and authenticates; the `sesame` bin runs.
 * The test script builds `dist/` before the suite runs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CONSUMER_RUNTIME_CHECK,
  CONSUMER_TSCONFIG,
  CONSUMER_TYPE_CHECK,
  CONSUMER_TYPE_PACKAGES,
  type Manifest,
  peersOfSubpath,
  publicName,
} from './consumer.js'

const REPO = resolve(import.meta.dirname, '../..')
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')
const repoManifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest
/** Every code subpath of the package, read when the file loads so each gets its own test. */
const SUBPATHS = Object.keys(repoManifest.exports).filter((key) => key !== './package.json')
/** The package's runtime dependencies: linked in from this repository, so installing needs no registry. */
const DEPENDENCIES = Object.keys(repoManifest.dependencies)

/**
 * The environment of an enclosing `npm test` (npm_config_*, npm_package_*, npm_lifecycle_*) is not a user's,
 * and `npm_config_local_prefix` would point npm at this repository: of npm's own variables only where its
 * cache and configuration are, and how it reaches (or must not reach) the network, carry over. Variables
 * outside npm's (`HTTPS_PROXY`, `https_proxy`, `http_proxy`, `NO_PROXY`, `NODE_EXTRA_CA_CERTS`) all do.
 */
const NPM_SETTINGS_KEPT =
  /^npm_config_(cache|userconfig|globalconfig|(@[^:]+:)?registry|offline|prefer_offline|prefer_online|proxy|https_proxy|http_proxy|noproxy|no_proxy|cafile|ca|strict_ssl|fetch_[a-z_]+)$/i
const childEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || NPM_SETTINGS_KEPT.test(key)),
  ),
  // npm's update check would ask the registry about npm itself.
  npm_config_update_notifier: 'false',
}

interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Children still running, killed after the suite if a hook or test gave up on them. */
const running = new Set<ChildProcess>()

/**
 * Runs a command to completion without blocking the worker; never rejects on a non-zero exit. A command still
 * running after `timeoutMs` is killed (its result has `signal` set), so that no step waits on the test's timeout
 * with a child left running after it.
 */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', (error) => {
      running.delete(child)
      fail(error)
    })
    child.once('close', (status, signal) => {
      running.delete(child)
      if (signal === 'SIGKILL') stderr += `\n(killed after ${timeoutMs / 1000} s)`
      done({ status, signal, stdout, stderr })
    })
  })
}

function succeeded(result: Run, what: string): Run {
  if (result.status !== 0) {
    const exit = result.signal ? `was killed (${result.signal})` : `exited ${result.status}`
    throw new Error(`${what} ${exit}\n${result.stdout}\n${result.stderr}`.trimEnd())
  }
  return result
}

// Made in beforeAll (not when the file loads), so that a run that filters out every test here leaves none.
let root: string | undefined
let project: string
let nodeModules: string
afterAll(() => {
  for (const child of running) child.kill('SIGKILL')
  if (root) rmSync(root, { recursive: true, force: true })
})

let packed: { filename: string; files: { path: string }[] }
let install: Run
let installed: Manifest

/** Links this repository's copy of each package into the project. */
function link(packages: string[]): string[] {
  return packages.map((name) => {
    const path = join(nodeModules, name)
    mkdirSync(dirname(path), { recursive: true })
    symlinkSync(join(REPO, 'node_modules', name), path, 'dir')
    return path
  })
}

/** Links this repository's copy of each package into the project for the length of `work`. */
async function withLinked<T>(packages: string[], work: () => Promise<T>): Promise<T> {
  const links = link(packages)
  try {
    return await work()
  } finally {
    for (const path of links) rmSync(path, { force: true })
  }
}

/** Imports `specifier` in a fresh Node process in the project; prints the export names as JSON. */
function importInProject(specifier: string): Promise<Run> {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)))`
  return run(process.execPath, ['--input-type=module', '-e', script], project, 30_000)
}

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/auth.js'))) throw new Error('dist/ is missing: run "npm run build" first')
  root = mkdtempSync(join(tmpdir(), 'sesame-pack-'))
  project = join(root, 'project')
  nodeModules = join(project, 'node_modules')
  // --ignore-scripts: prepack would rebuild dist/ under the other test files reading it; the test script
  // built it already.
  const pack = succeeded(
    await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root], REPO, 120_000),
    'npm pack',
  )
  ;[packed] = JSON.parse(pack.stdout) as [typeof packed]
  mkdirSync(project)
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  )
  // Resolving the dependencies' ranges would need the registry (the cache after `npm ci` holds tarballs, not
  // always the metadata), so they are in place before the install, linked from this repository, and it runs
  // --offline: npm checks each link against its range and fetches nothing. The tarball itself is installed
  // as a user's would be: unpacked (not linked) into node_modules, its bin linked, its manifest as shipped.
  // @node-rs/argon2's platform binary resolves beside its real path in this repository. --ignore-scripts:
  // npm runs a linked package's `prepare` as if it were a checkout (nodemailer's needs its unpublished build
  // scripts), which a registry install never does; these copies were installed, scripts and all, already.
  link(DEPENDENCIES)
  install = succeeded(
    await run(
      'npm',
      ['install', join(root, packed.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      project,
      150_000,
    ),
    'npm install --offline of the tarball',
  )
  installed = JSON.parse(readFileSync(join(nodeModules, 'sesame-auth/package.json'), 'utf8')) as Manifest
}, 300_000)

describe('the packed tarball', () => {
  it('holds dist/ (compiled from src/ only), README.md, LICENSE and package.json, and nothing else', () => {
    const paths = packed.files.map((file) => file.path).sort()
    expect(paths.filter((path) => !path.startsWith('dist/'))).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ])
    // No source maps: they point at src/, which is not shipped.
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([])
    // Every dist/ file comes from a src/ file: compiled (.js, .d.ts) or copied (the password list's licence).
    // No test or bench output, nothing left over from a deleted source.
    const orphans = paths
      .filter((path) => path.startsWith('dist/'))
      .filter((path) => {
        const source = path.replace(/^dist\//, 'src/')
        const compiledFrom = source.replace(/\.(js|d\.ts)$/, '.ts')
        return !existsSync(join(REPO, compiledFrom)) && !existsSync(join(REPO, source))
      })
    expect(orphans, 'dist/ files with no source: remove dist/ and rebuild').toEqual([])
    expect(paths).toContain('dist/core/common-passwords/LICENSE.md')
    // Every target the manifest names is inside.
    const targets = Object.values(repoManifest.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    )
    for (const target of [...targets, ...Object.values(repoManifest.bin)]) {
      expect(paths, target).toContain(target.replace(/^\.\//, ''))
    }
  })

  it('is publishable: not private, and installs with no engine warning on this Node', () => {
    expect(installed.private).toBeUndefined()
    expect(installed.name).toBe('sesame-auth')
    expect(installed.version).toBe(repoManifest.version)
    expect(install.stderr).not.toMatch(/EBADENGINE/)
  })

  it('installs as a package, not a link: unpacked, its bin linked, its dependencies met and nothing more', () => {
    expect(lstatSync(join(nodeModules, 'sesame-auth')).isDirectory()).toBe(true)
    expect(readlinkSync(join(nodeModules, '.bin/sesame'))).toBe(
      join('..', 'sesame-auth', installed.bin.sesame!.replace(/^\.\//, '')),
    )
    // npm kept the linked dependencies (each satisfied its range) and added only the tarball: no optional peer
    // came along, so each import below sees only the ones linked for it.
    for (const dependency of Object.keys(installed.dependencies)) {
      expect(lstatSync(join(nodeModules, dependency)).isSymbolicLink(), dependency).toBe(true)
    }
    const topLevel = readdirSync(nodeModules).flatMap((entry) =>
      entry.startsWith('@')
        ? readdirSync(join(nodeModules, entry)).map((name) => `${entry}/${name}`)
        : [entry],
    )
    expect(topLevel.sort()).toEqual(
      ['.bin', '.package-lock.json', 'sesame-auth', ...Object.keys(installed.dependencies)].sort(),
    )
    const consumer = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as Manifest
    expect(consumer.dependencies).toEqual({ 'sesame-auth': `file:../${packed.filename}` })
  })

  it('exports the same subpaths as the repository manifest', () => {
    expect(Object.keys(installed.exports).sort()).toEqual(Object.keys(repoManifest.exports).sort())
  })
})

describe('each subpath imports by its public name with only its own peers installed', () => {
  const cases = SUBPATHS.map((subpath): [string, string] => [publicName(subpath), subpath])
  it.each(cases)(
    '%s',
    async (specifier, subpath) => {
      const peers = peersOfSubpath(subpath)
      const present = Object.keys(installed.peerDependencies).filter((peer) =>
        existsSync(join(nodeModules, peer)),
      )
      expect(present, 'optional peers left in the project').toEqual([])
      if (peers.length > 0) {
        // Without its peers it fails, naming one: proof that the import cannot find a driver elsewhere.
        const without = await importInProject(specifier)
        expect(without.status, `${specifier} with no peers`).not.toBe(0)
        const missing = peers.filter((peer) => without.stderr.includes(`Cannot find package '${peer}'`))
        expect(missing.length, without.stderr).toBe(1)
      }
      const result = await withLinked(peers, () => importInProject(specifier))
      succeeded(result, `import('${specifier}') with ${peers.length ? peers.join(', ') : 'no peers'}`)
      expect((JSON.parse(result.stdout) as string[]).length).toBeGreaterThan(0)
    },
    90_000,
  )
})

describe('the installed package in use', () => {
  it('type-checks a consumer file using every subpath against the shipped declarations', async () => {
    for (const subpath of SUBPATHS) {
      expect(CONSUMER_TYPE_CHECK, `consumer.ts uses ${subpath}`).toContain(`from '${publicName(subpath)}'`)
    }
    writeFileSync(join(project, 'tsconfig.json'), CONSUMER_TSCONFIG)
    writeFileSync(join(project, 'consumer.ts'), CONSUMER_TYPE_CHECK)
    const result = await withLinked(CONSUMER_TYPE_PACKAGES, () =>
      run(process.execPath, [TSC, '-p', 'tsconfig.json', '--listFiles'], project, 150_000),
    )
    succeeded(result, 'tsc')
    // Each subpath's types came from the installed package, through its `exports`, not from this repository.
    const listed = result.stdout.split('\n')
    for (const subpath of SUBPATHS) {
      const target = installed.exports[subpath]
      const types = typeof target === 'string' ? target : target?.types
      expect(types, subpath).toBeDefined()
      expect(listed, subpath).toContain(join(nodeModules, 'sesame-auth', types!))
    }
    expect(listed.filter((file) => file.startsWith(join(REPO, 'dist')))).toEqual([])
    expect(listed.filter((file) => file.startsWith(join(REPO, 'src')))).toEqual([])
  }, 180_000)

  it('signs up, signs in and authenticates by cookie and bearer token, and a verifier checks the token', async () => {
    writeFileSync(join(project, 'runtime.js'), CONSUMER_RUNTIME_CHECK)
    const result = succeeded(await run(process.execPath, ['runtime.js'], project, 90_000), 'runtime.js')
    expect(JSON.parse(result.stdout)).toEqual({
      email: 'ada@example.com',
      sessionUser: 'ada@example.com',
      bearerUserMatches: true,
      verifierUserMatches: true,
      wrongPassword: 'invalid_credentials',
    })
  }, 120_000)

  it('runs the `sesame` bin with no peers installed: --version prints the package version', async () => {
    const result = await run(join(nodeModules, '.bin/sesame'), ['--version'], project, 60_000)
    succeeded(result, 'sesame --version')
    expect(result.stdout.trim()).toBe(installed.version)
  }, 90_000)
})
