import { existsSync } from 'node:fs'
import { access } from 'node:fs/promises'
import { relative } from 'node:path'
import pLimit from 'p-limit'
import { loadConfig } from './config/load.js'
import type { ResolvedConfig } from './config/resolve.js'
import type { VidspecConfigInput } from './config/types.js'
import { VidspecError, isVidspecError, type SpecIssue } from './errors.js'
import { checkSpend, estimateCost, type Miss, type SpendLimits } from './guards.js'
import { lockedClip, readLockfile, writeLockfile, type LockedClip, type Lockfile } from './lockfile.js'
import { silentLogger, type Logger } from './logger.js'
import { probeVideo } from './media/ffmpeg.js'
import { describeChange, diffRequests, type FieldChange } from './plan/diff.js'
import { createProvider, resolveProvider } from './providers/create.js'
import { missingKeyError } from './providers/together.js'
import type { Provider, ProviderRequest } from './providers/types.js'
import { RemoteCache } from './remote/cache.js'
import { Runner, type RunResult } from './runner/runner.js'
import { runnerSettings } from './runner/settings.js'
import { specId, specName } from './spec/discover.js'
import { hashFiles } from './spec/load.js'
import { SpecLoader, type LoadedSpec, type LoadResult } from './spec/loader.js'
import { Store } from './store/index.js'
import type { Entry } from './types.js'

export type { LoadedSpec } from './spec/loader.js'

export type PlanStatus = 'new' | 'changed' | 'cached' | 'invalid'

export interface PlanItem {
  id: string
  name: string
  file: string
  status: PlanStatus
  key?: string
  /** For `changed`: what differs from the spec's last build. */
  changes?: FieldChange[]
  /** For `changed`: project-relative files (the spec or modules it imports) that differ since then. */
  changedDeps?: string[]
  /** For `changed`: what the comparison is against: the approved clip in the lockfile, or the last build. */
  basis?: 'lockfile' | 'last build'
  /** For `changed` against the lockfile: the provider of the approved clip. */
  previousProvider?: string
  /** For `cached`: the clip is not in the store yet but the lockfile's approved object is, and will be used. */
  restorable?: boolean
  /** For `cached`: the clip is not in the store yet but the remote cache has it, and a build fetches it. */
  remote?: boolean
  /** For `new` / `changed` with a paid provider: estimated dollars (undefined when no price is known). */
  estimate?: number | undefined
  error?: VidspecError
  spec?: LoadedSpec
}

export type BuildStatus = 'cached' | 'generated' | 'failed' | 'invalid' | 'blocked'

export interface BuildItem {
  id: string
  name: string
  file: string
  status: BuildStatus
  key?: string
  entry?: Entry
  error?: Error
  durationMs: number
}

export interface BuildResult {
  items: BuildItem[]
  counts: Record<BuildStatus, number>
  /** Set when --frozen / --max-jobs / --max-cost stopped the run before any request. */
  blocked?: VidspecError
  lockfileUpdated?: boolean
}

export interface BuildOptions extends SpendLimits {
  /** Only these spec files (the lockfile then keeps every other spec as it was). */
  files?: string[]
  signal?: AbortSignal
  /** Write vidspec.lock.json. @default true */
  lockfile?: boolean
}

export interface OpenOptions {
  root: string
  configFile?: string
  env?: NodeJS.ProcessEnv
  /** Settings that win over the config file (CLI flags, Vite plugin options). */
  overrides?: Partial<VidspecConfigInput>
  logger?: Logger
  /** Tests and embedders may supply their own provider. */
  provider?: Provider
  /** Create again for keys whose earlier create may have started an unknown job (see Runner). */
  retryUncertain?: boolean
  /**
   * Create the store when there is none. Only commands that make clips (build, watch, the Vite
   * plugin) do; plan, status, verify and gc read an absent store as an empty one. @default true
   */
  createStore?: boolean
}

