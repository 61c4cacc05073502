import { isVidspecError } from '../errors.js'
import { sleep } from '../runner/retry.js'

export interface SupersessionOptions<S, R> {
  /** Generates the clip of one key (the core runner: single-flight, lock and journal inside). */
  run(key: string, spec: S, signal: AbortSignal): Promise<R>
  /**
   * True when a started job costs money. A paid job that has started is never cancelled: it is
   * finished and kept in the store, since that money is spent either way. Per job when a function
   * (after a config reload, jobs of the old provider and the new one run side by side).
   */
  paid: boolean | ((spec: S) => boolean)
  /** Whether the provider has started on `key` (the runner knows); or report it with `started()`. */
  isStarted?: ((key: string, spec: S) => boolean) | undefined
  /**
   * Quiet time between a key becoming wanted and its job starting: an edit that re-keys the spec
   * within it costs nothing, so a burst of saves pays only for where it settles. Per job when a
   * function (the longest of every process editing the project: see `sharedSettleMs`). @default 0
   */
  settleMs?: number | ((spec: S) => Promise<number>) | undefined
  /**
   * Asked once the key has settled, right before its job starts: false drops the job (say, no
   * wanting spec's files still hold what the key was computed from: a newer edit is on its way).
   */
  stillWanted?: ((key: string) => Promise<boolean>) | undefined
  /**
   * The clip of `key` is in the store; `specs` are the specs that want it now, `by` those that
   * wanted it when its job began (a superseded paid job is still finished and said).
   */
  onDone(key: string, specs: string[], result: R, by: string[]): void
  onFailed(key: string, specs: string[], error: Error): void
  /** A job not yet started was dropped: nobody wants its key any more (`specs` wanted it last). */
  onDropped?: ((key: string, specs: string[]) => void) | undefined
}

interface Job<S> {
  spec: S
  controller: AbortController
  /** The provider is working on it (after this, a paid job is never cancelled). */
  started: boolean
  /** The specs that wanted the key when the job began: named when it is dropped. */
  by: Set<string>
  settled: Promise<void>
}

/**
 * Which specs want which key, and the background job of each wanted key that is missing. Wanting is
 * per spec, paying is per key: one job per key however many specs want it; a queued job is dropped
 * only when no spec wants its key any more (a twin spec with the same request keeps it); a job the
 * provider has started on is never cancelled when paid. Watch mode and the dev server both run on it.
 */
export class Supersession<S, R> {
  readonly #opts: SupersessionOptions<S, R>
  /** spec id -> the key it wants now. */
  readonly #wanted = new Map<string, string>()
  readonly #jobs = new Map<string, Job<S>>()
  /** Cancelled jobs still unwinding: a key wanted again waits for its old job to let go. */
  readonly #unwinding = new Map<string, Promise<void>>()
  #closed = false

  constructor(opts: SupersessionOptions<S, R>) {
    this.#opts = opts
  }

  /**
   * Records that `specId` now wants `key`. With `spec`, the clip is missing and a job is started
   * for it unless one is already running; without, the clip is already there.
   */
  want(specId: string, key: string, spec?: S): void {
    const previous = this.#wanted.get(specId)
    this.#wanted.set(specId, key)
    if (spec !== undefined && !this.#closed) {
      const job = this.#jobs.get(key)
      if (job) job.by.add(specId)
      else this.#start(key, spec, specId)
    }
    if (previous !== undefined && previous !== key) this.#cancelIfUnwanted(previous)
  }

  /** The spec is gone (deleted, renamed, or no longer imported): it stops wanting its key at once. */
  drop(specId: string): void {
    const previous = this.#wanted.get(specId)
    this.#wanted.delete(specId)
    if (previous !== undefined) this.#cancelIfUnwanted(previous)
  }

  /** The runner reports that the provider started on `key`. */
  started(key: string): void {
    const job = this.#jobs.get(key)
    if (job) job.started = true
  }

  isRunning(key: string): boolean {
    return this.#jobs.has(key)
  }

  /** The key `specId` wants now. */
  wantedBy(specId: string): string | undefined {
    return this.#wanted.get(specId)
  }

  /** Whether any spec wants `key` now. */
  wants(key: string): boolean {
    for (const k of this.#wanted.values()) if (k === key) return true
    return false
  }

  /** The spec ids that want `key` now. */
  specsFor(key: string): string[] {
    return [...this.#wanted].filter(([, k]) => k === key).map(([id]) => id)
  }

  /** Resolves once every job started so far (and every one those started) has settled. */
  async idle(): Promise<void> {
    for (;;) {
      const all = [...this.#jobs.values()].map((j) => j.settled)
      if (all.length === 0 && this.#unwinding.size === 0) return
      await Promise.all([...all, ...this.#unwinding.values()])
    }
  }

  /**
   * Stops every job and waits for them to unwind. A paid job stopped here keeps its journal, so the
   * next run resumes it instead of paying again.
   */
  async close(): Promise<void> {
    this.#closed = true
    const all = [...this.#jobs.values()].map((job) => {
      job.controller.abort()
      return job.settled
    })
    await Promise.all([...all, ...this.#unwinding.values()])
  }

  #isPaidAndStarted(key: string, job: Job<S>): boolean {
    const paid = typeof this.#opts.paid === 'function' ? this.#opts.paid(job.spec) : this.#opts.paid
    return paid && (job.started || (this.#opts.isStarted?.(key, job.spec) ?? false))
  }

  #start(key: string, spec: S, specId: string): void {
    const controller = new AbortController()
    const { signal } = controller
    const before = this.#unwinding.get(key) ?? Promise.resolve()
    const job: Job<S> = { spec, controller, started: false, by: new Set([specId]), settled: Promise.resolve() }
    const settle = this.#opts.settleMs ?? 0
    job.settled = before
      .then(async () => {
        signal.throwIfAborted()
        const settleMs = typeof settle === 'function' ? await settle(spec) : settle
        if (settleMs > 0) await sleep(settleMs, signal)
        if (this.#opts.stillWanted && !(await this.#opts.stillWanted(key))) {
          // Not this key's to pay for: the files have moved on, and their next decision will say so.
          this.#drop(key, job)
        }
        // Dropped while settling or being checked: never reaches the runner.
        signal.throwIfAborted()
        return this.#opts.run(key, spec, signal)
      })
      .then(
        (result) => {
          if (this.#jobs.get(key) === job) this.#jobs.delete(key)
          // Reported even when superseded: the clip is kept, and a spec may come back to it.
          this.#opts.onDone(key, this.specsFor(key), result, [...job.by])
        },
        (err: unknown) => {
          if (this.#jobs.get(key) === job) this.#jobs.delete(key)
          if (signal.aborted || isVidspecError(err, 'ABORTED')) return
          this.#opts.onFailed(key, this.specsFor(key), err instanceof Error ? err : new Error(String(err)))
        },
      )
    this.#jobs.set(key, job)
  }

  #cancelIfUnwanted(key: string): void {
    const job = this.#jobs.get(key)
    if (!job) return
    if (this.wants(key)) return
    if (this.#isPaidAndStarted(key, job)) return
    this.#drop(key, job)
  }

  #drop(key: string, job: Job<S>): void {
    job.controller.abort()
    if (this.#jobs.get(key) !== job) return
    this.#jobs.delete(key)
    const settled = job.settled.finally(() => {
      if (this.#unwinding.get(key) === settled) this.#unwinding.delete(key)
    })
    this.#unwinding.set(key, settled)
    this.#opts.onDropped?.(key, [...job.by])
  }
}
