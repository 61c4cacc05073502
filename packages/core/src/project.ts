import { relative } from 'node:path'
import pLimit from 'p-limit'
import { loadConfig } from './config/load.js'
import type { ResolvedConfig } from './config/resolve.js'
import type { VidspecConfigInput } from './config/types.js'
import { VidspecError, formatIssues, isVidspecError, type SpecIssue } from './errors.js'
import { computeKey } from './key/key.js'
import { silentLogger, type Logger } from './logger.js'
import { probeVideo } from './media/ffmpeg.js'
import { describeChange, diffRequests, type FieldChange } from './plan/diff.js'
import { createProvider } from './providers/create.js'
import type { Provider, ProviderRequest } from './providers/types.js'
import { Runner, type RunResult } from './runner/runner.js'
import { discoverSpecs, specId, specName } from './spec/discover.js'
import { hashFiles, loadSpecFile } from './spec/load.js'
import { resolveMedia } from './spec/media.js'
import { validateSpec } from './spec/validate.js'
import { Store } from './store/index.js'
import type { Entry, NormalizedRequest, ResolvedMedia } from './types.js'

export interface LoadedSpec {
  file: string
  /** Project-relative posix path: the spec's identity. */
  id: string
  /** `id` without the `.video.ts` suffix: the output's file name. */
  name: string
  /** Absolute paths of every local file the spec's module imported, itself included. */
  deps: string[]
  request: NormalizedRequest
  media: Map<string, ResolvedMedia>
  key: string
  provider: string
  warnings: string[]
}

export type PlanStatus = 'new' | 'changed' | 'cached' | 'invalid'

export interface PlanItem {
  id: string
  name: string
  file: string
  status: PlanStatus
  key?: string
  /** For `changed`: what differs from the spec's last build. */
  changes?: FieldChange[]
  /** For `changed`: the spec's own file is unchanged, so an imported module caused it. */
  changedDeps?: string[]
  error?: VidspecError
  spec?: LoadedSpec
}

