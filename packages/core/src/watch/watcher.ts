import { resolve, sep } from 'node:path'
import type { FSWatcher } from 'chokidar'
import type { LoadedSpec, Vidspec } from '../project.js'
import { IGNORED_DIRS } from '../spec/discover.js'
import { configName, reloadProject } from './reload.js'
import { EditorPresence, RECHECK_MS, SpecTracker, type WatchDecision } from './tracker.js'

export type { WatchDecision, WatchDecisionKind } from './tracker.js'


export interface WatchOptions {
  /**
   * Quiet time after the last file event before acting, so one save (or a formatter's several
   * writes) is one decision.
   * @default 100
   */
  debounceMs?: number
  /**
   * Quiet time between a key becoming wanted and its paid create, so a burst of edits pays only
   * for where it settles. @default 0
   */
  settleMs?: number
  onDecision?: (decision: WatchDecision) => void
  /** Told about anything else worth a line: config edits, watcher errors. */
  onNotice?: (message: string) => void
  /**
   * Opens the project again after its config changed; without it, a config edit is only said.
   * Jobs in flight keep the project that started them (a paid job is finished and stored).
   */
  reopen?: () => Promise<Vidspec>
}

/**
 * Keeps a project's clips up to date as files change: chokidar and a debounce over a `SpecTracker`,
 * which knows which specs each file (module or local media) feeds and which key each spec wants. A
 * config edit reopens the project in place.
 */
export class ProjectWatcher {
  readonly #tracker: SpecTracker
  readonly #opts: Required<Pick<WatchOptions, 'debounceMs'>> & WatchOptions
  readonly #stop = new AbortController()
  #fs: FSWatcher | undefined
  #pending = new Map<string, 'add' | 'change' | 'unlink'>()
  #firstEventAt = 0
  #timer: NodeJS.Timeout | undefined
  #busy: Promise<void> = Promise.resolve()
  readonly #rechecks = new Set<NodeJS.Timeout>()
  readonly #presence: EditorPresence

  constructor(project: Vidspec, opts: WatchOptions = {}) {
    this.#opts = { debounceMs: 100, ...opts }
    this.#presence = new EditorPresence('watch', opts.settleMs)
    this.#tracker = new SpecTracker(project, {
      settleMs: opts.settleMs,
      ...(opts.onDecision ? { onDecision: opts.onDecision } : {}),
    })
  }

  get #project(): Vidspec {
    return this.#tracker.project
  }

  /** Specs currently known, for tests and status. */
  get specs(): string[] {
    return this.#tracker.files.map((f) => this.#project.specId(f)).sort()
  }

  async start(): Promise<void> {
    const { root, cacheDir } = this.#project.config
    await this.#presence.at(this.#project)
    const ignoredDirs = IGNORED_DIRS.map((d) => `${sep}${d}`)
    // Imported here: only `watch` needs it, and every other command starts faster without it.
    const { watch } = await import('chokidar')
    const fs = watch(root, {
      ignoreInitial: true,
      ignored: (path: string) =>
        path.startsWith(cacheDir) || ignoredDirs.some((d) => path.includes(`${d}${sep}`) || path.endsWith(d)),
    })
    this.#fs = fs
    fs.on('all', (event, path) => {
      if (this.#project.config.flags.debug) process.stderr.write(`[vidspec] fs ${event} ${path}\n`)
      if (event === 'add' || event === 'change' || event === 'unlink') this.#queue(resolve(path), event)
    })
    fs.on('error', (err) => this.#opts.onNotice?.(`watcher error: ${(err as Error).message}`))
    await new Promise<void>((ready) => fs.once('ready', () => ready()))
    // The first pass goes through the spec memo: specs unchanged since the last run are not evaluated.
    this.#enqueueWork(async () => {
      const since = performance.now()
      const loaded = await this.#project.loadAll(undefined, { signal: this.#stop.signal })
      if (this.#stop.signal.aborted) return
      await Promise.all(loaded.map(({ file, spec, error }) => this.#tracker.loaded(file, 'added', since, spec ? { spec } : { error })))
    })
  }

  /** Resolves once every decision so far is made and every job started so far has settled. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.#busy
      await busy
      await this.#tracker.idle()
      if (busy === this.#busy && !this.#timer) return
    }
  }

  /**
   * Stops watching and cancels work in flight. The runner keeps the journal of any job already
   * created, so the next run resumes it without paying again.
   */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    for (const t of this.#rechecks) clearTimeout(t)
    this.#rechecks.clear()
    this.#stop.abort()
    await this.#fs?.close()
    await this.#tracker.close()
    await this.#presence.leave()
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
    if ([...batch.keys()].some((path) => this.#project.configDeps.includes(path))) {
      await this.#reload(since)
      return
    }
    const affected = new Map<string, 'added' | 'unchanged'>()
    if ([...batch.values()].some((e) => e !== 'change')) {
      const now = this.#forgetMissing(await this.#project.discover(), since)
      for (const file of now) if (!this.#tracker.has(file)) affected.set(file, 'added')
    }
    for (const file of this.#tracker.fedBy(batch.keys())) if (!affected.has(file)) affected.set(file, 'unchanged')
    await Promise.all([...affected].map(([file, kind]) => this.#evaluate(file, kind, since)))
    this.#recheckLater([...affected.keys()])
  }

  /**
   * A save that chokidar dropped (see RECHECK_MS) would leave watch on an older key, whose job is
   * then dropped as superseded, until some later save. So once the window has passed, the specs just
   * evaluated are checked against their files again, and any that moved on is evaluated again.
   */
  #recheckLater(files: string[]): void {
    if (files.length === 0) return
    const timer = setTimeout(() => {
      this.#rechecks.delete(timer)
      if (this.#stop.signal.aborted) return
      void this.#tracker.stale(files).then((stale) => {
        for (const file of stale) if (!this.#stop.signal.aborted) this.#queue(file, 'change')
      })
    }, RECHECK_MS)
    this.#rechecks.add(timer)
  }

  /**
   * The config changed: reopen the project and re-key every spec with it. Jobs in flight keep the
   * project that started them; a queued job whose key no spec wants any more is dropped.
   */
  async #reload(since: number): Promise<void> {
    const { reopen, onNotice } = this.#opts
    if (!reopen) {
      onNotice?.(`${configName(this.#project)} changed: restart vidspec watch to apply it`)
      return
    }
    const { project: next, message } = await reloadProject(this.#project, reopen)
    if (next) {
      this.#tracker.swap(next)
      await this.#presence.at(next)
    }
    onNotice?.(message)
    if (!next) return
    const files = await next.discover()
    this.#forgetMissing(files, since)
    const loaded = await next.loadAll(files, { signal: this.#stop.signal })
    if (this.#stop.signal.aborted) return
    await Promise.all(
      loaded.map(({ file, spec, error }) =>
        this.#tracker.loaded(file, this.#tracker.has(file) ? 'unchanged' : 'added', since, spec ? { spec } : { error }),
      ),
    )
  }

  /** Stops tracking every spec file discovery no longer finds (deleted, renamed, or outside `include` now). */
  #forgetMissing(discovered: string[], since: number): Set<string> {
    const now = new Set(discovered)
    for (const file of this.#tracker.files) if (!now.has(file)) this.#tracker.remove(file, since)
    return now
  }

  async #evaluate(file: string, first: 'added' | 'unchanged', since: number): Promise<void> {
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
    await this.#tracker.loaded(file, first, since, loaded)
  }
}
