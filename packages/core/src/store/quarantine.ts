import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { VidspecError } from '../errors.js'
import type { Entry, JournalRecord, UncertainCreate } from '../types.js'
import { errorCode, fsyncDir, hashFile, readJson, removeFile, writeJsonAtomic } from './atomic.js'
import { randomId, type StoreLayout } from './layout.js'
import { scanEntries } from './records.js'
import { isJournalRecord, isUncertainCreate } from './shape.js'

export interface Quarantined {
  digest: string
  ext: string
  reason: string
  /** Where the bad bytes are now (undefined when the object was sound and only its entry was wrong, or already gone). */
  path: string | undefined
  /** Entries dropped because they pointed at it. */
  entries: Entry[]
  /** Paid keys whose job is journaled again, so the next build downloads it again without paying. */
  resumable: Array<{ key: string; spec: string; jobId: string }>
  /** Paid keys with no job id to download from: marked uncertain, so nothing pays for them blindly. */
  blocked: Array<{ key: string; spec: string }>
}

/**
 * Takes a bad object out of service without deleting it (it may be the only copy of a paid clip):
 * the file moves to quarantine/, every entry pointing at it is dropped, and each paid key keeps a
 * way back that costs nothing: its job id goes back into the journal (the next build downloads the
 * clip again), or, without one, an uncertain marker stops any process from paying again unasked.
 * Records come first, so there is never a moment with neither an entry nor a journal for a paid key.
 */
export async function quarantineObject(
  layout: StoreLayout,
  target: {
    digest: string
    ext: string
    reason: string
    /** The bytes hash right; only the entry is wrong: drop entries, leave the object. */
    objectSound?: boolean
    /** Bytes that hash right but are wrong anyway (a short clip): take them out without re-hashing. */
    force?: boolean
    onlyKey?: string
  },
): Promise<Quarantined> {
  const { digest, ext, reason } = target
  const empty: Quarantined = { digest, ext, reason, path: undefined, entries: [], resumable: [], blocked: [] }
  // Judged a moment ago, maybe by a check that raced a repair (another process downloaded the clip
  // again and committed the same, good bytes): only bytes still wrong now are taken out.
  if (!target.objectSound && !target.force && (await stillSound(layout.objectPath(digest, ext), digest))) return empty
  const users = (await scanEntries(layout)).flatMap((f) =>
    f.entry && f.entry.digest === digest && f.entry.ext === ext && (!target.onlyKey || f.entry.key === target.onlyKey) ? [f.entry] : [],
  )
  const out: Quarantined = { digest, ext, reason, path: undefined, entries: users, resumable: [], blocked: [] }
  const at = new Date().toISOString()
  const written: JournalRecord[] = []
  for (const e of users) {
    if (e.preview) continue
    const journal = await readJson(layout.journalPath(e.key))
    const existing = journal.ok && isJournalRecord(journal.value) ? journal.value : undefined
    if (existing?.jobId) {
      out.resumable.push({ key: e.key, spec: e.spec, jobId: existing.jobId })
    } else if (existing) {
      // A write-ahead intent: a create for this key may be on its way. It already bars a blind
      // create (the key is uncertain until someone decides); never overwrite it.
      out.blocked.push({ key: e.key, spec: e.spec })
    } else if (e.jobId) {
      const rec: JournalRecord = { version: 1, key: e.key, provider: e.provider, jobId: e.jobId, spec: e.spec, createdAt: at }
      await writeJsonAtomic(layout.tmp, layout.journalPath(e.key), rec)
      written.push(rec)
      out.resumable.push({ key: e.key, spec: e.spec, jobId: e.jobId })
    } else {
      const prior = await readJson(layout.uncertainPath(e.key))
      if (!(prior.ok && isUncertainCreate(prior.value))) {
        const rec: UncertainCreate = {
          version: 1,
          key: e.key,
          provider: e.provider,
          spec: e.spec,
          at,
          reason: `its stored clip was corrupt (${reason}) and no job id was recorded to download it again from`,
        }
        await writeJsonAtomic(layout.tmp, layout.uncertainPath(e.key), rec)
      }
      out.blocked.push({ key: e.key, spec: e.spec })
    }
  }
  if (!target.objectSound) {
    await mkdir(layout.quarantine, { recursive: true })
    const moved = join(layout.quarantine, `${digest}.${ext}.${randomId()}`)
    try {
      await rename(layout.objectPath(digest, ext), moved)
      out.path = moved
      await writeJsonAtomic(layout.tmp, `${moved}.json`, { digest, ext, reason, at, entries: users })
      await fsyncDir(layout.quarantine)
      await fsyncDir(layout.objects)
    } catch (err) {
      // Someone else moved it first: their copy is in quarantine/ already.
      if (errorCode(err) !== 'ENOENT') throw err
    }
    await rm(layout.stampPath(digest, ext), { force: true })
  }
  for (const e of users) await removeFile(layout.entryPath(e.key))
  await fsyncDir(layout.entries)
  // A process that read the entry just before it went may have taken our journal for a leftover of
  // a finished job and dropped it (the runner does that on a hit). The entry is gone now, so no
  // later hit can: put it back if it went.
  for (const rec of written) {
    if (!(await readJson(layout.journalPath(rec.key))).ok) await writeJsonAtomic(layout.tmp, layout.journalPath(rec.key), rec)
  }
  return out
}

async function stillSound(path: string, digest: string): Promise<boolean> {
  try {
    return (await hashFile(path)).digest === digest
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false
    throw err
  }
}

/** CACHE_CORRUPT for a quarantined object: what happened, where the bytes are, and what to do next. */
export function corruptError(q: Quarantined, spec?: string): VidspecError {
  const who = spec ?? q.entries[0]?.spec
  if (!q.path && q.entries.length === 0) {
    return new VidspecError(
      'CACHE_CORRUPT',
      `${who ? `${who}: ` : ''}the stored clip ${q.digest.slice(0, 12)}.${q.ext} changed while it was read (${q.reason}) and is sound again now; run the command again`,
    )
  }
  const where = q.path ? `it was moved to ${q.path} (kept, not deleted)` : 'its cache entry was wrong'
  const next: string[] = []
  if (q.resumable.length > 0) {
    next.push(
      `the next \`vidspec build\` downloads it again from job ${q.resumable.map((r) => r.jobId).join(', ')} without paying again`,
    )
  }
  if (q.blocked.length > 0) {
    next.push(
      `no job id is recorded for ${q.blocked.map((b) => b.spec).join(', ')}, so vidspec will not pay for it again on its own: ` +
        'restore the clip (vidspec pull, or a teammate\'s cache), or build with --retry-uncertain to generate a new one',
    )
  }
  if (next.length === 0) next.push('the next build makes it again (a preview costs nothing)')
  return new VidspecError(
    'CACHE_CORRUPT',
    `${who ? `${who}: ` : ''}the stored clip ${q.digest.slice(0, 12)}.${q.ext} is corrupt (${q.reason}); ${where} and its cache entry dropped. What to do: ${next.join('; ')}.`,
  )
}
