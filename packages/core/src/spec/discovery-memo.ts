import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeRebuildableSync } from '../store/atomic.js'
import { RACY_MS } from '../store/stamp.js'

/**
 * What discovery found last time, and every folder it could have found a spec in, each with its
 * stamp (mtime, ctime, inode, device). Adding, removing or renaming an entry changes its folder's
 * mtime and ctime, so while every folder's stamp is unchanged the glob would find the same files: a
 * no-op plan stats a few folders instead of loading a glob library and walking the tree. Anything
 * else (a folder changed, one missing, other globs) globs again. Losing the file costs one glob.
 */
interface DiscoveryFile {
  version: 1
  /** The root and the globs the answer is for. */
  query: string
  /** Absolute folder -> packed stamp: every folder below each include glob's base. */
  dirs: Record<string, string>
  files: string[]
}

export interface DiscoveryQuery {
  root: string
  cacheDir: string
  include: string[]
  ignore: string[]
}

const memoPath = (cacheDir: string) => join(cacheDir, 'memo', 'discovery.json')
const queryOf = (q: DiscoveryQuery, ignoredDirs: readonly string[]) => JSON.stringify([q.root, q.cacheDir, q.include, q.ignore, ignoredDirs])

export function dirStamp(path: string): { packed: string; changedMs: number } | undefined {
  try {
    const st = statSync(path, { bigint: true })
    if (!st.isDirectory()) return undefined
    return { packed: `${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`, changedMs: Number(st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1e6 }
  } catch {
    return undefined
  }
}

/**
 * The folder part of a glob before its first magic character (`src/**\/*.video.ts` -> `src`), or
 * undefined for a glob that may reach outside the root (absolute, or `..`): those are never memoized.
 */
export function globBase(pattern: string): string | undefined {
  if (pattern.startsWith('/') || pattern.startsWith('!') || /^[A-Za-z]:/.test(pattern)) return undefined
  const segments = pattern.split('/')
  const base: string[] = []
  for (const seg of segments.slice(0, -1)) {
    if (/[*?[\]{}()!+@\\]/.test(seg)) break
    if (seg === '..') return undefined
    base.push(seg)
  }
  return base.join('/')
}

/** The files of the last discovery when nothing it could see has changed since. */
export function recalled(q: DiscoveryQuery, ignoredDirs: readonly string[]): string[] | undefined {
  let file: Partial<DiscoveryFile>
  try {
    file = JSON.parse(readFileSync(memoPath(q.cacheDir), 'utf8')) as Partial<DiscoveryFile>
  } catch {
    return undefined
  }
  if (file.version !== 1 || file.query !== queryOf(q, ignoredDirs) || !file.dirs || !Array.isArray(file.files)) return undefined
  for (const [dir, packed] of Object.entries(file.dirs)) if (dirStamp(dir)?.packed !== packed) return undefined
  return file.files
}

/**
 * The stamps of every folder the include globs could find a spec in (a superset of what the glob
 * walks: ignore globs are not applied, symlinked folders are not followed, like the glob). Taken
 * before the glob runs, so a change during it makes the next run glob again. Undefined when a glob
 * cannot be memoized or some folder changed after `settled` (ms): too fresh to vouch for.
 */
export function folderStamps(q: DiscoveryQuery, ignoredDirs: readonly string[], settled = Date.now() - RACY_MS): Record<string, string> | undefined {
  const bases = q.include.map(globBase)
  if (bases.some((b) => b === undefined)) return undefined
  const skip = new Set(ignoredDirs)
  const cacheDir = resolve(q.root, q.cacheDir)
  const dirs: Record<string, string> = {}
  let fresh = false
  const walk = (dir: string): void => {
    if (dir in dirs || dir === cacheDir) return
    const stamp = dirStamp(dir)
    if (!stamp) return
    if (stamp.changedMs >= settled) fresh = true
    dirs[dir] = stamp.packed
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) if (e.isDirectory() && !skip.has(e.name)) walk(join(dir, e.name))
  }
  // A missing base is stamped through its nearest existing parent: creating it changes that parent.
  for (const base of bases as string[]) {
    let dir = resolve(q.root, base)
    while (!dirStamp(dir) && dir !== q.root && resolve(dir, '..') !== dir) dir = resolve(dir, '..')
    if (dir !== resolve(q.root, base)) {
      const stamp = dirStamp(dir)
      if (stamp) {
        if (stamp.changedMs >= settled) fresh = true
        dirs[dir] = stamp.packed
      }
    } else walk(dir)
  }
  return fresh ? undefined : dirs
}

/** Writes the answer for the next run (atomic, not durable: losing it costs one glob). */
export function remember(q: DiscoveryQuery, ignoredDirs: readonly string[], dirs: Record<string, string>, files: string[]): void {
  const file: DiscoveryFile = { version: 1, query: queryOf(q, ignoredDirs), dirs, files }
  writeRebuildableSync(join(q.cacheDir, 'tmp'), memoPath(q.cacheDir), JSON.stringify(file), { mkdir: true })
}
