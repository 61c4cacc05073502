import { access } from 'node:fs/promises'
import {
  EditorPresence,
  InputIndex,
  isCurrent,
  isVidspecError,
  RECHECK_MS,
  outputExt,
  outputGeometry,
  previewKey,
  specJobs,
  type Entry,
  type LoadedSpec,
  type Rendition,
  type RenditionItem,
  type RenditionPlan,
  type VideoAsset,
  type Vidspec,
  type WantedSpec,
} from '@vidspec/core'
import type { ViteDevServer } from 'vite'
import { dataFields, devModuleCode } from './asset-code.js'
import { createVidspecMiddleware } from './middleware.js'
import type { Posters } from './posters.js'
import type { Reporter } from './reporter.js'
import { MIME, clipUrl, pendingUrl, posterUrl, renditionUrl } from './urls.js'

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

/**
 * Which spec a dev URL belongs to, as a fragment: two specs with the same clip get different URLs,
 * so an HMR update of one swaps only the elements showing that spec (the fragment never reaches
 * the server, and a media element ignores a fragment it does not know).
 */
export function specTag(specId: string): string {
  return `#vidspec=${encodeURIComponent(specId)}`
}

/** A stored clip as the dev server hands it to a page showing spec `specId`, with its planned renditions. */
export function devAsset(base: string, entry: Entry, specId: string, plan?: RenditionPlan): VideoAsset {
  const tag = specTag(specId)
  const clip: VideoAsset = {
    src: `${clipUrl(base, entry.digest, entry.ext)}${tag}`,
    type: entry.mime,
    width: entry.width,
    height: entry.height,
    duration: entry.duration,
    fps: entry.fps,
    poster: `${posterUrl(base, entry.digest)}${tag}`,
    pending: false,
    preview: entry.preview,
    key: entry.key,
  }
  if (!plan || plan.sources.length === 0) return clip
  const sources = plan.sources.map((item) => ({
    src: `${renditionUrl(base, item.key, item.ext)}${tag}`,
    type: item.type,
    width: item.width,
    height: item.height,
    // Not known before it is made; the built asset has it.
    bytes: 0,
  }))
  const last = sources.at(-1)!
  const poster = plan.posters[0]
  return {
    ...clip,
    src: last.src,
    type: last.type,
    ...(poster ? { poster: `${renditionUrl(base, poster.key, poster.ext)}${tag}` } : {}),
    sources,
  }
}

/** The stand-in for a clip still being generated: the spec's expected shape, its preview as the picture. */
export function pendingAsset(base: string, spec: LoadedSpec): VideoAsset {
  const g = outputGeometry(spec.request)
  const ext = outputExt(g.format)
  return {
    src: `${pendingUrl(base, spec.key, ext)}${specTag(spec.id)}`,
    type: MIME[ext] ?? 'video/mp4',
    width: g.width,
    height: g.height,
    duration: g.seconds,
    fps: g.fps,
    pending: true,
    preview: true,
    key: spec.key,
  }
}

/**
 * Rendition key -> what makes it: the planned item, its master and the project that planned it.
 * Shared by every dev server in the process: a framework may run the module that lists a rendition
 * in one Vite server (SSR) and serve the page's requests from another (Nuxt). Keys are content
 * derived, so sharing never mixes two things up.
 */
const plannedRenditions = new Map<string, { project: Vidspec; item: RenditionItem; master: Entry; made?: Promise<Rendition> | undefined }>()

/** The dev servers of this process that are still open. */
const liveSessions = new Set<DevSession>()

/**
 * After a server closes or changes project: a planned rendition whose project no open server works
 * with passes to one that works with the same store (the key means the same there), or is dropped.
 * Otherwise the map would keep closed projects alive, and a later server of another project would
 * answer their URLs from their store.
 */
function handOverPlanned(): void {
  const live = new Set<Vidspec>()
  const byStore = new Map<string, Vidspec>()
  for (const { project } of liveSessions) {
    live.add(project)
    byStore.set(project.config.cacheDir, project)
  }
  for (const [key, planned] of plannedRenditions) {
    if (live.has(planned.project)) continue
    const heir = byStore.get(planned.project.config.cacheDir)
    if (heir) planned.project = heir
    else plannedRenditions.delete(key)
  }
}

/**
 * One dev server's side of the plugin: spec modules resolve at once (to the clip when it is stored,
 * else to a pending stand-in), missing clips are generated in the background by core's spec jobs
 * (which spec wants which key; a queued job nobody wants is dropped, a started paid one is finished),
 * and each landing clip is pushed to the page as an HMR update of the spec's module.
 */
export class DevSession {
  readonly server: ViteDevServer
  readonly #jobs: ReturnType<typeof specJobs>
  #project: Vidspec
  readonly #reporter: Reporter
  readonly #posters: Posters
  /** Spec id -> the spec as last loaded, with the project that loaded it. */
  readonly #current = new Map<string, WantedSpec>()
  /** Spec id -> file, to find the module to update when its clip lands. */
  readonly #files = new Map<string, string>()
  readonly #rechecks = new Set<NodeJS.Timeout>()
  readonly #renditionItems = plannedRenditions
  /** Which served specs each input (imported module, local media) feeds: core's index, as watch mode has. */
  readonly #inputs = new InputIndex()
  /** This dev server among the project's editors: every one of them settles for the longest. */
  readonly #presence: EditorPresence

