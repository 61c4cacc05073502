import { existsSync } from 'node:fs'
import { readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DERIVED, ENTRIES, RecordIndex, saveIndexes } from './record-index.js'
import { StoreLayout } from './layout.js'
import { Store } from './store.js'
import { KEY_A, KEY_B, commitBytes, commitDerivedBytes, tempStore } from './test-helpers.js'

/** A store whose index has been written by a first process's getEntry of KEY_A. */
async function indexedStore(bytes = 'twelve bytes') {
  const store = await tempStore()
  const entry = await commitBytes(store, KEY_A, bytes)
  const first = new Store(store.dir)
  expect(await first.getEntry(KEY_A)).toEqual(entry)
  const indexPath = join(store.dir, 'entry-index.json')
  saveIndexes()
  expect(existsSync(indexPath)).toBe(true)
  const layout = new StoreLayout(store.dir)
  return { store, entry, layout, indexPath }
}

describe('RecordIndex (entries)', () => {
  it('answers a key whose entry file and object are untouched, without the entry file being read', async () => {
    const { entry, layout } = await indexedStore()
    const index = RecordIndex.load(layout, ENTRIES)
    expect(index.lookup(KEY_A, layout)).toEqual(entry)
    expect(index.lookup(KEY_B, layout)).toBeUndefined()
  })

  it('misses when the entry file was rewritten, even with the same bytes and its old mtime', async () => {
    const { layout } = await indexedStore()
    const path = layout.entryPath(KEY_A)
    const text = await readFile(path, 'utf8')
    await writeFile(path, text)
    const old = new Date('2020-01-01T00:00:00Z')
    await utimes(path, old, old)
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toBeUndefined()
  })

  it('misses when the object was rewritten in place, same size, with its old mtime', async () => {
    const { entry, layout } = await indexedStore()
    const path = layout.objectPath(entry.digest, entry.ext)
    await writeFile(path, 'TWELVE BYTES')
    const old = new Date('2020-01-01T00:00:00Z')
    await utimes(path, old, old)
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toBeUndefined()
  })

  it('misses when the entry file or the object is gone', async () => {
    const a = await indexedStore()
    await rm(a.layout.entryPath(KEY_A))
    expect(RecordIndex.load(a.layout, ENTRIES).lookup(KEY_A, a.layout)).toBeUndefined()
    const b = await indexedStore()
    await rm(b.layout.objectPath(b.entry.digest, b.entry.ext))
    expect(RecordIndex.load(b.layout, ENTRIES).lookup(KEY_A, b.layout)).toBeUndefined()
  })

  it('ignores a record that names another key, is not an entry, or disagrees with its own fields', async () => {
    const { layout, indexPath } = await indexedStore()
    const file = JSON.parse(await readFile(indexPath, 'utf8')) as { records: Record<string, [string, string, string, string, number, string]> }
    const rec = file.records[KEY_A]
    if (!rec) throw new Error('no record for KEY_A')
    const write = async (records: Record<string, unknown>) => writeFile(indexPath, JSON.stringify({ ...file, records }))
    await write({ [KEY_B]: rec })
    // The stamps do not match KEY_B's files: not even "has".
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_B, layout)).toBe(false)
    const entry = JSON.parse(rec[5]) as Record<string, unknown>
    for (const bad of [
      JSON.stringify({ ...entry, digest: 'not a digest' }),
      JSON.stringify({ ...entry, key: KEY_B }),
      JSON.stringify({ ...entry, size: (entry.size as number) + 1 }),
      '{ not json',
    ]) {
      await write({ [KEY_A]: [...rec.slice(0, 5), bad] })
      expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toBeUndefined()
    }
    await write({ [KEY_A]: rec.slice(0, 5) })
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
    // Fields that would name a path outside the store are refused before any stat.
    for (const [at, value] of [[2, '../../etc/passwd'], [3, '../x'], [4, -1], [4, 1.5]] as const) {
      const edited = [...rec]
      edited[at] = value
      await write({ [KEY_A]: edited })
      expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
      expect(await new Store(layout.dir).getEntry(KEY_A)).toEqual(JSON.parse(rec[5]))
    }
    await write({ [KEY_A]: { e: rec[0], o: rec[1], entry } })
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
  })

  it('says a key is there without parsing its record; a garbled record then falls back to the entry file', async () => {
    const { store, entry, layout, indexPath } = await indexedStore()
    const file = JSON.parse(await readFile(indexPath, 'utf8')) as { records: Record<string, [string, string, string, string, number, string]> }
    const rec = file.records[KEY_A]
    if (!rec) throw new Error('no record for KEY_A')
    rec[5] = '{ garbled'
    await writeFile(indexPath, JSON.stringify(file))
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(true)
    const fresh = new Store(store.dir)
    expect(await fresh.hasEntry(KEY_A)).toBe(true)
    expect(await fresh.getEntry(KEY_A)).toEqual(entry)
    expect(await fresh.hasEntry(KEY_B)).toBe(false)
  })
})

