import { access, mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isVidspecError, type VidspecError } from '../errors.js'
import type { Entry } from '../types.js'
import { StoreLayout } from './layout.js'
import { quarantineObject } from './quarantine.js'
import { statStamp } from './stamp.js'
import type { Store } from './store.js'
import { KEY_A, KEY_B, commitBytes, tempStore } from './test-helpers.js'

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false)
const failure = (p: Promise<unknown>) => p.then(() => expect.unreachable(), (err: VidspecError) => err)

/** Flips one byte in place and puts the mtime back: same size, same mtime, only ctime moves. */
async function flipByte(path: string, at = 3): Promise<void> {
  const before = await stat(path)
  const bytes = await readFile(path)
  bytes[at] = (bytes[at] ?? 0) ^ 0x01
  await writeFile(path, bytes)
  await utimes(path, before.atime, before.mtime)
}

/** Makes the stored stamp vouch for the file as it is now: what a hash-on-the-way-out must still catch. */
async function forgeStamp(store: Store, e: Entry): Promise<void> {
  const path = store.objectPath(e.digest, e.ext)
  await writeFile(join(store.dir, 'stamps', `${e.digest}.${e.ext}.json`), JSON.stringify(statStamp(path)))
}

async function quarantined(store: Store): Promise<string[]> {
  return (await readdir(join(store.dir, 'quarantine')).catch(() => [])).filter((n) => !n.endsWith('.json'))
}