  constructor(server: ViteDevServer, project: Vidspec, reporter: Reporter, posters: Posters, opts: { settleMs?: number | undefined } = {}) {
    this.server = server
    this.#project = project
    this.#reporter = reporter
    this.#posters = posters
    this.#presence = new EditorPresence('vite dev', opts.settleMs)
    void this.#presence.at(project)
    liveSessions.add(this)
    this.#jobs = specJobs({
      settleMs: opts.settleMs,
      onDone: (key, specs, result, by) => {
        reporter.done(specs[0] ?? by[0] ?? key, key, result.generated)
        for (const id of specs) this.#reload(id)
        // A clip nobody shows any more: kept when paid, gone when it was an in-between preview.
        if (specs.length === 0) void this.#evict(key)
      },
      onFailed: (_key, specs, error) => this.#failed(specs, error),
      onDropped: (key, specs) => {
        reporter.info(`${specs.join(', ')}: dropped the queued job of key ${key.slice(0, 12)}: no spec wants it any more`)
        void this.#evict(key)
      },
    })
    server.middlewares.use(
      createVidspecMiddleware({
        base: () => this.#base,
        objectPath: (digest, ext) => this.#objectPath(digest, ext),
        poster: (digest) => this.#poster(digest),
        pending: (key) => this.#whilePending(key),
        rendition: (key) => this.#rendition(key),
        onError: (message) => reporter.error(message),
      }),
    )
  }

  get #base(): string {
    return this.server.config.base
  }

  /**
   * Works with another project from now on (its config changed): specs load with it. Jobs in flight
   * keep the project that started them, so a paid job is finished and stored with its provider.
   */
  swap(project: Vidspec): void {
    this.#project = project
    void this.#presence.at(project)
    handOverPlanned()
  }

  /** The project specs load with now. */
  get project(): Vidspec {
    return this.#project
  }

  /** Files of the specs this session has served: what a config change must load again. */
  get files(): string[] {
    return [...new Set(this.#files.values())]
  }

  /** The module text of a spec; never waits for a generation. */
  async load(file: string, spec: LoadedSpec, query = ''): Promise<string> {
    const project = this.#project
    // A spec now served under this file replaces whatever spec id had it (a rename keeps the key).
    for (const [id, f] of this.#files) if (f === file && id !== spec.id) this.#forgetId(id)
    this.#files.set(spec.id, file)
    this.#inputs.set(file, spec.inputs)
    const before = this.#current.get(spec.id)
    this.#current.set(spec.id, { project, spec })
    if (before && before.spec.key !== spec.key) void this.#evictPreviewOf(before)
    const entry = await project.assetFor(spec)
    this.#jobs.want(project, spec, !entry)
    this.#recheckLater(spec)
    if (entry) return devModuleCode(dataFields(devAsset(this.#base, entry, spec.id, await this.#plan(project, spec, entry, query))))
    return devModuleCode(dataFields(pendingAsset(this.#base, spec)))
  }

  /**
   * The spec's renditions as planned now (no side effects), each remembered by its key so its URL
   * can be answered: made on first request. A plan that cannot be made (no renditions configured)
   * leaves the page on the clip itself.
   */
  async #plan(project: Vidspec, spec: LoadedSpec, master: Entry, query: string): Promise<RenditionPlan | undefined> {
    const plan = await project.renditionPlan(spec, query, { master })
    for (const item of [...plan.sources, ...plan.posters]) {
      if (!this.#renditionItems.has(item.key)) this.#renditionItems.set(item.key, { project, item, master })
    }
    return plan
  }

  /**
   * A rendition's file: from the store, or made now. A poster is waited for (an image is quick); a
   * video rendition still being made is answered with its master clip meanwhile, revalidated, so
   * the page plays at once and gets the rendition on a later request.
   */
  async #rendition(key: string): Promise<{ path: string; type: string; digest: string; final: boolean } | undefined> {
    const known = this.#renditionItems.get(key)
    if (!known) return undefined
    const { project, item, master } = known
    if (!known.made) {
      const made = project.obtainRendition(item)
      known.made = made
      // Said once; the next request tries again.
      made.catch((err: unknown) => {
        if (known.made === made) known.made = undefined
        this.#reporter.error(`${item.id}: ${(err as Error).message}`)
      })
    }
    const isVideo = item.ext === 'mp4' || item.ext === 'webm'
    const done = await Promise.race([known.made, isVideo && !item.cached ? Promise.resolve(undefined) : known.made])
    if (done) return { path: await project.clipFile({ digest: done.digest, ext: item.ext }, { trust: 'process' }), type: done.type, digest: done.digest, final: true }
    const path = await this.#objectPath(master.digest, master.ext)
    return path ? { path, type: master.mime, digest: master.digest, final: false } : undefined
  }

  /** A spec file was deleted (or renamed away): its spec stops wanting its key at once. */
  forget(file: string): void {
    for (const [id, f] of this.#files) if (f === file) this.#forgetId(id)
    this.#inputs.delete(file)
  }

  /** The inputs a served spec is made of, for the dev server's file watcher. */
  inputsOf(file: string): string[] {
    return this.#inputs.inputsOf(file) ?? []
  }

  /**
   * `path` changed: every served spec it feeds (other than itself: a spec module's own edit is
   * Vite's to reload) is loaded again. Returns their files.
   */
  changed(path: string): string[] {
    const fed = [...this.#inputs.fedBy([path])].filter((file) => file !== path)
    for (const file of fed) this.#reloadFile(file)
    return fed
  }

  async close(): Promise<void> {
    liveSessions.delete(this)
    handOverPlanned()
    for (const t of this.#rechecks) clearTimeout(t)
    this.#rechecks.clear()
    await this.#jobs.jobs.close()
    await this.#presence.leave()
  }

  #forgetId(id: string): void {
    this.#files.delete(id)
    const before = this.#current.get(id)
    this.#current.delete(id)
    this.#jobs.jobs.drop(id)
    if (before) void this.#evictPreviewOf(before)
  }

  /** The pending stand-in's preview of a spec edited past it, unless another spec still shows it. */
  async #evictPreviewOf(old: WantedSpec): Promise<void> {
    await this.#evict(previewKey(old.spec), old.project)
  }

  async #evict(key: string, project = this.#project): Promise<void> {
    for (const { spec } of this.#current.values()) if (spec.key === key || previewKey(spec) === key) return
    try {
      await project.evictPreview(key)
    } catch (err) {
      this.#reporter.error(`could not remove the unused preview ${key.slice(0, 12)}: ${(err as Error).message}`)
    }
  }

  /**
   * Vite's watcher (chokidar) may drop a save that follows another within ~50 ms: once that window
   * has passed, a spec whose files moved on since this load is loaded again (its module reloaded).
   */
  #recheckLater(spec: LoadedSpec): void {
    const timer = setTimeout(() => {
      this.#rechecks.delete(timer)
      if (this.#current.get(spec.id)?.spec !== spec) return
      void isCurrent(spec).then((current) => {
        if (!current && this.#current.get(spec.id)?.spec === spec) this.#reload(spec.id)
      })
    }, RECHECK_MS)
    this.#rechecks.add(timer)
  }

  #reload(specId: string): void {
    const file = this.#files.get(specId)
    if (file) this.#reloadFile(file)
  }

  #reloadFile(file: string): void {
    for (const env of Object.values(this.server.environments)) {
      for (const mod of env.moduleGraph.getModulesByFile(file) ?? []) void env.reloadModule(mod)
    }
  }

  #failed(specs: string[], error: Error): void {
    const names = specs.length > 0 ? specs.join(', ') : 'a superseded spec'
    this.#reporter.error(`${names}: generation failed: ${error.message}`)
    this.server.environments.client.hot.send({
      type: 'error',
      err: { message: `vidspec: ${names}: generation failed: ${error.message}`, stack: '', plugin: 'vidspec' },
    })
  }

  /**
   * A clip's path once its bytes hashed to its digest in this process (and the file is unchanged
   * since): a corrupt clip is quarantined and answered 404, never served.
   */
  async #objectPath(digest: string, ext: string): Promise<string | undefined> {
    let path: string
    try {
      path = this.#project.objectPath({ digest, ext })
    } catch {
      return undefined
    }
    if (!(await exists(path))) return undefined
    try {
      return await this.#project.clipFile({ digest, ext }, { trust: 'process' })
    } catch (err) {
      if (!isVidspecError(err, 'CACHE_CORRUPT')) throw err
      this.#reporter.error(err.message)
      return undefined
    }
  }

  async #poster(digest: string): Promise<string | undefined> {
    for (const ext of ['mp4', 'webm']) {
      const video = await this.#objectPath(digest, ext)
      if (video) return this.#posters.get(digest, video)
    }
    return undefined
  }

  async #whilePending(key: string): Promise<Entry | undefined> {
    const wanted = [...this.#current.values()].find((w) => w.spec.key === key)
    if (!wanted) return undefined
    const landed = await wanted.project.storedClip(key)
    if (landed) return landed
    try {
      const entry = await wanted.project.preview(wanted.spec)
      // Edited past while it rendered: the page is being told about the new key; keep no preview.
      if (this.#current.get(wanted.spec.id)?.spec.key !== key) {
        void this.#evictPreviewOf(wanted)
        return undefined
      }
      return entry
    } catch (err) {
      // Superseded while the preview was on its way: the page is being told about the new key.
      if (isVidspecError(err, 'ABORTED')) return undefined
      throw err
    }
  }
}
