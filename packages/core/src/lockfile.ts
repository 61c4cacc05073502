import { statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { VidspecError } from './errors.js'
import { canonicalJson } from './key/canonical.js'
import { writeFileAtomic } from './store/atomic.js'
import { RACY_MS, isSettled, packStamp, statStamp } from './store/stamp.js'
import type { Entry, NormalizedRequest } from './types.js'

export const LOCKFILE_NAME = 'vidspec.lock.json'

/** One approved clip: what a teammate or CI needs to get exactly this clip, not a new one. */
export interface LockedClip {
  key: string
  digest: string
  ext: string
  size: number
  mime: string
  provider: string
  preview: boolean
  model: string
  jobId?: string | undefined
  cost?: number | undefined
  seed?: number | undefined
  /** The request it was made from, so `plan --explain` can say what changed since approval. */
  request: NormalizedRequest
  /** Local media refs -> sha256 at approval time. */
  media: Record<string, string>
  /** Project-relative files the spec imported -> sha256, to tell a spec edit from a shared-module edit. */
  deps: Record<string, string>
}

export interface Lockfile {
  version: 1
  specs: Record<string, LockedClip>
}

export function lockfilePath(root: string): string {
  return join(root, LOCKFILE_NAME)
}

export async function readLockfile(root: string): Promise<Lockfile> {
  const path = lockfilePath(root)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, specs: {} }
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new VidspecError(
      'CONFIG_INVALID',
      `${LOCKFILE_NAME}: not valid JSON (${(err as Error).message}); resolve the merge conflict or restore it from git`,
      { file: path, cause: err },
    )
  }
  const lock = parsed as Partial<Lockfile>
  if (lock.version !== 1 || typeof lock.specs !== 'object' || lock.specs === null) {
    throw new VidspecError('CONFIG_INVALID', `${LOCKFILE_NAME}: expected { "version": 1, "specs": {...} }`, { file: path })
  }
  return { version: 1, specs: lock.specs as Record<string, LockedClip> }
}

/** Each lockfile's clips by key, built once per lockfile object (a plan passes one to every lookup). */
const byKeyOf = new WeakMap<Lockfile, Map<string, LockedClip>>()
function clipsByKey(lock: Lockfile): Map<string, LockedClip> {
  let byKey = byKeyOf.get(lock)
  if (!byKey) {
    byKey = new Map()
    // The first spec's pin, as a scan in file order would find it.
    for (const clip of Object.values(lock.specs)) if (!byKey.has(clip.key)) byKey.set(clip.key, clip)
    byKeyOf.set(lock, byKey)
  }
  return byKey
}

/** The last lockfile read at each path (or the read under way), with its stamp: reused while the stamp holds. */
const lastRead = new Map<string, { stamp: string; lock: Promise<Lockfile> }>()

/**
 * The clip the lockfile pins for `key`, if any. A build asks this for every key it may pay for, most
 * of them at once as it starts, so one read serves them all: the file is read again only when its
 * stamp changed (a git pull, another run's write) or it had changed just before it was read (see
 * RACY_MS), not once per key. A missing lockfile (a project before its first paid clip) costs a
 * stat, no error.
 */
export async function pinnedClip(root: string, key: string, settled = Date.now() - RACY_MS): Promise<LockedClip | undefined> {
  const path = lockfilePath(root)
  const before = statStamp(path)
  if (!before && statSync(path, { throwIfNoEntry: false }) === undefined) {
    lastRead.delete(path)
    return undefined
  }
  const stamp = packStamp(before)
  const known = lastRead.get(path)
  if (known && known.stamp === stamp) return clipsByKey(await known.lock).get(key)
  const read = readLockfile(root)
  // Shared with the lookups that come while it reads: they would read the same bytes.
  if (stamp !== undefined) lastRead.set(path, { stamp, lock: read })
  const forget = () => lastRead.get(path)?.lock === read && lastRead.delete(path)
  let lock: Lockfile
  try {
    lock = await read
  } catch (err) {
    forget()
    throw err
  }
  // Kept for later lookups only when the bytes read are the ones the stamp stands for, and not from a racy write.
  if (!(before && stamp === packStamp(statStamp(path)) && isSettled(before, settled))) forget()
  return clipsByKey(lock).get(key)
}

/** The clip `lock` pins for `key` (a lockfile the caller has read already). */
export function pinnedIn(lock: Lockfile, key: string): LockedClip | undefined {
  return clipsByKey(lock).get(key)
}

export function lockedClip(entry: Entry, media: Record<string, string>, deps: Record<string, string>): LockedClip {
  return {
    key: entry.key,
    digest: entry.digest,
    ext: entry.ext,
    size: entry.size,
    mime: entry.mime,
    provider: entry.provider,
    preview: entry.preview,
    model: entry.model,
    jobId: entry.jobId,
    cost: entry.cost,
    seed: entry.seed ?? entry.request.seed,
    request: entry.request,
    media,
    deps,
  }
}

/**
 * Writes the lockfile with sorted keys and one clip per spec, so it diffs and merges well in
 * review. Only rewritten when something changed: a no-op build leaves the file (and git) alone.
 */
export async function writeLockfile(root: string, lock: Lockfile): Promise<boolean> {
  const path = lockfilePath(root)
  const text = `${JSON.stringify(JSON.parse(canonicalJson(lock)), null, 2)}\n`
  const before = await readFile(path, 'utf8').catch(() => undefined)
  // A project with nothing approved yet (previews only) gets no lockfile to commit.
  if (before === text || (before === undefined && Object.keys(lock.specs).length === 0)) return false
  await writeFileAtomic(dirname(path), path, text)
  return true
}
