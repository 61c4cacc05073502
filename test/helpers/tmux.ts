import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { until } from './wait.js'

const run = promisify(execFile)

export interface Terminal {
  /** What the terminal shows, scrollback included, as a person would read it (no escape codes). */
  screen(): Promise<string>
  /** Whether the command ended (its pane is dead or the shell printed the exit code). */
  ended(): Promise<boolean>
  /** Waits until the screen matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  keys(...keys: string[]): Promise<void>
  close(): Promise<void>
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * A real pseudo-terminal (tmux on a private socket, its own server) running `argv` in `cwd` with
 * exactly `env` plus TERM. Tests read the final screen, not the byte stream: that is what a person
 * sees, after every cursor movement and erase has been applied.
 */
export async function openTerminal(
  argv: string[],
  opts: { cwd: string; env: Record<string, string>; columns?: number; rows?: number },
): Promise<Terminal> {
  const socket = `vidspec-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, '-f', '/dev/null', ...args])
  const env = Object.entries(opts.env).map(([k, v]) => `${k}=${quote(v)}`).join(' ')
  // The shell prints the exit code once the command ends (a Ctrl-C may end the shell too: tmux
  // then says "Pane is dead (status N"), and the pane stays for reading either way.
  const command = `cd ${quote(opts.cwd)} && env -i PATH=${quote(process.env.PATH ?? '')} HOME=${quote(process.env.HOME ?? '/tmp')} TERM=xterm-256color ${env} ${argv.map(quote).join(' ')}; echo "[exit $?]"`
  await tmux(
    'start-server', ';',
    'set-option', '-g', 'remain-on-exit', 'on', ';',
    'set-option', '-g', 'history-limit', '5000', ';',
    'new-session', '-d', '-s', 't', '-x', String(opts.columns ?? 100), '-y', String(opts.rows ?? 30), 'sh', '-c', command,
  )
  const screen = async () =>
    (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 't')).stdout.replace(/\n*Pane is dead[^\n]*/, '').replace(/\s+$/, '')
  return {
    screen,
    // The shell may die with the command on a Ctrl-C (dash does, before its echo), and tmux 3.3 writes
    // no "Pane is dead" line into the pane: ask tmux whether the pane is dead.
    ended: async () =>
      (await tmux('list-panes', '-t', 't', '-F', '#{pane_dead}')).stdout.trim() === '1' ||
      /\[exit \d+\]|Pane is dead/.test((await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 't')).stdout),
    waitFor: (pattern, timeoutMs = 30_000) =>
      until(`the terminal to show ${pattern}`, async () => {
        const text = await screen()
        return pattern.test(text) ? text : undefined
      }, timeoutMs, 50),
    keys: async (...keys) => {
      await tmux('send-keys', '-t', 't', ...keys)
    },
    close: async () => {
      await tmux('kill-server').catch(() => {})
    },
  }
}
