import pLimit from 'p-limit'
import type { ResolvedConfig } from '../config/resolve.js'
import { VidspecError, formatIssues, type SpecIssue } from '../errors.js'
import { computeKey } from '../key/key.js'
import type { Logger } from '../logger.js'
import { mediaTools } from '../media/binaries.js'
import type { Provider } from '../providers/types.js'
import type { RenditionsInput } from '../renditions/types.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { formatWarningGroup, groupWarnings } from '../warnings.js'
import { discoverSpecs, specId, specName } from './discover.js'
import { loadSpecFile, loadSpecFiles, type EvaluatedSpec } from './load.js'
import { resolveMedia } from './media.js'
import { SpecMemo, type MemoizedSpec } from './memo.js'
import { checkOutputNames } from './outputs.js'

export interface LoadedSpec {
  file: string
  /** Project-relative posix path: the spec's identity. */
  id: string
  /** `id` without the `.video.ts` suffix: the output's file name. */
  name: string
  /** Absolute paths of every local file the spec's module imported, itself included. */
  deps: string[]
  /** sha256 of each dep as the evaluation that made `request` read it (not as the file is now). */
  depHashes: Record<string, string>
  /** Every file the spec was made from: `deps` and its local media. An edit of any may re-key it. */
  inputs: string[]
  request: NormalizedRequest
  media: Map<string, ResolvedMedia>
  key: string
  provider: string
  warnings: string[]
  /** The spec's own `renditions` (over the config's, under an import's directives); never in the key. */
  renditions?: RenditionsInput | undefined
}

export type LoadResult = { file: string; spec?: LoadedSpec; error?: VidspecError }

export interface SpecLoaderOptions {
  config: ResolvedConfig
  provider: Provider
  logger: Logger
  /** What the provider refuses in a spec the schema accepted (checked before keying). */
  providerIssues(spec: LoadedSpec): SpecIssue[]
  /** The memo is written only into a store that exists (read-only commands never create one). */
  storeExists(): boolean
}

/**
 * Finds, evaluates (isolated, batched), validates and keys specs; remembers unchanged specs in the
 * memo; says each spec warning once per process. The one place that knows what a loaded spec is.
 */
export class SpecLoader {
  readonly #opts: SpecLoaderOptions
  readonly #warned = new Set<string>()
  /** Specs answered by the memo (see `isMemoized`). */
  readonly #memoized = new WeakSet<LoadedSpec>()
  #memo: Promise<SpecMemo | undefined> | undefined
  /** The one-spec loads gathered this turn (see #batched). */
  #batch: { files: string[]; loaded: Promise<LoadResult[] | undefined>; results: Map<string, Promise<LoadResult | undefined>> } | undefined

  constructor(opts: SpecLoaderOptions) {
    this.#opts = opts
  }

