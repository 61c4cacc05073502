import { execFile, spawn } from 'node:child_process'
import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import type { Store } from './store.js'
import { KEY_A, KEY_B, tempStore } from './test-helpers.js'

const lockFile = (store: Store, key: string): string => join(store.dir, 'locks', `${key}.lock`)
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function writeForeignLock(store: Store, key: string, pid: number, ageMs = 0, host = hostname()): Promise<string> {
  const path = lockFile(store, key)
  const info = { pid, hostname: host, createdAt: new Date().toISOString(), token: 'someone-else' }
  await writeFile(path, `${JSON.stringify(info)}\n`)
  const t = new Date(Date.now() - ageMs)
  await utimes(path, t, t)
  return path
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  if (child.pid === undefined) throw new Error('spawn gave no pid')
  return child.pid
}

describe('Store locks', () => {
  it('excludes a second lock in the same process until release', async () => {
    const store = await tempStore()
    const first = await store.lock(KEY_A)
    expect(first.held).toBe(true)
    let waits = 0
    let secondHeld = false
    const second = store.lock(KEY_A, { pollMs: 5, onWait: () => waits++ }).then((l) => {
      secondHeld = true
      return l
    })
    expect(await store.tryLock(KEY_A)).toBeUndefined()
    await delay(50)
    expect(secondHeld).toBe(false)
    expect(waits).toBe(1)
    // Another key is independent.
    const other = await store.tryLock(KEY_B)
    expect(other?.held).toBe(true)
    await other?.release()

    await first.release()
    expect(first.held).toBe(false)
    const lock = await second
    expect(lock.held).toBe(true)
    const info = JSON.parse(await readFile(lockFile(store, KEY_A), 'utf8')) as { pid: number; token: string }
    expect(info.pid).toBe(process.pid)
    await lock.release()
    await lock.release()
    await expect(stat(lockFile(store, KEY_A))).rejects.toThrow(/ENOENT/)
  })

  it('takes over a lock left by a dead process', async () => {
    const store = await tempStore()
    const path = await writeForeignLock(store, KEY_A, await deadPid())
    const lock = await store.tryLock(KEY_A)
    expect(lock?.held).toBe(true)
    const info = JSON.parse(await readFile(path, 'utf8')) as { pid: number; token: string }
    expect(info).toMatchObject({ pid: process.pid })
    expect(info.token).not.toBe('someone-else')
    await lock?.release()
  })

  it('does not take a fresh lock held by a live process', async () => {
    const store = await tempStore()
    const path = await writeForeignLock(store, KEY_A, process.ppid)
    expect(await store.tryLock(KEY_A)).toBeUndefined()
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ token: 'someone-else' })
  })

  it('never takes over a live holder on this host, however old its heartbeat (a paused process)', async () => {
    const store = await tempStore()
    const path = await writeForeignLock(store, KEY_A, process.ppid, 24 * 3600_000)
    expect(await store.tryLock(KEY_A, { staleMs: 1 })).toBeUndefined()
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ token: 'someone-else' })
  })

  it('takes over a holder on another host only after otherHostStaleMs', async () => {
    const store = await tempStore()
    await writeForeignLock(store, KEY_A, process.ppid, 5_000, 'another-host.example')
    expect(await store.tryLock(KEY_A, { staleMs: 1, otherHostStaleMs: 10_000 })).toBeUndefined()
    const lock = await store.tryLock(KEY_A, { staleMs: 1, otherHostStaleMs: 1_000 })
    expect(lock?.held).toBe(true)
    expect(await lock?.verify()).toBe(true)
    await lock?.release()
  })

  it.skipIf(process.platform !== 'linux')('takes over a lock whose holder is a zombie (killed, not yet reaped)', async () => {
    const store = await tempStore()
    // The child ends only once its parent shell has become `sleep` (exec), which never reaps it: were it to
    // end earlier, the shell could reap it first and there would be no zombie to test with.
    const child = `sh -c 'until [ "$(cat /proc/$PPID/comm 2>/dev/null)" = sleep ] || [ ! -e /proc/$PPID ]; do :; done'`
    const parent = spawn('sh', ['-c', `${child} & echo $!; exec sleep 5`], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))))
      // Wait for the child to become a zombie (bounded: a loaded machine may take a while to run it).
      for (let i = 0; i < 2000 && !(await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z'); i++) await delay(10)
      expect(await readFile(`/proc/${pid}/stat`, 'utf8')).toContain(') Z')
      await writeForeignLock(store, KEY_A, pid)
      const lock = await store.tryLock(KEY_A)
      expect(lock?.held).toBe(true)
      await lock?.release()
    } finally {
      parent.kill('SIGKILL')
    }
  })

  it('tells a waiter who holds the lock', async () => {
    const store = await tempStore()
    await writeForeignLock(store, KEY_A, process.ppid, 0, 'another-host.example')
    const holders: unknown[] = []
    const ac = new AbortController()
    const waiting = store.lock(KEY_A, { signal: ac.signal, pollMs: 5, onWait: (h) => holders.push(h) }).catch((e: unknown) => e)
    for (let i = 0; i < 100 && holders.length === 0; i++) await delay(5)
    ac.abort()
    expect(isVidspecError(await waiting, 'ABORTED')).toBe(true)
    expect(holders).toEqual([{ pid: process.ppid, hostname: 'another-host.example', sameHost: false, heartbeatAgeMs: expect.any(Number) }])
  })

  it('takes over a lock whose pid was reused by another process since', async () => {
    const store = await tempStore()
    const path = lockFile(store, KEY_A)
    const info = { pid: process.ppid, hostname: hostname(), createdAt: new Date().toISOString(), token: 'someone-else', pidStart: '1' }
    await writeFile(path, `${JSON.stringify(info)}\n`)
    const lock = await store.tryLock(KEY_A)
    // Only where /proc tells start times apart; elsewhere the pid alone says "alive".
    if (process.platform === 'linux') expect(lock?.held).toBe(true)
    await lock?.release()
  })

  it('takes over an unreadable lock file only once it is stale', async () => {
    const store = await tempStore()
    const path = lockFile(store, KEY_A)
    await writeFile(path, '')
    expect(await store.tryLock(KEY_A, { staleMs: 1_000 })).toBeUndefined()
    const old = new Date(Date.now() - 5_000)
    await utimes(path, old, old)
    const lock = await store.tryLock(KEY_A, { staleMs: 1_000 })
    expect(lock?.held).toBe(true)
    await lock?.release()
  })

  it('waits for a holder on another host and acquires once its heartbeat is older than otherHostStaleMs', async () => {
    const store = await tempStore()
    await writeForeignLock(store, KEY_A, process.ppid, 0, 'another-host.example')
    const started = Date.now()
    const lock = await store.lock(KEY_A, { staleMs: 1, otherHostStaleMs: 150, pollMs: 10 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    await lock.release()
  })

  it('throws ABORTED when the signal aborts while waiting, and leaves the key usable', async () => {
    const store = await tempStore()
    const path = await writeForeignLock(store, KEY_A, process.ppid)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const err = await store.lock(KEY_A, { signal: ac.signal, pollMs: 10 }).catch((e: unknown) => e)
    expect(isVidspecError(err, 'ABORTED')).toBe(true)

    // Aborting while queued behind a lock held in this process.
    await writeFile(path, '')
    await utimes(path, new Date(0), new Date(0))
    const mine = await store.lock(KEY_A)
    const ac2 = new AbortController()
    const queued = store.lock(KEY_A, { signal: ac2.signal }).catch((e: unknown) => e)
    ac2.abort()
    expect(isVidspecError(await queued, 'ABORTED')).toBe(true)
    await mine.release()
    const again = await store.tryLock(KEY_A)
    expect(again?.held).toBe(true)
    await again?.release()
  })

  it('refuses at once when the signal is already aborted', async () => {
    const store = await tempStore()
    const err = await store.lock(KEY_A, { signal: AbortSignal.abort() }).catch((e: unknown) => e)
    expect(isVidspecError(err, 'ABORTED')).toBe(true)
    expect((await store.tryLock(KEY_A))?.held).toBe(true)
  })

  it('keeps the lock file fresh while held', async () => {
    const store = await tempStore()
    const lock = await store.lock(KEY_A, { staleMs: 90 })
    const old = new Date(Date.now() - 60_000)
    await utimes(lockFile(store, KEY_A), old, old)
    await delay(120)
    const { mtimeMs } = await stat(lockFile(store, KEY_A))
    expect(Date.now() - mtimeMs).toBeLessThan(1_000)
    await lock.release()
  })

  it('notices a takeover and does not remove the new holder’s lock on release', async () => {
    const store = await tempStore()
    const lock = await store.lock(KEY_A, { staleMs: 60 })
    const path = await writeForeignLock(store, KEY_A, process.ppid)
    expect(await lock.verify()).toBe(false)
    await delay(100)
    expect(lock.held).toBe(false)
    await lock.release()
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ token: 'someone-else' })
  })

  it('releases its lock even when tmp/ (where a lock is moved aside to be removed) was deleted meanwhile', async () => {
    const store = await tempStore()
    const lock = await store.lock(KEY_A)
    await rm(join(store.dir, 'tmp'), { recursive: true, force: true })
    await lock.release()
    await expect(stat(lockFile(store, KEY_A))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await readdir(join(store.dir, 'tmp'))).toEqual([])
    expect((await store.tryLock(KEY_A))?.held).toBe(true)
  })
})

