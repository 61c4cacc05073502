import { copyFile, mkdir, rename, utimes } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { VidspecError } from '../errors.js'
import { canonicalJson } from '../key/canonical.js'
import type { DerivedRecord } from '../renditions/types.js'
import type { Entry, JournaledJob, JournalRecord, UncertainCreate } from '../types.js'
import { createDurable, errorCode, fsyncDir, fsyncFile, hashFile, jsonText, readJson, removeFile, writeJsonAtomic } from './atomic.js'
import { runGc } from './gc.js'
import { checkObject, copyChecked, readChecked, type Integrity, type ObjectRef, type Trust } from './integrity.js'
import { StoreLayout, isExt } from './layout.js'
import { isDerivedRecord, readDerivedFile, scanDerived } from './derived.js'
import { acquireLock, tryAcquireLock } from './lock.js'
import { keysNamed, mapLimited, objectSize, readEntryFile, scanEntries } from './records.js'
import { corruptError, quarantineObject } from './quarantine.js'
import { OutStamps } from './out-stamps.js'
import { DERIVED, ENTRIES, RecordIndex } from './record-index.js'
import { isEntry, isJournalRecord, isSpecState, isUncertainCreate } from './shape.js'
import { sameStamp, statStamp, type Stamp } from './stamp.js'
import { emptyTrash, restoreTrash, type RestoreReport } from './trash.js'
import type { GcOptions, GcReport, LockOptions, SpecState, StoreLock, VerifyReport } from './types.js'
import { runVerify } from './verify.js'

/**
 * The content-addressed store. It holds paid, unrepeatable work, so: every write is atomic and
 * durable, a record that does not check out is a miss (never a served file), and nothing here
 * deletes an object a usable entry points at except `verify` proving its bytes wrong.
 */
export class Store {
  readonly dir: string
  readonly #layout: StoreLayout
  #ready: Promise<void> | undefined
  /** Objects this process hashed, with their stamp then: the dev server hashes each clip once. */
  readonly #verified = new Map<string, Stamp>()
  readonly #takingOut = new Map<string, Promise<VidspecError>>()
  /** Read on the first lookup; see RecordIndex. */
  #index: RecordIndex<Entry> | undefined
  #derivedIndex: RecordIndex<DerivedRecord> | undefined
  /**
   * Told when getEntry takes a bad object out of service (the project logs it): that read answers
   * "miss", so this is what says why and what happens next. The other reads throw CACHE_CORRUPT.
   */
  onCorrupt: ((err: VidspecError) => void) | undefined

  constructor(dir: string) {
    if (!isAbsolute(dir)) throw new VidspecError('INTERNAL', `store: the directory must be absolute, got ${dir}`)
    this.dir = dir
    this.#layout = new StoreLayout(dir)
  }

