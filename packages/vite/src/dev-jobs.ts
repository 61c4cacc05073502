import { isVidspecError } from '@vidspec/core'

export interface DevJobsOptions<S, R> {
  /** Generates the clip of one key (the core runner: single-flight, lock and journal inside). */
  run(key: string, spec: S, signal: AbortSignal): Promise<R>
  /**
   * True when a started job costs money. A paid job that has started is never cancelled: it is
   * finished and kept in the store, since that money is spent either way.
   */
  paid: boolean
  /** The clip of `key` is in the store; `specs` are the specs that want it now. */
  onDone(key: string, specs: string[], result: R): void
  onFailed(key: string, specs: string[], error: Error): void
}

interface Job {
  controller: AbortController
  /** The provider is working on it (after this, a paid job is never cancelled). */
  started: boolean
  settled: Promise<void>
}

/**
 * Background generations of the dev server, one per cache key. Each spec wants exactly one key at a
 * time; when an edit re-keys a spec, the job of the key nobody wants any more is cancelled unless
 * it has started paying.
 */
export class DevJobs<S, R> {
  readonly #opts: DevJobsOptions<S, R>
  /** spec id -> the key it wants now. */
  readonly #wanted = new Map<string, string>()
  readonly #jobs = new Map<string, Job>()
  /** Cancelled jobs still unwinding: a key wanted again waits for its old job to let go. */
  readonly #unwinding = new Map<string, Promise<void>>()
  #closed = false

  constructor(opts: DevJobsOptions<S, R>) {
    this.#opts = opts
  }

  /**
   * Records that `specId` now wants `key`. With `spec`, the clip is missing and a job is started
   * for it unless one is already running; without, the clip is already there.
   */
  want(specId: string, key: string, spec?: S): void {
    const previous = this.#wanted.get(specId)
    this.#wanted.set(specId, key)
    if (spec !== undefined && !this.#jobs.has(key) && !this.#closed) this.#start(key, spec)
    if (previous !== undefined && previous !== key) this.#cancelIfUnwanted(previous)
  }

  /** The spec is gone (deleted, or no longer imported). */
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

  /** The spec ids that want `key` now. */
  specsFor(key: string): string[] {
    return [...this.#wanted].filter(([, k]) => k === key).map(([id]) => id)
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

  #start(key: string, spec: S): void {
    const controller = new AbortController()
    const before = this.#unwinding.get(key) ?? Promise.resolve()
    const job: Job = { controller, started: false, settled: Promise.resolve() }
    job.settled = before
      .then(() => {
        controller.signal.throwIfAborted()
        return this.#opts.run(key, spec, controller.signal)
      })
      .then(
        (result) => {
          if (this.#jobs.get(key) === job) this.#jobs.delete(key)
          // Reported even when superseded: the clip is kept, and a spec may come back to it.
          this.#opts.onDone(key, this.specsFor(key), result)
        },
        (err: unknown) => {
          if (this.#jobs.get(key) === job) this.#jobs.delete(key)
          if (controller.signal.aborted || isVidspecError(err, 'ABORTED')) return
          this.#opts.onFailed(key, this.specsFor(key), err instanceof Error ? err : new Error(String(err)))
        },
      )
    this.#jobs.set(key, job)
  }

  #cancelIfUnwanted(key: string): void {
    const job = this.#jobs.get(key)
    if (!job) return
    if ([...this.#wanted.values()].includes(key)) return
    if (job.started && this.#opts.paid) return
    job.controller.abort()
    this.#jobs.delete(key)
    const settled = job.settled.finally(() => {
      if (this.#unwinding.get(key) === settled) this.#unwinding.delete(key)
    })
    this.#unwinding.set(key, settled)
  }
}
