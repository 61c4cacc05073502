import { basename } from 'node:path'
import type { Entry } from '../types.js'
import { fsyncDir, removeFile } from './atomic.js'
import { scanDerived } from './derived.js'
import type { StoreLayout } from './layout.js'
import { isLockLive } from './lock.js'
import { scanEntries, scanObjects } from './records.js'
import { ABANDONED_AFTER_MS, sweepTemps } from './sweep.js'
import { TrashBatch } from './trash.js'
import type { GcOptions, GcReport } from './types.js'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Removes entries no kept key needs, with their objects, plus abandoned temp files. Never removes an
 * object any remaining entry references, an entry whose key is locked by a live build, a journal
 * (the only record of a paid job) or a lock. Nothing paid is deleted here: a paid entry no kept key
 * needs stays unless `includePaid`, and then moves to the trash with its object; an old object no
 * entry names (it may be a paid clip whose entry was lost) moves to the trash too. Only previews,
 * free to render again, are deleted outright.
 */
export async function runGc(layout: StoreLayout, opts: GcOptions): Promise<GcReport> {
  const now = (opts.now ?? new Date()).getTime()
  const dryRun = opts.dryRun ?? false
  const files = await scanEntries(layout)
  const entries = files.flatMap((f) => (f.entry ? [f.entry] : []))
  const objects = await scanObjects(layout)

  // Which entries still use each object. A malformed entry that names a digest still protects it:
  // its object may be the only copy of a paid clip someone can recover by hand.
  const users = new Map<string, Set<string>>()
  const use = (path: string, key: string): void => {
    const set = users.get(path) ?? new Set<string>()
    set.add(key)
    users.set(path, set)
  }
  for (const e of entries) use(layout.objectPath(e.digest, e.ext), e.key)
  const derivedFiles = await scanDerived(layout)
  const derived = derivedFiles.flatMap((f) => (f.record ? [f.record] : []))
  for (const d of derived) use(layout.objectPath(d.digest, d.ext), `derived:${d.key}`)
  const protectedDigests = new Set(files.flatMap((f) => (!f.entry && f.claimedDigest ? [f.claimedDigest] : [])))

  let total = objects.reduce((sum, o) => sum + o.size, 0)
  const doomed = new Map<string, number>()
  const doom = (path: string, size: number): void => {
    doomed.set(path, size)
    total -= size
  }
  const orphans = new Set<string>()
  for (const o of objects) {
    const orphan = !users.has(o.path) && !protectedDigests.has(o.digest)
    if (orphan && now - o.mtimeMs > ABANDONED_AFTER_MS) {
      orphans.add(o.path)
      doom(o.path, o.size)
    }
  }

  const sizes = new Map(objects.map((o) => [o.path, o.size]))
  // Derived objects go first: they are made again from their master for free. One whose record is
  // unusable is only JSON to drop (its object is then an orphan, kept through the grace period).
  const removedDerived: string[] = derivedFiles.filter((f) => !f.record).map((f) => f.key)
  const dropDerived = (d: (typeof derived)[number]): void => {
    removedDerived.push(d.key)
    const path = layout.objectPath(d.digest, d.ext)
    const left = users.get(path)
    left?.delete(`derived:${d.key}`)
    const size = sizes.get(path)
    if (left?.size === 0 && size !== undefined && !protectedDigests.has(d.digest)) doom(path, size)
  }
  const oldestFirst = [...derived].sort((a, b) => (Date.parse(a.createdAt) || 0) - (Date.parse(b.createdAt) || 0) || a.key.localeCompare(b.key))
  const masters = new Set(entries.map((e) => e.digest))
  for (const d of oldestFirst) {
    const masterGone = !masters.has(d.master)
    if (masterGone || (opts.maxSizeBytes !== undefined && total > opts.maxSizeBytes)) dropDerived(d)
  }
  const removedEntries: string[] = []
  const trashedEntries: string[] = []
  const paidSpared: string[] = []
  // An object goes to the trash when any paid entry used it: the bytes may be the only copy.
  const paidObjects = new Set(entries.filter((e) => !e.preview).map((e) => layout.objectPath(e.digest, e.ext)))
  for (const e of await candidates(layout, entries, opts, now)) {
    if (opts.maxSizeBytes !== undefined && total <= opts.maxSizeBytes) break
    if (!e.preview && !opts.includePaid) {
      paidSpared.push(e.key)
      continue
    }
    ;(e.preview ? removedEntries : trashedEntries).push(e.key)
    const path = layout.objectPath(e.digest, e.ext)
    const left = users.get(path)
    left?.delete(e.key)
    const size = sizes.get(path)
    if (left?.size === 0 && size !== undefined && !protectedDigests.has(e.digest)) doom(path, size)
  }
  // A master this run takes out takes its renditions with it.
  const gone = new Set([...removedEntries, ...trashedEntries])
  const left = new Set(entries.filter((e) => !gone.has(e.key)).map((e) => e.digest))
  const dropped = new Set(removedDerived)
  for (const d of oldestFirst) if (!dropped.has(d.key) && !left.has(d.master)) dropDerived(d)
  const trashedObjects = [...doomed.keys()].filter((p) => paidObjects.has(p) || orphans.has(p))
  for (const p of trashedObjects) doomed.delete(p)

  if (!dryRun) await remove(layout, removedEntries, trashedEntries, removedDerived, doomed, trashedObjects)
  const temps = await sweepTemps(layout, now, dryRun)
  return {
    removedEntries,
    removedObjects: [...doomed.keys()],
    trashedEntries,
    trashedObjects,
    paidSpared,
    freedBytes: [...doomed.values()].reduce((a, b) => a + b, 0) + temps.bytes,
    kept: entries.length - removedEntries.length - trashedEntries.length,
    removedDerived,
  }
}

