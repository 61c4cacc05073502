import * as childProcess from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import { isVidspecError } from '../errors.js'
import { silentLogger } from '../logger.js'
import { ffmpegPath, processTools } from '../media/binaries.js'
import { probeVideo } from '../media/probe.js'
import { runFfmpeg, runTool } from '../media/run.js'
import type { Store } from '../store/index.js'
import { meta, tempStore } from '../store/test-helpers.js'
import type { Entry } from '../types.js'
import { fastStartProblem, topLevelBoxes } from './boxes.js'
import { checkVideoRendition } from './checks.js'
import { hasEncoder } from './encoder.js'
import { Renditions } from './service.js'
import type { RenditionsInput, VideoRecipe } from './types.js'

vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:child_process')>()
  return { ...real, spawn: vi.fn(real.spawn) }
})
const spawned = (): number => vi.mocked(childProcess.spawn).mock.calls.length

let dir: string
/** H.264 + AAC, 160x90, 1 s, moov at the end (ffmpeg's default): what a model often returns. */
let aacMaster: string
/** H.264 without audio. */
let silentMaster: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-renditions-'))
  aacMaster = join(dir, 'aac.mp4')
  silentMaster = join(dir, 'silent.mp4')
  const input = ['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24:d=1']
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']
  await runFfmpeg([...input, '-f', 'lavfi', '-i', 'sine=d=1', ...h264, '-c:a', 'aac', '-shortest', '-y', aacMaster])
  await runFfmpeg([...input, ...h264, '-y', silentMaster])
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function project(file: string, renditions: RenditionsInput = {}): Promise<{ store: Store; service: Renditions; entry: Entry }> {
  const store = await tempStore()
  const config = resolveConfig({ renditions }, { root: dirname(store.dir), env: {} })
  const tmp = store.tempPath('mp4')
  await copyFile(file, tmp)
  const p = await probeVideo(file)
  const entry = await store.commit(tmp, meta('m'.repeat(64), { width: p.width, height: p.height, duration: p.duration, fps: p.fps }))
  return { store, service: new Renditions({ config, store, logger: silentLogger, tools: processTools() }), entry }
}

const SPEC = { id: 'src/hero.video.ts', key: 'm'.repeat(64) }

