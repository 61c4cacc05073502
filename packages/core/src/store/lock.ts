import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { link, mkdir, rename, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { VidspecError } from '../errors.js'
import { sleep } from '../runner/retry.js'
import { errorCode, openFd, removeFile } from './atomic.js'
import * as mutex from './key-mutex.js'
import { randomId, type StoreLayout } from './layout.js'
import type { LockHolder, LockOptions, StoreLock } from './types.js'

/**
 * How old a lock's heartbeat must be before it counts as abandoned, when its holder's liveness cannot
 * be checked (a file caught before its first write, or left by this very process).
 */
export const DEFAULT_STALE_MS = 30_000
/**
 * A holder on another host cannot be asked whether it lives, so it is presumed alive this long after
 * its last heartbeat: a laptop lid, a debugger or a suspended VM must not lose its lock to a waiter.
 */
export const DEFAULT_OTHER_HOST_STALE_MS = 60 * 60_000
const DEFAULT_POLL_MS = 100

interface LockInfo {
  pid: number
  hostname: string
  createdAt: string
  token: string
  /** The holder's start time as the kernel counts it (Linux), so a reused pid is not taken for the holder. */
  pidStart?: string | undefined
}

/** How staleness is judged; see DEFAULT_STALE_MS and DEFAULT_OTHER_HOST_STALE_MS. */
interface Staleness {
  staleMs: number
  otherHostStaleMs: number
}

function staleness(opts: { staleMs?: number | undefined; otherHostStaleMs?: number | undefined }): Staleness {
  return { staleMs: opts.staleMs ?? DEFAULT_STALE_MS, otherHostStaleMs: opts.otherHostStaleMs ?? DEFAULT_OTHER_HOST_STALE_MS }
}

/** A lock file as read at one moment: its identity (inode + bytes), owner and age. */
interface Observed {
  ino: number
  raw: string
  mtimeMs: number
  info: LockInfo | undefined
}

/** Waits until the lock for `key` is ours, or the signal aborts (VidspecError `ABORTED`). */
export async function acquireLock(layout: StoreLayout, key: string, opts: LockOptions = {}): Promise<StoreLock> {
  const path = layout.lockPath(key)
  const staleMs = staleness(opts)
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const { signal } = opts
  if (signal?.aborted) throw aborted(key, signal)
  let waited = false
  const onWait = (holder?: LockHolder): void => {
    if (waited) return
    waited = true
    opts.onWait?.(holder)
  }
  try {
    await mutex.acquire(path, signal, () => onWait())
  } catch {
    throw aborted(key, signal)
  }
  try {
    for (;;) {
      const lock = await attempt(layout, key, path, staleMs)
      if (lock) return lock
      if (!waited) onWait(holderOf(await observe(path).catch(() => undefined)))
      await sleep(pollMs, signal).catch(() => {
        throw aborted(key, signal)
      })
    }
  } catch (err) {
    mutex.release(path)
    throw err
  }
}

/** One attempt, no waiting: the lock, or undefined when someone else holds it. */
export async function tryAcquireLock(
  layout: StoreLayout,
  key: string,
  opts: { staleMs?: number | undefined; otherHostStaleMs?: number | undefined } = {},
): Promise<StoreLock | undefined> {
  const path = layout.lockPath(key)
  if (!mutex.tryAcquire(path)) return undefined
  try {
    const lock = await attempt(layout, key, path, staleness(opts))
    if (!lock) mutex.release(path)
    return lock
  } catch (err) {
    mutex.release(path)
    throw err
  }
}

/** True when a live holder has the lock for `key` right now (gc leaves such keys alone). */
export async function isLockLive(
  layout: StoreLayout,
  key: string,
  opts: { staleMs?: number | undefined; otherHostStaleMs?: number | undefined } = {},
): Promise<boolean> {
  const seen = await observe(layout.lockPath(key))
  return seen !== undefined && !isStale(seen, staleness(opts))
}

async function attempt(layout: StoreLayout, key: string, path: string, staleMs: Staleness): Promise<FileLock | undefined> {
  // Twice: once as is, once more right after clearing away a stale lock.
  for (let round = 0; round < 2; round++) {
    const info = newInfo()
    if (await createExclusive(path, info)) return new FileLock(key, path, info.token, layout.tmp, staleMs.staleMs)
    const seen = await observe(path)
    if (seen === undefined) continue
    if (!isStale(seen, staleMs)) return undefined
    await takeOver(layout, path, staleMs)
  }
  return undefined
}

/**
 * Clears away a stale lock. A second file (`.takeover`, created exclusively) admits one process at
 * a time, so two waiters cannot both judge the same lock stale and then remove each other's fresh one.
 */
async function takeOver(layout: StoreLayout, path: string, staleMs: Staleness): Promise<void> {
  const guardPath = `${path}.takeover`
  const guard = newInfo()
  if (!(await createExclusive(guardPath, guard))) {
    // A guard is held for milliseconds; one that lingers belongs to a process that died mid-takeover.
    const seen = await observe(guardPath)
    if (seen && isStale(seen, { ...staleMs, staleMs: Math.max(staleMs.staleMs, 2_000) })) {
      await removeIfSame(guardPath, layout.tmp, seen)
    }
    return
  }
  try {
    const seen = await observe(path)
    if (seen && isStale(seen, staleMs)) await removeIfSame(path, layout.tmp, seen)
  } finally {
    const mine = await observe(guardPath)
    if (mine?.info?.token === guard.token) await removeIfSame(guardPath, layout.tmp, mine)
  }
}

/**
 * Removes `path` only if it is still the file seen in `expected`: rename it aside (atomic), check
 * what was moved, and put it back with link() (which never overwrites) if it was a different file.
 */
async function removeIfSame(path: string, tmpDir: string, expected: Observed): Promise<boolean> {
  const aside = join(tmpDir, `${randomId()}.lock-aside`)
  try {
    await moveAside(path, aside, tmpDir)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false
    throw err
  }
  try {
    const moved = await observe(aside)
    if (moved && moved.ino === expected.ino && moved.raw === expected.raw) return true
    try {
      await link(aside, path)
    } catch (err) {
      // Someone created a new lock in the instant it was gone; its holder's heartbeat notices.
      if (errorCode(err) !== 'EEXIST') throw err
    }
    return false
  } finally {
    await removeFile(aside)
  }
}

/**
 * rename(path, aside), making tmp/ first only when it is missing (not on every release): a rename
 * into a missing folder fails with ENOENT, just like the rename of a lock that is already gone.
 */
async function moveAside(path: string, aside: string, tmpDir: string): Promise<void> {
  try {
    await rename(path, aside)
  } catch (err) {
    if (errorCode(err) !== 'ENOENT' || existsSync(tmpDir)) throw err
    await mkdir(tmpDir, { recursive: true })
    await rename(path, aside)
  }
}

class FileLock implements StoreLock {
  #held = true
  #released = false
  #beating = false
  readonly #timer: NodeJS.Timeout

  constructor(
    readonly key: string,
    readonly path: string,
    readonly token: string,
    readonly tmpDir: string,
    staleMs: number,
  ) {
    this.#timer = setInterval(() => void this.#beat(), Math.max(1, Math.floor(staleMs / 3)))
    this.#timer.unref()
  }

  get held(): boolean {
    return this.#held
  }

  async verify(): Promise<boolean> {
    if (!this.#held) return false
    const seen = await observe(this.path)
    if (seen?.info?.token === this.token) return true
    this.#held = false
    return false
  }

  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    clearInterval(this.#timer)
    try {
      const seen = await observe(this.path)
      if (seen?.info?.token === this.token) await removeIfSame(this.path, this.tmpDir, seen)
    } finally {
      this.#held = false
      mutex.release(this.path)
    }
  }

  /** Keeps the file's mtime fresh so others see a live holder; notices a takeover. */
  async #beat(): Promise<void> {
    if (this.#beating || this.#released) return
    this.#beating = true
    try {
      const seen = await observe(this.path)
      if (seen?.info?.token !== this.token) {
        this.#held = false
        clearInterval(this.#timer)
        return
      }
      const now = new Date()
      await utimes(this.path, now, now)
    } catch {
      // A failed refresh is retried on the next beat; staleness needs several misses in a row.
    } finally {
      this.#beating = false
    }
  }
}

/** Who holds a lock, for a waiter's message. */
function holderOf(seen: Observed | undefined): LockHolder | undefined {
  if (!seen?.info) return undefined
  const { pid, hostname: host } = seen.info
  return { pid, hostname: host, sameHost: host === hostname(), heartbeatAgeMs: Math.max(0, Date.now() - seen.mtimeMs) }
}

function newInfo(): LockInfo {
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    createdAt: new Date().toISOString(),
    token: randomBytes(16).toString('hex'),
  }
  const start = ownStart()
  if (start !== undefined) info.pidStart = start
  return info
}

let own: { start: string | undefined } | undefined

/** This process's start time: it never changes, and every lock taken and judged needs it. */
function ownStart(): string | undefined {
  return (own ??= { start: processStart(process.pid) }).start
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined where there is no /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
}

/**
 * O_EXCL create: true when the file is now ours, false when it already existed. A lock file is a
 * line of JSON, created on the thread pool (see openFd) and then written, read and closed
 * synchronously: every job takes a lock and looks at it again before it commits.
 */
async function createExclusive(path: string, info: LockInfo, retry = true): Promise<boolean> {
  let fd
  try {
    fd = await openFd(path, 'wx')
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false
    if (errorCode(err) !== 'ENOENT' || !retry) throw err
    await mkdir(dirname(path), { recursive: true })
    return createExclusive(path, info, false)
  }
  try {
    writeFileSync(fd, `${JSON.stringify(info)}\n`)
  } catch (err) {
    closeSync(fd)
    await removeFile(path)
    throw err
  }
  closeSync(fd)
  return true
}

async function observe(path: string): Promise<Observed | undefined> {
  let fd
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined
    throw err
  }
  try {
    const st = fstatSync(fd)
    const raw = readFileSync(fd, 'utf8')
    return { ino: st.ino, raw, mtimeMs: st.mtimeMs, info: parseInfo(raw) }
  } finally {
    closeSync(fd)
  }
}

function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo> | null
    if (
      v &&
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 &&
      typeof v.hostname === 'string' &&
      typeof v.createdAt === 'string' &&
      typeof v.token === 'string' &&
      (v.pidStart === undefined || typeof v.pidStart === 'string')
    ) {
      return v as LockInfo
    }
  } catch {
    // A lock file caught between its creation and its first write: judged by age alone.
  }
  return undefined
}