  get #config(): ResolvedConfig {
    return this.#opts.config
  }

  discover(): Promise<string[]> {
    return discoverSpecs(this.#config, this.#config.flags.noMemo ? {} : { memo: { write: this.#opts.storeExists() } })
  }

  /**
   * Loads, validates and keys one spec (evaluated in isolation, see spec/evaluate/). Throws
   * SPEC_LOAD_FAILED / SPEC_INVALID naming the file, or ABORTED when `signal` stops the evaluation.
   */
  async load(file: string, opts: { signal?: AbortSignal | undefined } = {}): Promise<LoadedSpec> {
    return this.#finish(file, await loadSpecFile(file, this.#evaluateOptions(opts.signal)))
  }

  #evaluateOptions(signal: AbortSignal | undefined) {
    return { timeoutMs: this.#config.specTimeoutMs, signal }
  }

  /** Validates, resolves the media of and keys an evaluated spec. */
  async #finish(file: string, evaluated: EvaluatedSpec): Promise<LoadedSpec> {
    const { root } = this.#config
    const provider = this.#opts.provider
    const id = specId(root, file)
    const { raw, deps, inputs } = evaluated
    // The schema (zod) loads with the first spec that must be evaluated, not with every command.
    const { validateSpec } = await import('./validate.js')
    const { request, warnings, renditions } = validateSpec(raw, id)
    const { media, issues } = await resolveMedia(request, file, { root, allow: this.#config.media.allow, tools: mediaTools(this.#config.flags) })
    const spec: LoadedSpec = {
      file,
      id,
      name: specName(root, file),
      deps,
      depHashes: Object.fromEntries(deps.map((d) => [d, inputs[d] ?? ''])),
      inputs: specInputs(deps, media),
      request,
      media,
      key: '',
      provider: provider.id,
      warnings,
      ...(renditions ? { renditions } : {}),
    }
    // A field the media resolver already refused is not the provider's to judge again.
    const refused = new Set(issues.map((i) => i.path))
    issues.push(...this.#opts.providerIssues(spec).filter((i) => !refused.has(i.path)))
    if (issues.length > 0) {
      throw new VidspecError('SPEC_INVALID', formatIssues(id, issues), { file: id, issues })
    }
    spec.key = computeKey({ provider: provider.id, request, media })
    return spec
  }

  /**
   * Says the warnings of the loaded specs, each distinct one once with the specs it concerns, and
   * each (spec, warning) once per process: watch mode and the dev server reload specs on every edit.
   */
  reportWarnings(specs: Iterable<Pick<LoadedSpec, 'id' | 'warnings'>>): void {
    const fresh: Array<{ spec: string; warning: string }> = []
    for (const spec of specs) {
      for (const warning of spec.warnings) {
        const said = `${spec.id}\0${warning}`
        if (this.#warned.has(said)) continue
        this.#warned.add(said)
        fresh.push({ spec: spec.id, warning })
      }
    }
    const groups = groupWarnings(fresh)
    if (groups.length === 0) return
    const { logger } = this.#opts
    if (logger.specWarnings) logger.specWarnings(groups)
    else for (const group of groups) logger.warn(formatWarningGroup(group))
  }

  /**
   * Loads every spec (or the given files); a broken spec is reported, never fatal to the others.
   * Specs whose files all hash as they did last time come from the memo without being evaluated.
   */
  async loadAll(files?: string[], opts: { signal?: AbortSignal | undefined } = {}): Promise<LoadResult[]> {
    const { root } = this.#config
    const list = files ?? (await this.discover())
    // Before any work: two specs writing one output, or one writing outside the out folder.
    checkOutputNames(root, list)
    const ids = list.map((file) => specId(root, file))
    const memo = await this.#specMemo()
    const known = memo ? await memo.valid(ids) : new Map<string, MemoizedSpec>()
    // Every spec the memo cannot answer is evaluated in one batch: one bundle build, a few workers.
    const misses = list.filter((_, i) => !known.has(ids[i] ?? ''))
    // Validating needs the schema (zod): loaded while esbuild bundles, when this thread is mostly
    // waiting, rather than after the last evaluation. A failure here is the first spec's to report.
    if (misses.length > 0) import('./validate.js').catch(() => undefined)
    const evaluated = await loadSpecFiles(misses, this.#evaluateOptions(opts.signal))
    const limit = pLimit(8)
    // Memo hits are answered in a plain loop: a no-op plan of thousands of specs is all hits, and a
    // promise per spec costs more than the answer.
    const results = await Promise.all(
      list.map((file, i) => {
        const id = ids[i] ?? specId(root, file)
        const memoized = known.get(id)
        if (memoized) return { file, spec: this.#fromMemo(file, id, memoized) }
        return limit(async (): Promise<LoadResult> => {
          try {
            const result = evaluated.get(file)
            if (!result || result instanceof Error) throw result ?? new VidspecError('INTERNAL', `${id}: was not evaluated`)
            const spec = await this.#finish(file, result)
            await memo?.remember(
              id,
              {
                deps: spec.deps,
                request: spec.request,
                media: [...spec.media],
                key: spec.key,
                warnings: spec.warnings,
                ...(spec.renditions ? { renditions: spec.renditions } : {}),
              },
              { inputs: spec.depHashes, stamps: result.stamps, impure: result.impure },
            )
            return { file, spec }
          } catch (err) {
            return { file, error: asSpecError(err, id) }
          }
        })
      }),
    )
    this.reportWarnings(results.flatMap((r) => (r.spec ? [r.spec] : [])))
    if (!this.#opts.storeExists()) return results
    // Stamps learned are kept even by a load of some files (a Vite build loads its specs in batches):
    // a build that never wrote them would read and hash every spec again the next time. The writes
    // stay few: a file's stamp is new only the first time it is hashed once settled.
    await memo?.save(files ? undefined : new Set(ids), { stamps: true }).catch((err: unknown) => {
      this.#opts.logger.debug(`could not save the spec memo: ${(err as Error).message}`)
    })
    return results
  }

  /**
   * Loads one spec the way `loadAll` does: from the memo when none of its files changed. The Vite
   * plugin loads specs one by one, and evaluating each would cost a bundle per spec per build.
   */
  async loadMemoized(file: string): Promise<LoadedSpec> {
    const result = await this.#batched(file)
    if (result?.spec) return result.spec
    throw result?.error ?? new VidspecError('INTERNAL', `${file}: loading it gave no result`)
  }

  /**
   * The loads asked within one turn of the event loop go through one `loadAll`: a dev server asks
   * for every spec a page imports at once (Vite transforms a module's imports ahead of the browser),
   * and those that need evaluating then share esbuild builds and the workers instead of one build each.
   */
  #batched(file: string): Promise<LoadResult | undefined> {
    let batch = this.#batch
    if (!batch) {
      const next = new Map<string, Promise<LoadResult | undefined>>()
      const files: string[] = []
      const loaded = new Promise<LoadResult[] | undefined>((resolve) => {
        setImmediate(() => {
          this.#batch = undefined
          // A batch that fails as a whole (two of its specs writing one output) is loaded one by one:
          // each spec then fails or loads as it would have alone.
          this.loadAll(files).then(resolve, () => resolve(undefined))
        })
      })
      batch = this.#batch = { files, loaded, results: next }
    }
    let result = batch.results.get(file)
    if (!result) {
      const at = batch.files.push(file) - 1
      result = batch.loaded.then((all) => (all ? all[at] : this.loadAll([file]).then(([one]) => one)))
      batch.results.set(file, result)
    }
    return result
  }

  /** One memo per project for its lifetime: a dev server asks for specs one at a time, all day. */
  #specMemo(): Promise<SpecMemo | undefined> {
    if (this.#config.flags.noMemo) return Promise.resolve(undefined)
    return (this.#memo ??= SpecMemo.open(this.#config.cacheDir, this.#opts.provider.id).catch(() => undefined))
  }

  /** The packed stamp the spec memo vouches for a file by, when there is a memo and it does. */
  async vouchedStamps(): Promise<(file: string) => string | undefined> {
    const memo = await this.#specMemo()
    return (file) => memo?.vouchedStamp(file)
  }

  /** Whether `spec` came from the memo, not from an evaluation: a function of its files alone. */
  isMemoized(spec: LoadedSpec): boolean {
    return this.#memoized.has(spec)
  }

  #fromMemo(file: string, id: string, m: MemoizedSpec): LoadedSpec {
    const media = new Map(m.media)
    const spec: LoadedSpec = {
      file,
      id,
      name: specName(this.#config.root, file),
      deps: m.deps,
      depHashes: m.inputs ?? {},
      inputs: specInputs(m.deps, media),
      request: m.request,
      media,
      key: m.key,
      provider: this.#opts.provider.id,
      warnings: m.warnings,
      ...(m.renditions ? { renditions: m.renditions } : {}),
    }
    this.#memoized.add(spec)
    return spec
  }
}

/** The modules a spec's evaluation read and its local media files: what an edit of may re-key it. */
function specInputs(deps: string[], media: Map<string, ResolvedMedia>): string[] {
  const files = [...media.values()].flatMap((m) => (m.kind === 'file' && m.path ? [m.path] : []))
  return [...new Set([...deps, ...files])]
}

export function asSpecError(err: unknown, id: string): VidspecError {
  if (err instanceof VidspecError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new VidspecError('SPEC_LOAD_FAILED', `${id}: ${message}`, { file: id, cause: err })
}
