import { createHash } from 'node:crypto'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeLockfile, lockedClip, type Lockfile } from '../lockfile.js'
import { silentLogger, type Logger } from '../logger.js'
import { RemoteCache } from '../remote/cache.js'
import type { ResolvedRemote } from '../remote/config.js'
import { remotePaths } from '../remote/layout.js'
import type { S3Bucket } from '../remote/s3.js'
import type { ProbedClip } from '../runner/runner.js'
import { KEY_A, KEY_B, commitBytes, meta, tempStore } from '../store/test-helpers.js'
import type { Store } from '../store/index.js'
import type { Entry } from '../types.js'
import { ClipCache, type ClipWant } from './clip-cache.js'

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex')
const PROBED: ProbedClip = { width: 160, height: 90, duration: 1, fps: 24, codec: 'h264', mime: 'video/mp4', ext: 'mp4' }
const want = (key: string): ClipWant => ({ key, spec: 'src/hero.video.ts', request: meta(key).request })
const noLock: Lockfile = { version: 1, specs: {} }

/** An in-memory bucket: what RemoteCache asks of S3, and a count of the downloads it made. */
function fakeBucket(): { bucket: S3Bucket; objects: Map<string, Buffer>; downloads: string[] } {
  const objects = new Map<string, Buffer>()
  const downloads: string[] = []
  const meta = { etag: '"1"', lastModified: undefined, date: undefined }
  const bucket = {
    where: 's3://fake/clips',
    async getJson(path: string) {
      const bytes = objects.get(path)
      if (!bytes) return undefined
      try {
        return { ...meta, parsed: true, value: JSON.parse(bytes.toString('utf8')) as unknown }
      } catch {
        return { ...meta, parsed: false, value: undefined }
      }
    },
    async head(path: string) {
      const bytes = objects.get(path)
      return bytes ? { ...meta, size: bytes.length } : undefined
    },
    async download(path: string, file: string) {
      downloads.push(path)
      const bytes = objects.get(path)
      if (!bytes) return undefined
      await writeFile(file, bytes)
      return { digest: sha(bytes), size: bytes.length }
    },
    close() {},
  }
  return { bucket: bucket as unknown as S3Bucket, objects, downloads }
}

const REMOTE: ResolvedRemote = { mode: 'read-only', s3: { bucket: 'fake', prefix: 'clips', region: 'us-east-1', forcePathStyle: true } }

/** Puts a clip in the fake bucket the way `push` would: object, then entry. */
function share(objects: Map<string, Buffer>, key: string, bytes: string, entry: Partial<Entry> = {}): Entry {
  const buf = Buffer.from(bytes)
  const e: Entry = { ...meta(key, { provider: 'together', preview: false }), version: 1, digest: sha(buf), size: buf.length, ...entry }
  objects.set(remotePaths.object(e.digest, e.ext), buf)
  objects.set(remotePaths.entry(key), Buffer.from(JSON.stringify(e)))
  return e
}

async function rig(opts: { logger?: Logger } = {}) {
  const store = await tempStore()
  const root = join(store.dir, '..')
  const fake = fakeBucket()
  const logger = opts.logger ?? silentLogger
  const remote = new RemoteCache({ remote: REMOTE, store, logger, jobTimeoutMs: 1000, poll: { intervalMs: 10, maxIntervalMs: 10 }, bucket: fake.bucket })
  const cache = new ClipCache({ store, root, remote, shared: true, probe: async () => PROBED, logger })
  return { store, root, cache, remote, ...fake }
}

/** A paid clip approved in the lockfile whose object is in the store but whose entry is not (a restored cache folder). */
async function approvedObjectOnly(store: Store, root: string, key: string, bytes: string): Promise<Lockfile> {
  const entry = await commitBytes(store, key, bytes, { provider: 'together', preview: false })
  await store.removeEntry(key)
  const lock: Lockfile = { version: 1, specs: { 'src/hero.video.ts': lockedClip(entry, {}, {}) } }
  await writeLockfile(root, lock)
  return lock
}

const listing = async (store: Store) => ({
  entries: (await readdir(join(store.dir, 'entries'))).sort(),
  objects: (await readdir(join(store.dir, 'objects'))).sort(),
})

