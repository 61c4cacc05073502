/**
 * Which `job:progress` events deserve a line where lines are never redrawn (CI logs, pipes, Vite's
 * terminal): a job's first, one whose status changed, and then one every `everyMs`. A job is polled
 * every few seconds for minutes, and a line per poll buries everything else in the log.
 */
export class ProgressLines {
  readonly #everyMs: number
  readonly #now: () => number
  readonly #last = new Map<string, { status: string; at: number }>()

  constructor(opts: { everyMs?: number; now?: () => number } = {}) {
    this.#everyMs = opts.everyMs ?? 10_000
    this.#now = opts.now ?? Date.now
  }

  /** True when this progress of `spec`'s job should be shown (and it is then counted as shown). */
  due(spec: string, status: string): boolean {
    const now = this.#now()
    const last = this.#last.get(spec)
    if (last && last.status === status && now - last.at < this.#everyMs) return false
    this.#last.set(spec, { status, at: now })
    return true
  }

  /** The spec's job ended: its next job starts with a line of its own. */
  forget(spec: string): void {
    this.#last.delete(spec)
  }
}
