import { statSync } from 'node:fs'
import { errorCode, readJson, writeJsonAtomic } from './atomic.js'
import type { StoreLayout } from './layout.js'

/**
 * What a file looked like when its bytes last hashed to its digest. Any write to a file changes its
 * ctime (which no tool can set back, unlike mtime), so while the stamp still matches, the bytes are
 * the ones that were hashed: a no-op build stats a clip instead of re-reading it.
 */
export interface Stamp {
  size: string
  mtimeNs: string
  ctimeNs: string
  ino: string
  dev: string
}

/** The file's stamp now, or undefined when it is not there (or not a file). */
export function statStamp(path: string): Stamp | undefined {
  try {
    // A missing file answers undefined rather than throwing: a build of keys not yet made asks about
    // thousands of missing files, and each exception costs several times the stat.
    const st = statSync(path, { bigint: true, throwIfNoEntry: false })
    if (!st?.isFile()) return undefined
    return {
      size: String(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
      ino: String(st.ino),
      dev: String(st.dev),
    }
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined
    throw err
  }
}

/**
 * A file or folder changed less than this long ago is never vouched for by its stamp (it is hashed
 * or listed instead): a filesystem's clock ticks coarsely (a few ms), so a second write within the
 * tick of the one seen could leave the stamp as it was (git's "racily clean" files).
 */
export const RACY_MS = 2000

/** Whether the file had last changed before `settled` (a time in ms) when `stamp` was taken. */
export const isSettled = (stamp: Stamp, settled: number): boolean => Number(stamp.mtimeNs) / 1e6 < settled && Number(stamp.ctimeNs) / 1e6 < settled

/** `isSettled` for a packed stamp (`packStamp`). */
export function isPackedSettled(packed: string, settled: number): boolean {
  const m = packed.indexOf(':') + 1
  const c = packed.indexOf(':', m) + 1
  return Number(packed.slice(m, c - 1)) / 1e6 < settled && Number(packed.slice(c, packed.indexOf(':', c))) / 1e6 < settled
}

/** A stamp as one short string, for files parsed whole by every run (indexes), so kept small. */
export const packStamp = (s: Stamp | undefined): string | undefined => (s ? `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}:${s.dev}` : undefined)

export function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino &&
    a.dev === b.dev
  )
}

const isStamp = (v: unknown): v is Stamp =>
  typeof v === 'object' &&
  v !== null &&
  ['size', 'mtimeNs', 'ctimeNs', 'ino', 'dev'].every((k) => typeof (v as Record<string, unknown>)[k] === 'string')

export async function readStamp(layout: StoreLayout, digest: string, ext: string): Promise<Stamp | undefined> {
  const read = await readJson(layout.stampPath(digest, ext))
  return read.ok && isStamp(read.value) ? read.value : undefined
}

/**
 * Records a stamp taken before a hash that matched, when the file still has it afterwards (a write
 * during the hash must not be vouched for). Not durable: a lost stamp only costs one re-hash.
 */
export async function writeStamp(layout: StoreLayout, digest: string, ext: string, before: Stamp): Promise<void> {
  const path = layout.objectPath(digest, ext)
  if (!sameStamp(before, statStamp(path))) return
  await writeJsonAtomic(layout.tmp, layout.stampPath(digest, ext), before, { durable: false })
}
