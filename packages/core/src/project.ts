import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from './config/load.js'
import type { ResolvedConfig } from './config/resolve.js'
import { VidspecError, type SpecIssue } from './errors.js'
import { collectGarbage, type CollectOptions, type KeepSet } from './gc.js'
import { readLockfile } from './lockfile.js'
import { silentLogger, type Logger } from './logger.js'
import { writeOutputs, type OutputItem } from './output.js'
import { fannedOut } from './signals.js'
import { joinEditors, sharedSettleMs, type EditorHandle } from './store/editors.js'
import { mediaTools } from './media/binaries.js'
import { extractPoster, type PosterOptions } from './media/poster.js'
import { ensurePreview, evictPreview } from './preview.js'
import { previewsVerdict, type PreviewsVerdict } from './previews.js'
import { createProvider, resolveProvider } from './providers/create.js'
import type { Provider, ProviderRequest } from './providers/types.js'
import type { RemoteCache } from './remote/cache.js'
import { pullClips, pushClips, type PullReport, type PushReport } from './remote/sync.js'
import type { Runner, RunResult } from './runner/runner.js'
import { specId } from './spec/discover.js'
import { SpecLoader, type LoadResult } from './spec/loader.js'
import type { GcReport, RestoreReport, Store, VerifyReport } from './store/index.js'
import type { Entry, JournalRecord, JournaledJob, UncertainCreate } from './types.js'
import { buildSpecs, obtainClip, recordBuild } from './project/build.js'
import { assembleParts, providerRequest, type ProjectParts } from './project/parts.js'
import { Renditions, type ObtainedRenditions, type ObtainOptions } from './renditions/service.js'
import { reprobeDerived } from './renditions/verify.js'
import { RemoteRenditions } from './remote/derived.js'
import type { DerivedRecord, Rendition, RenditionItem, RenditionPlan } from './renditions/types.js'
import { planSpecs } from './project/plan.js'
import { planWitness } from './project/verdict.js'
import { writePlanVerdict, type Verdict } from './plan/verdict.js'
import type { BuildOptions, BuildResult, LoadedSpec, OpenOptions, PlanItem } from './project/types.js'

export type { BuildItem, BuildOptions, BuildResult, BuildStatus, LoadedSpec, OpenOptions, PlanItem, PlanStatus } from './project/types.js'

/** The shared bucket as `vidspec push` and `pull` name it: where it is and whether it may be written. */
export type SharedCache = Pick<RemoteCache, 'mode' | 'where'>

/** The spec's clip as the caller just found it (`assetFor`), so it is not looked up again; ignored unless it is under the spec's key. */
export interface MasterOption {
  master?: Entry | undefined
}

/**
 * One project, as the CLI and the Vite plugin see it: intent-level methods over its config, store,
 * clip cache, provider and runner, which stay private so both adapters compute the same keys, share
 * one store and follow the same rules about paid work. The steps live in project/ (plan, build) and
 * in the modules named in ARCHITECTURE.md.
 */
export class Vidspec {
  readonly config: ResolvedConfig
  readonly provider: Provider
  readonly logger: Logger
  /** Files the config itself was loaded from (a change means reopening). */
  readonly configDeps: string[]
  readonly #configRemembered: boolean
  readonly #parts: ProjectParts & { remote: RemoteCache | undefined }
  /** The answers of plans of the whole project (see `recordPlanVerdict`). */
  readonly #wholePlans = new WeakSet<PlanItem[]>()

  private constructor(
    config: ResolvedConfig,
    configFrom: { deps: string[]; remembered: boolean },
    provider: Provider,
    logger: Logger,
    runnerOptions: { retryUncertain?: boolean | undefined } = {},
  ) {
    this.config = config
    this.configDeps = configFrom.deps
    this.#configRemembered = configFrom.remembered
    this.provider = provider
    this.logger = logger
    this.#parts = assembleParts(config, provider, logger, runnerOptions.retryUncertain ?? false)
  }