/** Entries gc may remove, oldest first (the order `maxSizeBytes` removes them in). */
async function candidates(layout: StoreLayout, entries: Entry[], opts: GcOptions, now: number): Promise<Entry[]> {
  const out: Entry[] = []
  for (const e of entries) {
    if (opts.keep.has(e.key)) continue
    const created = Date.parse(e.createdAt)
    // An unreadable date never makes an entry look old enough to go.
    if (opts.keepDays !== undefined && !(now - created > opts.keepDays * DAY_MS)) continue
    // A live lock means a build is writing this key right now.
    if (await isLockLive(layout, e.key)) continue
    out.push(e)
  }
  return out.sort((a, b) => (Date.parse(a.createdAt) || 0) - (Date.parse(b.createdAt) || 0) || a.key.localeCompare(b.key))
}

async function remove(
  layout: StoreLayout,
  keys: string[],
  trashKeys: string[],
  derivedKeys: string[],
  doomed: Map<string, number>,
  trashObjects: string[],
): Promise<void> {
  const trash = new TrashBatch(layout)
  // Records first: at worst an object outlives its record, never the other way round.
  for (const key of derivedKeys) await removeFile(layout.derivedPath(key))
  await fsyncDir(layout.derived)
  for (const key of keys) await removeFile(layout.entryPath(key))
  for (const key of trashKeys) await trash.put(layout.entryPath(key), 'entries')
  await fsyncDir(layout.entries)
  // A record written since the scan (same bytes under a new key) may use an object we meant to drop.
  const inUse = new Set([
    ...(await scanEntries(layout)).flatMap((f) => {
      const digest = f.entry?.digest ?? f.claimedDigest
      return digest ? [digest] : []
    }),
    ...(await scanDerived(layout)).flatMap((f) => (f.record ? [f.record.digest] : [])),
  ])
  const used = (path: string): boolean => inUse.has(objectParts(path)[0])
  for (const path of [...doomed.keys()]) {
    if (used(path) || !(await removeFile(path))) doomed.delete(path)
    else await removeFile(layout.stampPath(...objectParts(path)))
  }
  for (const path of [...trashObjects]) {
    if (used(path) || !(await trash.put(path, 'objects'))) trashObjects.splice(trashObjects.indexOf(path), 1)
    else await removeFile(layout.stampPath(...objectParts(path)))
  }
  await trash.sync()
  await fsyncDir(layout.objects)
}

function objectParts(path: string): [string, string] {
  const name = basename(path)
  const dot = name.indexOf('.')
  return [name.slice(0, dot), name.slice(dot + 1)]
}
