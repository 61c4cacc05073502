import { createHash } from 'node:crypto'
import { closeSync, createReadStream, fsync, mkdirSync, open, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { mkdir, rename, unlink } from 'node:fs/promises'
import { promisify } from 'node:util'
import { basename, dirname, join } from 'node:path'
import { randomId } from './layout.js'

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

/**
 * What waits on the disk goes to the thread pool: the fsync, and the open that creates a file (it
 * waits for the filesystem's journal while another file's fsync commits it; measured, a tenth of
 * those creates took over 0.2 ms). Writing, reading and closing these small files are synchronous:
 * each promise-API call is a thread-pool round trip that costs more CPU than the call, and every
 * paid job makes several. Plain fds, not FileHandles: a FileHandle costs a round trip per method.
 */
export const fsyncFd = promisify(fsync)
export const openFd = promisify(open)

/** Makes a rename or unlink durable. Best effort: some platforms cannot open a directory. */
export async function fsyncDir(dir: string): Promise<void> {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch {
    // EISDIR/EPERM on Windows; the rename itself is still atomic.
    return
  }
  try {
    await fsyncFd(fd)
  } catch {
    // Best effort, as above.
  } finally {
    closeSync(fd)
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const fd = openSync(path, 'r+')
  try {
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

export interface WriteOptions {
  /**
   * Survive a power loss (fsync the file and its directory). Off for what can be rebuilt (memos,
   * the last build of each spec): the rename still makes every write all-or-nothing.
   * @default true
   */
  durable?: boolean
}

/**
 * Temp file in `tmpDir` (same filesystem, so the rename is atomic), fsync, rename over `target`,
 * fsync the directory. A reader sees the old file or the new one, never a partial one.
 */
export async function writeFileAtomic(
  tmpDir: string,
  target: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  const durable = opts.durable ?? true
  const tmp = join(tmpDir, `${basename(target)}.${randomId()}.tmp`)
  try {
    await writeAndSync(tmp, data, durable)
    await rename(tmp, target)
  } catch (err) {
    await removeFile(tmp)
    if (errorCode(err) !== 'ENOENT') throw err
    // The store directory was removed under us (or never initialised): recreate and try once more.
    await mkdir(tmpDir, { recursive: true })
    await mkdir(dirname(target), { recursive: true })
    try {
      await writeAndSync(tmp, data, durable)
      await rename(tmp, target)
    } catch (again) {
      await removeFile(tmp)
      throw again
    }
  }
  if (durable) await fsyncDir(dirname(target))
}

/**
 * Writes a file that can always be rebuilt (an index, a memo) at once, synchronously: temp file in
 * `tmpDir`, rename over `target`, no fsync, and never an error (losing it only costs a later run its
 * speed). `mkdir` creates both folders first; without it a store removed meanwhile stays removed.
 */
export function writeRebuildableSync(tmpDir: string, target: string, data: string, opts: { mkdir?: boolean } = {}): void {
  const tmp = join(tmpDir, `${basename(target)}.${randomId()}.tmp`)
  try {
    if (opts.mkdir) {
      mkdirSync(tmpDir, { recursive: true })
      mkdirSync(dirname(target), { recursive: true })
    }
    writeFileSync(tmp, data)
    renameSync(tmp, target)
  } catch {
    rmSync(tmp, { force: true })
  }
}

/**
 * Creates `target`, which must not exist yet, durably and in place: an exclusive create, the bytes,
 * an fsync, and the folder's fsync. The file system commits the new name with the bytes (one journal
 * commit), where a temp file and a rename take two. False, with nothing written, when `target` is
 * already there. For a record whose half-written state is harmless only: a reader may see it empty
 * or cut, and a failed write removes it. Folders are not made here (ENOENT is thrown).
 */
export async function createDurable(target: string, data: string): Promise<boolean> {
  try {
    await writeAndSync(target, data, true)
  } catch (err) {
    // Another's file, untouched; else ours, half-written, goes.
    if (errorCode(err) === 'EEXIST') return false
    await removeFile(target).catch(() => false)
    throw err
  }
  await fsyncDir(dirname(target))
  return true
}

/** How the store writes a JSON record: indented, with a final newline. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

export function writeJsonAtomic(tmpDir: string, target: string, value: unknown, opts: WriteOptions = {}): Promise<void> {
  return writeFileAtomic(tmpDir, target, jsonText(value), opts)
}

async function writeAndSync(path: string, data: string | Uint8Array, sync: boolean): Promise<void> {
  const fd = await openFd(path, 'wx')
  try {
    writeFileSync(fd, data)
    if (sync) await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

export type JsonRead = { ok: true; value: unknown } | { ok: false; reason: 'missing' | 'unparsable' }

/**
 * Reads a JSON file; a missing or garbled file is a result, not an exception. `usuallyMissing` (a
 * journal: only keys being generated have one) asks with a stat first, which answers a missing file
 * without the exception a failed read throws (several times the cost of the stat).
 */
export async function readJson(path: string, opts: { usuallyMissing?: boolean } = {}): Promise<JsonRead> {
  if (opts.usuallyMissing && statSync(path, { throwIfNoEntry: false }) === undefined) return { ok: false, reason: 'missing' }
  let text: string
  try {
    // Records are a few KB: a synchronous read costs a tenth of the promise API's round trip, and a
    // no-op plan of a thousand specs reads a thousand of them.
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'EISDIR') return { ok: false, reason: 'missing' }
    throw err
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false, reason: 'unparsable' }
  }
}

/** sha256 and size of a file, streamed: clips are too big to hold in memory twice. */
export async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer
    size += buf.length
    hash.update(buf)
  }
  return { digest: hash.digest('hex'), size }
}

/**
 * Removes a file; true when it was there. `unlink` alone: `rm` first stats the path to choose between
 * a file and a folder, a second round trip for every temp file a job leaves.
 */
export async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path)
    return true
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false
    throw err
  }
}
