import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import type { DerivedRecord } from '../renditions/types.js'
import type { Entry } from '../types.js'
import { isDerivedRecord } from './derived.js'
import { writeRebuildableSync } from './atomic.js'
import { isDigest, isExt, type StoreLayout } from './layout.js'
import { isEntry } from './shape.js'
import { packStamp as pack, statStamp, type Stamp } from './stamp.js'

/** What an index can vouch for: a record file per key naming one object. */
interface ObjectRecord {
  key: string
  digest: string
  ext: string
  size: number
}

/** One kind of record the store keeps a file per key of: where the files are and how one is told sound. */
export interface IndexKind<T extends ObjectRecord> {
  /** The index file's name in the store's folder. */
  file: string
  recordPath(layout: StoreLayout, key: string): string
  valid(v: unknown): v is T
}

/** Entries (entries/<key>.json): the clips. */
export const ENTRIES: IndexKind<Entry> = { file: 'entry-index.json', recordPath: (l, key) => l.entryPath(key), valid: isEntry }
/** Derived records (derived/<key>.json): renditions, posters, placeholders. */
export const DERIVED: IndexKind<DerivedRecord> = { file: 'derived-index.json', recordPath: (l, key) => l.derivedPath(key), valid: isDerivedRecord }

/**
 * One key: the record file's stamp (packed) when the record was read from it and found whole; the
 * object's stamp (packed) when it last checked out (what `stamps/` would say); the object's digest,
 * extension and size.
 */
type IndexRecord = [e: string, o: string, digest: string, ext: string, size: number]

/**
 * The file is two lines of JSON. The first, the head, holds every key's IndexRecord: all a plan needs
 * to know a key is there. The second holds each key's record as text, parsed only when a record is
 * asked for (a build's hits). A plan of a thousand cached specs reads and parses a quarter of the
 * bytes (the texts are the other three quarters), and JSON.parse costs about 25 ms a megabyte in a
 * fresh process.
 */
interface IndexHead {
  version: 3
  records: Record<string, IndexRecord>
}

// The index is a file anyone can edit: what names a path is checked before it is used as one.
const isIndexRecord = (v: unknown): v is IndexRecord =>
  Array.isArray(v) &&
  v.length === 5 &&
  typeof v[0] === 'string' &&
  typeof v[1] === 'string' &&
  isDigest(v[2]) &&
  isExt(v[3]) &&
  Number.isSafeInteger(v[4]) &&
  (v[4] as number) >= 0

/**
 * The file's first line (all of it when it has none), read in chunks until its newline: the second
 * line is three quarters of the file, and reading and decoding costs ~10 ms a MB in a fresh process.
 * JSON.stringify never writes a raw newline, so the first one ends the head.
 */
function readFirstLine(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const chunks: Buffer[] = []
    for (;;) {
      const chunk = Buffer.allocUnsafe(128 * 1024)
      const n = readSync(fd, chunk, 0, chunk.length, null)
      const nl = chunk.subarray(0, n).indexOf(0x0a)
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl))
        break
      }
      if (n === 0) break
      chunks.push(chunk.subarray(0, n))
    }
    return Buffer.concat(chunks).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * Indexes with records not yet written, written once as the process exits: a plan records a thousand
 * keys and writes the file once, and no timer writes into a store after its owner closed it (a test
 * removing its project, a dev server shut down).
 */
const unsaved = new Set<RecordIndex<ObjectRecord>>()
let flushOnExit = false
function saveAtExit(index: RecordIndex<ObjectRecord>): void {
  unsaved.add(index)
  if (flushOnExit) return
  flushOnExit = true
  process.once('exit', saveIndexes)
}

/** Writes every index with unsaved records now (what the process does as it exits). */
export function saveIndexes(): void {
  for (const index of [...unsaved]) index.save()
}

/**
 * One compact file answering "is this key's object whole?" for keys whose record file (an entry, a
 * derived record) and object are exactly as they were when last checked: a no-op plan stats two files
 * per key instead of reading a record and a stamp file. The record files stay the truth: an index
 * record is used only while the record file's stamp (size, mtime, ctime, inode, device; any write
 * changes ctime) and the object's are unchanged, so an edited, replaced, deleted or quarantined file is
 * a miss that takes the full path. Losing or corrupting the index costs only speed; it is rebuilt from
 * the reads the store does anyway.
 */
export class RecordIndex<T extends ObjectRecord> {
  readonly #path: string
  readonly #tmp: string
  readonly #kind: IndexKind<T>
  #records: Record<string, IndexRecord> = {}
  /** The first line as read: the texts are read later only from a file that still starts with it. */
  #headText: string | undefined
  #texts: Record<string, unknown> | undefined
  #dirty = false

