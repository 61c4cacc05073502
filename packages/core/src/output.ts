import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
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
 * pipelines that are not Vite. Copies, never links: the store's objects must stay immutable.
 */
export async function writeOutputs(
  store: Store,
  outDir: string,
  items: Array<{ id: string; name: string; entry: Entry }>,
): Promise<{ manifest: ManifestItem[]; manifestPath: string }> {
  await mkdir(outDir, { recursive: true })
  const manifest: ManifestItem[] = []
  for (const { id, name, entry } of [...items].sort((a, b) => a.id.localeCompare(b.id))) {
    const target = join(outDir, `${name}.${entry.ext}`)
    await mkdir(dirname(target), { recursive: true })
    const tmp = `${target}.tmp-${process.pid}`
    await copyFile(store.objectPath(entry.digest, entry.ext), tmp)
    await rmAndRename(tmp, target)
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
  return { manifest, manifestPath }
}

async function rmAndRename(tmp: string, target: string): Promise<void> {
  try {
    await rename(tmp, target)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
