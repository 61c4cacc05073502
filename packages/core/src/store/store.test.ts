import { createHash } from 'node:crypto'
import { access, readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import type { JournalRecord } from '../types.js'
import { Store } from './store.js'
import { KEY_A, KEY_B, commitBytes, meta, tempStore } from './test-helpers.js'

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false)

describe('Store commit / getEntry', () => {
  it('round-trips a committed clip and moves the temp file into objects/', async () => {
    const store = await tempStore()
    const tmp = store.tempPath('mp4')
    await writeFile(tmp, 'clip bytes')
    const entry = await store.commit(tmp, meta(KEY_A, { jobId: 'job-1', cost: 0.5 }))

    expect(entry).toMatchObject({ version: 1, key: KEY_A, digest: sha('clip bytes'), size: 10, ext: 'mp4', jobId: 'job-1' })
    expect(await store.getEntry(KEY_A)).toEqual(entry)
    expect(await readFile(store.objectPath(entry.digest, 'mp4'), 'utf8')).toBe('clip bytes')
    expect(await exists(tmp)).toBe(false)
    const text = await readFile(join(store.dir, 'entries', `${KEY_A}.json`), 'utf8')
    expect(text).toBe(`${JSON.stringify(entry, null, 2)}\n`)
    expect(await readdir(join(store.dir, 'tmp'))).toEqual([])
  })

  it('names the object by the digest its writer hashed, unless the file is no longer the size it wrote', async () => {
    const store = await tempStore()
    const tmp = store.tempPath('mp4')
    await writeFile(tmp, 'clip bytes')
    // Vouched for by the writer: taken as given, the file is not read to name it.
    const vouched = 'ab'.repeat(32)
    expect(await store.commit(tmp, meta(KEY_A), { digest: vouched, size: 10 })).toMatchObject({ digest: vouched, size: 10 })
    // Grown since it was written: hashed as it is.
    const grown = store.tempPath('mp4')
    await writeFile(grown, 'clip bytes and more')
    expect(await store.commit(grown, meta(KEY_B), { digest: vouched, size: 10 })).toMatchObject({ digest: sha('clip bytes and more'), size: 19 })
  })

  it('is a miss for an unknown key', async () => {
    const store = await tempStore()
    expect(await store.getEntry(KEY_A)).toBeUndefined()
  })

  it('is a miss when the object was truncated', async () => {
    const store = await tempStore()
    const entry = await commitBytes(store, KEY_A, 'twelve bytes')
    await truncate(store.objectPath(entry.digest, entry.ext), 5)
    expect(await store.getEntry(KEY_A)).toBeUndefined()
  })

  it('is a miss when the object is missing', async () => {
    const store = await tempStore()
    const entry = await commitBytes(store, KEY_A, 'bytes')
    await unlink(store.objectPath(entry.digest, entry.ext))
    expect(await store.getEntry(KEY_A)).toBeUndefined()
  })

  it('is a miss, not an error, for a garbage, malformed or misfiled entry', async () => {
    const store = await tempStore()
    const entry = await commitBytes(store, KEY_A, 'bytes')
    const file = join(store.dir, 'entries', `${KEY_A}.json`)

    await writeFile(file, '{"version": 1, "key": ')
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    await writeFile(file, JSON.stringify({ ...entry, size: 'five' }))
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    await writeFile(file, JSON.stringify({ ...entry, digest: '../../etc/passwd' }))
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    await writeFile(join(store.dir, 'entries', `${KEY_B}.json`), JSON.stringify(entry))
    expect(await store.getEntry(KEY_B)).toBeUndefined()
    expect(await store.listEntries()).toEqual([])
  })

  it('stores identical bytes from two keys as one object', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'same bytes')
    const b = await commitBytes(store, KEY_B, 'same bytes')
    expect(a.digest).toBe(b.digest)
    expect(await readdir(join(store.dir, 'objects'))).toEqual([`${a.digest}.mp4`])
    expect(await store.getEntry(KEY_A)).toEqual(a)
    expect(await store.getEntry(KEY_B)).toEqual(b)
    expect(await readdir(join(store.dir, 'tmp'))).toEqual([])
  })

  it('replaces a damaged object of the right size instead of trusting it', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'good bytes')
    const path = store.objectPath(a.digest, a.ext)
    await writeFile(path, 'evil bytes')
    await commitBytes(store, KEY_B, 'good bytes')
    expect(await readFile(path, 'utf8')).toBe('good bytes')
  })

  it('refuses keys that are not safe file names', async () => {
    const store = await tempStore()
    const err = await store.getEntry('../escape').catch((e: unknown) => e)
    expect(isVidspecError(err, 'INTERNAL')).toBe(true)
    expect(() => store.objectPath('../x', 'mp4')).toThrow(/digest/)
    expect(() => store.tempPath('../mp4')).toThrow(/extension/)
  })

  it('requires an absolute directory', () => {
    expect(() => new Store('relative/.vidspec')).toThrow(/absolute/)
  })
})