  private constructor(layout: StoreLayout, kind: IndexKind<T>) {
    this.#path = join(layout.dir, kind.file)
    this.#tmp = layout.tmp
    this.#kind = kind
  }

  /** Read once, synchronously: it is one file, and every key of the run is looked up in it. */
  static load<T extends ObjectRecord>(layout: StoreLayout, kind: IndexKind<T>): RecordIndex<T> {
    const index = new RecordIndex(layout, kind)
    try {
      const text = readFirstLine(index.#path)
      const head = JSON.parse(text) as Partial<IndexHead> | null
      if (head?.version === 3 && typeof head.records === 'object' && head.records !== null) {
        index.#records = head.records
        index.#headText = text
      }
    } catch {
      // Missing or unreadable: start empty; the store's files answer instead.
    }
    return index
  }

  /** Whether the key's record file and object are both untouched since they checked out. */
  has(key: string, layout: StoreLayout): boolean {
    const rec = this.#records[key]
    if (!isIndexRecord(rec)) return false
    const [e, o, digest, ext, size] = rec
    if (pack(statStamp(this.#kind.recordPath(layout, key))) !== e) return false
    const object = statStamp(layout.objectPath(digest, ext))
    return object !== undefined && object.size === String(size) && pack(object) === o
  }

  /**
   * The key's record file and object with the packed stamps they had when they checked out: while
   * both still have them, `has` holds (not stat'ed here: the caller compares them later).
   */
  files(key: string, layout: StoreLayout): Array<[path: string, packed: string]> | undefined {
    const rec = this.#records[key]
    if (!isIndexRecord(rec)) return undefined
    const [e, o, digest, ext] = rec
    return [
      [this.#kind.recordPath(layout, key), e],
      [layout.objectPath(digest, ext), o],
    ]
  }

  /** The key's record when both its record file and its object are untouched since they checked out. */
  lookup(key: string, layout: StoreLayout): T | undefined {
    if (!this.has(key, layout)) return undefined
    const [, , digest, ext, size] = this.#records[key] as IndexRecord
    const text = this.#recordTexts()[key]
    if (typeof text !== 'string') return undefined
    let record: unknown
    try {
      record = JSON.parse(text)
    } catch {
      return undefined
    }
    if (!this.#kind.valid(record) || record.key !== key || record.digest !== digest || record.ext !== ext || record.size !== size) return undefined
    return record
  }

  /**
   * Remembers a key whose record was read while its file had `recordStamp` and whose object checked out
   * with `objectStamp`. The caller takes both stamps before the reads they vouch for.
   */
  record(key: string, entry: T, recordStamp: Stamp, objectStamp: Stamp): void {
    const e = pack(recordStamp) as string
    const o = pack(objectStamp) as string
    const old = this.#records[key]
    const texts = this.#recordTexts()
    if (old && old[0] === e && old[1] === o && typeof texts[key] === 'string') return
    this.#records[key] = [e, o, entry.digest, entry.ext, entry.size]
    texts[key] = JSON.stringify(entry)
    this.#scheduleSave()
  }

  forget(key: string): void {
    if (!(key in this.#records)) return
    delete this.#records[key]
    delete this.#recordTexts()[key]
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
    const head: IndexHead = { version: 3, records: this.#records }
    const texts = this.#recordTexts()
    // Texts of keys no longer in the head (an edited file) are not carried on.
    const kept: Record<string, unknown> = {}
    for (const key in this.#records) if (typeof texts[key] === 'string') kept[key] = texts[key]
    writeRebuildableSync(this.#tmp, this.#path, `${JSON.stringify(head)}\n${JSON.stringify(kept)}`)
  }

  /**
   * The records' texts by key, read and parsed from the second line the first time one is needed.
   * Only from the file the head came from: one replaced since (another process saved its index) may
   * hold texts for other stamps, so none of its texts is used; each lookup then takes the record
   * file's path and records the key again.
   */
  #recordTexts(): Record<string, unknown> {
    if (this.#texts) return this.#texts
    let texts: unknown = {}
    if (this.#headText !== undefined) {
      try {
        const raw = readFileSync(this.#path, 'utf8')
        const nl = raw.indexOf('\n')
        if (nl === this.#headText.length && raw.startsWith(this.#headText)) texts = JSON.parse(raw.slice(nl + 1))
      } catch {
        // Gone or garbled: no texts.
      }
      this.#headText = undefined
    }
    this.#texts = typeof texts === 'object' && texts !== null && !Array.isArray(texts) ? (texts as Record<string, unknown>) : {}
    return this.#texts
  }

  #scheduleSave(): void {
    this.#dirty = true
    saveAtExit(this)
  }
}
