import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { errorCode, removeFile } from './atomic.js'
import type { StoreLayout } from './layout.js'
import { names } from './records.js'

/**
 * How long a file may sit unreferenced before it counts as abandoned. A download in progress keeps
 * its temp file's mtime fresh, and a commit touches its object before writing the entry, so anything
 * older than this is left over from a crash, not work in flight.
 */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000

/** Temp files left over from crashed writes; removes them unless `dryRun`. */
export async function sweepTemps(
  layout: StoreLayout,
  now: number,
  dryRun: boolean,
): Promise<{ removed: string[]; bytes: number }> {
  const removed: string[] = []
  let bytes = 0
  for (const name of await names(layout.tmp)) {
    const path = join(layout.tmp, name)
    try {
      const st = await stat(path)
      if (!st.isFile() || now - st.mtimeMs <= ABANDONED_AFTER_MS) continue
      if (dryRun || (await removeFile(path))) {
        removed.push(path)
        bytes += st.size
      }
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err
    }
  }
  return { removed, bytes }
}
