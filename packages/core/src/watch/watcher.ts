import { resolve, sep } from 'node:path'
import type { FSWatcher } from 'chokidar'
import { isVidspecError } from '../errors.js'
import type { LoadedSpec, Vidspec } from '../project.js'

export type WatchDecisionKind = 'added' | 'removed' | 'unchanged' | 'cached' | 'queued' | 'superseded' | 'invalid' | 'done' | 'failed'

export interface WatchDecision {
  kind: WatchDecisionKind
  spec: string
  key?: string | undefined
  /** From the first file event of the batch to this decision, debounce excluded. */
  latencyMs?: number | undefined
  error?: Error | undefined
}

export interface WatchOptions {
  /**
   * Quiet time after the last file event before acting, so one save (or a formatter's several
   * writes) is one decision.
   * @default 100
   */
  debounceMs?: number
  onDecision?: (decision: WatchDecision) => void
  /** Told about anything else worth a line: config edits, watcher errors. */
  onNotice?: (message: string) => void
}

interface Tracked {
  key?: string | undefined
  deps: string[]
}

/**
 * Keeps a project's clips up to date as files change. Each spec's imported files (from the
 * loader) form a reverse index, so an edit re-evaluates exactly the specs it can affect, and only a
 * changed key starts a job. A spec that fails to load is reported and kept watched; queued work of
 * a spec edited again is dropped, paid work never is.
 */
export class ProjectWatcher {
  readonly #project: Vidspec
  readonly #opts: Required<Pick<WatchOptions, 'debounceMs'>> & WatchOptions
  readonly #specs = new Map<string, Tracked>()
  readonly #importers = new Map<string, Set<string>>()
  readonly #jobs = new Map<string, { key: string; promise: Promise<void> }>()
  readonly #stop = new AbortController()
  #fs: FSWatcher | undefined
  #pending = new Map<string, 'add' | 'change' | 'unlink'>()
  #firstEventAt = 0
  #timer: NodeJS.Timeout | undefined
  #busy: Promise<void> = Promise.resolve()

  constructor(project: Vidspec, opts: WatchOptions = {}) {
    this.#project = project
    this.#opts = { debounceMs: 100, ...opts }
  }

