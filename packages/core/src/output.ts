import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import pLimit from 'p-limit'
import { VidspecError, isVidspecError } from './errors.js'
import { relativeInside, toPosix } from './paths.js'
import type { ObtainedRenditions } from './renditions/service.js'
import type { Rendition, RenditionsInput } from './renditions/types.js'
import type { Store } from './store/index.js'
import type { OutStamps } from './store/out-stamps.js'
import type { Entry } from './types.js'

/** One rendition (or poster) written beside its clip. */
export interface ManifestRendition {
  /** The plan id: `mp4-1366w`, `webm-640w`, `poster-0s-jpg`. */
  id: string
  /** Relative to the out folder: `<spec path>.<id>.<ext>`. */
  file: string
  /** MIME type, with codecs for video: what a `<source type>` takes. */
  type: string
  width: number
  height: number
  bytes: number
  digest: string
  /** The rendition key it is cached under. */
  key: string
}

export interface ManifestItem {
  spec: string
  file: string
  key: string
  digest: string
  width: number
  height: number
  duration: number
  fps: number
  mime: string
  size: number
  preview: boolean
  /** The renditions to ship, best first (absent when the config says `renditions: false`). */
  sources?: ManifestRendition[]
  posters?: ManifestRendition[]
  /** A tiny blurred first frame as a data URI. */
  placeholder?: string
}

/** What `--out` ships of one built clip: the clip itself, and what `renditions` asks for. */
export interface OutputItem {
  id: string
  name: string
  entry: Entry
  renditions?: RenditionsInput | undefined
}

/** Where `--out` gets an item's renditions from (the project's Renditions). */
export interface OutputRenditions {
  /** What the item's renditions are made from, as one hash: equal keys ship equal files (Renditions.shipKey). */
  key(item: OutputItem): Promise<string>
  obtain(item: OutputItem): Promise<ObtainedRenditions>
}

/**
 * Copies each clip to `<outDir>/<spec name>.<ext>`, its renditions and posters to
 * `<outDir>/<spec name>.<id>.<ext>` (made first where missing, all specs at once, bounded by the
 * cores), and writes `manifest.json` beside them, for pipelines that are not Vite. Copies, never links: the store's objects must stay immutable. Every
 * copy is hashed as it is written and appears only when it matches its digest; a clip that does not
 * is quarantined, left out of the folder and the manifest, and returned in `failed` (CACHE_CORRUPT,
 * saying what to do), while the other clips are still written.
 *
 * A spec whose clip and renditions are made from what they were made from last time, with every file
 * it shipped then still in the folder exactly as written (OutStamps), ships that again as it is: a
 * no-op `build --out` plans no rendition and reads no file back.
 */
export async function writeOutputs(
  store: Store,
  outDir: string,
  items: OutputItem[],
  renditions?: OutputRenditions,
): Promise<{ manifest: ManifestItem[]; manifestPath: string; failed: Array<{ id: string; error: VidspecError }> }> {
  // Spec names are checked when specs are found (spec/outputs.ts); this is the last guard, before
  // anything is written.
  for (const { id, name, entry } of items) {
    if (relativeInside(outDir, join(outDir, `${name}.${entry.ext}`)) === undefined) {
      throw new VidspecError('CONFIG_INVALID', `${id}: its output "${name}.${entry.ext}" would be outside the out folder ${outDir}; nothing was written`)
    }
  }
  await mkdir(outDir, { recursive: true })
  const known = store.outStamps(outDir)
  // A spec whose renditions cannot even be keyed is made (and fails) the long way, with its error.
  const keys = new Map(
    await Promise.all(items.map(async (item) => [item.id, renditions ? await renditions.key(item).catch(() => undefined) : 'clip'] as const)),
  )
  const reused = new Map<string, ManifestItem>()
  for (const item of items) {
    const key = keys.get(item.id)
    const clip = key === undefined ? undefined : stillShipped(outDir, item, known.shipped(item.id, key), known)
    if (clip) reused.set(item.id, clip)
  }
  const failed: Array<{ id: string; error: VidspecError }> = []
  // Every other spec's renditions at once: the encodes share one bound (the machine's cores).
  const made = new Map(
    await Promise.all(
      items
        .filter((item) => !reused.has(item.id))
        .map(async (item) => [item.id, renditions ? await renditions.obtain(item).catch((err: unknown) => asError(err, item.id)) : undefined] as const),
    ),
  )
  // A few specs at once (the copies wait on the disk, not the CPU); the manifest keeps spec order.
  const limit = pLimit(8)
  const shipped = await Promise.all(
    [...items]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(async (item) => {
        const again = reused.get(item.id)
        const result = again ? { clip: again } : await limit(() => ship(store, outDir, item, made.get(item.id), known))
        const key = keys.get(item.id)
        if ('clip' in result && key !== undefined) known.remember(item.id, key, result.clip)
        return result
      }),
  ).finally(() => known.save())
  const manifest: ManifestItem[] = []
  for (const result of shipped) {
    if ('error' in result) failed.push(result)
    else manifest.push(result.clip)
  }
  const manifestPath = join(outDir, 'manifest.json')
  // version 1 still: every field of a version-1 clip is there as it was; sources, posters and placeholder are new.
  await writeFile(manifestPath, `${JSON.stringify({ version: 1, clips: manifest }, null, 2)}\n`)
  return { manifest, manifestPath, failed }
}

