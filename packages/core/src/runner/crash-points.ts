/**
 * Named moments in the life of a paid job where the fault tests stop the process or fail a write,
 * deterministically instead of by timing. Inert unless the test-only environment variables are set:
 *
 * - `VIDSPEC_TEST_KILL_AT=<point>[#n]`: the process SIGKILLs itself the n-th time (default 1st) it
 *   reaches `<point>`, exactly as a power cut or `kill -9` would stop it there.
 * - `VIDSPEC_TEST_STOP_AT=<point>[#n]`: the process SIGSTOPs itself there (a paused laptop, a
 *   debugger), so a test can change the world (fill the disk, start a rival) and then SIGCONT it.
 * - `VIDSPEC_TEST_FAIL_AT=<point>:<errno code>`: the write at `<point>` fails with that code (EACCES,
 *   ENOSPC), for machines where the real condition cannot be produced (root ignores permissions).
 */
export type CrashPoint =
  | 'before-intent'
  | 'after-intent'
  | 'after-create-answer'
  | 'after-journal'
  | 'after-poll'
  | 'before-download'
  | 'before-commit'
  | 'after-commit'

export type FailPoint = 'intent-write' | 'journal-write'

const reached = new Map<string, number>()

/**
 * Read once per process: the fault tests set them for the whole run of a CLI, and a paid job passes
 * a point about fifteen times (reading the environment costs microseconds each time).
 */
let wanted: { kill: string | undefined; stop: string | undefined; fail: string | undefined } | undefined
const points = () =>
  (wanted ??= {
    kill: process.env.VIDSPEC_TEST_KILL_AT || undefined,
    stop: process.env.VIDSPEC_TEST_STOP_AT || undefined,
    fail: process.env.VIDSPEC_TEST_FAIL_AT || undefined,
  })

export function crashPoint(point: CrashPoint): void {
  const { kill, stop } = points()
  if (!kill && !stop) return
  const count = (reached.get(point) ?? 0) + 1
  reached.set(point, count)
  if (kill && isNth(kill, point, count)) {
    process.kill(process.pid, 'SIGKILL')
    // SIGKILL to oneself is delivered at once; never run another line if it somehow is not.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
  // Delivered at once too: this line returns only after a SIGCONT.
  if (stop && isNth(stop, point, count)) process.kill(process.pid, 'SIGSTOP')
}

function isNth(wanted: string, point: string, count: number): boolean {
  const [name, nth] = wanted.split('#')
  return name === point && count === (Number(nth) || 1)
}

export function failPoint(point: FailPoint): void {
  const { fail } = points()
  if (!fail) return
  const [name, code] = fail.split(':')
  if (name !== point || !code) return
  throw Object.assign(new Error(`${code}: injected failure at ${point} (VIDSPEC_TEST_FAIL_AT)`), { code })
}