describe('Store: nothing corrupt leaves it', () => {
  it('a hit costs a stat while the stamp matches: the object is not read again', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'paid clip bytes', { preview: false, provider: 'together', jobId: 'job-1' })
    // Same size, same mtime, but ctime moved: the stamp no longer matches, so getEntry re-hashes.
    await forgeStamp(store, e)
    await writeFile(store.objectPath(e.digest, e.ext), 'PAID CLIP BYTES')
    await forgeStamp(store, e)
    // A forged stamp is trusted by the no-op check (that is what makes it cheap) ...
    expect(await store.getEntry(KEY_A)).toBeDefined()
    // ... but never by a copy out of the store.
    const err = await failure(store.copyOut(e, join(store.dir, '..', 'out.mp4')))
    expect(isVidspecError(err, 'CACHE_CORRUPT')).toBe(true)
    expect(await exists(join(store.dir, '..', 'out.mp4'))).toBe(false)
  })

  it('a byte flipped with the mtime put back is a miss: quarantined, entry dropped, job journaled again', async () => {
    const store = await tempStore()
    const told: string[] = []
    store.onCorrupt = (err) => told.push(err.message)
    const e = await commitBytes(store, KEY_A, 'paid clip bytes', { preview: false, provider: 'together', jobId: 'job-1' })
    await flipByte(store.objectPath(e.digest, e.ext))

    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await exists(store.objectPath(e.digest, e.ext))).toBe(false)
    const [moved] = await quarantined(store)
    expect(moved).toMatch(new RegExp(`^${e.digest}\\.mp4\\.`))
    // The bytes are kept (never deleted), the entry is gone, the paid job can be downloaded again.
    expect((await readFile(join(store.dir, 'quarantine', moved as string))).length).toBe(e.size)
    expect(await store.listEntries()).toEqual([])
    expect(await store.readJournal(KEY_A)).toMatchObject({ key: KEY_A, jobId: 'job-1', provider: 'together' })
    expect(told).toEqual([expect.stringMatching(/CACHE_CORRUPT|corrupt.*quarantine.*downloads it again from job job-1 without paying again/)])
  })

  it('readers that find one object bad at the same time get the one quarantine\'s error, and it is moved once', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'paid clip bytes, read by several at once', { preview: false, provider: 'together', jobId: 'job-1' })
    await flipByte(store.objectPath(e.digest, e.ext))
    const errors = await Promise.all([1, 2, 3, 4].map(() => store.checkedPath(e, { trust: 'hash' }).then(() => undefined, (err: VidspecError) => err.message)))
    expect(new Set(errors).size).toBe(1)
    expect(errors[0]).toMatch(/is corrupt .*it was moved to .*quarantine/)
    expect(await quarantined(store)).toHaveLength(1)
  })

  it('a paid clip without a job id is marked uncertain, so no process pays for it again unasked', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'paid clip bytes', { preview: false, provider: 'together' })
    await flipByte(store.objectPath(e.digest, e.ext))
    const err = await failure(store.readOut(e, { spec: 'hero.video.ts' }))
    expect(err.code).toBe('CACHE_CORRUPT')
    expect(err.message).toMatch(/^hero\.video\.ts: .*--retry-uncertain/)
    expect(await store.readUncertain(KEY_A)).toMatchObject({ key: KEY_A })
    expect(await store.readJournal(KEY_A)).toBeUndefined()
  })

  it('readOut hashes what it hands out, read whole at once or through the thread pool (over 1 MB)', async () => {
    const store = await tempStore()
    const small = await commitBytes(store, KEY_A, 'a poster, read synchronously')
    const big = await commitBytes(store, KEY_B, 'x'.repeat(1.5 * 1024 * 1024))
    expect((await store.readOut(small)).toString()).toBe('a poster, read synchronously')
    expect((await store.readOut(big)).length).toBe(1.5 * 1024 * 1024)
    for (const e of [small, big]) {
      await flipByte(store.objectPath(e.digest, e.ext))
      await expect(store.readOut(e)).rejects.toMatchObject({ code: 'CACHE_CORRUPT' })
    }
    expect(await quarantined(store)).toHaveLength(2)
  })

  it('copyOut writes the whole clip when it is sound, and nothing (not even a temp file) when it is not', async () => {
    const store = await tempStore()
    const good = await commitBytes(store, KEY_A, 'good bytes')
    const bad = await commitBytes(store, KEY_B, 'bad bytes!')
    const out = join(store.dir, '..')
    await store.copyOut(good, join(out, 'good.mp4'))
    expect(await readFile(join(out, 'good.mp4'), 'utf8')).toBe('good bytes')

    await flipByte(store.objectPath(bad.digest, bad.ext), 0)
    await expect(store.copyOut(bad, join(out, 'bad.mp4'))).rejects.toMatchObject({ code: 'CACHE_CORRUPT' })
    expect((await readdir(out)).filter((n) => n.startsWith('bad'))).toEqual([])
    expect(await quarantined(store)).toHaveLength(1)
  })

  it('a truncated object is caught by size alone and quarantined', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'twelve bytes')
    await writeFile(store.objectPath(e.digest, e.ext), 'twelve')
    await expect(store.checkedPath(e)).rejects.toMatchObject({ code: 'CACHE_CORRUPT' })
    expect(await quarantined(store)).toHaveLength(1)
  })

  it("'process' trust hashes once per process and again after any change to the file", async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'clip')
    const ref = { digest: e.digest, ext: e.ext }
    expect(await store.checkedPath(ref, { trust: 'process' })).toBe(store.objectPath(e.digest, e.ext))
    await flipByte(store.objectPath(e.digest, e.ext), 0)
    await expect(store.checkedPath(ref, { trust: 'process' })).rejects.toMatchObject({ code: 'CACHE_CORRUPT' })
  })

  it('an entry whose size disagrees with a sound object drops the entry and keeps the object in place', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'bytes', { preview: false, provider: 'together', jobId: 'job-9' })
    await writeFile(join(store.dir, 'entries', `${KEY_A}.json`), JSON.stringify({ ...e, size: 999 }))
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await exists(store.objectPath(e.digest, e.ext))).toBe(true)
    expect(await store.readJournal(KEY_A)).toMatchObject({ jobId: 'job-9' })
  })

  it('a quarantine judged before another process repaired the clip leaves the good bytes and entry alone', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'good again', { preview: false, provider: 'together', jobId: 'job-2' })
    const layout = new StoreLayout(store.dir)
    const q = await quarantineObject(layout, { digest: e.digest, ext: e.ext, reason: 'judged corrupt a moment ago' })
    expect(q).toMatchObject({ path: undefined, entries: [] })
    expect(await store.getEntry(KEY_A)).toEqual(e)
    expect(await store.readJournal(KEY_A)).toBeUndefined()
  })
})