describe('Store.getEntry with an index', () => {
  it('still quarantines an object corrupted after it was indexed', async () => {
    const { store, entry } = await indexedStore()
    const path = store.objectPath(entry.digest, entry.ext)
    await writeFile(path, 'TWELVE BYTES')
    const fresh = new Store(store.dir)
    expect(await fresh.getEntry(KEY_A)).toBeUndefined()
    expect(existsSync(path)).toBe(false)
  })

  it('gives the right answers from a garbage index, and rewrites it', async () => {
    const { store, entry, indexPath } = await indexedStore()
    await writeFile(indexPath, '{ not json')
    const fresh = new Store(store.dir)
    expect(await fresh.getEntry(KEY_A)).toEqual(entry)
    saveIndexes()
    expect(JSON.parse(await readFile(indexPath, 'utf8'))).toMatchObject({ version: 2 })
  })

  it('drops the record of an entry file that is gone', async () => {
    const { store, indexPath } = await indexedStore()
    await rm(join(store.dir, 'entries', `${KEY_A}.json`))
    const fresh = new Store(store.dir)
    expect(await fresh.getEntry(KEY_A)).toBeUndefined()
    saveIndexes()
    expect(JSON.parse(await readFile(indexPath, 'utf8')).records).toEqual({})
  })

  it('follows an entry file replaced after indexing (the entry files are the truth)', async () => {
    const { store } = await indexedStore()
    const other = await commitBytes(store, KEY_A, 'other bytes!')
    const fresh = new Store(store.dir)
    expect(await fresh.getEntry(KEY_A)).toEqual(other)
  })
})

describe('Store.getDerived with an index', () => {
  const KEY_R = 'r1'.repeat(32)
  /** A poster record whose object holds `bytes`, read once by another store so the index holds it. */
  async function indexedDerived(bytes = 'poster bytes') {
    const store = await tempStore()
    const record = await commitDerivedBytes(store, KEY_R, 'f'.repeat(64), bytes)
    expect(await new Store(store.dir).getDerived(KEY_R)).toEqual(record)
    saveIndexes()
    const layout = new StoreLayout(store.dir)
    expect(RecordIndex.load(layout, DERIVED).lookup(KEY_R, layout)).toEqual(record)
    return { store, record, layout }
  }

  it('answers from the index without reading the record file', async () => {
    const { store, record, layout } = await indexedDerived()
    // Unreadable, yet unchanged in its stamp: only the index can have answered.
    const { chmod } = await import('node:fs/promises')
    await chmod(layout.derivedPath(KEY_R), 0o000)
    try {
      if (process.getuid?.() !== 0) expect(await new Store(store.dir).getDerived(KEY_R)).toEqual(record)
    } finally {
      await chmod(layout.derivedPath(KEY_R), 0o644)
    }
  })

  it('still quarantines an object corrupted after it was indexed (same size, old mtime)', async () => {
    const { store, record } = await indexedDerived()
    const path = store.objectPath(record.digest, record.ext)
    await writeFile(path, 'POSTER BYTES')
    const old = new Date('2020-01-01T00:00:00Z')
    await utimes(path, old, old)
    const fresh = new Store(store.dir)
    expect(await fresh.getDerived(KEY_R)).toBeUndefined()
    expect(existsSync(path)).toBe(false)
  })

  it('misses when the record was removed or replaced', async () => {
    const { store, layout } = await indexedDerived()
    await store.removeDerived(KEY_R)
    expect(await new Store(store.dir).getDerived(KEY_R)).toBeUndefined()
    expect(RecordIndex.load(layout, DERIVED).lookup(KEY_R, layout)).toBeUndefined()
  })
})