/**
 * Whether a lock may be cleared away. A holder alive on this host keeps its lock however old its
 * heartbeat: a paused process (SIGSTOP, a debugger, a closed laptop lid) is still going to send what it
 * was about to send, so taking its lock over would pay twice. The heartbeat's age decides only where
 * liveness cannot be checked.
 */
function isStale(seen: Observed, limits: Staleness): boolean {
  const age = Date.now() - seen.mtimeMs
  const { info } = seen
  if (info === undefined) return age > limits.staleMs
  if (info.hostname !== hostname()) return age > limits.otherHostStaleMs
  if (info.pid === process.pid && (info.pidStart === undefined || info.pidStart === ownStart())) {
    // Our own pid: the in-process mutex admits one holder at a time, so this is a lock this process
    // failed to remove. Its age decides, as before.
    return age > limits.staleMs
  }
  return !pidAlive(info.pid, info.pidStart)
}

export function pidAlive(pid: number, startedAt: string | undefined): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: alive, just not ours to signal.
    if (errorCode(err) === 'ESRCH') return false
  }
  // A zombie (killed, not yet reaped by its parent) answers kill(0) but will never send anything.
  if (processState(pid) === 'Z') return false
  // The pid is in use; if it started at another time it is a new process that reused the number.
  const now = startedAt === undefined ? undefined : processStart(pid)
  return now === undefined || now === startedAt
}

/** Field 3 of /proc/<pid>/stat (R, S, T, Z, ...); undefined where there is no /proc. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

function aborted(key: string, signal: AbortSignal | undefined): VidspecError {
  return new VidspecError('ABORTED', `stopped waiting for the lock on ${key.slice(0, 12)}: the build was cancelled`, {
    cause: signal?.reason,
  })
}
