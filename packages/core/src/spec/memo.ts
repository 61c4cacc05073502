import { join } from 'node:path'
import { KEY_VERSION } from '../key/key.js'
import { readJson, writeFileAtomic } from '../store/atomic.js'
import { RACY_MS, isSettled, packStamp, sameStamp, statStamp, type Stamp } from '../store/stamp.js'
import type { RenditionsInput } from '../renditions/types.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { hashReadable } from './load.js'
import { decodeMemo, encodeMemo, type MemoFile, type MemoRecord } from './memo-file.js'

/** What loading a spec produced, minus what can be recomputed cheaply. */
export interface MemoizedSpec {
  deps: string[]
  request: NormalizedRequest
  media: Array<[string, ResolvedMedia]>
  key: string
  warnings: string[]
  /** The spec's `renditions`, as validated. */
  renditions?: RenditionsInput
  /** sha256 of each dep as recorded (filled in by `valid`, where they equal the files now). */
  inputs?: Record<string, string>
}

/** What the evaluation that produced a spec read: its deps' hashes as read, and whether it is pure. */
export interface EvaluationInputs {
  inputs: Record<string, string>
  /** The deps' stamps where the read saw them unchanged: learned as #hash learns them. */
  stamps?: Record<string, Stamp> | undefined
  impure: boolean
}

/**
 * Remembers each spec's evaluated request and key by the content hashes of every file it came from,
 * so an unchanged spec is not bundled and evaluated again. A record is used only when every one of
 * those files still hashes the same; anything else (an edit, a new import, one byte of an image, a
 * different provider or key format) is a miss and a fresh evaluation. A spec whose sources read the
 * environment, the clock or randomness is never remembered; `VIDSPEC_NO_MEMO=1` turns the memo off.
 */
export class SpecMemo {
  readonly #path: string
  readonly #tmp: string
  readonly #provider: string
  #specs: Record<string, MemoRecord> = {}
  #stamps: Record<string, [string, string]> = {}
  /** The packed stamps this process found files to have, where they vouched for the file's hash. */
  readonly #seen = new Map<string, string>()
  #dirty = false
  /** Stamps recorded since the last write (see save). */
  #stampsChanged = false
  #flight: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #queuedStamps = false

  /** The memo's file: one per provider (keys differ per provider). */
  static path(cacheDir: string, provider: string): string {
    return join(cacheDir, 'memo', `specs-${provider}.json`)
  }

  private constructor(cacheDir: string, provider: string) {
    this.#path = SpecMemo.path(cacheDir, provider)
    this.#tmp = join(cacheDir, 'tmp')
    this.#provider = provider
  }

  static async open(cacheDir: string, provider: string): Promise<SpecMemo> {
    const memo = new SpecMemo(cacheDir, provider)
    const read = await readJson(memo.#path)
    const file = read.ok ? (read.value as Partial<MemoFile> | null) : undefined
    const specs = file?.version === 2 && file.keyVersion === KEY_VERSION && file.provider === provider ? decodeMemo(file) : undefined
    if (specs) {
      memo.#specs = specs
      if (file?.stamps && typeof file.stamps === 'object') memo.#stamps = file.stamps
    }
    return memo
  }

  /** For each id with a record whose inputs all still hash the same, the memoized result. */
  async valid(ids: string[]): Promise<Map<string, MemoizedSpec>> {
    // Plain loops: a no-op plan runs this for every spec, and it is most of what such a plan does.
    const records: Array<[string, MemoRecord]> = []
    // The shared module of a thousand specs is hashed once.
    const inputs = new Set<string>()
    for (const id of ids) {
      const rec = this.#specs[id]
      if (!rec) continue
      records.push([id, rec])
      for (const path in rec.inputs) inputs.add(path)
    }
    const hashes = await this.#hash([...inputs])
    const out = new Map<string, MemoizedSpec>()
    next: for (const [id, rec] of records) {
      for (const path in rec.inputs) if (hashes[path] !== rec.inputs[path]) continue next
      const depHashes: Record<string, string> = {}
      for (const dep of rec.spec.deps) depHashes[dep] = rec.inputs[dep] ?? ''
      out.set(id, { ...rec.spec, inputs: depHashes })
    }
    return out
  }

  /**
   * The packed stamp `file` had when this process last found it to vouch for the file's hash (a
   * lookup that matched it, or a stamp learned), or undefined.
   */
  vouchedStamp(file: string): string | undefined {
    return this.#seen.get(file)
  }

  /**
   * Records a spec under the hashes of what its evaluation read: the deps as the bundle read them
   * and the media as the resolver hashed them (the same hashes that went into its key). Never the
   * files' hashes now: a save during the evaluation must make the next lookup a miss, not pair the
   * old request with the new text.
   */
  async remember(id: string, spec: MemoizedSpec, read: EvaluationInputs): Promise<void> {
    const inputs: Record<string, string> = {}
    // A dep the bundle did not read itself has no hash of what was evaluated: not remembered.
    let impure = read.impure
    for (const dep of spec.deps) {
      const sha = read.inputs[dep]
      if (sha) inputs[dep] = sha
      else impure = true
    }
    for (const [, m] of spec.media) if (m.kind === 'file' && m.path) inputs[m.path] = m.sha256
    // A spec that reads the environment or the clock is evaluated every time.
    if (impure) {
      if (this.#specs[id]) {
        delete this.#specs[id]
        this.#dirty = true
      }
      return
    }
    const { inputs: _, ...rest } = spec
    this.#specs[id] = { inputs, spec: rest }
    this.#dirty = true
    const settled = Date.now() - RACY_MS
    for (const [dep, stamp] of Object.entries(read.stamps ?? {})) {
      const sha = inputs[dep]
      const known = this.#stamps[dep]
      if (sha && !(known?.[1] === sha && known[0] === packStamp(stamp))) this.#learn(dep, stamp, sha, settled)
    }
  }

  /**
   * Vouches for a file by its stamp from now on: only when the stamp was taken before the bytes that
   * hashed to `sha` were read and the file still had it after (the caller's part), and the file had
   * not changed just before (see RACY_MS).
   */
  #learn(file: string, stamp: Stamp, sha: string, settled: number): void {
    if (!isSettled(stamp, settled)) return
    const packed = packStamp(stamp) as string
    this.#stamps[file] = [packed, sha]
    this.#seen.set(file, packed)
    this.#stampsChanged = true
  }