  /** Specs currently known, for tests and status. */
  get specs(): string[] {
    return [...this.#specs.keys()].map((f) => this.#project.specId(f)).sort()
  }

  async start(): Promise<void> {
    const { root, cacheDir } = this.#project.config
    const ignoredDirs = ['node_modules', '.git', 'dist', 'build'].map((d) => `${sep}${d}`)
    // Imported here: only `watch` needs it, and every other command starts faster without it.
    const { watch } = await import('chokidar')
    const fs = watch(root, {
      ignoreInitial: true,
      ignored: (path: string) =>
        path.startsWith(cacheDir) || ignoredDirs.some((d) => path.includes(`${d}${sep}`) || path.endsWith(d)),
    })
    this.#fs = fs
    fs.on('all', (event, path) => {
      if (process.env.VIDSPEC_DEBUG) process.stderr.write(`[vidspec] fs ${event} ${path}\n`)
      if (event === 'add' || event === 'change' || event === 'unlink') this.#queue(resolve(path), event)
    })
    fs.on('error', (err) => this.#opts.onNotice?.(`watcher error: ${(err as Error).message}`))
    await new Promise<void>((ready) => fs.once('ready', () => ready()))
    // The first pass goes through the spec memo: specs unchanged since the last run are not evaluated.
    this.#enqueueWork(async () => {
      const since = performance.now()
      const loaded = await this.#project.loadAll(undefined, { signal: this.#stop.signal })
      if (this.#stop.signal.aborted) return
      await Promise.all(loaded.map(({ file, spec, error }) => this.#decideLoaded(file, 'added', since, spec ? { spec } : { error })))
    })
  }

  /** Resolves once every decision so far is made and every job started so far has settled. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.#busy
      await busy
      await Promise.all([...this.#jobs.values()].map((j) => j.promise))
      if (busy === this.#busy && this.#jobs.size === 0 && !this.#timer) return
    }
  }

  /**
   * Stops watching and cancels work in flight. The runner keeps the journal of any job already
   * created, so the next run resumes it without paying again.
   */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#stop.abort()
    await this.#fs?.close()
    await Promise.allSettled([...this.#jobs.values()].map((j) => j.promise))
  }

  #queue(path: string, event: 'add' | 'change' | 'unlink'): void {
    if (this.#pending.size === 0) this.#firstEventAt = performance.now()
    // An add followed by a change (write then flush) is still an add: discovery must run.
    const seen = this.#pending.get(path)
    this.#pending.set(path, seen && seen !== 'change' && event === 'change' ? seen : event)
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const batch = this.#pending
      const since = this.#firstEventAt + this.#opts.debounceMs
      this.#pending = new Map()
      this.#enqueueWork(() => this.#process(batch, since))
    }, this.#opts.debounceMs)
  }

  /** Batches run one after another: a decision never races the one before it. */
  #enqueueWork(work: () => Promise<void>): void {
    this.#busy = this.#busy.then(work).catch((err: unknown) => this.#opts.onNotice?.(`watch: ${(err as Error).message}`))
  }

  async #process(batch: Map<string, 'add' | 'change' | 'unlink'>, since: number): Promise<void> {
    if (this.#stop.signal.aborted) return
    const affected = new Map<string, WatchDecisionKind>()
    if ([...batch.values()].some((e) => e !== 'change')) {
      const now = new Set(await this.#project.discover())
      for (const file of [...this.#specs.keys()]) {
        if (!now.has(file)) this.#remove(file, since)
      }
      for (const file of now) if (!this.#specs.has(file)) affected.set(file, 'added')
    }
    for (const path of batch.keys()) {
      if (this.#project.configDeps.includes(path)) {
        this.#opts.onNotice?.(`${this.#project.specId(path)} changed: restart vidspec watch to apply it`)
      }
      if (this.#specs.has(path) && !affected.has(path)) affected.set(path, 'unchanged')
      for (const spec of this.#importers.get(path) ?? []) if (!affected.has(spec)) affected.set(spec, 'unchanged')
    }
    await Promise.all([...affected].map(([file, kind]) => this.#evaluate(file, kind, since)))
  }

  #remove(file: string, since: number): void {
    const tracked = this.#specs.get(file)
    this.#specs.delete(file)
    this.#index(file, tracked?.deps ?? [], [])
    const job = this.#jobs.get(file)
    if (job) this.#project.cancelQueued(job.key)
    this.#decide({ kind: 'removed', spec: this.#project.specId(file) }, since)
  }

  async #evaluate(file: string, first: WatchDecisionKind, since: number): Promise<void> {
    let loaded: { spec: LoadedSpec } | { error: unknown }
    try {
      // Evaluated in a worker: a spec that loops or never settles is stopped by close() at once.
      const spec = await this.#project.load(file, { signal: this.#stop.signal })
      this.#project.reportWarnings([spec])
      loaded = { spec }
    } catch (error) {
      if (this.#stop.signal.aborted) return
      loaded = { error }
    }
    await this.#decideLoaded(file, first, since, loaded)
  }

  async #decideLoaded(
    file: string,
    first: WatchDecisionKind,
    since: number,
    loaded: { spec: LoadedSpec } | { error: unknown },
  ): Promise<void> {
    const id = this.#project.specId(file)
    const before = this.#specs.get(file)
    if (!('spec' in loaded)) {
      // Keep watching the spec and what it imported last time it loaded, so a fix is picked up.
      this.#specs.set(file, { key: undefined, deps: before?.deps ?? [file] })
      this.#index(file, before?.deps ?? [], before?.deps ?? [file])
      this.#decide({ kind: 'invalid', spec: id, error: loaded.error as Error }, since)
      return
    }
    const { spec } = loaded
    this.#specs.set(file, { key: spec.key, deps: spec.deps })
    this.#index(file, before?.deps ?? [], spec.deps)
    if (first === 'added') this.#decide({ kind: 'added', spec: id, key: spec.key }, since)
    if (before?.key === spec.key && (this.#jobs.has(file) || (await this.#project.assetFor(spec)))) {
      if (first !== 'added') this.#decide({ kind: 'unchanged', spec: id, key: spec.key }, since)
      return
    }
    const previous = this.#jobs.get(file)
    if (previous && previous.key !== spec.key && this.#project.cancelQueued(previous.key)) {
      this.#decide({ kind: 'superseded', spec: id, key: previous.key }, since)
    }
    if (await this.#project.assetFor(spec)) {
      this.#decide({ kind: 'cached', spec: id, key: spec.key }, since)
      return
    }
    this.#decide({ kind: 'queued', spec: id, key: spec.key }, since)
    this.#startJob(file, spec)
  }

  #startJob(file: string, spec: LoadedSpec): void {
    const promise = this.#project
      .generate(spec, { signal: this.#stop.signal })
      .then(
        ({ entry }) => this.#decide({ kind: 'done', spec: spec.id, key: entry.key }),
        (err: unknown) => {
          // A superseded or shut-down run is not a failure worth a line of its own.
          if (isVidspecError(err, 'ABORTED')) return
          this.#decide({ kind: 'failed', spec: spec.id, key: spec.key, error: err as Error })
        },
      )
      .finally(() => {
        if (this.#jobs.get(file)?.promise === promise) this.#jobs.delete(file)
      })
    this.#jobs.set(file, { key: spec.key, promise })
  }

  #index(spec: string, oldDeps: string[], newDeps: string[]): void {
    for (const dep of oldDeps) this.#importers.get(dep)?.delete(spec)
    for (const dep of newDeps) {
      let set = this.#importers.get(dep)
      if (!set) this.#importers.set(dep, (set = new Set()))
      set.add(spec)
    }
  }

  #decide(decision: WatchDecision, since?: number): void {
    if (since !== undefined) decision.latencyMs = Math.max(0, performance.now() - since)
    this.#opts.onDecision?.(decision)
  }
}
