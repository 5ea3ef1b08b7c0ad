/**
 * Reads secrets typed at a terminal without showing them, with Node's own readline (no dependency): readline
 * in terminal mode puts the terminal in raw mode, so the terminal does not echo, and does its own echo into
 * the output stream it is given. Giving it an output that discards everything leaves nothing on screen; the
 * prompts themselves are written to `visible` (standard error, so standard output stays clean for scripts).
 */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'

export interface HiddenPrompt {
  /** Shows `question` and reads one line without echo; null when input ended first (Ctrl-D). */
  ask(question: string): Promise<string | null>
  /** Gives the terminal back (raw mode off). Safe to call more than once. */
  close(): void
}

export function openHiddenPrompt(input: NodeJS.ReadStream, visible: NodeJS.WritableStream): HiddenPrompt {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  // Raw mode starts here, before any prompt is shown: a key typed after the prompt appears is never echoed.
  // historySize 0: readline would otherwise keep every line (the passwords) in memory for up-arrow recall.
  const lines = createInterface({ input, output: muted, terminal: true, historySize: 0 })
  const typedAhead: string[] = []
  let waiting: ((line: string | null) => void) | null = null
  let ended = false

  lines.on('line', (line) => {
    if (waiting) {
      const deliver = waiting
      waiting = null
      deliver(line)
    } else typedAhead.push(line)
  })
  lines.on('close', () => {
    ended = true
    waiting?.(null)
    waiting = null
  })
  // In raw mode Ctrl-C is a keystroke, not a signal; with no listener readline would merely pause and leave
  // the process waiting on a line that never comes. Restore the terminal, then die of the signal the user
  // meant, so a calling shell script stops too (exit status 130), as it would for any other command.
  lines.on('SIGINT', () => {
    lines.close()
    visible.write('\n')
    process.kill(process.pid, 'SIGINT')
  })

  return {
    async ask(question) {
      visible.write(question)
      const line =
        typedAhead.length > 0
          ? typedAhead.shift()!
          : ended
            ? null
            : await new Promise<string | null>((deliver) => (waiting = deliver))
      // The Enter key's echo was discarded with the rest: end the prompt's line ourselves.
      visible.write('\n')
      return line
    },
    close: () => lines.close(),
  }
}
