import { access, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Store } from './store.js'
import { KEY_A, KEY_B, KEY_C, commitBytes, tempStore } from './test-helpers.js'

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false)
const daysAgo = (n: number): string => new Date(Date.now() - n * 24 * 60 * 60 * 1000).toISOString()
const listing = async (store: Store): Promise<string[]> =>
  (await Promise.all(['objects', 'entries', 'jobs', 'locks', 'tmp'].map(async (d) => (await readdir(join(store.dir, d))).map((f) => `${d}/${f}`)))).flat().sort()

/** An object no entry points at, written long enough ago to count as abandoned. */
async function oldOrphan(store: Store, bytes: string): Promise<string> {
  const e = await commitBytes(store, KEY_C, bytes)
  await store.removeEntry(KEY_C)
  const path = store.objectPath(e.digest, e.ext)
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
  await utimes(path, old, old)
  return path
}

describe('Store.gc', () => {
  it('removes unused entries with their objects and keeps what kept keys use', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'kept clip')
    const b = await commitBytes(store, KEY_B, 'unused clip, longer')
    const report = await store.gc({ keep: new Set([KEY_A]) })
    const bPath = store.objectPath(b.digest, b.ext)
    expect(report).toEqual({
      removedEntries: [KEY_B],
      removedObjects: [bPath],
      trashedEntries: [],
      trashedObjects: [],
      paidSpared: [],
      freedBytes: b.size,
      kept: 1,
      removedDerived: [],
    })
    expect(await store.getEntry(KEY_A)).toEqual(a)
    expect(await store.getEntry(KEY_B)).toBeUndefined()
    expect(await exists(bPath)).toBe(false)
  })

  it('never deletes an object a kept key references, even when an unused key shares it', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'same bytes')
    await commitBytes(store, KEY_B, 'same bytes')
    const report = await store.gc({ keep: new Set([KEY_A]) })
    expect(report).toMatchObject({ removedEntries: [KEY_B], removedObjects: [], trashedObjects: [], freedBytes: 0, kept: 1 })
    expect(await store.getEntry(KEY_A)).toEqual(a)
    expect((await store.verify()).corrupt).toEqual([])
  })

  it('removes nothing on a dry run but reports what it would', async () => {
    const store = await tempStore()
    await commitBytes(store, KEY_A, 'one')
    const b = await commitBytes(store, KEY_B, 'two')
    const orphan = await oldOrphan(store, 'orphan')
    const before = await listing(store)
    const report = await store.gc({ keep: new Set([KEY_A]), dryRun: true })
    expect(report.removedEntries).toEqual([KEY_B])
    expect(report.removedObjects).toEqual([store.objectPath(b.digest, b.ext)])
    // An object no entry names may be a paid clip whose entry was lost: trash, not delete.
    expect(report.trashedObjects).toEqual([orphan])
    expect(report.freedBytes).toBe(3)
    expect(await listing(store)).toEqual(before)
  })

  it('with keepDays, removes only unused entries older than that', async () => {
    const store = await tempStore()
    await commitBytes(store, KEY_A, 'old', { createdAt: daysAgo(40) })
    await commitBytes(store, KEY_B, 'recent', { createdAt: daysAgo(2) })
    const report = await store.gc({ keep: new Set(), keepDays: 30 })
    expect(report.removedEntries).toEqual([KEY_A])
    expect(report.kept).toBe(1)
    expect(await store.getEntry(KEY_B)).toBeDefined()
  })

  it('with maxSizeBytes, removes unused entries oldest first until the store fits', async () => {
    const store = await tempStore()
    const hundred = (c: string): string => c.repeat(100)
    await commitBytes(store, KEY_A, hundred('a'), { createdAt: daysAgo(3) })
    await commitBytes(store, KEY_B, hundred('b'), { createdAt: daysAgo(1) })
    await commitBytes(store, KEY_C, hundred('c'), { createdAt: daysAgo(2) })
    const report = await store.gc({ keep: new Set(), maxSizeBytes: 150 })
    expect(report.removedEntries).toEqual([KEY_A, KEY_C])
    expect(report.freedBytes).toBe(200)
    expect(await store.getEntry(KEY_B)).toBeDefined()
    // Already small enough: nothing to do.
    expect((await store.gc({ keep: new Set(), maxSizeBytes: 150 })).removedEntries).toEqual([])
  })

  it('trashes abandoned orphans, removes old temp files, and leaves fresh ones, journals and locks', async () => {
    const store = await tempStore()
    const orphan = await oldOrphan(store, 'abandoned')
    const fresh = await commitBytes(store, KEY_C, 'just committed, entry not yet written')
    await store.removeEntry(KEY_C)
    const oldTmp = store.tempPath('mp4')
    await writeFile(oldTmp, 'crashed download')
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
    await utimes(oldTmp, old, old)
    await store.writeJournal({ version: 1, key: KEY_A, provider: 'together', jobId: 'j1', spec: 's', createdAt: daysAgo(100) })
    const lock = await store.lock(KEY_B)

    const report = await store.gc({ keep: new Set() })
    expect(report.trashedObjects).toEqual([orphan])
    expect(report.removedObjects).toEqual([])
    expect(report.freedBytes).toBe('crashed download'.length)
    expect(await exists(orphan)).toBe(false)
    expect(await exists(oldTmp)).toBe(false)
    expect(await exists(store.objectPath(fresh.digest, fresh.ext))).toBe(true)
    expect(await store.readJournal(KEY_A)).toBeDefined()
    expect(await exists(join(store.dir, 'locks', `${KEY_B}.lock`))).toBe(true)
    await lock.release()
  })

  it('leaves an entry alone while a live build holds its key', async () => {
    const store = await tempStore()
    await commitBytes(store, KEY_A, 'being rebuilt')
    const lock = await store.lock(KEY_A)
    expect((await store.gc({ keep: new Set() })).removedEntries).toEqual([])
    await lock.release()
    expect((await store.gc({ keep: new Set() })).removedEntries).toEqual([KEY_A])
  })

  it('keeps the object a malformed entry still names', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'paid clip')
    const path = store.objectPath(a.digest, a.ext)
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
    await utimes(path, old, old)
    await writeFile(join(store.dir, 'entries', `${KEY_A}.json`), JSON.stringify({ ...a, width: 'wide' }))
    expect((await store.gc({ keep: new Set() })).removedObjects).toEqual([])
    expect(await exists(path)).toBe(true)
  })

  it('never removes a paid clip without includePaid; with it, moves it to the trash, and restore puts it back', async () => {
    const store = await tempStore()
    const paid = { preview: false, provider: 'together', jobId: 'job-7', cost: 0.5 }
    const a = await commitBytes(store, KEY_A, 'paid clip', paid)
    await commitBytes(store, KEY_B, 'a preview')
    const aPath = store.objectPath(a.digest, a.ext)

    const dry = await store.gc({ keep: new Set(), dryRun: true, includePaid: true })
    expect(dry).toMatchObject({ trashedEntries: [KEY_A], trashedObjects: [aPath], removedEntries: [KEY_B] })
    expect(await store.getEntry(KEY_A)).toEqual(a)

    const spared = await store.gc({ keep: new Set() })
    expect(spared).toMatchObject({ paidSpared: [KEY_A], trashedEntries: [], removedEntries: [KEY_B], kept: 1 })
    expect(await store.getEntry(KEY_A)).toEqual(a)

    const trashed = await store.gc({ keep: new Set(), includePaid: true })
    expect(trashed).toMatchObject({ trashedEntries: [KEY_A], trashedObjects: [aPath], removedObjects: [] })
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await exists(aPath)).toBe(false)

    expect(await store.restoreTrash()).toEqual({ entries: [KEY_A], objects: [`${a.digest}.mp4`], skipped: [] })
    expect(await store.getEntry(KEY_A)).toEqual(a)
    expect((await store.verify()).corrupt).toEqual([])
    expect(await readdir(join(store.dir, 'trash'))).toEqual([])
  })

  it('restore never overwrites an entry built again since, and empty-trash is the only delete', async () => {
    const store = await tempStore()
    const paid = { preview: false, provider: 'together', jobId: 'job-1' }
    await commitBytes(store, KEY_A, 'first paid clip', paid)
    await store.gc({ keep: new Set(), includePaid: true })
    const rebuilt = await commitBytes(store, KEY_A, 'second paid clip', { ...paid, jobId: 'job-2' })
    expect(await store.restoreTrash()).toMatchObject({ entries: [], skipped: [KEY_A] })
    expect(await store.getEntry(KEY_A)).toEqual(rebuilt)
    expect((await store.emptyTrash({ dryRun: true })).files).toHaveLength(1)
    expect((await store.emptyTrash()).files).toHaveLength(1)
    expect(await exists(join(store.dir, 'trash'))).toBe(false)
  })
})