  init(): Promise<void> {
    this.#ready ??= Promise.all(this.#layout.all.map((d) => mkdir(d, { recursive: true }))).then(
      () => undefined,
      (err: unknown) => {
        this.#ready = undefined
        throw err
      },
    )
    return this.#ready
  }

  objectPath(digest: string, ext: string): string {
    return this.#layout.objectPath(digest, ext)
  }

  tempPath(ext: string): string {
    if (!isExt(ext)) throw new VidspecError('INTERNAL', `store: not a file extension: ${JSON.stringify(ext)}`)
    return this.#layout.tempPath(ext)
  }

  /** Read on first use: one file answering for every key of the run (see RecordIndex). */
  get #entryIndex(): RecordIndex<Entry> {
    return (this.#index ??= RecordIndex.load(this.#layout, ENTRIES))
  }

  /**
   * The key's entry when its object is whole. Cheap while the object's stamp (size, times, inode,
   * recorded when it last hashed right) is unchanged; re-hashed otherwise. A corrupt object is
   * quarantined and the answer is a miss whose paid job is journaled again (see quarantineObject).
   */
  async getEntry(key: string): Promise<Entry | undefined> {
    const found = await this.#checkedRecord(this.#entryIndex, key, this.#layout.entryPath(key), async () => (await readEntryFile(this.#layout, key)).entry)
    if (!found?.bad) return found?.record
    const { record: entry, bad: integrity } = found
    if (integrity.state === 'corrupt') {
      // Nobody is told by an exception on this path (it answers "miss"), so the project logs it.
      const err = await this.#takeOut(entry, integrity, entry.spec, key)
      this.onCorrupt?.(err)
    }
    return undefined
  }

  /**
   * Whether getEntry would answer with an entry: from the index alone while the entry file and the
   * object are untouched since they checked out (nothing read, nothing parsed), else by getEntry.
   */
  async hasEntry(key: string): Promise<boolean> {
    return this.#entryIndex.has(key, this.#layout) || (await this.getEntry(key)) !== undefined
  }

  /**
   * The key's entry file and object with the packed stamps the index vouches for them by (those
   * they had when they checked out), when it has the key: what a plan that found it cached rested
   * on, for as long as both keep them.
   */
  indexedEntryFiles(key: string): Array<[path: string, packed: string]> | undefined {
    return this.#entryIndex.files(key, this.#layout)
  }

  /**
   * The path of an object that was just proven whole (hashed now, or by this process on a file
   * unchanged since with `trust: 'process'`). Throws CACHE_CORRUPT after quarantining a bad one.
   */
  async checkedPath(ref: ObjectRef, opts: { trust?: Trust; spec?: string } = {}): Promise<string> {
    const integrity = await checkObject(this.#layout, ref, opts.trust ?? 'hash', this.#verified)
    if (integrity.state !== 'ok') throw await this.#takeOut(ref, integrity, opts.spec)
    return this.objectPath(ref.digest, ref.ext)
  }

  /**
   * A key's record (entry or derived) with its object checked: from the index while both files are
   * untouched since they last checked out, else read and checked by the object's stamp (indexed only
   * when the record file did not change while it was read). No record (gc removed it, or it was never
   * usable) is undefined and leaves the index; a bad object comes back as `bad`, for the caller.
   */
  async #checkedRecord<T extends Entry | DerivedRecord>(
    index: RecordIndex<T>,
    key: string,
    path: string,
    read: () => Promise<T | undefined>,
  ): Promise<{ record: T; bad?: Exclude<Integrity, { state: 'ok' }> } | undefined> {
    const indexed = index.lookup(key, this.#layout)
    if (indexed) return { record: indexed }
    const before = statStamp(path)
    // No record file (a key not made yet): a miss, as the read would have said a moment later.
    const record = before ? await read() : undefined
    if (!record) {
      index.forget(key)
      return undefined
    }
    const integrity = await checkObject(this.#layout, record, 'stamp', this.#verified)
    if (integrity.state !== 'ok') {
      index.forget(key)
      return { record, bad: integrity }
    }
    if (before && integrity.stamp && sameStamp(before, statStamp(path))) index.record(key, { ...record }, before, integrity.stamp)
    return { record }
  }

  /** Copies an object out of the store, hashing what it writes; throws CACHE_CORRUPT (nothing written) on a mismatch. */
  async copyOut(ref: ObjectRef, target: string, opts: { spec?: string; known?: OutStamps } = {}): Promise<void> {
    const result = await copyChecked(this.#layout, ref, target, opts.known)
    if (!result.ok) throw await this.#takeOut(ref, result.integrity, opts.spec)
  }

  /** What earlier `copyOut`s wrote into `outDir` (see OutStamps); the caller saves it when done. */
  outStamps(outDir: string): OutStamps {
    return OutStamps.load(this.#layout, outDir)
  }

  /** An object's bytes, hashed; throws CACHE_CORRUPT on a mismatch. */
  async readOut(ref: ObjectRef, opts: { spec?: string } = {}): Promise<Buffer> {
    const result = await readChecked(this.#layout, ref)
    if (!result.ok) throw await this.#takeOut(ref, result.integrity, opts.spec)
    return result.bytes
  }

  /**
   * Quarantines a bad object once however many readers found it bad at the same time: each gets the
   * error of the one quarantine (where the bytes went, what to do), not a later reader's "entry was wrong".
   */
  #takeOut(ref: ObjectRef, integrity: Exclude<Integrity, { state: 'ok' }>, spec?: string, key?: string): Promise<VidspecError> {
    const id = `${ref.digest}.${ref.ext}`
    let p = this.#takingOut.get(id)
    // Missing because another reader is moving it out right now: that reader's error is this one's too.
    if (!p && integrity.state === 'missing') return this.#takeOutOnce(ref, integrity, spec, key)
    if (!p) {
      p = this.#takeOutOnce(ref, integrity, spec, key).finally(() => this.#takingOut.delete(id))
      this.#takingOut.set(id, p)
    }
    return p
  }

  async #takeOutOnce(ref: ObjectRef, integrity: Exclude<Integrity, { state: 'ok' }>, spec?: string, key?: string): Promise<VidspecError> {
    if (integrity.state === 'missing') {
      return new VidspecError(
        'CACHE_CORRUPT',
        `${spec ? `${spec}: ` : ''}the stored clip ${ref.digest.slice(0, 12)}.${ref.ext} is missing from ${this.#layout.objects}; run vidspec verify, then build again`,
      )
    }
    const q = await quarantineObject(this.#layout, {
      digest: ref.digest,
      ext: ref.ext,
      reason: integrity.reason,
      objectSound: integrity.objectSound,
      ...(integrity.objectSound && key ? { onlyKey: key } : {}),
    })
    this.#forget(ref)
    return corruptError(q, spec)
  }

  #forget(ref: { digest: string; ext: string }): void {
    this.#verified.delete(this.objectPath(ref.digest, ref.ext))
  }

  /**
   * The temp file is the store's once this returns: moved into objects/, or removed when the same
   * bytes are already there. `written` is the file's sha256 and size as its bytes were written (a
   * download hashes them on the way in), so a clip of tens of MB is not read back to name it, and
   * `synced` says its writer fsynced it; a file whose size no longer matches is hashed (and synced) again.
   */
  async commit(
    tmpFile: string,
    meta: Omit<Entry, 'digest' | 'size' | 'version'>,
    written?: { digest: string; size: number; synced?: boolean },
  ): Promise<Entry> {
    await this.init()
    const vouched = written && (await objectSize(tmpFile)) === written.size ? written : undefined
    const { digest, size } = vouched ?? (await hashFile(tmpFile))
    const { key, ext, ...rest } = meta
    // Field order kept readable on disk; the computed fields win over anything stray in `meta`.
    const entry: Entry = { version: 1, key, digest, ext, size, ...rest }
    Object.assign(entry, { version: 1, digest, size })
    assertShape(isEntry(entry), `entry for ${meta.key}`)
    const target = this.objectPath(digest, entry.ext)
    if (!vouched?.synced) await fsyncFile(tmpFile)
    if (await isWhole(target, digest, size)) {
      // Same bytes already stored. Refresh the mtime so gc's grace for fresh objects covers it,
      // and keep our copy until the entry is written and the object is seen still there.
      await touch(target)
      await this.#writeEntry(entry)
      if ((await objectSize(target)) === size) await removeFile(tmpFile)
      else await this.#place(tmpFile, target, entry.ext)
      await this.#stampHashed(entry)
      return entry
    }
    // Object first, entry second: a crash in between leaves an orphan, never an entry pointing nowhere.
    await this.#place(tmpFile, target, entry.ext)
    await this.#stampHashed(entry)
    await this.#writeEntry(entry)
    return entry
  }

  /**
   * The derived object recorded under a rendition key, when its object is whole (checked like
   * getEntry's). A bad object is quarantined (never deleted: its bytes may also be a master's) and
   * the answer is a miss: a rendition is made again from its master.
   */
  async getDerived(key: string): Promise<DerivedRecord | undefined> {
    const index = (this.#derivedIndex ??= RecordIndex.load(this.#layout, DERIVED))
    const found = await this.#checkedRecord(index, key, this.#layout.derivedPath(key), async () => (await readDerivedFile(this.#layout, key)).record)
    if (!found?.bad) return found?.record
    const { record, bad: integrity } = found
    // Bytes that hash right under a wrong record: only the record goes (the object may be a master's too).
    if (integrity.state === 'corrupt' && !integrity.objectSound) {
      // Taken out whether or not anyone listens (`onCorrupt?.(await …)` would skip the quarantine itself).
      const err = await this.#takeOut(record, integrity, record.spec)
      this.onCorrupt?.(err)
    }
    await this.removeDerived(key)
    return undefined
  }

  /** Stores a made (and checked) derived object and its record: object first, record second, like commit. */
  async commitDerived(tmpFile: string, meta: Omit<DerivedRecord, 'digest' | 'size' | 'version'>): Promise<DerivedRecord> {
    await this.init()
    const { digest, size } = await hashFile(tmpFile)
    const record: DerivedRecord = { version: 1, ...meta, digest, size }
    assertShape(isDerivedRecord(record), `derived record for ${meta.key}`)
    const target = this.objectPath(digest, record.ext)
    await fsyncFile(tmpFile)
    if (await isWhole(target, digest, size)) {
      await touch(target)
      await removeFile(tmpFile)
    } else await this.#place(tmpFile, target, record.ext)
    await this.#stampHashed(record)
    await writeJsonAtomic(this.#layout.tmp, this.#layout.derivedPath(record.key), record)
    return record
  }

  /** Records a derived object already placed in objects/ (fetched from the remote cache, hashed on the way in). */
  async putDerived(record: DerivedRecord): Promise<void> {
    assertShape(isDerivedRecord(record), `derived record for ${String((record as Partial<DerivedRecord>).key)}`)
    await this.checkedPath(record, { trust: 'stamp', spec: record.spec })
    await touch(this.objectPath(record.digest, record.ext))
    await writeJsonAtomic(this.#layout.tmp, this.#layout.derivedPath(record.key), record)
  }

  async listDerived(): Promise<DerivedRecord[]> {
    return (await scanDerived(this.#layout)).flatMap((f) => (f.record ? [f.record] : []))
  }

  async removeDerived(key: string): Promise<void> {
    if (await removeFile(this.#layout.derivedPath(key))) await fsyncDir(this.#layout.derived)
  }

  async putEntry(entry: Entry): Promise<void> {
    assertShape(isEntry(entry), `entry for ${String((entry as Partial<Entry>).key)}`)
    const path = this.objectPath(entry.digest, entry.ext)
    const size = await objectSize(path)
    if (size !== entry.size) {
      throw new VidspecError(
        'CACHE_CORRUPT',
        `store: cannot record key ${entry.key}: its object ${path} is ${size === undefined ? 'missing' : `${size} bytes, not ${entry.size}`}`,
      )
    }
    // An entry vouches for its object: never record one for bytes that do not hash to its name.
    await this.checkedPath(entry, { trust: 'stamp', spec: entry.spec })
    await touch(path)
    await this.#stampHashed(entry)
    await this.#writeEntry(entry)
  }

  async listEntries(): Promise<Entry[]> {
    return (await scanEntries(this.#layout)).flatMap((f) => (f.entry ? [f.entry] : []))
  }

  async removeEntry(key: string): Promise<void> {
    if (await removeFile(this.#layout.entryPath(key))) await fsyncDir(this.#layout.entries)
  }

  /** The journal of `key`: a paid job (with `jobId`) or a write-ahead intent (without). */
  async readJournal(key: string): Promise<JournalRecord | undefined> {
    const read = await readJson(this.#layout.journalPath(key), { usuallyMissing: true })
    return read.ok && isJournalRecord(read.value) && read.value.key === key ? read.value : undefined
  }

  /**
   * Durable (temp + fsync + rename + directory fsync): the runner writes the intent with this before a
   * create leaves the process, and a failure here (ENOSPC, EACCES) means the create is not sent.
   */
  async writeJournal(rec: JournalRecord): Promise<void> {
    assertShape(isJournalRecord(rec), `journal record for ${String((rec as Partial<JournalRecord>).key)}`)
    const path = this.#layout.journalPath(rec.key)
    // An intent with no journal before it is created in place: it stands before every create, and a
    // half-written one is harmless (its create was never sent; a reader finds no record, and the next
    // intent replaces it). Every other record replaces one (a job id over its intent): atomically.
    if (rec.jobId === undefined && (await createDurable(path, jsonText(rec)).catch(() => false))) return
    await writeJsonAtomic(this.#layout.tmp, path, rec)
  }

  /**
   * `durable: false` where a journal that comes back after a power cut is harmless: once the key's
   * entry (durable, naming the job) is committed, a leftover journal is dropped by the next run
   * that reads the entry, and a paid build saves one directory fsync a job.
   */
  async deleteJournal(key: string, opts: { durable?: boolean } = {}): Promise<void> {
    if ((await removeFile(this.#layout.journalPath(key))) && opts.durable !== false) await fsyncDir(this.#layout.jobs)
  }

  /** Every journal record, intents (no job id yet) included. */
  async listJournals(): Promise<JournalRecord[]> {
    // `<key>.uncertain.json` ends in .json too, but `<key>.uncertain` is not a key.
    const keys = await keysNamed(this.#layout.jobs, '.json')
    const records = await mapLimited(keys, (k) => this.readJournal(k))
    return records.filter((r): r is JournalRecord => r !== undefined)
  }

  /** Journaled paid jobs: the ones with a job id, which a run resumes. */
  async listJobs(): Promise<JournaledJob[]> {
    return (await this.listJournals()).filter((r): r is JournaledJob => r.jobId !== undefined)
  }

  /**
   * Creates whose answer was lost: each may be a paid job nobody is polling. That is a marker written
   * when an answer was lost in-process, or an intent a stopped process left without its job id.
   */
  async listUncertain(): Promise<UncertainCreate[]> {
    const keys = new Set([
      ...(await keysNamed(this.#layout.jobs, '.uncertain.json')),
      ...(await keysNamed(this.#layout.jobs, '.json')),
    ])
    const records = await mapLimited([...keys].sort(), (k) => this.readUncertain(k))
    return records.filter((r): r is UncertainCreate => r !== undefined)
  }

  async readUncertain(key: string): Promise<UncertainCreate | undefined> {
    const read = await readJson(this.#layout.uncertainPath(key), { usuallyMissing: true })
    if (read.ok && isUncertainCreate(read.value) && read.value.key === key) return read.value
    const intent = await this.readJournal(key)
    return intent && intent.jobId === undefined ? uncertainFromIntent(intent) : undefined
  }

  /** Written before an uncertain create's error surfaces: it is the only trace of a job that may be paid for. */
  async markUncertain(rec: UncertainCreate): Promise<void> {
    assertShape(isUncertainCreate(rec), `uncertain-create record for ${String((rec as Partial<UncertainCreate>).key)}`)
    await writeJsonAtomic(this.#layout.tmp, this.#layout.uncertainPath(rec.key), rec)
  }

  /** Clears the marker only; an intent left in the journal is cleared by deleteJournal. */
  async clearUncertain(key: string): Promise<void> {
    if (await removeFile(this.#layout.uncertainPath(key))) await fsyncDir(this.#layout.jobs)
  }

  /**
   * Forgets a paid job on a person's explicit word (`vidspec forget`): its journal or intent and its
   * uncertain marker. Refused (`busy`) while a live process holds the key's lock: it may be polling
   * that very job. What was removed is returned so it can be shown (the job id is the last trace).
   */
  async forgetJob(key: string): Promise<{ busy?: true; journal?: JournalRecord; uncertain?: UncertainCreate }> {
    const lock = await this.tryLock(key)
    if (!lock) return { busy: true }
    try {
      const journal = await this.readJournal(key)
      const read = await readJson(this.#layout.uncertainPath(key))
      const marker = read.ok && isUncertainCreate(read.value) ? read.value : undefined
      await this.deleteJournal(key)
      await this.clearUncertain(key)
      return { ...(journal ? { journal } : {}), ...(marker ? { uncertain: marker } : {}) }
    } finally {
      await lock.release()
    }
  }

  async readSpecState(specId: string): Promise<SpecState | undefined> {
    const read = await readJson(this.#layout.specStatePath(specId))
    return read.ok && isSpecState(read.value) && read.value.spec === specId ? read.value : undefined
  }

  async writeSpecState(state: SpecState): Promise<void> {
    assertShape(isSpecState(state), `build record for ${String((state as Partial<SpecState>).spec)}`)
    const path = this.#layout.specStatePath(state.spec)
    // A build from the same inputs keeps the record it finds, so a no-op build writes no file per
    // spec (measured: those writes were a fifth to a third of a no-op build of 100 to 1,000 specs).
    const before = await readJson(path)
    if (before.ok && isSpecState(before.value) && sameBuild(before.value, state)) return
    // Only `plan` reads it (what changed since the last build); losing one to a power cut is harmless.
    // On the thread pool, not synchronous: creating a file waits on the filesystem's journal while
    // other jobs' fsyncs commit it (measured: 0.4 ms of the main thread per write during a build).
    await writeJsonAtomic(this.#layout.tmp, path, state, { durable: false })
  }

  lock(key: string, opts?: LockOptions): Promise<StoreLock> {
    return acquireLock(this.#layout, key, opts)
  }

  tryLock(key: string, opts?: { staleMs?: number; otherHostStaleMs?: number }): Promise<StoreLock | undefined> {
    return tryAcquireLock(this.#layout, key, opts)
  }

  verify(opts: { repair?: boolean } = {}): Promise<VerifyReport> {
    return runVerify(this.#layout, { repair: opts.repair ?? false })
  }

  gc(opts: GcOptions): Promise<GcReport> {
    return runGc(this.#layout, opts)
  }

  /** Puts everything gc moved to the trash back (a key built again meanwhile keeps its newer entry). */
  restoreTrash(): Promise<RestoreReport> {
    return restoreTrash(this.#layout)
  }

  /** Deletes the trash for good; the files it held (or would hold, on a dry run). */
  emptyTrash(opts: { dryRun?: boolean } = {}): Promise<{ files: string[] }> {
    return emptyTrash(this.#layout, opts.dryRun ?? false)
  }

  /** Records the stamp of an object whose bytes were hashed just now (its commit or its check). */
  async #stampHashed(ref: { digest: string; ext: string }): Promise<void> {
    const path = this.objectPath(ref.digest, ref.ext)
    const now = statStamp(path)
    if (!now) return
    this.#verified.set(path, now)
    await writeJsonAtomic(this.#layout.tmp, this.#layout.stampPath(ref.digest, ref.ext), now, { durable: false })
  }

  #writeEntry(entry: Entry): Promise<void> {
    return writeJsonAtomic(this.#layout.tmp, this.#layout.entryPath(entry.key), entry)
  }

  /** Moves a finished file to its object path, durably. */
  async #place(file: string, target: string, ext: string): Promise<void> {
    try {
      await rename(file, target)
    } catch (err) {
      if (errorCode(err) !== 'EXDEV') throw err
      // Made on another filesystem: copy next to the store first so the final step is still a rename.
      const staged = this.#layout.tempPath(ext)
      try {
        await copyFile(file, staged)
        await fsyncFile(staged)
        await rename(staged, target)
      } catch (copyErr) {
        await removeFile(staged)
        throw copyErr
      }
      await removeFile(file)
    }
    await touch(target)
    await fsyncDir(this.#layout.objects)
  }
}

/** True when `path` holds exactly the bytes with this digest (hashes only when the size matches). */
async function isWhole(path: string, digest: string, size: number): Promise<boolean> {
  if ((await objectSize(path)) !== size) return false
  try {
    return (await hashFile(path)).digest === digest
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false
    throw err
  }
}

/** Marks an object as just used: gc spares young orphans, which covers a commit in progress. */
async function touch(path: string): Promise<void> {
  const now = new Date()
  await utimes(path, now, now)
}

/** An intent without its job id, seen from outside the create that wrote it. */
function uncertainFromIntent(intent: JournalRecord): UncertainCreate {
  return {
    version: 1,
    key: intent.key,
    provider: intent.provider,
    spec: intent.spec,
    at: intent.createdAt,
    reason:
      'a create was sent but its answer (the job id) was never recorded: the process was stopped or the journal could not be written',
  }
}

function assertShape(ok: boolean, what: string): void {
  if (!ok) throw new VidspecError('INTERNAL', `store: refusing to write a malformed ${what}`)
}

/** Two records of a spec's build that differ at most in when they were written. */
function sameBuild(a: SpecState, b: SpecState): boolean {
  return canonicalJson({ ...a, builtAt: '' }) === canonicalJson({ ...b, builtAt: '' })
}
