import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import { probeVideo } from '../media/probe.js'
import type { NormalizedRequest } from '../types.js'
import { offlineProvider, previewSize } from './offline.js'
import type { ProviderRequest } from './types.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-offline-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const KEY_A = createHash('sha256').update('a').digest('hex')
const KEY_B = createHash('sha256').update('b').digest('hex')
const tiny: NormalizedRequest = { model: 'minimax/hailuo-02', prompt: 'a forest', width: 160, height: 90, seconds: '1' }

function request(request: NormalizedRequest, key = KEY_A): ProviderRequest {
  return { key, request, media: new Map(), spec: 'hero.video.ts' }
}

async function render(name: string, req: ProviderRequest, signal?: AbortSignal): Promise<string> {
  const out = join(dir, name)
  await offlineProvider().render(req, out, { signal })
  return out
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex')
}

describe('offlineProvider', () => {
  it('is a free local preview provider', async () => {
    const p = offlineProvider()
    expect(p).toMatchObject({ kind: 'local', id: 'offline', preview: true })
    expect(await p.render(request(tiny), join(dir, 'cost.mp4'), {})).toEqual({ cost: 0 })
  })

  it('renders an H.264 MP4 with the requested size, length and frame rate', async () => {
    const p = await probeVideo(await render('a.mp4', request({ ...tiny, fps: 30 })))
    expect(p).toMatchObject({ codec: 'h264', container: 'mp4', mime: 'video/mp4', width: 160, height: 90, fps: 30, hasAudio: false })
    expect(Math.abs(p.duration - 1)).toBeLessThanOrEqual(0.1)
  })

  it('renders a VP9 WebM when output_format is WEBM', async () => {
    const p = await probeVideo(await render('a.webm', request({ ...tiny, seconds: '2', output_format: 'WEBM' })))
    expect(p).toMatchObject({ codec: 'vp9', container: 'webm', ext: 'webm', mime: 'video/webm', width: 160, height: 90, fps: 24 })
    expect(Math.abs(p.duration - 2)).toBeLessThanOrEqual(0.1)
  })

  it('puts the moov atom first in MP4 (+faststart) so browsers can play while downloading', async () => {
    const bytes = await readFile(await render('faststart.mp4', request(tiny)))
    const moov = bytes.indexOf('moov')
    const mdat = bytes.indexOf('mdat')
    expect(moov).toBeGreaterThan(0)
    expect(moov).toBeLessThan(mdat)
  })

  it('adds an audio track when generate_audio is true, in both formats', async () => {
    const mp4 = await probeVideo(await render('audio.mp4', request({ ...tiny, generate_audio: true })))
    const webm = await probeVideo(await render('audio.webm', request({ ...tiny, generate_audio: true, output_format: 'WEBM' })))
    expect([mp4.hasAudio, webm.hasAudio]).toEqual([true, true])
    expect(Math.abs(mp4.duration - 1)).toBeLessThanOrEqual(0.1)
  })

  it('gives the same bytes for the same key and different bytes for another key', async () => {
    for (const format of ['MP4', 'WEBM'] as const) {
      const req = { ...tiny, output_format: format, generate_audio: true }
      const ext = format.toLowerCase()
      const first = await sha256(await render(`same-1.${ext}`, request(req)))
      const second = await sha256(await render(`same-2.${ext}`, request(req)))
      const other = await sha256(await render(`other.${ext}`, request(req, KEY_B)))
      expect(second).toBe(first)
      expect(other).not.toBe(first)
    }
  })

  it('renders odd sizes one pixel smaller, at an even size', async () => {
    expect(previewSize(161, 91)).toEqual({ width: 160, height: 90 })
    expect(previewSize(1, 1)).toEqual({ width: 2, height: 2 })
    const p = await probeVideo(await render('odd.mp4', request({ ...tiny, width: 161, height: 91 })))
    expect([p.width, p.height]).toEqual([160, 90])
  })

  it('uses the Wan 2.7 size for resolution and ratio', async () => {
    // The smallest entry of the table, kept short: 9:16 at 720P.
    const p = await probeVideo(
      await render('wan.mp4', request({ model: 'Wan-AI/wan2.7-t2v', resolution: '720P', ratio: '9:16', seconds: '0.25' })),
    )
    expect([p.width, p.height]).toEqual([720, 1280])
  })

  it('renders the default 1366x768 6 s clip quickly', async () => {
    const started = performance.now()
    const p = await probeVideo(await render('default.mp4', request({ model: 'minimax/hailuo-02', prompt: 'a forest' })))
    const elapsed = performance.now() - started
    expect(p).toMatchObject({ width: 1366, height: 768, fps: 24, codec: 'h264' })
    expect(Math.abs(p.duration - 6)).toBeLessThanOrEqual(0.1)
    // About 1.5 s on an idle core; the bound leaves room for a busy shared machine.
    expect(elapsed).toBeLessThan(15_000)
  })

  it('is ABORTED when the signal fires mid-render, with no ffmpeg and no output left', async () => {
    const out = join(dir, 'aborted.mp4')
    const ac = new AbortController()
    const long = request({ model: 'minimax/hailuo-02', width: 1280, height: 720, seconds: '10' })
    const run = offlineProvider().render(long, out, { signal: ac.signal })
    setTimeout(() => ac.abort(), 200)
    const err = await run.catch((e: unknown) => e)
    expect(isVidspecError(err, 'ABORTED')).toBe(true)
    await expect(stat(out)).rejects.toThrow()
    const leftovers: string[] = []
    for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      if (cmdline.includes(out)) leftovers.push(pid)
    }
    expect(leftovers).toEqual([])
  })
})

