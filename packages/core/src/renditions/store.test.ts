import { copyFile, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import { silentLogger } from '../logger.js'
import { processTools } from '../media/binaries.js'
import { probeVideo } from '../media/probe.js'
import { runFfmpeg } from '../media/run.js'
import type { Store } from '../store/index.js'
import { KEY_A, KEY_B, commitBytes, commitDerivedBytes, meta, tempStore } from '../store/test-helpers.js'
import type { Entry } from '../types.js'
import { Renditions } from './service.js'
import type { DerivedRecord } from './types.js'
import { reprobeDerived } from './verify.js'

const HOUR = 3_600_000

/** A derived record of `master` holding `bytes`, made `ageHours` ago. */
function derived(store: Store, key: string, master: Entry | string, bytes: string, ageHours: number): Promise<DerivedRecord> {
  return commitDerivedBytes(store, key, typeof master === 'string' ? master : master.digest, bytes, new Date(Date.now() - ageHours * HOUR).toISOString())
}

describe('gc and derived objects', () => {
  it('drops renditions whose master is gone, and keeps a kept master and its renditions', async () => {
    const store = await tempStore()
    const paid = await commitBytes(store, KEY_A, 'paid master', { preview: false, provider: 'together' })
    const kept = await derived(store, 'r1'.repeat(32), paid, 'rendition of the paid master', 1)
    const stray = await derived(store, 'r2'.repeat(32), 'f'.repeat(64), 'rendition of a master not in the store', 1)
    const report = await store.gc({ keep: new Set([KEY_A]) })
    expect(report.removedDerived).toEqual([stray.key])
    expect(report.removedObjects).toEqual([store.objectPath(stray.digest, 'jpg')])
    expect(await store.getDerived(kept.key)).toBeDefined()
    expect(await store.getEntry(KEY_A)).toMatchObject({ digest: paid.digest })
  })

  it('under --max-size evicts renditions first, oldest first, and stops before any master', async () => {
    const store = await tempStore()
    // A preview master nobody keeps, older than every rendition: it would be the first to go were it not for them.
    const old = new Date(Date.now() - 48 * HOUR).toISOString()
    const preview = await commitBytes(store, KEY_B, 'an old preview master', { createdAt: old })
    const paid = await commitBytes(store, KEY_A, 'paid master', { preview: false, provider: 'together' })
    const older = await derived(store, 'r1'.repeat(32), paid, 'older rendition, 30 bytes long', 5)
    const newer = await derived(store, 'r3'.repeat(32), preview, 'newer rendition', 1)
    const total = preview.size + paid.size + older.size + newer.size
    // Room for everything but the renditions: both go, no master does.
    const report = await store.gc({ keep: new Set([KEY_A]), maxSizeBytes: total - older.size - newer.size })
    expect(report.removedDerived).toEqual([older.key, newer.key])
    expect(report.removedEntries).toEqual([])
    expect(report.trashedEntries).toEqual([])
    expect(await store.getEntry(KEY_B)).toBeDefined()
    expect(await store.getEntry(KEY_A)).toBeDefined()

    // Room for one rendition only: the older goes first, then nothing else.
    const again = await tempStore()
    const p2 = await commitBytes(again, KEY_A, 'paid master', { preview: false, provider: 'together' })
    const o2 = await derived(again, 'r1'.repeat(32), p2, 'older rendition, 30 bytes long', 5)
    const n2 = await derived(again, 'r3'.repeat(32), p2, 'newer rendition', 1)
    const r2 = await again.gc({ keep: new Set(), maxSizeBytes: p2.size + n2.size })
    expect(r2.removedDerived).toEqual([o2.key])
    expect(r2.paidSpared).toEqual([])
    expect(await again.getDerived(n2.key)).toBeDefined()
    expect(await again.getEntry(KEY_A)).toBeDefined()
  })

  it('never deletes an object a master also uses, when a rendition has the same bytes', async () => {
    const store = await tempStore()
    const paid = await commitBytes(store, KEY_A, 'same bytes', { preview: false, provider: 'together', ext: 'jpg' })
    const twin = await derived(store, 'r1'.repeat(32), 'f'.repeat(64), 'same bytes', 1)
    expect(twin.digest).toBe(paid.digest)
    const report = await store.gc({ keep: new Set([KEY_A]), maxSizeBytes: 0 })
    expect(report.removedDerived).toEqual([twin.key])
    expect(report.removedObjects).toEqual([])
    expect(await store.getEntry(KEY_A)).toBeDefined()
  })
})

describe('verify and renditions', () => {
  let master: string
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vidspec-verify-'))
    cleanup = () => rm(dir, { recursive: true, force: true })
    master = join(dir, 'master.mp4')
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', master])
  })
  let cleanup: () => Promise<void> = async () => {}
  afterAll(() => cleanup())

  async function withRendition(): Promise<{ store: Store; record: DerivedRecord; path: string }> {
    const store = await tempStore()
    const tmp = store.tempPath('mp4')
    await copyFile(master, tmp)
    const p = await probeVideo(master)
    const entry = await store.commit(tmp, meta(KEY_A, { width: p.width, height: p.height, duration: p.duration, fps: p.fps }))
    const service = new Renditions({ config: resolveConfig({ renditions: { poster: false, placeholder: false } }, { root: dirname(store.dir), env: {} }), store, logger: silentLogger, tools: processTools() })
    const [made] = (await service.obtainAll(await service.plan({ id: 'src/hero.video.ts', key: KEY_A }, entry))).sources
    const record = await store.getDerived(made?.item.key ?? '')
    if (!made || !record) throw new Error('no rendition')
    return { store, record, path: made.path }
  }

  it('passes a sound rendition: re-hashed and re-probed', async () => {
    const { store } = await withRendition()
    const report = await reprobeDerived(store, await store.verify(), { repair: false })
    expect(report.corrupt).toEqual([])
    expect(report.renditions).toEqual({ checked: 1, ok: 1 })
    expect(report.orphans).toEqual([])
  })

  it('catches a flipped byte in a rendition; repair quarantines it and drops its record, never the master', async () => {
    const { store, record, path } = await withRendition()
    const fd = await open(path, 'r+')
    const at = Math.floor(record.size / 2)
    const byte = Buffer.alloc(1)
    await fd.read(byte, 0, 1, at)
    await fd.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, at)
    await fd.close()
    const report = await reprobeDerived(store, await store.verify(), { repair: false })
    expect(report.corrupt).toEqual([expect.objectContaining({ key: record.key, digest: record.digest, reason: expect.stringMatching(/^rendition video of src\/hero\.video\.ts: its bytes hash to/) })])
    const repaired = await reprobeDerived(store, await store.verify({ repair: true }), { repair: true })
    expect(repaired.quarantined).toHaveLength(1)
    expect(await store.getDerived(record.key)).toBeUndefined()
    expect(await store.getEntry(KEY_A)).toBeDefined()
    expect((await readdir(join(store.dir, 'derived'))).filter((n) => n.endsWith('.json'))).toEqual([])
  })

  it('re-probes: a rendition whose bytes hash right but no longer pass its checks is reported', async () => {
    const { store, record } = await withRendition()
    // The record now claims a size the object does not have (as if the checks had changed under it).
    const lying = { ...record, recipe: { ...record.recipe, width: 80, height: 46 } }
    await writeFile(join(store.dir, 'derived', `${record.key}.json`), JSON.stringify(lying))
    const report = await reprobeDerived(store, await store.verify(), { repair: false })
    expect(report.corrupt).toEqual([expect.objectContaining({ key: record.key, reason: expect.stringMatching(/failed its size check: it is 160x90, not the 80x46 asked for/) })])
    expect(report.renditions).toEqual({ checked: 1, ok: 0 })
  })
})
