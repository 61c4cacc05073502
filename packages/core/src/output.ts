import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { VidspecError, isVidspecError } from './errors.js'
import { relativeInside } from './paths.js'
import type { Store } from './store/index.js'
import type { Entry } from './types.js'

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
}

/**
 * Copies each clip to `<outDir>/<spec name>.<ext>` and writes `manifest.json` beside them, for
 * pipelines that are not Vite. Copies, never links: the store's objects must stay immutable. Every
 * copy is hashed as it is written and appears only when it matches its digest; a clip that does not
 * is quarantined, left out of the folder and the manifest, and returned in `failed` (CACHE_CORRUPT,
 * saying what to do), while the other clips are still written.
 */
export async function writeOutputs(
  store: Store,
  outDir: string,
  items: Array<{ id: string; name: string; entry: Entry }>,
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
  for (const { id, name, entry } of [...items].sort((a, b) => a.id.localeCompare(b.id))) {
    const target = join(outDir, `${name}.${entry.ext}`)
    await mkdir(dirname(target), { recursive: true })
    try {
      await store.copyOut(entry, target, { spec: id })
    } catch (err) {
      if (!isVidspecError(err, 'CACHE_CORRUPT')) throw err
      // An older copy from an earlier run would ship as if this one had worked.
      await rm(target, { force: true })
      failed.push({ id, error: err })
      continue
    }
    manifest.push({
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
    })
  }
  const manifestPath = join(outDir, 'manifest.json')
  await writeFile(manifestPath, `${JSON.stringify({ version: 1, clips: manifest }, null, 2)}\n`)
  return { manifest, manifestPath, failed }
}
