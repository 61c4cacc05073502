import type { Writable } from 'node:stream'

export interface Io {
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean; columns?: number; rows?: number }
  env: NodeJS.ProcessEnv
  cwd: string
  /**
   * Aborted once the reader of `stdout` or `stderr` has gone (the first write after it left failed
   * with EPIPE). A command that runs until stopped (`watch`) stops then, as on Ctrl-C; the others
   * go on to their end.
   */
  readerGone?: AbortSignal | undefined
}

/** One per process, like the two streams it listens to. */
const readerLeft = new AbortController()

export function defaultIo(): Io {
  return {
    stdout: readerMayLeave(process.stdout),
    stderr: readerMayLeave(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    readerGone: readerLeft.signal,
  }
}

const tolerant = new WeakSet<Writable>()

/**
 * A stream whose reader may go away before the command ends (`vidspec plan | head -1`): what is
 * written after that is dropped, and the command goes on to its own end and exit code (one that only
 * ends when stopped hears of it through `readerGone`). A build must: a paid job in flight is finished
 * and stored whoever reads its output. Left to Node, the EPIPE is an unhandled 'error' event: a stack
 * trace and exit code 1 for a reader that only wanted the first line. Any other error of the stream
 * is thrown, as Node would.
 */
function readerMayLeave<S extends Writable>(stream: S): S {
  if (tolerant.has(stream)) return stream
  tolerant.add(stream)
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    readerLeft.abort()
  })
  return stream
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** A live view only on a real terminal outside CI; everywhere else one plain line per event. */
export function isLive(io: Io): boolean {
  return Boolean(io.stderr.isTTY) && io.env.CI !== 'true' && io.env.TERM !== 'dumb'
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
