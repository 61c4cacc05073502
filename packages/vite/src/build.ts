import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { isVidspecError, type Entry, type LoadedSpec, type ObtainedRenditions, type Rendition, type Vidspec } from '@vidspec/core'
import type { Rolldown } from 'vite'
import { buildModuleCode, expr, json } from './asset-code.js'
import type { Posters } from './posters.js'
import type { Reporter } from './reporter.js'

type EmitContext = Pick<Rolldown.PluginContext, 'emitFile'>

/**
 * An emitted file's public URL, as a string literal that Vite's asset plugin rewrites in every
 * environment's renderChunk (Vite 6, 7 and 8 alike) to `base` + the hashed file name, honouring
 * `experimental.renderBuiltUrl`. Not `import.meta.ROLLUP_FILE_URL_*`: Rollup (Vite 6/7) renders that
 * as `new URL(file, import.meta.url)`, a `file://` path in SSR and prerendered HTML and a URL that
 * breaks once a framework inlines or moves the importing script.
 */
export const assetUrl = (ref: string): { expr: string } => expr(JSON.stringify(`__VITE_ASSET__${ref}__`)) as { expr: string }

/**
 * One environment's `vite build`: every imported spec is generated if missing (the runner bounds
 * concurrency), its clip and first-frame poster are emitted as hashed assets (never inlined: a clip
 * is never small enough to belong in JS), and shipping offline previews is warned about or refused.
 */
export class BuildSession {
  readonly #project: Vidspec
  readonly #reporter: Reporter
  readonly #posters: Posters
  /** Clip digest -> emitted reference ids, so a clip two specs share is emitted once. */
  readonly #emitted = new Map<string, Promise<{ clip: string; poster: string }>>()
  /** Derived object digest -> emitted reference id. */
  readonly #objects = new Map<string, Promise<string>>()
  /** Specs whose clip is an offline preview. */
  readonly previews = new Set<string>()
  /** Specs left out because `previews: 'error'` forbids shipping their preview. */
  readonly refused = new Set<string>()
  /** Specs whose paid clip is in no cache while paid generation is frozen (CI): the build fails naming them. */
  readonly frozen = new Map<string, string>()

  constructor(project: Vidspec, reporter: Reporter, posters: Posters) {
    this.#project = project
    this.#reporter = reporter
    this.#posters = posters
  }

  async load(ctx: EmitContext, spec: LoadedSpec, query = ''): Promise<string> {
    const project = this.#project
    let entry = await project.assetFor(spec)
    if (project.refusesToShip(entry)) {
      // Nothing is rendered for a build that is going to fail anyway; buildEnd names every such spec.
      this.refused.add(spec.id)
      return buildModuleCode({})
    }
    if (!entry) {
      try {
        const result = await project.generate(spec, { production: true })
        entry = result.entry
        this.#reporter.done(spec.id, spec.key, result.generated)
      } catch (err) {
        if (!isVidspecError(err, 'FROZEN_MISS')) throw err
        // Every such spec is named at the end, not only the first one the bundler loads.
        this.frozen.set(spec.id, err.message)
        return buildModuleCode({})
      }
    }
    if (entry.preview) this.previews.add(spec.id)
    const made = await project.obtainRenditions(spec, query, { master: entry })
    if (made.sources.length > 0) return this.#withRenditions(ctx, spec, entry, made)
    const refs = await this.#emit(ctx, spec, entry)
    return buildModuleCode({
      src: assetUrl(refs.clip),
      type: json(entry.mime),
      width: json(entry.width),
      height: json(entry.height),
      duration: json(entry.duration),
      fps: json(entry.fps),
      poster: assetUrl(refs.poster),
      pending: json(false),
      preview: json(entry.preview),
      key: json(entry.key),
    })
  }

  /**
   * The asset with every rendition emitted as a hashed file (once per object however many specs or
   * environments import it), best first in `sources`; `src` and `type` are the last one's, the
   * fast-start MP4 every browser plays.
   */
  async #withRenditions(ctx: EmitContext, spec: LoadedSpec, entry: Entry, made: ObtainedRenditions): Promise<string> {
    const name = basename(spec.name)
    // Named like the clip; by width too only where one size is not the whole story.
    const sized = new Set(made.sources.map((r) => r.width)).size > 1
    const sources = await Promise.all(
      made.sources.map(async (r) => ({ r, ref: await this.#emitObject(ctx, `${name}${sized ? `-${r.width}` : ''}.${r.item.ext}`, r) })),
    )
    const poster = made.posters[0]
    const posterRef = poster ? await this.#emitObject(ctx, `${name}.${poster.item.ext}`, poster) : (await this.#emit(ctx, spec, entry)).poster
    const last = sources.at(-1)!
    const list = sources.map(({ r, ref }) => `{ "src": ${assetUrl(ref).expr}, "type": ${JSON.stringify(r.type)}, "width": ${r.width}, "height": ${r.height}, "bytes": ${r.bytes} }`)
    return buildModuleCode({
      src: assetUrl(last.ref),
      type: json(last.r.type),
      width: json(entry.width),
      height: json(entry.height),
      duration: json(entry.duration),
      fps: json(entry.fps),
      poster: assetUrl(posterRef),
      sources: expr(`[${list.join(', ')}]`),
      placeholder: json(made.placeholder),
      pending: json(false),
      preview: json(entry.preview),
      key: json(entry.key),
    })
  }

  /** Emits a derived object once, hashed as it leaves the store (a corrupt one fails the build, never ships). */
  #emitObject(ctx: EmitContext, name: string, r: Rendition): Promise<string> {
    let ref = this.#objects.get(r.digest)
    if (!ref) {
      // One read, hashed on the way out: a corrupt object fails the build (quarantined), never ships.
      ref = this.#project.readRendition(r).then((source) => ctx.emitFile({ type: 'asset', name, source }))
      this.#objects.set(r.digest, ref)
    }
    return ref
  }

  /** What to say at the end of the build; an error message means the build must fail. */
  verdict(): { error?: string; warning?: string; info?: string } {
    if (this.frozen.size > 0) {
      const lines = [...this.frozen.keys()].sort().map((id) => `  - ${id}`)
      return {
        error:
          `paid generation is frozen (the default when CI=true) and ${this.frozen.size} spec(s) have no approved clip in any cache:\n${lines.join('\n')}\n` +
          'Build them where spending is allowed and commit vidspec.lock.json, or restore the shared cache.',
      }
    }
    return this.#project.previewsVerdict(this.refused.size > 0 ? this.refused : this.previews, 'vite build')
  }

  #emit(ctx: EmitContext, spec: LoadedSpec, entry: Entry): Promise<{ clip: string; poster: string }> {
    let refs = this.#emitted.get(entry.digest)
    if (!refs) {
      refs = this.#emitClipAndPoster(ctx, basename(spec.name), entry)
      this.#emitted.set(entry.digest, refs)
    }
    return refs
  }

  async #emitClipAndPoster(ctx: EmitContext, name: string, entry: Entry): Promise<{ clip: string; poster: string }> {
    const videoPath = this.#project.objectPath(entry)
    // Hashed as it leaves the store: a corrupt clip fails the build (CACHE_CORRUPT, quarantined), never ships.
    const source = await this.#project.readClip(entry)
    const clip = ctx.emitFile({ type: 'asset', name: `${name}.${entry.ext}`, source })
    const posterPath = await this.#posters.get(entry.digest, videoPath)
    const poster = ctx.emitFile({ type: 'asset', name: `${name}.jpg`, source: await readFile(posterPath) })
    return { clip, poster }
  }
}
