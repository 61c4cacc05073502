import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Entry } from '../types.js'
import { randomId, type StoreLayout } from './layout.js'
import { isEntry } from './shape.js'
import { statStamp, type Stamp } from './stamp.js'

interface IndexRecord {
  /** The entry file's stamp (packed) when `entry` was read from it and found whole. */
  e: string
  /** The object's stamp (packed) when it last checked out (stamp file or hash): what `stamps/` would say. */
  o: string
  entry: Entry
}

/** A stamp as one short string: the index is parsed whole by every run, so it is kept small. */
const pack = (s: Stamp | undefined): string | undefined => (s ? `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}:${s.dev}` : undefined)

interface IndexFile {
  version: 1
  records: Record<string, IndexRecord>
}

/**
 * Indexes with records not yet written, written once as the process exits: a plan records a thousand
 * keys and writes the file once, and no timer writes into a store after its owner closed it (a test
 * removing its project, a dev server shut down).
 */
const unsaved = new Set<EntryIndex>()
let flushOnExit = false
function saveAtExit(index: EntryIndex): void {
  unsaved.add(index)
  if (flushOnExit) return
  flushOnExit = true
  process.once('exit', saveEntryIndexes)
}

/** Writes every index with unsaved records now (what the process does as it exits). */
export function saveEntryIndexes(): void {
  for (const index of [...unsaved]) index.save()
}

/**
 * One compact file answering "is this key's clip whole?" for keys whose entry file and object are
 * exactly as they were when last checked: a no-op plan stats two files per key instead of reading an
 * entry and a stamp file. The entry files stay the truth: a record is used only while the entry file's
 * stamp (size, mtime, ctime, inode, device; any write changes ctime) and the object's are unchanged,
 * so an edited, replaced, deleted or quarantined file is a miss that takes the full path. Losing or
 * corrupting the index costs only speed; it is rebuilt from the reads the store does anyway.
 */
export class EntryIndex {
  readonly #path: string
  readonly #tmp: string
  #records: Record<string, IndexRecord> = {}
  #dirty = false

  private constructor(layout: StoreLayout) {
    this.#path = join(layout.dir, 'entry-index.json')
    this.#tmp = layout.tmp
  }

  /** Read once, synchronously: it is one file, and every key of the run is looked up in it. */
  static load(layout: StoreLayout): EntryIndex {
    const index = new EntryIndex(layout)
    try {
      const file = JSON.parse(readFileSync(index.#path, 'utf8')) as Partial<IndexFile>
      if (file.version === 1 && typeof file.records === 'object' && file.records !== null) index.#records = file.records
    } catch {
      // Missing or unreadable: start empty; the store's files answer instead.
    }
    return index
  }

  /** The key's entry when both its entry file and its object are untouched since they checked out. */
  lookup(key: string, layout: StoreLayout): Entry | undefined {
    const rec = this.#records[key]
    if (!rec || !isEntry(rec.entry) || rec.entry.key !== key) return undefined
    if (typeof rec.e !== 'string' || pack(statStamp(layout.entryPath(key))) !== rec.e) return undefined
    const object = statStamp(layout.objectPath(rec.entry.digest, rec.entry.ext))
    if (!object || object.size !== String(rec.entry.size) || typeof rec.o !== 'string' || pack(object) !== rec.o) return undefined
    return { ...rec.entry }
  }

  /**
   * Remembers a key whose entry was read while its file had `entryStamp` and whose object checked out
   * with `objectStamp`. The caller takes both stamps before the reads they vouch for.
   */
  record(key: string, entry: Entry, entryStamp: Stamp, objectStamp: Stamp): void {
    const e = pack(entryStamp) as string
    const o = pack(objectStamp) as string
    const old = this.#records[key]
    if (old && old.e === e && old.o === o) return
    this.#records[key] = { e, o, entry }
    this.#scheduleSave()
  }

  forget(key: string): void {
    if (!(key in this.#records)) return
    delete this.#records[key]
    this.#scheduleSave()
  }

  /**
   * Writes now if anything changed, atomically (rename) but not durably: a lost index only costs
   * speed. Never creates the store: a store removed meanwhile stays removed.
   */
  save(): void {
    unsaved.delete(this)
    if (!this.#dirty) return
    this.#dirty = false
    const file: IndexFile = { version: 1, records: this.#records }
    const tmp = join(this.#tmp, `entry-index.${randomId()}.tmp`)
    try {
      writeFileSync(tmp, JSON.stringify(file))
      renameSync(tmp, this.#path)
    } catch {
      rmSync(tmp, { force: true })
    }
  }

  #scheduleSave(): void {
    this.#dirty = true
    saveAtExit(this)
  }
}