describe('copyOut into a folder written before', () => {
  it('leaves a target that already holds the bytes, and rewrites one that does not', async () => {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'the clip bytes')
    const target = join(store.dir, '..', 'out.mp4')
    await store.copyOut(e, target)
    const first = await stat(target)
    await store.copyOut(e, target)
    expect((await stat(target)).ino).toBe(first.ino)
    await writeFile(target, 'the clip bytez')
    await store.copyOut(e, target)
    expect(await readFile(target, 'utf8')).toBe('the clip bytes')
    // A bad object is still refused even when an old good copy sits in the folder: the copy is what counts.
    await flipByte(store.objectPath(e.digest, e.ext))
    await writeFile(target, 'stale')
    expect(isVidspecError(await failure(store.copyOut(e, target)), 'CACHE_CORRUPT')).toBe(true)
  })
})

describe('copyOut with the out folder’s stamps (a no-op build --out)', () => {
  /** A store with one clip, copied once into an out folder with its stamps (saved). */
  async function shipped() {
    const store = await tempStore()
    const e = await commitBytes(store, KEY_A, 'the clip bytes')
    const outDir = join(store.dir, '..', 'out')
    await mkdir(outDir, { recursive: true })
    const target = join(outDir, 'clip.mp4')
    const known = store.outStamps(outDir)
    await store.copyOut(e, target, { known })
    known.save()
    return { store, e, outDir, target, known }
  }

  it('keeps an untouched output as it is, and rewrites one edited in place to the same size with its old mtime', async () => {
    const { store, e, outDir, target } = await shipped()
    const written = await stat(target)
    // Nothing of the out folder's bookkeeping lands in the folder that ships.
    expect(await readdir(outDir)).toEqual(['clip.mp4'])

    const second = store.outStamps(outDir)
    expect(second.holds(target, e.digest)).toBe(true)
    expect(second.holds(target, 'f'.repeat(64))).toBe(false)
    await store.copyOut(e, target, { known: second })
    expect((await stat(target)).ino).toBe(written.ino)

    await flipByte(target)
    const third = store.outStamps(outDir)
    expect(third.holds(target, e.digest)).toBe(false)
    await store.copyOut(e, target, { known: third })
    expect(await readFile(target, 'utf8')).toBe('the clip bytes')
    expect(third.holds(target, e.digest)).toBe(true)
  })

  it('never vouches for an output whose store object went bad and whose copy was touched: CACHE_CORRUPT, and forgotten', async () => {
    const { store, e, target, known } = await shipped()
    await flipByte(store.objectPath(e.digest, e.ext))
    await writeFile(target, 'stale')
    expect(isVidspecError(await failure(store.copyOut(e, target, { known })), 'CACHE_CORRUPT')).toBe(true)
    expect(known.holds(target, e.digest)).toBe(false)
  })

  it('ignores a stamps file written for another folder or unreadable', async () => {
    const { store, e, outDir, target } = await shipped()
    const memo = join(store.dir, 'memo')
    const [file] = (await readdir(memo)).filter((f) => f.startsWith('out-'))
    if (!file) throw new Error('no out stamps written')
    const text = await readFile(join(memo, file), 'utf8')
    await writeFile(join(memo, file), text.replace(JSON.stringify(outDir), JSON.stringify(`${outDir}-other`)))
    expect(store.outStamps(outDir).holds(target, e.digest)).toBe(false)
    await writeFile(join(memo, file), '{ not json')
    expect(store.outStamps(outDir).holds(target, e.digest)).toBe(false)
  })
})