  get #store(): Store {
    return this.#parts.store
  }

  get #runner(): Runner {
    return this.#parts.runner
  }

  static async open(opts: OpenOptions): Promise<Vidspec> {
    const env = opts.env ?? process.env
    const { config, deps, deprecations, remembered } = await loadConfig(opts.root, {
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      env,
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
    })
    const name = opts.provider ? undefined : await resolveProvider(config)
    const resolved = name && name !== config.provider ? { ...config, provider: name } : config
    const provider = opts.provider ?? createProvider(resolved, env, opts.logger)
    const project = new Vidspec(resolved, { deps, remembered }, provider, opts.logger ?? silentLogger, {
      retryUncertain: opts.retryUncertain,
    })
    for (const message of deprecations) project.logger.warn(`${config.configFile ? `${config.configFile}: ` : ''}${message}`)
    if (opts.createStore ?? true) await project.ensureStore()
    return project
  }

  /** Whether the store's folder exists (a read-only command never creates it). */
  get storeExists(): boolean {
    return existsSync(this.config.cacheDir)
  }

  /** Creates the store if there is none: for the commands that make clips, once there is something to make. */
  ensureStore(): Promise<void> {
    return this.#store.init()
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

  plan(files?: string[], opts: { signal?: AbortSignal | undefined } = {}): Promise<PlanItem[]> {
    return fannedOut(opts.signal, async (signal) => {
      const [loaded, lock] = await Promise.all([this.loadAll(files, { signal }), readLockfile(this.config.root)])
      const items = await planSpecs(this.#parts, loaded, lock, signal)
      if (!files) this.#wholePlans.add(items)
      return items
    })
  }

  /**
   * Keeps what a plan of the whole project printed (`verdict`) for the next plan asked the same
   * `query` (the CLI's arguments, environment and terminal), which `readPlanVerdict` answers without
   * loading the project while every file and folder the answer rested on is unchanged (see
   * plan/verdict.ts). Only a plan that found every spec cached and began (`startedAt`, ms) once those
   * files had settled is kept; `code` names the files of the program that printed it. False when
   * nothing was kept.
   */
  async recordPlanVerdict(items: PlanItem[], opts: { query: string; startedAt: number; verdict: Verdict; code: string[] }): Promise<boolean> {
    // Never the one to create node_modules: a project without it has its cache elsewhere or none.
    if (!this.#wholePlans.has(items) || !existsSync(join(this.config.root, 'node_modules'))) return false
    const ctx = { parts: this.#parts, loader: this.#loader, configDeps: this.configDeps, configRemembered: this.#configRemembered, code: opts.code }
    const witness = await planWitness(ctx, items, opts.startedAt)
    if ('refused' in witness) {
      this.logger.debug(`plan verdict not kept: ${witness.refused}`)
      return false
    }
    writePlanVerdict(this.config.root, opts.query, witness, opts.verdict)
    return true
  }

  build(opts: BuildOptions = {}): Promise<BuildResult> {
    return fannedOut(opts.signal, async (signal) => {
      const [loaded, lock] = await Promise.all([this.loadAll(opts.files, { signal }), readLockfile(this.config.root)])
      return buildSpecs(this.#parts, loaded, lock, { ...opts, signal })
    })
  }

  /** The request a provider receives for a loaded spec. */
  providerRequest(spec: LoadedSpec): ProviderRequest {
    return providerRequest(spec)
  }

  /**
   * Makes sure one spec's clip is in the store (the clip cache, then a generation) and records the
   * build. Under `frozen` a paid generation is FROZEN_MISS; without an API key it is PROVIDER_AUTH.
   * `production` (a site build) means frozen as the config says (true when CI=true); watch and the
   * dev server pass neither and may pay.
   */
  async generate(
    spec: LoadedSpec,
    opts: { signal?: AbortSignal | undefined; frozen?: boolean | undefined; production?: boolean | undefined } = {},
  ): Promise<RunResult> {
    const frozen = opts.frozen ?? (opts.production ? this.config.frozen : false)
    const result = await obtainClip(this.#parts, spec, { signal: opts.signal, frozen })
    await recordBuild(this.#parts, spec)
    return result
  }

  /** The spec's clip if this store has it whole (no lockfile restore, no network, no generation). */
  assetFor(spec: Pick<LoadedSpec, 'key'>): Promise<Entry | undefined> {
    return this.#store.getEntry(spec.key)
  }

  /** The clip stored under a key, if whole. */
  storedClip(key: string): Promise<Entry | undefined> {
    return this.#store.getEntry(key)
  }

  /**
   * Whether a production build must refuse to ship this clip (or, with none stored yet, the clip the
   * provider would make): an offline preview under `previews: 'error'` (the default when CI=true).
   */
  refusesToShip(entry: Entry | undefined): boolean {
    const preview = entry ? entry.preview : this.provider.preview
    return preview && this.config.previews === 'error'
  }

  /** The `previews` policy of this project for the given preview specs (see previews.ts). */
  previewsVerdict(specs: Iterable<string>, how: 'vite build' | 'vidspec build --out'): PreviewsVerdict {
    return previewsVerdict(this.config, specs, how)
  }

  /** The free offline stand-in of a spec, rendered into the store if missing (see preview.ts). */
  preview(spec: LoadedSpec, opts: { signal?: AbortSignal | undefined } = {}): Promise<Entry> {
    return ensurePreview(this.#parts, spec, opts)
  }

  objectPath(entry: Pick<Entry, 'digest' | 'ext'>): string {
    return this.#store.objectPath(entry.digest, entry.ext)
  }

  /** A clip's bytes, hashed on the way out; CACHE_CORRUPT (and quarantined) on a mismatch. */
  readClip(entry: Entry): Promise<Buffer> {
    return this.#store.readOut(entry, { spec: entry.spec })
  }

  /**
   * Records this process as editing the project (watch mode, a dev server) with its settle time, in
   * the store every process on the project shares; `leave()` on close.
   */
  joinEditors(kind: string, settleMs: number): Promise<EditorHandle> {
    return joinEditors(this.config.cacheDir, { kind, settleMs })
  }

  /** The quiet time before a paid create: the longest of `own` and every live editor's on this store. */
  settleMs(own: number): Promise<number> {
    return sharedSettleMs(this.config.cacheDir, own)
  }

  /** Writes one frame of a clip as an image (jpg, png or webp by `outFile`'s extension) with the project's ffmpeg. */
  extractPoster(videoFile: string, outFile: string, opts: Pick<PosterOptions, 'at' | 'signal'> = {}): Promise<void> {
    return extractPoster(videoFile, outFile, { ...opts, tools: mediaTools(this.config.flags) })
  }

  /**
   * The path of an object proven whole: hashed now, or with `trust: 'process'` by this process on a
   * file unchanged since. CACHE_CORRUPT (and quarantined) on a mismatch.
   */
  clipFile(ref: { digest: string; ext: string }, opts: { trust?: 'process' | 'hash'; spec?: string } = {}): Promise<string> {
    return this.#store.checkedPath(ref, opts)
  }

  /**
   * Copies built clips, their renditions and posters into `outDir` (hashed on the way out; renditions
   * made first where missing) and writes its manifest.
   */
  writeOutputs(outDir: string, items: OutputItem[], opts: ObtainOptions = {}): ReturnType<typeof writeOutputs> {
    // `renditions: false`: the clips only, and a manifest exactly as before renditions existed.
    if (this.config.renditions === false) return writeOutputs(this.#store, outDir, items)
    return fannedOut(opts.signal, (signal) =>
      writeOutputs(this.#store, outDir, items, {
        key: (item) => this.#renditions.shipKey(item, item.entry),
        obtain: async (item) =>
          this.#renditions.obtainAll(await this.#renditions.plan({ id: item.id, key: item.entry.key, renditions: item.renditions }, item.entry), { signal }),
      }),
    )
  }

  /** What the store holds: clips, jobs in flight, uncertain creates, derived objects (renditions). */
  async status(): Promise<{ entries: Entry[]; jobs: JournaledJob[]; uncertain: UncertainCreate[]; derived: DerivedRecord[] }> {
    const [entries, jobs, uncertain, derived] = await Promise.all([
      this.#store.listEntries(),
      this.#store.listJobs(),
      this.#store.listUncertain(),
      this.#store.listDerived(),
    ])
    return { entries, jobs, uncertain, derived }
  }

  /** Every clip in the store. */
  clips(): Promise<Entry[]> {
    return this.#store.listEntries()
  }

  /** Re-hashes every object and re-probes every rendition against its checks (see store/verify.ts, renditions/verify.ts). */
  async verify(opts: { repair?: boolean } = {}): Promise<VerifyReport> {
    return reprobeDerived(this.#store, await this.#store.verify(opts), { repair: opts.repair ?? false, tools: mediaTools(this.config.flags) })
  }

  /** gc with the keep-set core owns (see gc.ts): what it keeps never depends on the environment. */
  gc(opts: CollectOptions = {}): Promise<GcReport & { keep: KeepSet }> {
    return collectGarbage(this.#parts, this.loadAll(), opts)
  }

  restoreTrash(): Promise<RestoreReport> {
    return this.#store.restoreTrash()
  }

  emptyTrash(opts: { dryRun?: boolean } = {}): Promise<{ files: string[] }> {
    return this.#store.emptyTrash(opts)
  }

  /** Journaled and uncertain jobs, for `vidspec forget` to choose from. */
  async journaled(): Promise<{ journals: JournalRecord[]; uncertain: UncertainCreate[] }> {
    const [journals, uncertain] = await Promise.all([this.#store.listJournals(), this.#store.listUncertain()])
    return { journals, uncertain }
  }

  /** Forgets one key's journal and uncertain mark (a person decided); `busy` when a live process holds it. */
  forgetJob(key: string): ReturnType<Store['forgetJob']> {
    return this.#store.forgetJob(key)
  }

  /**
   * Drops a queued run of this key that has not started generating (a spec edited again meanwhile);
   * a run already generating is kept: it may be paid for.
   */
  cancelQueued(key: string): boolean {
    return this.#runner.cancelQueued(key)
  }

  /** Whether this process's provider is working on `key` (from then on a job may be paid). */
  isGenerating(key: string): boolean {
    return this.#runner.isGenerating(key)
  }

  /** Removes the offline preview under `key` once nothing shows it (never a paid clip): see preview.ts. */
  evictPreview(key: string): Promise<boolean> {
    return evictPreview(this.#store, key)
  }

  #renditionsService: Renditions | undefined
  /** Renditions: see renditions/service.ts (plan, obtain; store -> remote -> ffmpeg). */
  get #renditions(): Renditions {
    const { remote } = this.#parts
    const tools = mediaTools(this.config.flags)
    return (this.#renditionsService ??= new Renditions({
      config: this.config,
      store: this.#store,
      logger: this.logger,
      tools,
      remote: remote ? new RemoteRenditions(remote, this.#store, this.logger, tools) : undefined,
    }))
  }

  /**
   * What a spec's clip ships as (sources best first, posters, placeholder), each with its rendition
   * key: the config's `renditions`, the spec's, then `query`'s import directives
   * (`?w=640;1280&format=webm;mp4`). No side effects; needs the spec's clip in the store.
   */
  async renditionPlan(spec: Pick<LoadedSpec, 'id' | 'key' | 'renditions'>, query?: string, opts: MasterOption = {}): Promise<RenditionPlan> {
    // An adapter that has just looked the clip up passes it: one lookup (~10 stats) less per spec in a
    // Vite build or a dev page load. Only the spec's own clip stands in for the lookup.
    const master = opts.master?.key === spec.key ? opts.master : await this.assetFor(spec)
    return this.#renditions.plan(spec, master, query)
  }

  /** One planned rendition, verified in the store (made with ffmpeg when missing); its object's path, size and type. */
  obtainRendition(item: RenditionItem, opts: ObtainOptions = {}): Promise<Rendition> {
    return this.#renditions.obtain(item, opts)
  }

  /** Every rendition of a spec (sources, posters, the placeholder's data URI); nothing runs when all are stored. */
  async obtainRenditions(spec: Pick<LoadedSpec, 'id' | 'key' | 'renditions'>, query?: string, opts: ObtainOptions & MasterOption = {}): Promise<ObtainedRenditions> {
    const { master, ...obtain } = opts
    return this.#renditions.obtainAll(await this.renditionPlan(spec, query, { master }), obtain)
  }

  /**
   * A rendition's bytes, hashed on the way out (`vite build` emits them); CACHE_CORRUPT (and
   * quarantined) on a mismatch. To serve one from disk, `clipFile({ digest, ext: item.ext })`.
   */
  readRendition(rendition: Pick<Rendition, 'digest' | 'bytes' | 'item'>): Promise<Buffer> {
    return this.#store.readOut({ digest: rendition.digest, ext: rendition.item.ext, size: rendition.bytes }, { spec: rendition.item.spec })
  }

  /** A planned placeholder as a data URI (made and stored when missing). */
  placeholderFor(item: RenditionItem, opts: ObtainOptions = {}): Promise<string> {
    return this.#renditions.placeholder(item, opts)
  }

  /** Every derived object recorded in the store (renditions, posters, placeholders). */
  derivedObjects(): Promise<DerivedRecord[]> {
    return this.#store.listDerived()
  }

  /** The shared bucket, or none when no remote is configured or it is off. */
  get sharedCache(): SharedCache | undefined {
    return this.#parts.remote
  }

  /** Uploads the local paid clips the bucket lacks (each re-hashed first); see remote/sync.ts. */
  push(opts: { dryRun?: boolean; signal?: AbortSignal | undefined } = {}): Promise<PushReport> {
    return pushClips(this.#store, this.#bucket(), opts)
  }

  /** Fetches, verified, the clips of the current specs (or, `all`, every remote key) that the store lacks. */
  pull(opts: { all?: boolean; dryRun?: boolean; signal?: AbortSignal | undefined } = {}): Promise<PullReport> {
    return pullClips(this.#store, this.#bucket(), () => this.loadAll(), opts)
  }

  #bucket(): RemoteCache {
    const { remote } = this.#parts
    if (remote) return remote
    throw new VidspecError('CONFIG_INVALID', 'no remote cache is in use: configure remote: { s3: { bucket } } in vidspec.config.ts')
  }

  #providerIssues(spec: LoadedSpec): SpecIssue[] {
    return this.provider.check?.(providerRequest(spec)) ?? []
  }
}

export { describeChange } from './plan/diff.js'