describe('ClipCache', () => {
  it('answers from the local store first, without reading the lockfile or the bucket', async () => {
    const { store, cache, objects, downloads } = await rig()
    const entry = await commitBytes(store, KEY_A, 'local clip')
    share(objects, KEY_A, 'a different remote clip')
    expect(await cache.probe(want(KEY_A))).toBe('local')
    expect(await cache.obtain(want(KEY_A))).toEqual({ entry, tier: 'local' })
    expect(downloads).toEqual([])
  })

  it("restores the lockfile's approved object after hashing it against the pin", async () => {
    const { store, root, cache } = await rig()
    const lock = await approvedObjectOnly(store, root, KEY_A, 'approved clip')
    expect(await cache.probe(want(KEY_A), { lockfile: lock })).toBe('lockfile')
    const got = await cache.obtain(want(KEY_A))
    expect(got?.tier).toBe('lockfile')
    expect(got?.entry).toMatchObject({ key: KEY_A, digest: sha('approved clip'), provider: 'together', preview: false, width: 160 })
    expect(await store.getEntry(KEY_A)).toEqual(got?.entry)
  })

  it('never records an approved object whose bytes do not match its pin', async () => {
    const warned: string[] = []
    const { store, root, cache } = await rig({ logger: { ...silentLogger, warn: (m) => warned.push(m) } })
    const lock = await approvedObjectOnly(store, root, KEY_A, 'approved clip')
    const pin = Object.values(lock.specs)[0]
    // Same size, one byte flipped: only a hash tells.
    await writeFile(store.objectPath(pin?.digest ?? '', 'mp4'), 'approved clop')
    expect(await cache.obtain(want(KEY_A), { lockfile: lock })).toBeUndefined()
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(warned.join('\n')).toMatch(/approved clip in the cache could not be used/)
  })

  it('fetches a remote clip into the store, verified', async () => {
    const { store, cache, objects } = await rig()
    const shared = share(objects, KEY_A, 'remote clip')
    expect(await cache.probe(want(KEY_A), { lockfile: noLock })).toBe('remote')
    const got = await cache.obtain(want(KEY_A), { lockfile: noLock })
    expect(got?.tier).toBe('remote')
    expect(got?.entry.digest).toBe(shared.digest)
    expect(await store.getEntry(KEY_A)).toMatchObject({ digest: shared.digest })
  })

  it('refuses remote bytes that do not match their entry, and then no longer probes the key as remote', async () => {
    const { store, cache, objects } = await rig()
    const shared = share(objects, KEY_A, 'remote clip')
    objects.set(remotePaths.object(shared.digest, 'mp4'), Buffer.from('remote clop'))
    // Same size: only the download's hash can tell, so the probe cannot yet.
    expect(await cache.probe(want(KEY_A), { lockfile: noLock })).toBe('remote')
    expect(await cache.obtain(want(KEY_A), { lockfile: noLock })).toBeUndefined()
    expect(await store.getEntry(KEY_A)).toBeUndefined()
    expect(await cache.probe(want(KEY_A), { lockfile: noLock })).toBeUndefined()
  })

  it('probes a remote entry whose object is missing or the wrong size as absent, as obtain would', async () => {
    const { cache, objects } = await rig()
    const a = share(objects, KEY_A, 'remote clip')
    objects.delete(remotePaths.object(a.digest, 'mp4'))
    const b = share(objects, KEY_B, 'remote clip b')
    objects.set(remotePaths.object(b.digest, 'mp4'), Buffer.from('short'))
    expect(await cache.probe(want(KEY_A), { lockfile: noLock })).toBeUndefined()
    expect(await cache.probe(want(KEY_B), { lockfile: noLock })).toBeUndefined()
    expect(await cache.obtain(want(KEY_A), { lockfile: noLock })).toBeUndefined()
    expect(await cache.obtain(want(KEY_B), { lockfile: noLock })).toBeUndefined()
  })

  it('probe has no side effects: no entry written, no object restored, nothing downloaded', async () => {
    const { store, root, cache, objects, downloads } = await rig()
    const lock = await approvedObjectOnly(store, root, KEY_A, 'approved clip')
    share(objects, KEY_B, 'remote clip')
    const before = await listing(store)
    expect(await cache.probe(want(KEY_A))).toBe('lockfile')
    expect(await cache.probe(want(KEY_B), { lockfile: lock })).toBe('remote')
    expect(await cache.probe(want('c'.repeat(64)), { lockfile: lock })).toBeUndefined()
    expect(await listing(store)).toEqual(before)
    expect(downloads).toEqual([])
  })

  it('does not read the bucket or the lockfile for clips that are never shared or pinned (previews)', async () => {
    const store = await tempStore()
    const fake = fakeBucket()
    share(fake.objects, KEY_A, 'remote clip')
    const remote = new RemoteCache({ remote: REMOTE, store, logger: silentLogger, jobTimeoutMs: 1000, poll: { intervalMs: 10, maxIntervalMs: 10 }, bucket: fake.bucket })
    const root = join(store.dir, '..')
    const cache = new ClipCache({ store, root, remote, shared: false, pinned: false, probe: async () => PROBED, logger: silentLogger })
    // A lockfile in a merge conflict does not stop a preview: previews are never pinned, so it is not read.
    await writeFile(join(root, 'vidspec.lock.json'), '<<<<<<< HEAD\n')
    expect(await cache.probe(want(KEY_A))).toBeUndefined()
    expect(await cache.probe(want(KEY_A), { lockfile: noLock })).toBeUndefined()
    expect(await cache.obtain(want(KEY_A), { lockfile: noLock })).toBeUndefined()
    expect(cache.claims).toBeUndefined()
    expect(fake.downloads).toEqual([])
  })
})