  /**
   * Forgets specs that no longer exist and writes the memo if a record changed, or with `stamps` if
   * only the stamps did (a dev server loading specs one by one leaves those for a later write). One
   * write at a time: a save asked while one is on its way is one more write after it, shared by every
   * save asked meanwhile, so a thousand specs loaded at once write the memo a few times, not a
   * thousand. Written compact: every run parses it whole.
   */
  save(existing?: Set<string>, opts: { stamps?: boolean } = {}): Promise<void> {
    if (existing) {
      for (const id of Object.keys(this.#specs)) {
        if (!existing.has(id)) {
          delete this.#specs[id]
          this.#dirty = true
        }
      }
    }
    if (!this.#dirty && !(opts.stamps && this.#stampsChanged)) return this.#flight ?? Promise.resolve()
    if (this.#flight) {
      this.#queuedStamps ||= opts.stamps === true
      this.#queued ??= this.#flight
        .catch(() => {})
        .then(() => {
          const stamps = this.#queuedStamps
          this.#queued = undefined
          this.#queuedStamps = false
          return this.save(undefined, { stamps })
        })
      return this.#queued
    }
    this.#dirty = false
    this.#stampsChanged = false
    // Stamps of files no remembered spec reads any more go with them.
    const used = new Set(Object.values(this.#specs).flatMap((rec) => Object.keys(rec.inputs)))
    const stamps = Object.fromEntries(Object.entries(this.#stamps).filter(([path]) => used.has(path)))
    const file = encodeMemo({ keyVersion: KEY_VERSION, provider: this.#provider }, this.#specs, stamps)
    this.#flight = writeFileAtomic(this.#tmp, this.#path, JSON.stringify(file), { durable: false })
      .catch((err: unknown) => {
        this.#dirty = true
        throw err
      })
      .finally(() => (this.#flight = undefined))
    return this.#flight
  }

  /**
   * The sha256 of each file, from its stamp where the file is exactly as it was when last hashed
   * (size, mtime, ctime, inode, device: any write changes ctime), else read and hashed. A no-op plan
   * stats its specs instead of reading them. A file missing now has no hash (its specs miss).
   */
  async #hash(files: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    const stale: string[] = []
    const before = new Map<string, Stamp>()
    for (const file of files) {
      let stamp: Stamp | undefined
      try {
        stamp = statStamp(file)
        if (!stamp) continue
      } catch {
        // Unreadable (EACCES, ...): hashing it fails the same way, for its own specs only (#hashEach).
        stale.push(file)
        continue
      }
      const known = this.#stamps[file]
      if (known && known[0] === packStamp(stamp)) {
        out[file] = known[1]
        this.#seen.set(file, known[0])
      } else {
        this.#seen.delete(file)
        stale.push(file)
        before.set(file, stamp)
      }
    }
    if (stale.length === 0) return out
    // A deleted input makes only its own specs misses, not the whole batch.
    const hashed = await hashReadable(stale)
    const settled = Date.now() - RACY_MS
    for (const [file, sha] of Object.entries(hashed)) {
      out[file] = sha
      const stamp = before.get(file)
      // Vouched for later only when the file did not change while it was read, and not just now.
      if (stamp && isSettled(stamp, settled) && sameStamp(stamp, statStamp(file))) this.#learn(file, stamp, sha, settled)
    }
    return out
  }
}
