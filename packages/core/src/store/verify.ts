import { basename } from 'node:path'
import { durationShortfall } from '../media/probe.js'
import { errorCode, fsyncDir, hashFile, removeFile } from './atomic.js'
import { scanDerived, type DerivedFile } from './derived.js'
import type { StoreLayout } from './layout.js'
import { quarantineObject } from './quarantine.js'
import { objectSize, readEntryFile, scanEntries, scanObjects, type EntryFile } from './records.js'
import { sweepTemps } from './sweep.js'
import type { VerifyReport } from './types.js'

type Hashed = { state: 'ok'; size: number } | { state: 'corrupt'; reason: string } | { state: 'unreadable'; reason: string }
type Checked = Hashed & { digest: string }

/**
 * Re-hashes every object and checks every entry against its object and against what was asked (a
 * clip shorter than its request's `seconds` is not a whole clip). Repair takes record and object out
 * of service together, but never deletes a clip: a corrupt or short object moves to quarantine/, and
 * a paid key's job id goes back into the journal so the next build downloads it again without
 * paying (see quarantineObject). An object that merely cannot be read (I/O error) is reported but
 * kept: it may be fine once the disk is, and it is paid work.
 */
export async function runVerify(layout: StoreLayout, opts: { repair: boolean }): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, ok: 0, corrupt: [], missing: [], orphans: [], removed: [], quarantined: [] }
  const hashed = new Map<string, Checked>()
  for (const obj of await scanObjects(layout)) {
    const result = await checkObject(obj.path, obj.digest)
    if (!result) continue
    hashed.set(obj.path, { ...result, digest: obj.digest })
    report.checked++
    if (result.state === 'ok') report.ok++
  }

  const referenced = new Set<string>()
  const evict: EntryFile[] = []
  const short: Array<{ file: EntryFile; reason: string }> = []
  for (const file of await scanEntries(layout)) {
    const { entry, key } = file
    if (!entry) {
      report.corrupt.push({ key, path: file.path, reason: `entry file is ${file.problem ?? 'unusable'}` })
      evict.push(file)
      continue
    }
    const path = layout.objectPath(entry.digest, entry.ext)
    const { digest } = entry
    referenced.add(path)
    const h = hashed.get(path) ?? (await checkObject(path, digest))
    if (!h) {
      report.missing.push({ key, digest, path })
      evict.push(file)
    } else if (h.state !== 'ok') {
      report.corrupt.push({ key, digest, path, reason: h.reason })
      if (h.state === 'corrupt') evict.push(file)
    } else if (h.size !== entry.size) {
      report.corrupt.push({ key, digest, path, reason: `the object is ${h.size} bytes, the entry says ${entry.size}` })
      evict.push(file)
    } else {
      const shortfall = durationShortfall(entry.request.seconds, entry.duration)
      if (shortfall) {
        report.corrupt.push({ key, digest, path, reason: `not a whole clip: ${shortfall}` })
        short.push({ file, reason: `not a whole clip: ${shortfall}` })
      }
    }
  }
  // Derived objects (renditions): hashed like clips; a bad one is dropped on repair and made again.
  const badDerived: DerivedFile[] = []
  for (const file of await scanDerived(layout)) {
    const { record } = file
    if (!record) {
      report.corrupt.push({ key: file.key, path: file.path, reason: 'derived record is unreadable or malformed' })
      badDerived.push(file)
      continue
    }
    const path = layout.objectPath(record.digest, record.ext)
    referenced.add(path)
    const h = hashed.get(path) ?? (await checkObject(path, record.digest))
    const reason = !h ? 'its object is missing' : h.state !== 'ok' ? h.reason : h.size !== record.size ? `the object is ${h.size} bytes, its record says ${record.size}` : undefined
    if (reason) {
      report.corrupt.push({ key: record.key, digest: record.digest, path, reason: `rendition ${record.recipe.kind} of ${record.spec}: ${reason}` })
      badDerived.push(file)
    }
  }
  for (const [path, h] of hashed) {
    if (referenced.has(path)) continue
    if (h.state === 'ok') report.orphans.push({ digest: h.digest, path, size: h.size })
    else report.corrupt.push({ digest: h.digest, path, reason: h.reason })
  }

  if (opts.repair) {
    // A rendition's record goes with its bad object: the next build makes it again from its master.
    for (const file of badDerived) if (await removeFile(file.path)) report.removed.push(file.path)
    await fsyncDir(layout.derived)
    await repair(layout, report, evict, short, hashed)
  }
  return report
}

async function repair(
  layout: StoreLayout,
  report: VerifyReport,
  evict: EntryFile[],
  short: Array<{ file: EntryFile; reason: string }>,
  hashed: Map<string, Checked>,
): Promise<void> {
  for (const { file, reason } of short) {
    const { entry } = file
    const now = await readEntryFile(layout, file.key)
    if (!entry || now.entry?.digest !== entry.digest) continue
    const q = await quarantineObject(layout, { digest: entry.digest, ext: entry.ext, reason, force: true, onlyKey: entry.key })
    report.removed.push(file.path)
    if (q.path) report.quarantined.push(q.path)
  }
  for (const file of evict) {
    // A build may have rewritten the entry since the scan; take out only what was judged.
    const now = await readEntryFile(layout, file.key)
    if (now.entry?.digest !== file.entry?.digest || now.problem !== file.problem) continue
    if (file.entry) {
      // Its job id goes back into the journal before the entry goes: the clip stays recoverable for free.
      const h = hashed.get(layout.objectPath(file.entry.digest, file.entry.ext))
      const q = await quarantineObject(layout, {
        digest: file.entry.digest,
        ext: file.entry.ext,
        reason: h?.state === 'corrupt' ? h.reason : 'missing or of the wrong size',
        objectSound: h?.state !== 'corrupt',
        onlyKey: file.key,
      })
      if (q.path) report.quarantined.push(q.path)
      report.removed.push(file.path)
    } else if (await removeFile(file.path)) report.removed.push(file.path)
  }
  await fsyncDir(layout.entries)
  for (const [path, h] of hashed) {
    if (h.state !== 'corrupt') continue
    // A commit of the same bytes may have replaced the bad copy with a good one meanwhile.
    const again = await checkObject(path, h.digest)
    if (again?.state !== 'corrupt') continue
    const name = basename(path)
    const ext = name.slice(name.indexOf('.') + 1)
    const q = await quarantineObject(layout, { digest: h.digest, ext, reason: h.reason })
    if (q.path) report.quarantined.push(q.path)
  }
  await fsyncDir(layout.objects)
  report.removed.push(...(await sweepTemps(layout, Date.now(), false)).removed)
}

/** undefined when the object is not there. */
async function checkObject(path: string, digest: string): Promise<Hashed | undefined> {
  try {
    const actual = await hashFile(path)
    if (actual.digest === digest) return { state: 'ok', size: actual.size }
    return { state: 'corrupt', reason: `its bytes hash to ${actual.digest.slice(0, 12)}…, not to its name (${actual.size} bytes)` }
  } catch (err) {
    const code = errorCode(err)
    if (code === 'ENOENT') return undefined
    if (code === 'EISDIR') return { state: 'corrupt', reason: 'it is a directory, not a file' }
    // Size is all getEntry checks; tell the user the object exists but could not be read.
    const size = await objectSize(path).catch(() => undefined)
    return { state: 'unreadable', reason: `could not be read (${code ?? String(err)}${size === undefined ? '' : `, ${size} bytes`})` }
  }
}
