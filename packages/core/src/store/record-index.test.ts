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

type Rec = [string, string, string, string, number]
interface IndexFile {
  head: { version: number; records: Record<string, unknown> }
  texts: Record<string, unknown>
}

/** The index file's two lines: every key's stamps and object, then every key's record as text. */
async function readIndex(path: string): Promise<IndexFile & { rec: Rec; text: string }> {
  const [head, texts] = (await readFile(path, 'utf8')).split('\n').map((line) => JSON.parse(line) as unknown) as [IndexFile['head'], IndexFile['texts']]
  const rec = head.records[KEY_A] as Rec | undefined
  const text = texts[KEY_A]
  if (!rec || typeof text !== 'string') throw new Error('no record for KEY_A')
  return { head, texts, rec, text }
}

function writeIndex(path: string, records: Record<string, unknown>, texts: Record<string, unknown>, version = 3): Promise<void> {
  return writeFile(path, `${JSON.stringify({ version, records })}\n${JSON.stringify(texts)}`)
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
    const { rec, text } = await readIndex(indexPath)
    await writeIndex(indexPath, { [KEY_B]: rec }, { [KEY_B]: text })
    // The stamps do not match KEY_B's files: not even "has".
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_B, layout)).toBe(false)
    const entry = JSON.parse(text) as Record<string, unknown>
    for (const bad of [
      JSON.stringify({ ...entry, digest: 'not a digest' }),
      JSON.stringify({ ...entry, key: KEY_B }),
      JSON.stringify({ ...entry, size: (entry.size as number) + 1 }),
      '{ not json',
      42,
    ]) {
      await writeIndex(indexPath, { [KEY_A]: rec }, { [KEY_A]: bad })
      expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toBeUndefined()
    }
    await writeIndex(indexPath, { [KEY_A]: rec.slice(0, 4) }, { [KEY_A]: text })
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
    // Fields that would name a path outside the store are refused before any stat.
    for (const [at, value] of [[2, '../../etc/passwd'], [3, '../x'], [4, -1], [4, 1.5]] as const) {
      const edited: unknown[] = [...rec]
      edited[at] = value
      await writeIndex(indexPath, { [KEY_A]: edited }, { [KEY_A]: text })
      expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
      expect(await new Store(layout.dir).getEntry(KEY_A)).toEqual(entry)
    }
    await writeIndex(indexPath, { [KEY_A]: { e: rec[0], o: rec[1], entry } }, {})
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
    // An index of an older layout (one line, the text inside each record) is not read at all.
    await writeFile(indexPath, JSON.stringify({ version: 2, records: { [KEY_A]: [...rec, text] } }))
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(false)
  })

  it('says a key is there from the first line alone; a garbled second line then falls back to the entry file, and is rewritten', async () => {
    const { store, entry, layout, indexPath } = await indexedStore()
    const { head } = await readIndex(indexPath)
    await writeFile(indexPath, `${JSON.stringify(head)}\n{ garbled`)
    expect(RecordIndex.load(layout, ENTRIES).has(KEY_A, layout)).toBe(true)
    const fresh = new Store(store.dir)
    expect(await fresh.hasEntry(KEY_A)).toBe(true)
    expect(await fresh.getEntry(KEY_A)).toEqual(entry)
    expect(await fresh.hasEntry(KEY_B)).toBe(false)
    saveIndexes()
    expect((await readIndex(indexPath)).text).toBe(JSON.stringify(entry))
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toEqual(entry)
  })

  it('reads the records only from the file its first line came from', async () => {
    const { entry, layout, indexPath } = await indexedStore()
    const { head, text } = await readIndex(indexPath)
    const index = RecordIndex.load(layout, ENTRIES)
    // Another process saves its index in between, with a text for KEY_A that would pass every check.
    const forged = JSON.stringify({ ...entry, createdAt: '2001-01-01T00:00:00.000Z' })
    await writeIndex(indexPath, { ...head.records, [KEY_B]: head.records[KEY_A] }, { [KEY_A]: forged, [KEY_B]: text })
    expect(index.has(KEY_A, layout)).toBe(true)
    expect(index.lookup(KEY_A, layout)).toBeUndefined()
    // The same file read afresh is used whole.
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toEqual(JSON.parse(forged))
  })

  it('reads a first line longer than one read', async () => {
    const { entry, layout, indexPath } = await indexedStore()
    const { head, texts } = await readIndex(indexPath)
    // ~300 KB of other keys before KEY_A's: the head spans several 128 KB reads.
    const records: Record<string, unknown> = {}
    for (let i = 0; i < 1200; i++) records[i.toString(16).padStart(64, '0')] = ['x'.repeat(100), 'y'.repeat(100), 'f'.repeat(64), 'mp4', i]
    await writeIndex(indexPath, { ...records, ...head.records }, texts)
    expect((await readFile(indexPath, 'utf8')).indexOf('\n')).toBeGreaterThan(3 * 128 * 1024)
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toEqual(entry)
  })

  it('keeps the records it never parsed when it saves others', async () => {
    const { store, entry, layout, indexPath } = await indexedStore()
    // A second key recorded by a process that never asked for KEY_A's record.
    const other = await commitBytes(store, KEY_B, 'other bytes!')
    const second = new Store(store.dir)
    expect(await second.hasEntry(KEY_A)).toBe(true)
    expect(await second.getEntry(KEY_B)).toEqual(other)
    saveIndexes()
    const { head, texts } = await readIndex(indexPath)
    expect(Object.keys(head.records).sort()).toEqual([KEY_A, KEY_B].sort())
    expect(texts).toEqual({ [KEY_A]: JSON.stringify(entry), [KEY_B]: JSON.stringify(other) })
    expect(RecordIndex.load(layout, ENTRIES).lookup(KEY_A, layout)).toEqual(entry)
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
    expect((await readIndex(indexPath)).head).toMatchObject({ version: 3 })
  })

  it('drops the record of an entry file that is gone', async () => {
    const { store, indexPath } = await indexedStore()
    await rm(join(store.dir, 'entries', `${KEY_A}.json`))
    const fresh = new Store(store.dir)
    expect(await fresh.getEntry(KEY_A)).toBeUndefined()
    saveIndexes()
    const [head, texts] = (await readFile(indexPath, 'utf8')).split('\n').map((line) => JSON.parse(line) as { records?: unknown })
    expect(head?.records).toEqual({})
    expect(texts).toEqual({})
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