/**
 * One project: its config, store, provider and runner. The CLI and the Vite plugin both drive this,
 * so they always compute the same keys and share one store.
 */
export class Vidspec {
  readonly config: ResolvedConfig
  readonly store: Store
  readonly provider: Provider
  readonly runner: Runner
  readonly logger: Logger
  /** The shared cache in a bucket (`remote` in the config), unless none is configured or it is off. */
  readonly remote: RemoteCache | undefined
  /** Files the config itself was loaded from (a change means reopening). */
  readonly configDeps: string[]

  private constructor(
    config: ResolvedConfig,
    configDeps: string[],
    provider: Provider,
    logger: Logger,
    runnerOptions: { retryUncertain?: boolean | undefined } = {},
  ) {
    this.config = config
    this.configDeps = configDeps
    this.store = new Store(config.cacheDir)
    // A corrupt clip found on a read becomes a miss; this says why, and that its job is journaled again.
    this.store.onCorrupt = (err) => logger.warn(err.message)
    this.provider = provider
    this.logger = logger
    this.remote = config.remote
      ? new RemoteCache({
          remote: config.remote,
          store: this.store,
          logger,
          jobTimeoutMs: config.together.jobTimeoutMs,
          poll: { intervalMs: config.together.pollIntervalMs, maxIntervalMs: config.together.maxPollIntervalMs },
          retry: { retries: Math.min(config.retry.retries, 4), minDelayMs: config.retry.minDelayMs, maxDelayMs: Math.min(config.retry.maxDelayMs, 5000) },
        })
      : undefined
    this.runner = new Runner({
      store: this.store,
      provider,
      probe: probeVideo,
      ...runnerSettings(config),
      logger,
      retryUncertain: runnerOptions.retryUncertain ?? false,
      remote: this.remote,
    })
  }

  static async open(opts: OpenOptions): Promise<Vidspec> {
    const env = opts.env ?? process.env
    const { config, deps } = await loadConfig(opts.root, {
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      env,
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
    })
    const name = opts.provider ? undefined : await resolveProvider(config)
    const resolved = name && name !== config.provider ? { ...config, provider: name } : config
    const provider = opts.provider ?? createProvider(resolved, env, opts.logger)
    const project = new Vidspec(resolved, deps, provider, opts.logger ?? silentLogger, {
      retryUncertain: opts.retryUncertain,
    })
    if (opts.createStore ?? true) await project.store.init()
    return project
  }

  /** Whether the store's folder exists (a read-only command never creates it). */
  get storeExists(): boolean {
    return existsSync(this.config.cacheDir)
  }

