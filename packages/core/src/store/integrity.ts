import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { errorCode, hashFile, removeFile } from './atomic.js'
import { randomId, type StoreLayout } from './layout.js'
import type { OutStamps } from './out-stamps.js'
import { readStamp, sameStamp, statStamp, writeStamp, type Stamp } from './stamp.js'

export type Integrity =
  /** `stamp`: the object's stamp when it checked out (taken before the check it vouches for). */
  | { state: 'ok'; stamp?: Stamp }
  | { state: 'missing' }
  /** `objectSound`: the bytes do hash to their name; only the entry's size disagrees. */
  | { state: 'corrupt'; reason: string; objectSound: boolean }

export interface ObjectRef {
  digest: string
  ext: string
  /** The size an entry records; checked before anything else. */
  size?: number | undefined
}

/**
 * How much to trust a file's stamp instead of hashing it:
 * - `stamp`: the stamp on disk (recorded when it last hashed right) is enough; the no-op check.
 * - `process`: only a hash done by this process, on a file unchanged since (the dev server).
 * - `hash`: always hash.
 */
export type Trust = 'stamp' | 'process' | 'hash'

export async function checkObject(
  layout: StoreLayout,
  ref: ObjectRef,
  trust: Trust,
  memo: Map<string, Stamp>,
): Promise<Integrity> {
  const path = layout.objectPath(ref.digest, ref.ext)
  const before = statStamp(path)
  if (!before) return { state: 'missing' }
  if (trust !== 'hash' && (ref.size === undefined || String(ref.size) === before.size)) {
    if (sameStamp(memo.get(path), before)) return { state: 'ok', stamp: before }
    if (trust === 'stamp' && sameStamp(await readStamp(layout, ref.digest, ref.ext), before)) return { state: 'ok', stamp: before }
  }
  let actual: { digest: string; size: number }
  try {
    actual = await hashFile(path)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { state: 'missing' }
    throw err
  }
  if (actual.digest !== ref.digest) {
    return { state: 'corrupt', objectSound: false, reason: `its bytes hash to ${actual.digest.slice(0, 12)}…, not to its name (${actual.size} bytes)` }
  }
  if (ref.size !== undefined && actual.size !== ref.size) {
    return { state: 'corrupt', objectSound: true, reason: `the object is ${actual.size} bytes, its entry says ${ref.size}` }
  }
  memo.set(path, before)
  await writeStamp(layout, ref.digest, ref.ext, before)
  return { state: 'ok', stamp: before }
}

/** Objects up to this size are copied out in memory (see copyChecked). */
const SMALL_COPY = 4 << 20

export type OutResult = { ok: true } | { ok: false; integrity: Exclude<Integrity, { state: 'ok' }> }

/**
 * Copies an object to `target`, hashing the very bytes it writes: the copy appears (by rename)
 * only when they match the digest, so no corrupt byte ever reaches an output folder.
 */
export async function copyChecked(layout: StoreLayout, ref: ObjectRef, target: string, known?: OutStamps): Promise<OutResult> {
  // An out folder written before (a no-op `build --out`) already holds these very bytes: vouched for
  // by the output's stamp (unchanged since it was written), else proven by hashing it.
  if (known?.holds(target, ref.digest)) return { ok: true }
  const result = await copyInto(layout, ref, target)
  if (result.ok) known?.record(target, ref.digest)
  else known?.forget(target)
  return result
}

async function copyInto(layout: StoreLayout, ref: ObjectRef, target: string): Promise<OutResult> {
  const path = layout.objectPath(ref.digest, ref.ext)
  const tmp = `${target}.tmp-${randomId()}`
  // A small object (a poster, a short rendition) in one read and one write: a stream's setup costs
  // more than its bytes, and `--out` writes several per spec. The same bytes are hashed and written.
  if (ref.size !== undefined && ref.size <= SMALL_COPY) {
    if (await holds(target, ref.digest, ref.size)) return { ok: true }
    const read = await readChecked(layout, ref)
    if (!read.ok) return read
    try {
      await writeFile(tmp, read.bytes, { flag: 'wx' })
      await rename(tmp, target)
    } catch (err) {
      await removeFile(tmp)
      throw err
    }
    return { ok: true }
  }
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    },
  })
  try {
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), tap, createWriteStream(tmp, { flags: 'wx' }))
  } catch (err) {
    await removeFile(tmp)
    if (errorCode(err) === 'ENOENT' && statStamp(path) === undefined) return { ok: false, integrity: { state: 'missing' } }
    throw err
  }
  const bad = judge(ref, hash.digest('hex'), size)
  if (bad) {
    await removeFile(tmp)
    return { ok: false, integrity: bad }
  }
  try {
    await rename(tmp, target)
  } catch (err) {
    await removeFile(tmp)
    throw err
  }
  return { ok: true }
}

/** Whether `file` is a regular file holding exactly the bytes with this digest. */
async function holds(file: string, digest: string, size: number): Promise<boolean> {
  const now = statStamp(file)
  if (!now || now.size !== String(size)) return false
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex') === digest
  } catch {
    return false
  }
}

/**
 * Objects up to this size are read synchronously: a poster or a small rendition reads in less time
 * than the promise API's four thread-pool round trips (open, stat, read, close) take.
 */
const SYNC_READ_BYTES = 1 << 20

/** An object's bytes, in memory, only when they hash to its digest (the Vite build emits buffers). */
export async function readChecked(
  layout: StoreLayout,
  ref: ObjectRef,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; integrity: Exclude<Integrity, { state: 'ok' }> }> {
  let bytes: Buffer
  try {
    const path = layout.objectPath(ref.digest, ref.ext)
    bytes = ref.size !== undefined && ref.size <= SYNC_READ_BYTES ? readFileSync(path) : await readFile(path)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { ok: false, integrity: { state: 'missing' } }
    throw err
  }
  const bad = judge(ref, createHash('sha256').update(bytes).digest('hex'), bytes.length)
  return bad ? { ok: false, integrity: bad } : { ok: true, bytes }
}

function judge(ref: ObjectRef, digest: string, size: number): Exclude<Integrity, { state: 'ok' | 'missing' }> | undefined {
  if (digest !== ref.digest) {
    return { state: 'corrupt', objectSound: false, reason: `its bytes hash to ${digest.slice(0, 12)}…, not to its name (${size} bytes)` }
  }
  if (ref.size !== undefined && size !== ref.size) {
    return { state: 'corrupt', objectSound: true, reason: `the object is ${size} bytes, its entry says ${ref.size}` }
  }
  return undefined
}
