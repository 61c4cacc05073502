import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeRebuildableSync } from './atomic.js'
import type { StoreLayout } from './layout.js'
import { packStamp, statStamp } from './stamp.js'

type FileRecord = [digest: string, stamp: string]
type ShippedRecord = [key: string, item: unknown]

interface OutFile {
  version: 1
  /** The out folder these are about (the file name is only its hash). */
  dir: string
  /** Output path -> [digest it holds, its packed stamp right after it was written or hashed]. */
  files: Record<string, FileRecord>
  /** Spec id -> [what its outputs were made from (a hash), the manifest item written for it]. */
  shipped: Record<string, ShippedRecord>
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What vidspec last wrote into one out folder: each file's digest and its stamp (size, mtime, ctime,
 * inode, device) taken when its bytes were known to be right. A no-op `build --out` then stats each
 * output instead of reading it back and hashing it; any write to a file changes its ctime, so an
 * edited, replaced or truncated output no longer matches and is hashed (and rewritten) as before.
 * Kept in the store (memo/), not in the out folder the user ships; losing it costs only speed.
 */
export class OutStamps {
  readonly #path: string
  readonly #tmp: string
  readonly #dir: string
  #files: Record<string, FileRecord> = {}
  #shipped: Record<string, ShippedRecord> = {}
  /** The file as read, so a run that changed nothing does not write it again. */
  #text = ''
  /** What this run found or wrote: only that is saved, so outputs no run writes any more drop out. */
  readonly #next: { files: Record<string, FileRecord>; shipped: Record<string, ShippedRecord> } = { files: {}, shipped: {} }

  private constructor(layout: StoreLayout, outDir: string) {
    this.#dir = resolve(outDir)
    const name = createHash('sha256').update(this.#dir).digest('hex').slice(0, 16)
    this.#path = join(layout.dir, 'memo', `out-${name}.json`)
    this.#tmp = layout.tmp
  }

  static load(layout: StoreLayout, outDir: string): OutStamps {
    const stamps = new OutStamps(layout, outDir)
    try {
      stamps.#text = readFileSync(stamps.#path, 'utf8')
      const file = JSON.parse(stamps.#text) as Partial<OutFile>
      if (file.version === 1 && file.dir === stamps.#dir && isObj(file.files) && isObj(file.shipped)) {
        stamps.#files = file.files
        stamps.#shipped = file.shipped
      }
    } catch {
      // Missing or unreadable: every output is hashed, as without stamps.
    }
    return stamps
  }

  /** Whether `target` still holds exactly what was recorded for it, and that is `digest`. */
  holds(target: string, digest: string): boolean {
    const known = this.#next.files[target] ?? this.#files[target]
    if (!Array.isArray(known) || known[0] !== digest || packStamp(statStamp(target)) !== known[1]) return false
    this.#next.files[target] = known
    return true
  }

  /** `target` holds `digest` now (just written, or just hashed): remember its stamp. */
  record(target: string, digest: string): void {
    const stamp = packStamp(statStamp(target))
    if (stamp) this.#next.files[target] = [digest, stamp]
    else this.forget(target)
  }

  forget(target: string): void {
    delete this.#files[target]
    delete this.#next.files[target]
  }

  /** The manifest item last written for spec `id` when its outputs were made from `key` (check its files with holds). */
  shipped(id: string, key: string): unknown {
    const rec = this.#shipped[id]
    return Array.isArray(rec) && rec[0] === key ? rec[1] : undefined
  }

  remember(id: string, key: string, item: unknown): void {
    this.#next.shipped[id] = [key, item]
  }

  /** Written atomically (rename), not durably: a lost file only costs one hash per output. */
  save(): void {
    const file: OutFile = { version: 1, dir: this.#dir, ...this.#next }
    const text = JSON.stringify(file)
    if (text === this.#text) return
    this.#text = text
    writeRebuildableSync(this.#tmp, this.#path, text, { mkdir: true })
  }
}