// Each child takes the lock, does a slow read-modify-write of a counter and releases: any overlap
// between processes loses an increment. They start racing over a lock left by a dead process.
const CHILD = `
const [storeModule, dir, key, counter, rounds] = process.argv.slice(2)
const { Store } = await import(storeModule)
const { readFile, writeFile } = await import('node:fs/promises')
const store = new Store(dir)
for (let i = 0; i < Number(rounds); i++) {
  const lock = await store.lock(key, { pollMs: 2 })
  const n = Number(await readFile(counter, 'utf8'))
  await new Promise((r) => setTimeout(r, 2))
  await writeFile(counter, String(n + 1))
  await lock.release()
}
`

describe('Store locks across processes', () => {
  it('lets exactly one process at a time hold a key', async () => {
    const store = await tempStore()
    await writeForeignLock(store, KEY_A, await deadPid())
    const script = join(store.dir, 'child.mjs')
    const counter = join(store.dir, 'counter')
    await writeFile(script, CHILD)
    await writeFile(counter, '0')
    const storeModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'store.ts')).href
    const run = promisify(execFile)
    const children = [1, 2, 3].map(() =>
      run(process.execPath, ['--import', 'tsx', script, storeModule, store.dir, KEY_A, counter, '10'], { cwd: process.cwd() }),
    )
    await Promise.all(children)
    expect(await readFile(counter, 'utf8')).toBe('30')
    await expect(stat(lockFile(store, KEY_A))).rejects.toThrow(/ENOENT/)
  })
})
