import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import pLimit from 'p-limit'
import { VidspecError, isVidspecError } from './errors.js'
import { relativeInside } from './paths.js'
import type { ObtainedRenditions } from './renditions/service.js'
import type { Rendition, RenditionsInput } from './renditions/types.js'
import type { Store } from './store/index.js'
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

/**
 * Copies each clip to `<outDir>/<spec name>.<ext>`, its renditions and posters to
 * `<outDir>/<spec name>.<id>.<ext>` (made first where missing, all specs at once, bounded by the
 * cores), and writes `manifest.json` beside them, for pipelines that are not Vite. Copies, never links: the store's objects must stay immutable. Every
 * copy is hashed as it is written and appears only when it matches its digest; a clip that does not
 * is quarantined, left out of the folder and the manifest, and returned in `failed` (CACHE_CORRUPT,
 * saying what to do), while the other clips are still written.
 */
export async function writeOutputs(
  store: Store,
  outDir: string,
  items: OutputItem[],
  renditionsOf?: (item: OutputItem) => Promise<ObtainedRenditions>,
): Promise<{ manifest: ManifestItem[]; manifestPath: string; failed: Array<{ id: string; error: VidspecError }> }> {
  // Spec names are checked when specs are found (spec/outputs.ts); this is the last guard, before
  // anything is written.
  for (const { id, name, entry } of items) {
    if (relativeInside(outDir, join(outDir, `${name}.${entry.ext}`)) === undefined) {
      throw new VidspecError('CONFIG_INVALID', `${id}: its output "${name}.${entry.ext}" would be outside the out folder ${outDir}; nothing was written`)
    }
  }
  await mkdir(outDir, { recursive: true })
  const manifest: ManifestItem[] = []
  const failed: Array<{ id: string; error: VidspecError }> = []
  // Every spec's renditions at once: the encodes share one bound (the machine's cores).
  const made = new Map(
    await Promise.all(
      items.map(async (item) => [item.id, renditionsOf ? await renditionsOf(item).catch((err: unknown) => asError(err, item.id)) : undefined] as const),
    ),
  )
  // A few specs at once (the copies wait on the disk, not the CPU); the manifest keeps spec order.
  const limit = pLimit(8)
  const shipped = await Promise.all(
    [...items].sort((a, b) => a.id.localeCompare(b.id)).map((item) => limit(() => ship(store, outDir, item, made.get(item.id)))),
  )
  for (const result of shipped) {
    if ('error' in result) failed.push(result)
    else manifest.push(result.clip)
  }
  const manifestPath = join(outDir, 'manifest.json')
  // version 1 still: every field of a version-1 clip is there as it was; sources, posters and placeholder are new.
  await writeFile(manifestPath, `${JSON.stringify({ version: 1, clips: manifest }, null, 2)}\n`)
  return { manifest, manifestPath, failed }
}

async function ship(
  store: Store,
  outDir: string,
  item: OutputItem,
  renditions: ObtainedRenditions | VidspecError | undefined,
): Promise<{ clip: ManifestItem } | { id: string; error: VidspecError }> {
  const { id, name, entry } = item
  const target = join(outDir, `${name}.${entry.ext}`)
  await mkdir(dirname(target), { recursive: true })
  const write = async (r: Rendition): Promise<ManifestRendition> => {
    const file = join(outDir, `${name}.${r.item.id}.${r.item.ext}`)
    await store.copyOut({ digest: r.digest, ext: r.item.ext, size: r.bytes }, file, { spec: id })
    const { type, width, height, bytes, digest } = r
    return { id: r.item.id, file: relative(outDir, file).split('\\').join('/'), type, width, height, bytes, digest, key: r.item.key }
  }
  try {
    if (renditions instanceof VidspecError) throw renditions
    const [, sources, posters] = await Promise.all([
      store.copyOut(entry, target, { spec: id }),
      renditions && Promise.all(renditions.sources.map(write)),
      renditions && Promise.all(renditions.posters.map(write)),
    ])
    return {
      clip: {
        spec: id,
        file: relative(outDir, target).split('\\').join('/'),
        key: entry.key,
        digest: entry.digest,
        width: entry.width,
        height: entry.height,
        duration: entry.duration,
        fps: entry.fps,
        mime: entry.mime,
        size: entry.size,
        preview: entry.preview,
        ...(renditions ? { sources: sources ?? [], posters: posters ?? [] } : {}),
        ...(renditions?.placeholder ? { placeholder: renditions.placeholder } : {}),
      },
    }
  } catch (err) {
    if (!isVidspecError(err)) throw err
    // An older copy from an earlier run would ship as if this one had worked.
    await rm(target, { force: true })
    return { id, error: err }
  }
}

function asError(err: unknown, id: string): VidspecError {
  if (err instanceof VidspecError) return err
  return new VidspecError('INTERNAL', `${id}: its renditions could not be made: ${(err as Error).message}`, { cause: err })
}
