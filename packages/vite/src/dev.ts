import { access } from 'node:fs/promises'
import {
  isVidspecError,
  outputExt,
  outputGeometry,
  type Entry,
  type LoadedSpec,
  type RunResult,
  type VideoAsset,
  type Vidspec,
} from '@vidspec/core'
import type { ViteDevServer } from 'vite'
import { dataFields, devModuleCode } from './asset-code.js'
import { DevJobs } from './dev-jobs.js'
import { createVidspecMiddleware } from './middleware.js'
import type { Posters } from './posters.js'
import type { Reporter } from './reporter.js'
import { MIME, clipUrl, pendingUrl, posterUrl } from './urls.js'

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

/** A stored clip as the dev server hands it to a page showing spec `specId`. */
export function devAsset(base: string, entry: Entry, specId: string): VideoAsset {
  const tag = specTag(specId)
  return {
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
 * One dev server's side of the plugin: spec modules resolve at once (to the clip when it is stored,
 * else to a pending stand-in), missing clips are generated in the background, and each landing clip
 * is pushed to the page as an HMR update of the spec's module.
 */
export class DevSession {
  readonly server: ViteDevServer
  readonly jobs: DevJobs<LoadedSpec, RunResult>
  readonly #project: Vidspec
  readonly #reporter: Reporter
  readonly #posters: Posters
  /** Key -> a spec that wanted it, to render its preview when the pending URL is asked for. */
  readonly #pending = new Map<string, LoadedSpec>()
  /** Spec id -> file, to find the module to update when its clip lands. */
  readonly #files = new Map<string, string>()

  constructor(server: ViteDevServer, project: Vidspec, reporter: Reporter, posters: Posters) {
    this.server = server
    this.#project = project
    this.#reporter = reporter
    this.#posters = posters
    this.jobs = new DevJobs<LoadedSpec, RunResult>({
      paid: project.provider.kind === 'remote',
      run: (_key, spec, signal) => project.generate(spec, { signal }),
      onDone: (key, specs, result) => {
        const spec = this.#pending.get(key)
        reporter.done(spec?.id ?? key, key, result.generated)
        for (const id of specs) this.#reload(id)
      },
      onFailed: (_key, specs, error) => this.#failed(specs, error),
    })
    server.middlewares.use(
      createVidspecMiddleware({
        base: () => this.#base,
        objectPath: (digest, ext) => this.#objectPath(digest, ext),
        poster: (digest) => this.#poster(digest),
        pending: (key) => this.#whilePending(key),
        onError: (message) => reporter.error(message),
      }),
    )
  }

  get #base(): string {
    return this.server.config.base
  }

  /** The module text of a spec; never waits for a generation. */
  async load(file: string, spec: LoadedSpec): Promise<string> {
    this.#files.set(spec.id, file)
    const entry = await this.#project.assetFor(spec)
    if (entry) {
      this.jobs.want(spec.id, spec.key)
      return devModuleCode(dataFields(devAsset(this.#base, entry, spec.id)))
    }
    this.#pending.set(spec.key, spec)
    this.jobs.want(spec.id, spec.key, spec)
    return devModuleCode(dataFields(pendingAsset(this.#base, spec)))
  }

  /** A spec file was deleted. */
  forget(file: string): void {
    for (const [id, f] of this.#files) {
      if (f === file) {
        this.#files.delete(id)
        this.jobs.drop(id)
      }
    }
  }

  close(): Promise<void> {
    return this.jobs.close()
  }

  #reload(specId: string): void {
    const file = this.#files.get(specId)
    if (!file) return
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
    const spec = this.#pending.get(key)
    if (!spec) return undefined
    const landed = await this.#project.storedClip(key)
    if (landed) return landed
    try {
      return await this.#project.preview(spec)
    } catch (err) {
      // Superseded while the preview was on its way: the page is being told about the new key.
      if (isVidspecError(err, 'ABORTED')) return undefined
      throw err
    }
  }
}