  #specLoader: SpecLoader | undefined
  /** Finding, evaluating, validating and keying specs, the memo and warnings: see spec/loader.ts. */
  get #loader(): SpecLoader {
    return (this.#specLoader ??= new SpecLoader({
      config: this.config,
      provider: this.provider,
      logger: this.logger,
      providerIssues: (spec) => this.#providerIssues(spec),
      storeExists: () => this.storeExists,
    }))
  }

  discover(): Promise<string[]> {
    return this.#loader.discover()
  }

  specId(file: string): string {
    return specId(this.config.root, file)
  }

  /**
   * Loads, validates and keys one spec (evaluated in isolation, see spec/evaluate/). Throws
   * SPEC_LOAD_FAILED / SPEC_INVALID naming the file, or ABORTED when `signal` stops the evaluation.
   */
  load(file: string, opts: { signal?: AbortSignal | undefined } = {}): Promise<LoadedSpec> {
    return this.#loader.load(file, opts)
  }

  /** Says each distinct spec warning once per process, grouped with the specs it concerns. */
  reportWarnings(specs: Iterable<Pick<LoadedSpec, 'id' | 'warnings'>>): void {
    this.#loader.reportWarnings(specs)
  }

  /** Loads every spec (or the given files) through the memo; a broken spec is reported, never fatal. */
  loadAll(files?: string[], opts: { signal?: AbortSignal | undefined } = {}): Promise<LoadResult[]> {
    return this.#loader.loadAll(files, opts)
  }

  /** Loads one spec the way `loadAll` does: from the memo when none of its files changed. */
  loadMemoized(file: string): Promise<LoadedSpec> {
    return this.#loader.loadMemoized(file)
  }

  async plan(files?: string[], opts: { signal?: AbortSignal | undefined } = {}): Promise<PlanItem[]> {
    const [loaded, lock] = await Promise.all([this.loadAll(files, opts), readLockfile(this.config.root)])
    const remote = this.#sharedRemote
    const items = await Promise.all(
      loaded.map(async ({ file, spec, error }): Promise<PlanItem> => {
        const base = { id: specId(this.config.root, file), name: specName(this.config.root, file), file }
        if (!spec) return { ...base, status: 'invalid', ...(error ? { error } : {}) }
        if (await this.store.getEntry(spec.key)) return { ...base, status: 'cached', key: spec.key, spec }
        const locked = lock.specs[spec.id]
        if (locked?.key === spec.key && (await this.#lockedObjectPresent(locked))) {
          return { ...base, status: 'cached', key: spec.key, spec, restorable: true }
        }
        // A miss that the shared cache holds is not a miss for a build.
        if (await remote?.holds(spec.key, opts.signal)) return { ...base, status: 'cached', key: spec.key, spec, remote: true }
        // What was approved (the lockfile) wins over what this machine last built.
        const state = await this.store.readSpecState(spec.id)
        const last = locked ?? state
        if (!last) return { ...base, status: 'new', key: spec.key, spec }
        const changes = diffRequests(last, spec)
        const depHashes = await this.#depHashes(spec)
        const changedDeps = Object.entries(depHashes)
          .map(([abs, hash]) => [relative(this.config.root, abs).split('\\').join('/'), hash] as const)
          .filter(([rel, hash]) => last.deps[rel] !== hash)
          .map(([rel]) => rel)
        const basis = locked ? 'lockfile' : 'last build'
        return { ...base, status: 'changed', key: spec.key, spec, changes, changedDeps, basis, ...(locked ? { previousProvider: locked.provider } : {}) }
      }),
    )
    const work = items.filter((i) => (i.status === 'new' || i.status === 'changed') && i.spec)
    if (work.length > 0 && this.provider.kind === 'remote') {
      const history = await this.store.listEntries()
      for (const item of work) if (item.spec) item.estimate = estimateCost(this.provider, this.providerRequest(item.spec), history, this.config.prices)
    }
    return items
  }

  /** The request a provider receives for a loaded spec. */
  providerRequest(spec: LoadedSpec): ProviderRequest {
    return { key: spec.key, request: spec.request, media: spec.media, spec: spec.id }
  }

  /**
   * Makes sure one spec's clip is in the store and records the build: the store, then the approved
   * clip of the lockfile, then the remote cache, and only then a generation. Under `frozen` (builds
   * pass the config's, true when CI=true; watch and dev pass none) a paid generation is FROZEN_MISS;
   * without an API key it is PROVIDER_AUTH, both naming the spec and both before any request.
   */
  async generate(spec: LoadedSpec, opts: { signal?: AbortSignal | undefined; frozen?: boolean | undefined } = {}): Promise<RunResult> {
    const result = await this.#obtain(spec, opts)
    await this.#recordBuild(spec)
    return result
  }

  async #obtain(spec: LoadedSpec, opts: { signal?: AbortSignal | undefined; frozen?: boolean | undefined }): Promise<RunResult> {
    const run = () => this.runner.run(this.providerRequest(spec), opts.signal ? { signal: opts.signal } : {})
    // A stored clip goes through the runner, which also settles what a crash left (a journal).
    if (await this.store.getEntry(spec.key)) return run()
    const locked = (await readLockfile(this.config.root)).specs[spec.id]
    const restored = locked?.key === spec.key ? await this.#restoreLocked(spec, locked) : undefined
    if (restored) return { entry: restored, generated: false }
    const provider = this.provider
    const frozen = opts.frozen ?? false
    if (provider.kind === 'remote' && (frozen || provider.canCreate === false)) {
      const fetched = await this.#sharedRemote?.fetch(spec.key, spec.id, opts.signal)
      if (fetched) return { entry: fetched, generated: false }
      // A job already paid for (journaled) is downloaded, not bought: frozen does not stop it.
      const journal = await this.store.readJournal(spec.key)
      const paid = Boolean(journal?.jobId) && journal?.provider === provider.id
      if (paid && provider.canCreate !== false) return run()
      if (paid) {
        throw new VidspecError(
          'PROVIDER_AUTH',
          `${spec.id}: its paid job ${journal?.jobId} is in the journal, and downloading it from Together needs the API key: set TOGETHER_API_KEY (the journal keeps the job until then)`,
          { file: spec.id },
        )
      }
      if (frozen) {
        throw new VidspecError(
          'FROZEN_MISS',
          `${spec.id}: needs a paid generation that nobody approved (frozen${this.config.frozen ? ', the default when CI=true' : ''}); ` +
            'build it where spending is allowed and commit vidspec.lock.json, or restore the shared cache',
          { file: spec.id },
        )
      }
      throw missingKeyError(spec.id)
    }
    return run()
  }

  async build(opts: BuildOptions = {}): Promise<BuildResult> {
    const [loaded, lock] = await Promise.all([this.loadAll(opts.files, { signal: opts.signal }), readLockfile(this.config.root)])
    const misses: Miss[] = []
    const local: LoadedSpec[] = []
    for (const { spec } of loaded) {
      if (!spec || (await this.store.getEntry(spec.key))) continue
      const locked = lock.specs[spec.id]
      if (locked?.key === spec.key && (await this.#restoreLocked(spec, locked))) continue
      local.push(spec)
    }
    // A clip in the shared cache is not a miss: fetched before --frozen and the spend limits decide.
    const fetched = await this.#readThrough(local, opts.signal)
    for (const spec of local) {
      if (fetched.has(spec.key)) continue
      // A job already paid for (journaled, e.g. a quarantined clip's) is downloaded again, not bought: no spend to guard.
      const journal = await this.store.readJournal(spec.key)
      if (journal?.jobId && journal.provider === this.provider.id) continue
      const locked = lock.specs[spec.id]
      const approved =
        locked?.key === spec.key
          ? `the approved clip ${locked.digest.slice(0, 12)} (vidspec.lock.json) is not in the cache; a new generation will differ from it`
          : undefined
      if (approved) this.logger.warn(`${spec.id}: ${approved}`)
      const unreachable = this.remote?.failure ? `the remote cache could not be used (${this.remote.failure})` : undefined
      const note = [approved, unreachable].filter(Boolean).join('; ') || undefined
      misses.push({ spec: spec.id, request: this.providerRequest(spec), note })
    }
    const frozen = opts.frozen ?? this.config.frozen
    try {
      checkSpend(this.provider, misses, { ...opts, frozen }, await this.#history(opts), this.config.prices)
    } catch (err) {
      if (!(err instanceof VidspecError)) throw err
      return this.#blocked(loaded, new Set(misses.map((m) => m.spec)), err)
    }
    const items = await Promise.all(
      loaded.map(async ({ file, spec, error }): Promise<BuildItem> => {
        const id = specId(this.config.root, file)
        const name = specName(this.config.root, file)
        // Interrupted while it was being evaluated: cancelled, like a job, not a bad spec.
        if (!spec && error && isVidspecError(error, 'ABORTED')) return { id, name, file, status: 'failed', error, durationMs: 0 }
        if (!spec) {
          const err = error ?? new VidspecError('SPEC_INVALID', `${id}: could not be loaded`)
          this.#emitInvalid(id, err)
          return { id, name, file, status: 'invalid', error: err, durationMs: 0 }
        }
        const started = performance.now()
        try {
          const { entry, generated } = await this.generate(spec, { signal: opts.signal, frozen })
          const durationMs = performance.now() - started
          if (generated) {
            this.logger.event?.({ type: 'spec:done', spec: id, key: spec.key, generated, durationMs, cost: entry.cost })
          } else {
            this.logger.event?.({ type: 'spec:cached', spec: id, key: spec.key })
          }
          return { id, name, file, status: generated ? 'generated' : 'cached', key: spec.key, entry, durationMs }
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err))
          if (isVidspecError(e, 'ABORTED')) this.logger.event?.({ type: 'spec:cancelled', spec: id, key: spec.key })
          else this.logger.event?.({ type: 'spec:failed', spec: id, key: spec.key, error: e })
          return { id, name, file, status: 'failed', key: spec.key, error: e, durationMs: performance.now() - started }
        }
      }),
    )
    const lockfileUpdated = opts.lockfile === false ? false : await this.#updateLockfile(lock, loaded, items, !opts.files)
    return { items, counts: countItems(items), lockfileUpdated }
  }

  /** Records each built spec's clip in vidspec.lock.json; drops specs that no longer exist. */
  async #updateLockfile(
    lock: Lockfile,
    loaded: Array<{ file: string; spec?: LoadedSpec }>,
    items: BuildItem[],
    complete: boolean,
  ): Promise<boolean> {
    const specs: Record<string, LockedClip> = complete
      ? Object.fromEntries(loaded.flatMap(({ file }) => {
          const id = specId(this.config.root, file)
          const kept = lock.specs[id]
          return kept ? [[id, kept] as const] : []
        }))
      : { ...lock.specs }
    const byId = new Map(loaded.flatMap(({ spec }) => (spec ? [[spec.id, spec] as const] : [])))
    for (const item of items) {
      const spec = byId.get(item.id)
      // Previews are placeholders, not approvals: the lockfile pins paid clips only.
      if (!item.entry || !spec || item.entry.preview) continue
      const pinned = specs[item.id]
      if (pinned?.key === item.entry.key && pinned.digest === item.entry.digest && pinned.jobId === item.entry.jobId) continue
      const { media, deps } = await this.#provenance(spec)
      specs[item.id] = lockedClip(item.entry, media, deps)
    }
    return writeLockfile(this.config.root, { version: 1, specs })
  }

  #blocked(loaded: Array<{ file: string; spec?: LoadedSpec; error?: VidspecError }>, missed: Set<string>, err: VidspecError): BuildResult {
    const items = loaded.map(({ file, spec, error }): BuildItem => {
      const id = specId(this.config.root, file)
      const name = specName(this.config.root, file)
      if (!spec) return { id, name, file, status: 'invalid', ...(error ? { error } : {}), durationMs: 0 }
      if (missed.has(spec.id)) return { id, name, file, status: 'blocked', key: spec.key, error: err, durationMs: 0 }
      return { id, name, file, status: 'cached', key: spec.key, durationMs: 0 }
    })
    this.logger.error(err.message)
    return { items, counts: countItems(items), blocked: err }
  }

  /**
   * The remote cache, for this project's provider: previews are never written back, so an offline
   * run has nothing to find there (and no remote to warn about).
   */
  get #sharedRemote(): RemoteCache | undefined {
    return this.provider.kind === 'remote' ? this.remote : undefined
  }

  /** Fetches local misses from the remote cache; the keys it had. */
  async #readThrough(specs: LoadedSpec[], signal: AbortSignal | undefined): Promise<Set<string>> {
    const remote = this.#sharedRemote
    const found = new Set<string>()
    if (!remote || specs.length === 0) return found
    const byKey = new Map(specs.map((s) => [s.key, s] as const))
    const limit = pLimit(8)
    await Promise.all(
      [...byKey.values()].map((spec) =>
        limit(async () => {
          if (await remote.fetch(spec.key, spec.id, signal)) found.add(spec.key)
        }),
      ),
    )
    return found
  }

  async #history(limits: SpendLimits): Promise<Entry[]> {
    return limits.maxCost === undefined ? [] : this.store.listEntries()
  }

  async #lockedObjectPresent(locked: LockedClip): Promise<boolean> {
    try {
      await access(this.store.objectPath(locked.digest, locked.ext))
      return true
    } catch {
      return false
    }
  }

  /**
   * A teammate's approved clip whose bytes are in this store (a shared or restored cache dir) but
   * whose entry is not: probe it, check it is the approved object, and record it, instead of paying
   * for a different clip.
   */
  async #restoreLocked(spec: LoadedSpec, locked: LockedClip): Promise<Entry | undefined> {
    if (!(await this.#lockedObjectPresent(locked))) return undefined
    const path = this.store.objectPath(locked.digest, locked.ext)
    try {
      const probed = await probeVideo(path)
      const entry: Entry = {
        version: 1,
        key: spec.key,
        digest: locked.digest,
        ext: locked.ext,
        size: locked.size,
        mime: locked.mime,
        width: probed.width,
        height: probed.height,
        duration: probed.duration,
        fps: probed.fps,
        codec: probed.codec,
        provider: locked.provider,
        preview: locked.preview,
        model: locked.model,
        jobId: locked.jobId,
        cost: locked.cost,
        seed: locked.seed,
        createdAt: new Date().toISOString(),
        spec: spec.id,
        request: spec.request,
      }
      await this.store.putEntry(entry)
      this.logger.info(`${spec.id}: restored the approved clip from vidspec.lock.json`)
      return entry
    } catch (err) {
      this.logger.warn(`${spec.id}: the approved clip in the cache could not be used: ${(err as Error).message}`)
      return undefined
    }
  }

  objectPath(entry: Entry): string {
    return this.store.objectPath(entry.digest, entry.ext)
  }

  #providerIssues(spec: LoadedSpec): SpecIssue[] {
    return this.provider.check?.(this.providerRequest(spec)) ?? []
  }

  #emitInvalid(id: string, error: VidspecError): void {
    if (this.logger.event) this.logger.event({ type: 'spec:invalid', spec: id, error })
    else this.logger.error(error.message)
  }

  async #recordBuild(spec: LoadedSpec): Promise<void> {
    const { media, deps } = await this.#provenance(spec)
    await this.store.writeSpecState({
      spec: spec.id,
      key: spec.key,
      request: spec.request,
      media,
      deps,
      builtAt: new Date().toISOString(),
    })
  }

  /** What the request was made from, not what the files hold now (a save may have come since). */
  async #depHashes(spec: LoadedSpec): Promise<Record<string, string>> {
    const known = spec.deps.every((d) => spec.depHashes[d]) && spec.deps.length > 0
    return known ? spec.depHashes : hashFiles(spec.deps)
  }

  /** Content hashes of what a spec was made from: its local media and the files it imported. */
  async #provenance(spec: LoadedSpec): Promise<{ media: Record<string, string>; deps: Record<string, string> }> {
    const depHashes = await this.#depHashes(spec)
    const deps: Record<string, string> = {}
    for (const [abs, hash] of Object.entries(depHashes)) deps[relative(this.config.root, abs).split('\\').join('/')] = hash
    const media: Record<string, string> = {}
    for (const [ref, m] of spec.media) if (m.kind !== 'url') media[ref] = m.sha256
    return { media, deps }
  }

}

function countItems(items: BuildItem[]): Record<BuildStatus, number> {
  const counts: Record<BuildStatus, number> = { cached: 0, generated: 0, failed: 0, invalid: 0, blocked: 0 }
  for (const item of items) counts[item.status]++
  return counts
}

export { describeChange }