/** The clip's own fields of its manifest item (its renditions' come after). */
function clipFields(outDir: string, item: OutputItem): Omit<ManifestItem, 'sources' | 'posters' | 'placeholder'> {
  const { id, name, entry } = item
  return {
    spec: id,
    file: toPosix(relative(outDir, join(outDir, `${name}.${entry.ext}`))),
    key: entry.key,
    digest: entry.digest,
    width: entry.width,
    height: entry.height,
    duration: entry.duration,
    fps: entry.fps,
    mime: entry.mime,
    size: entry.size,
    preview: entry.preview,
  }
}

/**
 * The manifest item remembered for `item` when it still describes this clip and every file it lists
 * is in the folder exactly as it was written (its stamp); undefined otherwise (shipped the long way).
 */
function stillShipped(outDir: string, item: OutputItem, remembered: unknown, known: OutStamps): ManifestItem | undefined {
  if (typeof remembered !== 'object' || remembered === null) return undefined
  const clip = remembered as ManifestItem
  const fields = clipFields(outDir, item)
  for (const [k, v] of Object.entries(fields)) if (clip[k as keyof typeof fields] !== v) return undefined
  const { sources = [], posters = [], placeholder } = clip
  if (!Array.isArray(sources) || !Array.isArray(posters) || (placeholder !== undefined && typeof placeholder !== 'string')) return undefined
  if (!known.holds(join(outDir, fields.file), fields.digest)) return undefined
  for (const f of [...sources, ...posters]) {
    if (typeof f?.file !== 'string' || typeof f.digest !== 'string' || !known.holds(join(outDir, f.file), f.digest)) return undefined
  }
  return clip
}

async function ship(
  store: Store,
  outDir: string,
  item: OutputItem,
  renditions: ObtainedRenditions | VidspecError | undefined,
  known: OutStamps,
): Promise<{ clip: ManifestItem } | { id: string; error: VidspecError }> {
  const { id, name, entry } = item
  const target = join(outDir, `${name}.${entry.ext}`)
  await mkdir(dirname(target), { recursive: true })
  const write = async (r: Rendition): Promise<ManifestRendition> => {
    const file = join(outDir, `${name}.${r.item.id}.${r.item.ext}`)
    await store.copyOut({ digest: r.digest, ext: r.item.ext, size: r.bytes }, file, { spec: id, known })
    const { type, width, height, bytes, digest } = r
    return { id: r.item.id, file: toPosix(relative(outDir, file)), type, width, height, bytes, digest, key: r.item.key }
  }
  try {
    if (renditions instanceof VidspecError) throw renditions
    const [, sources, posters] = await Promise.all([
      store.copyOut(entry, target, { spec: id, known }),
      renditions && Promise.all(renditions.sources.map(write)),
      renditions && Promise.all(renditions.posters.map(write)),
    ])
    return {
      clip: {
        ...clipFields(outDir, item),
        ...(renditions ? { sources: sources ?? [], posters: posters ?? [] } : {}),
        ...(renditions?.placeholder ? { placeholder: renditions.placeholder } : {}),
      },
    }
  } catch (err) {
    if (!isVidspecError(err)) throw err
    // An older copy from an earlier run would ship as if this one had worked.
    await rm(target, { force: true })
    known.forget(target)
    return { id, error: err }
  }
}

function asError(err: unknown, id: string): VidspecError {
  if (err instanceof VidspecError) return err
  return new VidspecError('INTERNAL', `${id}: its renditions could not be made: ${(err as Error).message}`, { cause: err })
}