describe('previews that preview', () => {
  /** The first frame as raw RGB bytes. */
  async function firstFrame(file: string): Promise<Buffer> {
    const { runFfmpeg } = await import('../media/run.js')
    const raw = join(dir, `${Math.random().toString(36).slice(2)}.rgb`)
    await runFfmpeg(['-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', raw], { what: 'reading a frame' })
    return readFile(raw)
  }
  const redShare = (rgb: Buffer) => {
    let red = 0
    for (let i = 0; i + 2 < rgb.length; i += 3) if ((rgb[i] ?? 0) > 180 && (rgb[i + 1] ?? 0) < 80 && (rgb[i + 2] ?? 0) < 80) red++
    return red / (rgb.length / 3)
  }

  it('starts from the spec first-frame image when it has one (a local file)', async () => {
    const { runFfmpeg } = await import('../media/run.js')
    const png = join(dir, 'red.png')
    await runFfmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=320x180', '-frames:v', '1', '-y', png], { what: 'making an image' })
    const withImage: ProviderRequest = {
      key: KEY_A,
      request: { ...tiny, media: { frame_images: [{ input_image: './red.png', frame: 'first' }] } },
      media: new Map([['./red.png', { kind: 'file', ref: './red.png', path: png, sha256: 'c'.repeat(64) }]]),
      spec: 'product.video.ts',
    }
    const out = await render('from-image.mp4', withImage)
    expect(await probeVideo(out)).toMatchObject({ width: 160, height: 90 })
    // Most of the first frame is the image; the overlays (name plate, bar, label) cover the rest.
    expect(redShare(await firstFrame(out))).toBeGreaterThan(0.5)
    expect(redShare(await firstFrame(await render('no-image.mp4', request(tiny))))).toBeLessThan(0.05)
  })

  it('an image with bytes after its end still renders, to the full length (ffmpeg -loop 1 retried it forever)', async () => {
    const { runFfmpeg } = await import('../media/run.js')
    const png = join(dir, 'red-tail.png')
    await runFfmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=320x180', '-frames:v', '1', '-y', png], { what: 'making an image' })
    await writeFile(png, Buffer.concat([await readFile(png), Buffer.from('bytes after the image end')]))
    const out = await render('from-tailed-image.mp4', {
      key: KEY_A,
      request: { ...tiny, media: { frame_images: [{ input_image: './red-tail.png', frame: 'first' }] } },
      media: new Map([['./red-tail.png', { kind: 'file', ref: './red-tail.png', path: png, sha256: 'd'.repeat(64) }]]),
      spec: 'tail.video.ts',
    })
    const probed = await probeVideo(out)
    expect(probed.duration).toBeCloseTo(1, 1)
    expect(redShare(await firstFrame(out))).toBeGreaterThan(0.5)
  }, 20_000)
})