/** sha256 of the raw H.264 bitstream (no container): equal when a remux copied the video untouched. */
async function bitstream(file: string): Promise<string> {
  const { stdout } = await runTool(ffmpegPath(), ['-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'h264', '-bsf:v', 'h264_mp4toannexb', '-'], { stdout: true })
  return createHash('sha256').update(stdout, 'latin1').digest('hex')
}

describe('the default: one fast-start MP4 at the master size', () => {
  it('is a remux of an H.264/AAC master: the video bitstream is the master own, moov moves before mdat', async () => {
    expect(await fastStartProblem(aacMaster)).toMatch(/not fast start/)
    const { store, service, entry } = await project(aacMaster)
    const plan = await service.plan(SPEC, entry)
    expect(plan.sources.map((s) => [s.id, s.width, s.height, s.ext, s.cached])).toEqual([['mp4-160w', 160, 90, 'mp4', false]])
    const [made] = (await service.obtainAll(plan)).sources
    expect(made?.source).toBe('made')
    const record = await store.getDerived(plan.sources[0]?.key ?? '')
    expect(record?.method).toBe('remux')
    expect(await fastStartProblem(made?.path ?? '')).toBeUndefined()
    const boxes = (await topLevelBoxes(made?.path ?? '')).map((b) => b.type)
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'))
    expect(await bitstream(made?.path ?? '')).toBe(await bitstream(aacMaster))
    // The master's own profile and level (ultrafast: Constrained Baseline; 160x90 at 24 fps: level 1.0).
    expect(made?.type).toBe('video/mp4; codecs="avc1.42e00a, mp4a.40.2"')
    // The master itself is untouched.
    expect((await store.getEntry(entry.key))?.digest).toBe(entry.digest)
  })

  it('a no-op obtain (everything stored) starts no process at all', async () => {
    const { service, entry } = await project(aacMaster, { poster: { times: [0] }, placeholder: true })
    const first = await service.obtainAll(await service.plan(SPEC, entry))
    expect(first.placeholder).toMatch(/^data:image\/jpeg;base64,/)
    const before = spawned()
    const plan = await service.plan(SPEC, entry)
    expect(plan.sources.every((s) => s.cached) && plan.posters.every((s) => s.cached) && plan.placeholder?.cached).toBe(true)
    const second = await service.obtainAll(plan)
    expect(spawned()).toBe(before)
    expect(second.sources.map((s) => s.source)).toEqual(['store'])
    expect(second.placeholder).toBe(first.placeholder)
  })

  it("the placeholder's data URI comes from its record only when those bytes hash to its digest", async () => {
    const { store, service, entry } = await project(silentMaster)
    const first = await service.obtainAll(await service.plan(SPEC, entry))
    const key = first.plan.placeholder?.key ?? ''
    const file = join(store.dir, 'derived', `${key}.json`)
    const record = JSON.parse(await readFile(file, 'utf8')) as { inline: string }
    expect(`data:image/jpeg;base64,${record.inline}`).toBe(first.placeholder)
    await writeFile(file, JSON.stringify({ ...record, inline: Buffer.from('not the placeholder').toString('base64') }))
    const fresh = new Renditions({ config: resolveConfig({}, { root: dirname(store.dir), env: {} }), store, logger: silentLogger, tools: processTools() })
    expect((await fresh.obtainAll(await fresh.plan(SPEC, entry))).placeholder).toBe(first.placeholder)
  })

  it('strips audio when asked, still without re-encoding the video', async () => {
    const { store, service, entry } = await project(aacMaster, { audio: 'strip' })
    const plan = await service.plan(SPEC, entry)
    const [made] = (await service.obtainAll(plan)).sources
    expect((await store.getDerived(plan.sources[0]?.key ?? ''))?.method).toBe('remux')
    const p = await probeVideo(made?.path ?? '')
    expect(p.hasAudio).toBe(false)
    expect(made?.type).toMatch(/codecs="avc1\.[0-9a-f]{6}"$/)
    expect(await bitstream(made?.path ?? '')).toBe(await bitstream(aacMaster))
  })
})

describe('encoded renditions pass every probe check', () => {
  it('mp4 at a smaller width: H.264 re-encoded, even size, aspect kept, fast start, audio kept', async () => {
    const { store, service, entry } = await project(aacMaster, { widths: [96], poster: false, placeholder: false })
    const plan = await service.plan(SPEC, entry)
    const [made] = (await service.obtainAll(plan)).sources
    expect((await store.getDerived(plan.sources[0]?.key ?? ''))?.method).toBe('encode')
    const p = await probeVideo(made?.path ?? '')
    expect([p.codec, p.width, p.height, p.hasAudio, p.audioCodec]).toEqual(['h264', 96, 54, true, 'aac'])
    expect(await fastStartProblem(made?.path ?? '')).toBeUndefined()
  })

  it('webm: VP9 with Opus; a silent master gives a silent rendition', async () => {
    const withAudio = await project(aacMaster, { formats: ['webm'], widths: [96], poster: false, placeholder: false })
    const [vp9] = (await withAudio.service.obtainAll(await withAudio.service.plan(SPEC, withAudio.entry))).sources
    const p = await probeVideo(vp9?.path ?? '')
    expect([p.codec, p.container, p.width, p.height, p.audioCodec]).toEqual(['vp9', 'webm', 96, 54, 'opus'])
    expect(vp9?.type).toBe('video/webm; codecs="vp9, opus"')
    const silent = await project(silentMaster, { formats: ['webm'], widths: [96], poster: false, placeholder: false })
    const [quiet] = (await silent.service.obtainAll(await silent.service.plan(SPEC, silent.entry))).sources
    expect((await probeVideo(quiet?.path ?? '')).hasAudio).toBe(false)
    expect(quiet?.type).toBe('video/webm; codecs="vp9"')
  })

  it('av1 (where this ffmpeg has libaom): AV1 in WebM', async () => {
    if (!(await hasEncoder('libaom-av1', processTools()))) return
    const { service, entry } = await project(silentMaster, { formats: ['av1', 'mp4'], widths: [64], poster: false, placeholder: false })
    const plan = await service.plan(SPEC, entry)
    expect(plan.sources.map((s) => s.id)).toEqual(['av1-64w', 'mp4-64w'])
    const [av1, mp4] = (await service.obtainAll(plan)).sources
    const p = await probeVideo(av1?.path ?? '')
    expect([p.codec, p.container, p.width, p.height]).toEqual(['av1', 'webm', 64, 36])
    expect(av1?.type).toMatch(/^video\/webm; codecs="av01\.0\.\d\dM\.08"$/)
    expect(mp4?.type).toMatch(/^video\/mp4; codecs="avc1\./)
  }, 120_000)

  it('posters at the asked times and formats, at the master size', async () => {
    const { service, entry } = await project(silentMaster, { poster: { times: [0, 0.5], formats: ['jpg', 'webp'] }, placeholder: false })
    const got = await service.obtainAll(await service.plan(SPEC, entry))
    expect(got.posters.map((p) => [p.item.id, p.type, p.width, p.height])).toEqual([
      ['poster-0s-jpg', 'image/jpeg', 160, 90],
      ['poster-0.5s-jpg', 'image/jpeg', 160, 90],
      ['poster-0s-webp', 'image/webp', 160, 90],
      ['poster-0.5s-webp', 'image/webp', 160, 90],
    ])
    expect(new Set(got.posters.map((p) => p.digest)).size).toBe(4)
  })
})

describe('a rendition failing a check is refused and never stored', () => {
  it('names the failed check: fast start, upscaling, audio, codec', async () => {
    const facts = { width: 160, height: 90, duration: 1, fps: 24, hasAudio: true }
    const mp4: VideoRecipe = { kind: 'video', format: 'mp4', width: 160, height: 90, crf: 23, maxBitrate: null, audio: 'keep' }
    const refused = async (file: string, recipe: VideoRecipe, f = facts): Promise<string> => {
      try {
        await checkVideoRendition(file, recipe, f, 'hero mp4')
      } catch (err) {
        expect(isVidspecError(err, 'RENDITION_INVALID')).toBe(true)
        return (err as Error).message
      }
      throw new Error('expected a refusal')
    }
    expect(await refused(aacMaster, mp4)).toMatch(/hero mp4: failed its fast start check: not fast start: moov .* after mdat.*not stored/)
    expect(await refused(aacMaster, mp4, { ...facts, width: 80, height: 45 })).toMatch(/failed its size check: .*upscaled/)
    expect(await refused(silentMaster, mp4)).toMatch(/failed its audio check: its audio track is missing/)
    expect(await refused(aacMaster, { ...mp4, format: 'webm' })).toMatch(/failed its codec check: its video is h264, not vp9/)
    expect(await refused(aacMaster, mp4, { ...facts, duration: 3 })).toMatch(/failed its duration check/)
  })

  it('an encode whose output fails its checks leaves no record and no object', async () => {
    const { store, service, entry } = await project(aacMaster, { poster: false, placeholder: false })
    const [item] = (await service.plan(SPEC, entry)).sources
    if (!item) throw new Error('no item')
    // A recipe asking for more pixels than the master has: made (ffmpeg scales up), then refused.
    const upscaled = { ...item, key: 'u'.repeat(64), recipe: { ...(item.recipe as VideoRecipe), width: 320, height: 180 } }
    const objectsBefore = await readdir(join(store.dir, 'objects'))
    await expect(service.obtain(upscaled)).rejects.toThrow(/failed its size check: it is 320x180, larger than its master/)
    expect(await store.getDerived(upscaled.key)).toBeUndefined()
    expect(await readdir(join(store.dir, 'objects'))).toEqual(objectsBefore)
    expect(await readdir(join(store.dir, 'tmp'))).toEqual([])
  })
})
