/**
 * `sesame users create` at a real terminal: the command runs under a pseudo-terminal (driven by python3's `pty`,
 * see pty-driver.py) whose keys are typed only after each prompt shows, as a person would. What the terminal
 * received is the proof that the password was never echoed; stdout is a separate pipe, so it also shows the
 * prompts stay off it. The accounts made are checked by signing in to a server on the same SQLite file.
 *
 * That the terminal echoes again is looked at while the command still runs, stopped at the store's write lock
 * after the prompts: looked at after it ends, it would always hold, since Node restores the terminal's settings
 * on exit (even on SIGINT) whatever the program did. The refusals and Ctrl-C touch no store, so nothing holds
 * them between closing the prompt and exiting; for them it is not asserted.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/server.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const DRIVER = resolve(import.meta.dirname, 'pty-driver.py')
const PASSWORD = 'typed at the terminal'

interface TerminalRun {
  transcript: string
  stdout: string
  /** Negative: killed by that signal. */
  status: number
  /**
   * Whether the terminal echoed typed keys again while the command, past its prompts, was held at the store's
   * write lock; null when not looked at (no `holdLock`) or when the command had already ended.
   */
  echoes: boolean | null
  /** The first awaited text that never appeared, or null. */
  missing: string | null
}

describe('sesame users create at a terminal', () => {
  let server: TestServer

  /**
   * Runs `sesame args` at a pseudo-terminal, typing `keys` once `text` has appeared, for each step. With
   * `holdLock`, the store's write lock is held until the terminal has been looked at after the last keys.
   */
  function atTerminal(
    args: string[],
    steps: [text: string, keys: string][],
    options: { holdLock?: boolean } = {},
  ): TerminalRun {
    const lock = options.holdLock ? [join(server.dataDir, 'sesame.db')] : []
    const output = execFileSync(
      'python3',
      [DRIVER, JSON.stringify([process.execPath, CLI, ...args]), JSON.stringify(steps), ...lock],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', SESAME_DATA_DIR: server.dataDir, SESAME_LOG_LEVEL: 'silent' },
      },
    )
    return JSON.parse(output) as TerminalRun
  }

  async function signIn(email: string, password: string): Promise<number> {
    const answer = await server.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'password', username: email, password },
    })
    return answer.statusCode
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { SESAME_STORE: 'sqlite' } })
  })
  afterAll(() => server.close())

  it('asks twice without echo, on stderr, gives the terminal back echoing, and creates the account', async () => {
    const email = 'typed@example.com'
    const run = atTerminal(
      ['users', 'create', email],
      [
        ['Password: ', `${PASSWORD}\r`],
        ['Repeat the password: ', `${PASSWORD}\r`],
      ],
      { holdLock: true },
    )
    expect(run.missing).toBeNull()
    expect(run.transcript).not.toContain(PASSWORD)
    // Nothing but the two prompts, each ended by its own newline (the Enter key's echo is gone with the rest),
    // then the audit line of the change, as a sentence for the person at the terminal.
    expect(run.transcript).toMatch(
      /^Password: \r\nRepeat the password: \r\naudit: sign_up success \(user [\w-]{22}, operator\)\r\n$/,
    )
    expect(run.stdout).toMatch(new RegExp(`^created ${email} \\(id [\\w-]{22}\\)\\n$`))
    expect(run.status).toBe(0)
    expect(run.echoes).toBe(true)
    expect(await signIn(email, PASSWORD)).toBe(200)
  })

  it('refuses two different passwords, and creates nothing', async () => {
    const email = 'mistyped@example.com'
    const run = atTerminal(
      ['users', 'create', email],
      [
        ['Password: ', `${PASSWORD}\r`],
        ['Repeat the password: ', `${PASSWORD}!\r`],
      ],
    )
    expect(run.missing).toBeNull()
    expect(run.transcript).not.toContain(PASSWORD)
    expect(run.transcript).toBe(
      'Password: \r\nRepeat the password: \r\nsesame: the passwords do not match\r\n',
    )
    expect(run.stdout).toBe('')
    expect(run.status).toBe(1)
    const listed = spawnSync(process.execPath, [CLI, 'sessions', 'list', email], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', SESAME_DATA_DIR: server.dataDir },
    })
    expect(listed.stderr).toBe(`sesame: no user with the email ${email}\n`)
    expect(await signIn(email, PASSWORD)).toBe(400) // invalid_grant: no such account
  })

  it('refuses an empty password at once, without asking for it again', () => {
    const run = atTerminal(['users', 'create', 'empty@example.com'], [['Password: ', '\r']])
    expect(run.missing).toBeNull()
    expect(run.transcript).toBe('Password: \r\nsesame: no password given\r\n')
    expect(run.status).toBe(1)
  })

  it('stops at Ctrl-C like any command (killed by SIGINT)', () => {
    const run = atTerminal(['users', 'create', 'interrupted@example.com'], [['Password: ', 'half\x03']])
    expect(run.missing).toBeNull()
    expect(run.transcript).not.toContain('half')
    expect(run.status).toBe(-2) // SIGINT, so a calling shell script stops too
  })
})
