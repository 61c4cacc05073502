import { access, readFile, truncate, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KEY_A, KEY_B, KEY_C, commitBytes, tempStore } from './test-helpers.js'

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false)

describe('Store.verify', () => {
  it('reports a sound store as sound', async () => {
    const store = await tempStore()
    await commitBytes(store, KEY_A, 'one')
    await commitBytes(store, KEY_B, 'two')
    expect(await store.verify()).toEqual({ checked: 2, ok: 2, corrupt: [], missing: [], orphans: [], removed: [], quarantined: [] })
  })

  it('finds a truncated object and, with repair, quarantines it (never deletes it) and drops its entry', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'twelve bytes')
    await commitBytes(store, KEY_B, 'fine')
    const path = store.objectPath(a.digest, a.ext)
    await truncate(path, 4)

    const check = await store.verify()
    expect(check).toMatchObject({ checked: 2, ok: 1, missing: [], orphans: [], removed: [] })
    expect(check.corrupt).toEqual([{ key: KEY_A, digest: a.digest, path, reason: expect.stringContaining('hash') }])
    expect(await exists(path)).toBe(true)

    const fixed = await store.verify({ repair: true })
    expect(fixed.removed).toEqual([join(store.dir, 'entries', `${KEY_A}.json`)])
    expect(fixed.quarantined).toHaveLength(1)
    expect((await readFile(fixed.quarantined[0] as string, 'utf8')).length).toBe(4)
    expect(await exists(path)).toBe(false)
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await store.getEntry(KEY_B)).toBeDefined()
    expect(await store.verify()).toMatchObject({ checked: 1, ok: 1, corrupt: [], missing: [] })
  })

  it('finds a bit-flipped object of the right size and takes out every entry that uses it', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'shared bytes')
    await commitBytes(store, KEY_B, 'shared bytes')
    const path = store.objectPath(a.digest, a.ext)
    const bytes = await readFile(path)
    bytes[3] = (bytes[3] ?? 0) ^ 0x01
    await writeFile(path, bytes)

    const report = await store.verify({ repair: true })
    expect(report.corrupt.map((c) => c.key).sort()).toEqual([KEY_A, KEY_B])
    expect(await exists(path)).toBe(false)
    expect(report.quarantined).toHaveLength(1)
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await store.getEntry(KEY_B)).toBeUndefined()
    expect(await store.listEntries()).toEqual([])
  })

  it('reports an entry whose object is missing and removes it with repair', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    const path = store.objectPath(a.digest, a.ext)
    await unlink(path)
    expect((await store.verify()).missing).toEqual([{ key: KEY_A, digest: a.digest, path }])
    await store.verify({ repair: true })
    expect(await exists(join(store.dir, 'entries', `${KEY_A}.json`))).toBe(false)
    expect((await store.verify()).missing).toEqual([])
  })

  it('reports an entry that disagrees with its object about the size', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    await writeFile(join(store.dir, 'entries', `${KEY_A}.json`), JSON.stringify({ ...a, size: 999 }))
    const report = await store.verify({ repair: true })
    expect(report.corrupt).toEqual([expect.objectContaining({ key: KEY_A, reason: expect.stringContaining('999') })])
    // The object itself is sound: only the record goes.
    expect(await exists(store.objectPath(a.digest, a.ext))).toBe(true)
    expect(await exists(join(store.dir, 'entries', `${KEY_A}.json`))).toBe(false)
  })

  it('reports an unreadable entry file and removes it with repair', async () => {
    const store = await tempStore()
    const file = join(store.dir, 'entries', `${KEY_C}.json`)
    await writeFile(file, '{ nope')
    const report = await store.verify()
    expect(report.corrupt).toEqual([{ key: KEY_C, path: file, reason: expect.stringContaining('JSON') }])
    expect(await exists(file)).toBe(true)
    await store.verify({ repair: true })
    expect(await exists(file)).toBe(false)
  })

  it('reports orphans without removing them, and clears only old temp files', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    await store.removeEntry(KEY_A)
    const oldTmp = store.tempPath('mp4')
    const newTmp = store.tempPath('mp4')
    await writeFile(oldTmp, 'partial download')
    await writeFile(newTmp, 'download in progress')
    const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
    await utimes(oldTmp, hoursAgo, hoursAgo)

    const report = await store.verify({ repair: true })
    const path = store.objectPath(a.digest, a.ext)
    expect(report.orphans).toEqual([{ digest: a.digest, path, size: 5 }])
    expect(report.removed).toEqual([oldTmp])
    expect(await exists(path)).toBe(true)
    expect(await exists(newTmp)).toBe(true)
  })
})