describe('Store putEntry / listEntries / removeEntry', () => {
  it('records a second key for an object already stored', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    await store.putEntry({ ...a, key: KEY_B })
    expect(await store.getEntry(KEY_B)).toEqual({ ...a, key: KEY_B })
    expect((await store.listEntries()).map((e) => e.key).sort()).toEqual([KEY_A, KEY_B])
  })

  it('refuses an entry whose object is missing or of another size', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    const wrongSize = await store.putEntry({ ...a, key: KEY_B, size: 99 }).catch((e: unknown) => e)
    expect(isVidspecError(wrongSize, 'CACHE_CORRUPT')).toBe(true)
    const missing = await store.putEntry({ ...a, key: KEY_B, digest: sha('other') }).catch((e: unknown) => e)
    expect(isVidspecError(missing, 'CACHE_CORRUPT')).toBe(true)
    expect(await store.getEntry(KEY_B)).toBeUndefined()
  })

  it('removes an entry and leaves its object for gc', async () => {
    const store = await tempStore()
    const a = await commitBytes(store, KEY_A, 'bytes')
    await store.removeEntry(KEY_A)
    await store.removeEntry(KEY_A)
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await exists(store.objectPath(a.digest, a.ext))).toBe(true)
  })
})

describe('Store journal and spec state', () => {
  const rec: JournalRecord = {
    version: 1,
    key: KEY_A,
    provider: 'together',
    jobId: 'job-123',
    spec: 'src/hero.video.ts',
    createdAt: '2025-01-01T00:00:00.000Z',
  }

  it('round-trips, lists and deletes journal records', async () => {
    const store = await tempStore()
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    await store.writeJournal(rec)
    expect(await store.readJournal(KEY_A)).toEqual(rec)
    expect(await readFile(join(store.dir, 'jobs', `${KEY_A}.json`), 'utf8')).toBe(`${JSON.stringify(rec, null, 2)}\n`)
    expect(await store.listJournals()).toEqual([rec])
    await store.deleteJournal(KEY_A)
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.listJournals()).toEqual([])
  })

  it('writes an intent in place, replaces a half-written one, and puts the job id over the intent', async () => {
    const store = await tempStore()
    const path = join(store.dir, 'jobs', `${KEY_A}.json`)
    const { jobId: _, ...intent } = rec
    await store.writeJournal(intent)
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(intent, null, 2)}\n`)
    await store.writeJournal(rec)
    expect(await store.readJournal(KEY_A)).toEqual(rec)
    // A process stopped while creating the intent (its create never sent) leaves it empty or cut:
    // no record to a reader, and the next intent takes its place.
    await store.deleteJournal(KEY_A)
    await writeFile(path, '{"version":1,"ke')
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.listUncertain()).toEqual([])
    await store.writeJournal(intent)
    expect(await store.readJournal(KEY_A)).toEqual(intent)
    expect(await readdir(join(store.dir, 'tmp'))).toEqual([])
  })

  it('treats a garbled journal as absent and refuses to write a malformed one', async () => {
    const store = await tempStore()
    await writeFile(join(store.dir, 'jobs', `${KEY_A}.json`), 'not json')
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    const err = await store.writeJournal({ ...rec, jobId: '' }).catch((e: unknown) => e)
    expect(isVidspecError(err, 'INTERNAL')).toBe(true)
  })

  it('round-trips the last build of a spec', async () => {
    const store = await tempStore()
    const state = {
      spec: 'src/pages/hero.video.ts',
      key: KEY_A,
      request: { model: 'minimax/hailuo-02', prompt: 'a forest' },
      media: { './first.png': sha('png') },
      deps: { 'src/brand.ts': sha('brand') },
      builtAt: '2025-01-01T00:00:00.000Z',
    }
    expect(await store.readSpecState(state.spec)).toBeUndefined()
    await store.writeSpecState(state)
    expect(await store.readSpecState(state.spec)).toEqual(state)
    expect(await store.readSpecState('src/other.video.ts')).toBeUndefined()
  })

  it('keeps the record of a build from the same inputs, and replaces one from others or a garbled one', async () => {
    const store = await tempStore()
    const first = {
      spec: 'src/pages/hero.video.ts',
      key: KEY_A,
      request: { model: 'minimax/hailuo-02', prompt: 'a forest', seed: 1 },
      media: {},
      deps: { 'src/brand.ts': sha('brand') },
      builtAt: '2025-01-01T00:00:00.000Z',
    }
    const path = join(store.dir, 'specs', `${sha(first.spec)}.json`)
    await store.writeSpecState(first)
    const written = await stat(path)
    // The same inputs, the request's members in another order: the file is not touched.
    await store.writeSpecState({ ...first, request: { seed: 1, prompt: 'a forest', model: 'minimax/hailuo-02' }, builtAt: '2025-02-01T00:00:00.000Z' })
    expect(await store.readSpecState(first.spec)).toEqual(first)
    expect((await stat(path)).ino).toBe(written.ino)
    const edited = { ...first, deps: { 'src/brand.ts': sha('brand, edited') }, builtAt: '2025-03-01T00:00:00.000Z' }
    await store.writeSpecState(edited)
    expect(await store.readSpecState(first.spec)).toEqual(edited)
    await writeFile(path, '{ garbled')
    await store.writeSpecState(edited)
    expect(await store.readSpecState(first.spec)).toEqual(edited)
  })

  it('writes even when the store directory was never initialised', async () => {
    const store = new Store(join((await tempStore()).dir, 'nested', '.vidspec'))
    await store.writeJournal(rec)
    expect(await store.readJournal(KEY_A)).toEqual(rec)
  })
})

describe('Store uncertain creates', () => {
  it('lists markers, ignores garbage beside them, and forgets a cleared one', async () => {
    const store = await tempStore()
    const rec = (key: string) => ({ version: 1 as const, key, provider: 'together', spec: `${key.slice(0, 4)}.video.ts`, at: '2026-01-01T00:00:00Z', reason: 'connection dropped' })
    await store.markUncertain(rec(KEY_A))
    await store.markUncertain(rec(KEY_B))
    await writeFile(join(store.dir, 'jobs', `${'c'.repeat(64)}.uncertain.json`), '{ not json')
    expect((await store.listUncertain()).map((u) => u.key).sort()).toEqual([KEY_A, KEY_B].sort())
    await store.clearUncertain(KEY_A)
    expect((await store.listUncertain()).map((u) => u.key)).toEqual([KEY_B])
    // Journals and markers share jobs/ without being mistaken for each other.
    expect(await store.listJournals()).toEqual([])
  })
})

describe('Store write-ahead intents', () => {
  const intent: JournalRecord = {
    version: 1,
    key: KEY_A,
    provider: 'together',
    spec: 'hero.video.ts',
    createdAt: '2026-01-01T00:00:00.000Z',
    origin: { baseURL: 'https://api.together.ai/v2', account: 'key sha256:12345678' },
  }

  it('an intent without a job id is journaled, not a job to resume, and uncertain to every reader', async () => {
    const store = await tempStore()
    await store.writeJournal(intent)
    expect(await store.readJournal(KEY_A)).toEqual(intent)
    expect(await store.listJournals()).toEqual([intent])
    expect(await store.listJobs()).toEqual([])
    expect(await store.readUncertain(KEY_A)).toMatchObject({ key: KEY_A, spec: 'hero.video.ts', at: intent.createdAt })
    expect((await store.listUncertain()).map((u) => u.key)).toEqual([KEY_A])
    // The job id joins it: a job to resume, no longer uncertain.
    await store.writeJournal({ ...intent, jobId: 'job-9' })
    expect((await store.listJobs()).map((j) => j.jobId)).toEqual(['job-9'])
    expect(await store.readUncertain(KEY_A)).toBeUndefined()
  })

  it('forgetJob removes the journal and the marker of one key, and refuses while the key is locked', async () => {
    const store = await tempStore()
    await store.writeJournal({ ...intent, jobId: 'job-1' })
    await store.writeJournal({ ...intent, key: KEY_B })
    await store.markUncertain({ version: 1, key: KEY_B, provider: 'together', spec: 'b.video.ts', at: 'now', reason: 'lost' })
    const lock = await store.lock(KEY_A)
    expect(await store.forgetJob(KEY_A)).toEqual({ busy: true })
    expect(await store.readJournal(KEY_A)).toBeDefined()
    await lock.release()
    expect((await store.forgetJob(KEY_A)).journal?.jobId).toBe('job-1')
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.forgetJob(KEY_B)).toMatchObject({ journal: { key: KEY_B }, uncertain: { key: KEY_B } })
    expect(await store.listJournals()).toEqual([])
    expect(await store.listUncertain()).toEqual([])
  })
})
