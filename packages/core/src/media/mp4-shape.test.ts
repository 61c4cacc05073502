import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mp4Shape } from './mp4-shape.js'
import { probeVideo, type ProbeResult } from './probe.js'
import { runFfmpeg } from './run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-mp4-shape-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']

async function clip(name: string, encode: string[], input = 'testsrc2=s=160x90:r=24:d=1'): Promise<string> {
  const file = join(dir, name)
  await runFfmpeg(['-f', 'lavfi', '-i', input, ...encode, '-y', file])
  return file
}

/** What ffprobe says of the fields mp4Shape reports. */
const asFfprobe = (p: ProbeResult) => ({ width: p.width, height: p.height, duration: p.duration, fps: p.fps, codec: p.codec, container: p.container, mime: p.mime, ext: p.ext })

/** ffprobe's verdict: its shape, or undefined when it calls the file not a playable video. */
async function ffprobeVerdict(file: string) {
  try {
    return asFfprobe(await probeVideo(file))
  } catch {
    return undefined
  }
}

describe('mp4Shape', () => {
  it.each([
    ['H.264, index at the end', 'end.mp4', H264, undefined],
    ['H.264, index at the front', 'front.mp4', [...H264, '-movflags', '+faststart'], undefined],
    ['a size the codec crops (1366x768)', 'cropped.mp4', H264, 'testsrc2=s=1366x768:r=8:d=1'],
    ['a fractional frame rate (24000/1001)', 'ntsc.mp4', H264, 'testsrc2=s=160x90:r=24000/1001:d=2'],
    ['B-frames (an edit list shifting the start)', 'bframes.mp4', ['-c:v', 'libx264', '-preset', 'medium', '-pix_fmt', 'yuv420p'], undefined],
    ['a QuickTime file', 'clip.mov', H264, undefined],
    ['a size in High 4:4:4 (no chroma subsampling)', 'yuv444.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p'], 'testsrc2=s=150x90:r=24:d=1'],
  ])('reads %s exactly as ffprobe describes it', async (_what, name, encode, input) => {
    const file = await clip(name, encode, input)
    const shape = await mp4Shape(file)
    expect(shape).toBeDefined()
    expect(shape).toEqual(asFfprobe(await probeVideo(file)))
  })

  it('leaves to ffprobe what it does not vouch for: audio, fragments, other codecs, WebM, text, nothing', async () => {
    const vp9 = await clip('vp9.mp4', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'])
    const audio = await clip('audio.mp4', ['-f', 'lavfi', '-i', 'sine=d=1', ...H264, '-c:a', 'aac', '-shortest'])
    const fragmented = await clip('frag.mp4', [...H264, '-movflags', 'frag_keyframe+empty_moov'])
    const webm = await clip('clip.webm', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'])
    const text = join(dir, 'text.mp4')
    await writeFile(text, 'not a video at all, just some words\n')
    for (const file of [audio, fragmented, vp9, webm, text, join(dir, 'missing.mp4')]) expect(await mp4Shape(file), file).toBeUndefined()
  })

  it('never vouches for a clip that lost any of its bytes', async () => {
    for (const name of ['end', 'front']) {
      const file = await clip(`${name}-whole.mp4`, name === 'front' ? [...H264, '-movflags', '+faststart'] : H264)
      const bytes = await readFile(file)
      const cuts = new Set<number>()
      for (let keep = 0; keep < bytes.length; keep += 61) cuts.add(keep)
      for (let lost = 1; lost <= 64; lost++) cuts.add(bytes.length - lost)
      const cutFile = join(dir, `${name}-cut.mp4`)
      const vouched: number[] = []
      for (const keep of cuts) {
        await writeFile(cutFile, bytes.subarray(0, keep))
        if (await mp4Shape(cutFile)) vouched.push(keep)
      }
      expect(vouched, `${name}: cuts vouched for`).toEqual([])
    }
  })

  it('after any flipped byte in the index, vouches only for what ffprobe accepts, exactly as ffprobe describes it', async () => {
    const file = await clip('flip.mp4', [...H264, '-movflags', '+faststart'])
    const bytes = await readFile(file)
    const moov = bytes.indexOf('moov', 0, 'latin1') - 4
    const moovEnd = moov + bytes.readUInt32BE(moov)
    const flipped = join(dir, 'flipped.mp4')
    const vouched: number[] = []
    for (let at = moov; at < moovEnd; at++) {
      const copy = Buffer.from(bytes)
      copy[at] = (copy[at] as number) ^ 0xff
      await writeFile(flipped, copy)
      if (await mp4Shape(flipped)) vouched.push(at)
    }
    // Most of the index is timestamps, matrices and names; what is vouched for after a flip there
    // must be what ffprobe says too (spread over the whole box, at most 40 ffprobe runs).
    expect(vouched.length).toBeLessThan(moovEnd - moov)
    const step = Math.max(1, Math.ceil(vouched.length / 40))
    for (let i = 0; i < vouched.length; i += step) {
      const copy = Buffer.from(bytes)
      const at = vouched[i] as number
      copy[at] = (copy[at] as number) ^ 0xff
      await writeFile(flipped, copy)
      expect({ at, shape: await mp4Shape(flipped) }).toEqual({ at, shape: await ffprobeVerdict(flipped) })
    }
  })

  it('never vouches for a sample whose NAL units do not fill it', async () => {
    const file = await clip('nal.mp4', [...H264, '-movflags', '+faststart'])
    const bytes = await readFile(file)
    const mdat = bytes.indexOf('mdat', 0, 'latin1') + 4
    // The first sample starts with a 4-byte NAL length: make it claim one byte more.
    const copy = Buffer.from(bytes)
    copy.writeUInt32BE(copy.readUInt32BE(mdat) + 1, mdat)
    const broken = join(dir, 'nal-broken.mp4')
    await writeFile(broken, copy)
    expect(await mp4Shape(file)).toBeDefined()
    expect(await mp4Shape(broken)).toBeUndefined()
  })
})
