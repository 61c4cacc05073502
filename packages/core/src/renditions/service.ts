import { availableParallelism } from 'node:os'
import pLimit from 'p-limit'
import type { ResolvedConfig } from '../config/resolve.js'
import { VidspecError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { MediaTools } from '../media/binaries.js'
import type { ProbeResult } from '../media/probe.js'
import type { LoadedSpec } from '../spec/loader.js'
import type { Store } from '../store/index.js'
import type { Entry } from '../types.js'
import { canonicalJson } from '../key/canonical.js'
import { sha256Hex } from '../key/key.js'
import { parseRenditionQuery } from './directives.js'
import { RENDITION_FORMAT_VERSION } from './defaults.js'
import { encoderIdentity, ffmpegIdentity, hasEncoder } from './encoder.js'
import { renditionKey } from './key.js'
import { IMAGE_TYPE, makeRendition, probeMaster } from './make.js'
import { predictedType } from './predict.js'
import { FORMAT_EXT, placeholderRecipe, posterRecipes, resolveRenditions, videoId, videoRecipes } from './resolve.js'
import type { DerivedRecord, Recipe, Rendition, RenditionItem, RenditionPlan } from './types.js'

/** Where renditions may also come from and go to (the remote cache); see remote/derived.ts. */
export interface DerivedRemote {
  fetch(item: RenditionItem, signal?: AbortSignal): Promise<DerivedRecord | undefined>
  share(record: DerivedRecord): Promise<void>
}

export interface RenditionsParts {
  config: ResolvedConfig
  /** The project's ffmpeg and ffprobe (VIDSPEC_FFMPEG / VIDSPEC_FFPROBE of the env it was opened with). */
  tools: MediaTools
  store: Store
  logger: Logger
  remote?: DerivedRemote | undefined
}

export interface ObtainOptions {
  signal?: AbortSignal | undefined
}

/** A spec's renditions, made and verified: what an adapter turns into a `VideoAsset`. */
export interface ObtainedRenditions {
  plan: RenditionPlan
  /** Best first. */
  sources: Rendition[]
  posters: Rendition[]
  /** The placeholder as a data URI. */
  placeholder: string | undefined
}

/**
 * A project's renditions: plan (keys, no side effects), then obtain (store -> remote -> make with
 * ffmpeg, checked, committed). Encodes run at most `availableParallelism()` at once; one key is made
 * once per process however many callers ask; a plan whose every item is stored starts no process.
 */
export class Renditions {
  readonly #parts: RenditionsParts
  readonly #limit = pLimit(Math.max(1, availableParallelism()))
  readonly #inflight = new Map<string, Promise<Rendition>>()
  readonly #masters = new Map<string, Promise<ProbeResult>>()
  readonly #masterChecks = new Map<string, Promise<string>>()
  /** What plan just found stored for each item it gave out: obtain does not read it all again. */
  readonly #planned = new WeakMap<RenditionItem, DerivedRecord>()
  /** Placeholders' bytes as their records carry them (a few hundred bytes each). */
  readonly #inline = new Map<string, string>()
  /** See shipKey. */
  readonly #recipeHashes = new Map<string, Promise<string>>()

  constructor(parts: RenditionsParts) {
    this.#parts = parts
  }

  /**
   * What a spec ships, with each item's key: the config's `renditions`, the spec's, then the import
   * `query`'s directives. Needs the master in the store (MASTER_MISSING otherwise); reads records, makes nothing.
   */
  async plan(spec: Pick<LoadedSpec, 'id' | 'key' | 'renditions'>, master: Entry | undefined, query?: string): Promise<RenditionPlan> {
    if (!master) {
      throw new VidspecError('USAGE', `${spec.id}: no clip is stored for it yet, so it has no renditions: build or generate it first`, { file: spec.id })
    }
    const { config } = this.#parts
    const ref = { key: master.key, digest: master.digest, ext: master.ext }
    const masterInfo = { ...ref, width: master.width, height: master.height, duration: master.duration }
    const directives = parseRenditionQuery(query, spec.id)
    if (config.renditions === false) return { spec: spec.id, master: masterInfo, sources: [], posters: [], placeholder: undefined, remote: false }
    const r = resolveRenditions(config.renditions, spec.renditions, directives)
    const size = { width: master.width, height: master.height }
    let videos = videoRecipes(r, size)
    if (videos.some((v) => v.format === 'av1') && !(await hasEncoder('libaom-av1', this.#parts.tools, config.cacheDir))) {
      this.#parts.logger.warn(`${spec.id}: av1 renditions skipped: this ffmpeg has no libaom-av1 encoder`)
      videos = videos.filter((v) => v.format !== 'av1')
    }
    const item = async (id: string, recipe: Recipe, ext: string, type: (rec: DerivedRecord | undefined) => string): Promise<RenditionItem> => {
      const key = renditionKey(master.digest, recipe, await encoderIdentity(recipe, this.#parts.tools, config.cacheDir))
      const stored = await this.#parts.store.getDerived(key)
      const planned: RenditionItem = { id, spec: spec.id, master: ref, recipe, key, type: type(stored), width: recipe.width, height: recipe.height, ext, cached: stored !== undefined }
      if (stored) this.#planned.set(planned, stored)
      return planned
    }
    const sources = await Promise.all(
      videos.map((v) => item(videoId(v), v, FORMAT_EXT[v.format], (rec) => rec?.type ?? predictedType(v, master.fps, undefined))),
    )
    const posters = await Promise.all(
      posterRecipes(r, size, master.duration).map((p) => item(`poster-${p.at}s-${p.format}`, p, p.format, () => IMAGE_TYPE[p.format] ?? '')),
    )
    const ph = placeholderRecipe(r, size)
    const placeholder = ph ? await item('placeholder', ph, 'jpg', () => 'image/jpeg') : undefined
    return {
      spec: spec.id,
      master: masterInfo,
      sources,
      posters,
      placeholder,
      remote: r.remote,
    }
  }

  /**
   * Everything a spec's renditions are made from, as one hash: the master's bytes, the recipe in force
   * (config, then spec) and this ffmpeg's identity (its build and every encoder's). While it is
   * unchanged, the renditions shipped before are the ones a plan would give now (see writeOutputs).
   */
  async shipKey(spec: Pick<LoadedSpec, 'renditions'>, master: Entry): Promise<string> {
    // Most specs share the config's recipe: it is hashed once, with the ffmpeg, per distinct spec recipe.
    const level = JSON.stringify(spec.renditions ?? null)
    let how = this.#recipeHashes.get(level)
    if (!how) {
      how = this.#recipeHash(spec)
      how.catch(() => this.#recipeHashes.delete(level))
      this.#recipeHashes.set(level, how)
    }
    return sha256Hex(`${master.digest}:${await how}`)
  }

  async #recipeHash(spec: Pick<LoadedSpec, 'renditions'>): Promise<string> {
    const { config, tools } = this.#parts
    if (config.renditions === false) return 'none'
    const ffmpeg = await ffmpegIdentity(tools, config.cacheDir)
    return sha256Hex(canonicalJson({ v: RENDITION_FORMAT_VERSION, recipe: resolveRenditions(config.renditions, spec.renditions), ffmpeg }))
  }

  /** Every item of a plan, in the store and verified (made where missing). */
  async obtainAll(plan: RenditionPlan, opts: ObtainOptions = {}): Promise<ObtainedRenditions> {
    const [sources, posters, placeholder] = await Promise.all([
      Promise.all(plan.sources.map((i) => this.obtain(i, { ...opts, remote: plan.remote }))),
      Promise.all(plan.posters.map((i) => this.obtain(i, { ...opts, remote: plan.remote }))),
      plan.placeholder ? this.placeholder(plan.placeholder, { ...opts, remote: plan.remote }) : undefined,
    ])
    return { plan, sources, posters, placeholder }
  }

  /**
   * The placeholder's data URI (the object is stored like any rendition). Its record carries the
   * bytes: hashed against the digest here, the object itself is read only when they do not match.
   */
  async placeholder(item: RenditionItem, opts: ObtainOptions & { remote?: boolean } = {}): Promise<string> {
    const got = await this.obtain(item, opts)
    const inline = this.#inline.get(item.key)
    const fromRecord = inline === undefined ? undefined : Buffer.from(inline, 'base64')
    const bytes =
      fromRecord && fromRecord.length === got.bytes && sha256Hex(fromRecord) === got.digest
        ? fromRecord
        : await this.#parts.store.readOut({ digest: got.digest, ext: item.ext, size: got.bytes }, { spec: item.spec })
    return `data:${got.type};base64,${bytes.toString('base64')}`
  }

  /** One item: from the store, else the remote cache (when the plan says so), else made with ffmpeg. */
  obtain(item: RenditionItem, opts: ObtainOptions & { remote?: boolean } = {}): Promise<Rendition> {
    let p = this.#inflight.get(item.key)
    if (!p) {
      p = this.#obtain(item, opts).finally(() => this.#inflight.delete(item.key))
      this.#inflight.set(item.key, p)
    }
    return p
  }

  async #obtain(item: RenditionItem, opts: ObtainOptions & { remote?: boolean }): Promise<Rendition> {
    const { store, remote } = this.#parts
    // Checked by plan a moment ago (its object whole by its stamp); everything leaving the store is hashed on the way out anyway.
    const stored = this.#planned.get(item) ?? (await store.getDerived(item.key))
    if (stored) return this.#result(item, stored, 'store')
    if (opts.remote && remote) {
      const fetched = await remote.fetch(item, opts.signal)
      if (fetched) return this.#result(item, fetched, 'remote')
    }
    const record = await this.#limit(async () => {
      const masterPath = await this.#checkedMaster(item)
      const probe = await this.#probe(item.master.digest, masterPath, item.spec)
      const encoder = await encoderIdentity(item.recipe, this.#parts.tools, this.#parts.config.cacheDir)
      return makeRendition(store, item, { path: masterPath, probe }, encoder, { ...opts, tools: this.#parts.tools })
    })
    if (opts.remote && remote) await remote.share(record)
    return this.#result(item, record, 'made')
  }

  /**
   * The master's path, hashed once for all the renditions made from it at the same time: a corrupt
   * master is quarantined by one check and every one of them fails with that check's error.
   */
  #checkedMaster(item: RenditionItem): Promise<string> {
    const { digest, ext } = item.master
    let p = this.#masterChecks.get(digest)
    if (!p) {
      p = this.#parts.store.checkedPath({ digest, ext }, { trust: 'process', spec: item.spec }).finally(() => this.#masterChecks.delete(digest))
      this.#masterChecks.set(digest, p)
    }
    return p
  }

  #probe(digest: string, path: string, spec: string): Promise<ProbeResult> {
    let p = this.#masters.get(digest)
    if (!p) {
      p = probeMaster(path, spec, this.#parts.tools)
      p.catch(() => this.#masters.delete(digest))
      this.#masters.set(digest, p)
    }
    return p
  }

  #result(item: RenditionItem, rec: DerivedRecord, source: Rendition['source']): Rendition {
    if (rec.inline !== undefined) this.#inline.set(rec.key, rec.inline)
    return {
      item: { ...item, type: rec.type, cached: true },
      path: this.#parts.store.objectPath(rec.digest, rec.ext),
      digest: rec.digest,
      bytes: rec.size,
      type: rec.type,
      width: rec.width,
      height: rec.height,
      source,
    }
  }
}
