import { mkdir, mkdtemp, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isVidspecError } from './errors.js'
import { lockfilePath, pinnedClip, pinnedIn, writeLockfile, type LockedClip, type Lockfile } from './lockfile.js'

// Every read of a file counted: a build's lookups must share one read of the lockfile.
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>()
  return { ...fsp, readFile: vi.fn(fsp.readFile) }
})
const readsOf = (path: string): number => vi.mocked(readFile).mock.calls.filter(([p]) => p === path).length

const KEY_A = 'a'.repeat(64)
const KEY_B = 'b'.repeat(64)

const clip = (key: string, digest: string): LockedClip => ({
  key,
  digest,
  ext: 'mp4',
  size: 1000,
  mime: 'video/mp4',
  provider: 'together',
  preview: false,
  model: 'minimax/hailuo-02',
  request: { model: 'minimax/hailuo-02', prompt: 'p' } as LockedClip['request'],
  media: {},
  deps: {},
})

// Every read counts as settled, so a second lookup may answer from the first read.
const SETTLED = () => Date.now() + 60_000

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-lockfile-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('pinnedClip', () => {
  it('answers no pin, and no error, for a project without a lockfile; a folder in its place is an error', async () => {
    expect(await pinnedClip(root, KEY_A)).toBeUndefined()
    await mkdir(lockfilePath(root))
    await expect(pinnedClip(root, KEY_A)).rejects.toMatchObject({ code: 'EISDIR' })
  })

  it("finds a key's pin, the first spec's when two specs share the key", async () => {
    const lock: Lockfile = { version: 1, specs: { 'a.video.ts': clip(KEY_A, '1'.repeat(64)), 'b.video.ts': clip(KEY_B, '2'.repeat(64)), 'c.video.ts': clip(KEY_A, '3'.repeat(64)) } }
    await writeFile(lockfilePath(root), JSON.stringify(lock))
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('1'.repeat(64))
    expect((await pinnedClip(root, KEY_B, SETTLED()))?.digest).toBe('2'.repeat(64))
    expect(await pinnedClip(root, 'c'.repeat(64), SETTLED())).toBeUndefined()
    expect(pinnedIn(lock, KEY_A)?.digest).toBe('1'.repeat(64))
  })

  it('sees every change to the lockfile after an earlier read: rewritten, edited in place, garbled, deleted', async () => {
    await writeLockfile(root, { version: 1, specs: { 'a.video.ts': clip(KEY_A, '1'.repeat(64)) } })
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('1'.repeat(64))

    // Replaced (a later build's atomic write, a git checkout).
    await writeLockfile(root, { version: 1, specs: { 'a.video.ts': clip(KEY_A, '2'.repeat(64)) } })
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('2'.repeat(64))

    // Edited in place to the same size, its mtime set back: the ctime still tells.
    const path = lockfilePath(root)
    const text = await readFile(path, 'utf8')
    const old = new Date(Date.now() - 3_600_000)
    await utimes(path, old, old)
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('2'.repeat(64))
    await new Promise((r) => setTimeout(r, 20))
    await writeFile(path, text.replaceAll('2'.repeat(64), '3'.repeat(64)))
    await utimes(path, old, old)
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('3'.repeat(64))

    // A merge conflict is an error naming the file, not the pin read before it.
    await writeFile(path, '<<<<<<< HEAD\n')
    const err = await pinnedClip(root, KEY_A, SETTLED()).catch((e: unknown) => e)
    expect(isVidspecError(err, 'CONFIG_INVALID')).toBe(true)
    expect((err as Error).message).toContain('vidspec.lock.json')

    await unlink(path)
    expect(await pinnedClip(root, KEY_A, SETTLED())).toBeUndefined()
  })

  it('reads the lockfile once for a build\'s lookups, all at once or one by one, and again once it changes', async () => {
    const path = lockfilePath(root)
    // Reads by the lookups alone (writeLockfile reads the file too, to leave an unchanged one alone).
    const lookups = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = readsOf(path)
      await fn()
      return readsOf(path) - before
    }
    await writeLockfile(root, { version: 1, specs: { 'a.video.ts': clip(KEY_A, '1'.repeat(64)), 'b.video.ts': clip(KEY_B, '2'.repeat(64)) } })
    let found: Array<LockedClip | undefined> = []
    expect(await lookups(async () => (found = await Promise.all(Array.from({ length: 50 }, (_, i) => pinnedClip(root, i % 2 ? KEY_B : KEY_A, SETTLED())))))).toBe(1)
    expect(found.map((c) => c?.digest[0])).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? '2' : '1')))
    expect(await lookups(async () => {
      for (let i = 0; i < 20; i++) expect((await pinnedClip(root, KEY_A, SETTLED()))?.key).toBe(KEY_A)
    })).toBe(0)

    await writeLockfile(root, { version: 1, specs: { 'a.video.ts': clip(KEY_A, '3'.repeat(64)) } })
    expect(await lookups(() => Promise.all(Array.from({ length: 10 }, () => pinnedClip(root, KEY_A, SETTLED()))))).toBe(1)
    expect((await pinnedClip(root, KEY_A, SETTLED()))?.digest).toBe('3'.repeat(64))

    // Just written (racy): shared by the lookups that come during its read, read again after.
    await writeLockfile(root, { version: 1, specs: { 'a.video.ts': clip(KEY_A, '4'.repeat(64)) } })
    expect(await lookups(() => Promise.all(Array.from({ length: 10 }, () => pinnedClip(root, KEY_A))))).toBe(1)
    expect(await lookups(async () => expect((await pinnedClip(root, KEY_A))?.digest).toBe('4'.repeat(64)))).toBe(1)
  })
})