export type BuildStatus = 'cached' | 'generated' | 'failed' | 'invalid'

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
    this.provider = provider
    this.logger = logger
    this.runner = new Runner({
      store: this.store,
      provider,
      probe: probeVideo,
      concurrency: config.concurrency,
      retry: config.retry,
      poll: {
        intervalMs: config.together.pollIntervalMs,
        maxIntervalMs: config.together.maxPollIntervalMs,
        jobTimeoutMs: config.together.jobTimeoutMs,
      },
      logger,
      retryUncertain: runnerOptions.retryUncertain ?? false,
    })
  }

  static async open(opts: OpenOptions): Promise<Vidspec> {
    const env = opts.env ?? process.env
    const { config, deps } = await loadConfig(opts.root, {
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      env,
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
    })
    const provider = opts.provider ?? createProvider(config, env)
    const project = new Vidspec(config, deps, provider, opts.logger ?? silentLogger, {
      retryUncertain: opts.retryUncertain,
    })
    await project.store.init()
    return project
  }

  discover(): Promise<string[]> {
    return discoverSpecs(this.config)
  }

  specId(file: string): string {
    return specId(this.config.root, file)
  }

  /** Loads, validates and keys one spec. Throws SPEC_LOAD_FAILED / SPEC_INVALID naming the file. */
  async load(file: string): Promise<LoadedSpec> {
    const id = specId(this.config.root, file)
    const { raw, deps } = await loadSpecFile(file)
    const { request, warnings } = validateSpec(raw, id)
    const { media, issues } = await resolveMedia(request, file)
    const spec: LoadedSpec = {
      file,
      id,
      name: specName(this.config.root, file),
      deps,
      request,
      media,
      key: '',
      provider: this.provider.id,
      warnings,
    }
    issues.push(...this.#providerIssues(spec))
    if (issues.length > 0) {
      throw new VidspecError('SPEC_INVALID', formatIssues(id, issues), { file: id, issues })
    }
    spec.key = computeKey({ provider: this.provider.id, request, media })
    for (const w of warnings) this.logger.warn(w)
    return spec
  }

  /** Loads every spec (or the given files); a broken spec is reported, never fatal to the others. */
  async loadAll(files?: string[]): Promise<Array<{ file: string; spec?: LoadedSpec; error?: VidspecError }>> {
    const list = files ?? (await this.discover())
    const limit = pLimit(8)
    return Promise.all(
      list.map((file) =>
        limit(async () => {
          try {
            return { file, spec: await this.load(file) }
          } catch (err) {
            return { file, error: asSpecError(err, specId(this.config.root, file)) }
          }
        }),
      ),
    )
  }

  async plan(files?: string[]): Promise<PlanItem[]> {
    const loaded = await this.loadAll(files)
    return Promise.all(
      loaded.map(async ({ file, spec, error }): Promise<PlanItem> => {
        const base = { id: specId(this.config.root, file), name: specName(this.config.root, file), file }
        if (!spec) return { ...base, status: 'invalid', ...(error ? { error } : {}) }
        if (await this.store.getEntry(spec.key)) return { ...base, status: 'cached', key: spec.key, spec }
        const last = await this.store.readSpecState(spec.id)
        if (!last) return { ...base, status: 'new', key: spec.key, spec }
        const changes = diffRequests(last, spec)
        const depHashes = await hashFiles(spec.deps)
        const changedDeps = Object.entries(depHashes)
          .map(([abs, hash]) => [relative(this.config.root, abs).split('\\').join('/'), hash] as const)
          .filter(([rel, hash]) => last.deps[rel] !== hash)
          .map(([rel]) => rel)
        return { ...base, status: 'changed', key: spec.key, spec, changes, changedDeps }
      }),
    )
  }

  /** The request a provider receives for a loaded spec. */
  providerRequest(spec: LoadedSpec): ProviderRequest {
    return { key: spec.key, request: spec.request, media: spec.media, spec: spec.id }
  }

  /** Makes sure one spec's clip is in the store, generating it if needed, and records the build. */
  async generate(spec: LoadedSpec, opts: { signal?: AbortSignal } = {}): Promise<RunResult> {
    const result = await this.runner.run(this.providerRequest(spec), opts)
    await this.#recordBuild(spec)
    return result
  }

  async build(opts: { files?: string[]; signal?: AbortSignal } = {}): Promise<BuildResult> {
    const loaded = await this.loadAll(opts.files)
    const items = await Promise.all(
      loaded.map(async ({ file, spec, error }): Promise<BuildItem> => {
        const id = specId(this.config.root, file)
        const name = specName(this.config.root, file)
        if (!spec) {
          const err = error ?? new VidspecError('SPEC_INVALID', `${id}: could not be loaded`)
          this.#emitInvalid(id, err)
          return { id, name, file, status: 'invalid', error: err, durationMs: 0 }
        }
        const started = performance.now()
        try {
          const { entry, generated } = await this.generate(spec, opts.signal ? { signal: opts.signal } : {})
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
    const counts: Record<BuildStatus, number> = { cached: 0, generated: 0, failed: 0, invalid: 0 }
    for (const item of items) counts[item.status]++
    return { items, counts }
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
    const depHashes = await hashFiles(spec.deps)
    const deps: Record<string, string> = {}
    for (const [abs, hash] of Object.entries(depHashes)) deps[relative(this.config.root, abs).split('\\').join('/')] = hash
    const media: Record<string, string> = {}
    for (const [ref, m] of spec.media) if (m.kind !== 'url') media[ref] = m.sha256
    await this.store.writeSpecState({
      spec: spec.id,
      key: spec.key,
      request: spec.request,
      media,
      deps,
      builtAt: new Date().toISOString(),
    })
  }
}

function asSpecError(err: unknown, id: string): VidspecError {
  if (err instanceof VidspecError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new VidspecError('SPEC_LOAD_FAILED', `${id}: ${message}`, { file: id, cause: err })
}

export { describeChange }
