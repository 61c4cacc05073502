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
/** A second input: a tone of `seconds`, for the clip's sound track. */
const tone = (seconds: number, more = '') => ['-f', 'lavfi', '-i', `sine=d=${seconds}${more}`]
const AAC = [...tone(1), ...H264, '-c:a', 'aac']

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
    ['AAC sound (a model that generates audio)', 'aac.mp4', AAC, undefined],
    ['AAC sound, index at the front', 'aac-front.mp4', [...AAC, '-movflags', '+faststart'], undefined],
    ['sound that stops before the picture', 'aac-short.mp4', [...tone(0.5), ...H264, '-c:a', 'aac'], undefined],
    [
      'stereo 48 kHz AAC beside B-frames at 24000/1001',
      'aac-bframes.mp4',
      [...tone(2, ':sample_rate=48000'), '-c:v', 'libx264', '-preset', 'medium', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2'],
      'testsrc2=s=160x90:r=24000/1001:d=2',
    ],
    ['mono AAC at 8 kHz', 'aac-8k.mp4', [...tone(1, ':sample_rate=8000'), ...H264, '-c:a', 'aac', '-ac', '1'], undefined],
    ['sound and picture without edit lists', 'aac-noedit.mp4', [...AAC, '-use_editlist', '0'], undefined],
  ])('reads %s exactly as ffprobe describes it', async (_what, name, encode, input) => {
    const file = await clip(name, encode, input)
    const shape = await mp4Shape(file)
    expect(shape).toBeDefined()
    expect(shape).toEqual(asFfprobe(await probeVideo(file)))
  })

  it('leaves to ffprobe what it does not vouch for: longer, other or more sound, fragments, other codecs, WebM, text, nothing', async () => {
    const vp9 = await clip('vp9.mp4', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'])
    // ffprobe gives these the sound's length, or calls the picture short of it: that is its to say.
    const longer = await clip('sound-longer.mp4', [...tone(2), ...H264, '-c:a', 'aac'])
    const ac3 = await clip('ac3.mp4', [...tone(1), ...H264, '-c:a', 'ac3'])
    const mp3 = await clip('mp3.mp4', [...tone(1), ...H264, '-c:a', 'libmp3lame'])
    const opus = await clip('opus.mp4', [...tone(1), ...H264, '-c:a', 'libopus', '-strict', '-2'])
    // QuickTime's sound entry (version 1) keeps its configuration in a box of its own.
    const mov = await clip('aac.mov', AAC)
    const two = await clip('two-sounds.mp4', [...tone(1), '-map', '0:v', '-map', '1:a', '-map', '1:a', ...H264, '-c:a', 'aac'])
    const fragmented = await clip('frag.mp4', [...H264, '-movflags', 'frag_keyframe+empty_moov'])
    const webm = await clip('clip.webm', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'])
    const text = join(dir, 'text.mp4')
    await writeFile(text, 'not a video at all, just some words\n')
    for (const file of [longer, ac3, mp3, opus, mov, two, fragmented, vp9, webm, text, join(dir, 'missing.mp4')]) {
      expect(await mp4Shape(file), file).toBeUndefined()
    }
  })

  it('never vouches for a clip that lost any of its bytes, with sound or without', async () => {
    for (const [name, encode] of [
      ['end', H264],
      ['front', [...H264, '-movflags', '+faststart']],
      ['sound-end', AAC],
      ['sound-front', [...AAC, '-movflags', '+faststart']],
    ] as const) {
      const file = await clip(`${name}-whole.mp4`, [...encode])
      expect(await mp4Shape(file), name).toBeDefined()
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

  it.each([
    ['a picture', 'flip.mp4', H264],
    ['a picture with sound', 'flip-sound.mp4', AAC],
  ])('after any flipped byte in the index of %s, vouches only for what ffprobe accepts, exactly as ffprobe describes it', async (_what, name, encode) => {
    const file = await clip(name, [...encode, '-movflags', '+faststart'])
    const bytes = await readFile(file)
    const moov = bytes.indexOf('moov', 0, 'latin1') - 4
    const moovEnd = moov + bytes.readUInt32BE(moov)
    const flipped = join(dir, `flipped-${name}`)
    const vouched: number[] = []
    for (let at = moov; at < moovEnd; at++) {
      const copy = Buffer.from(bytes)
      copy[at] = (copy[at] as number) ^ 0xff
      await writeFile(flipped, copy)
      if (await mp4Shape(flipped)) vouched.push(at)
    }
    // Most of the index is timestamps, matrices and names; what is vouched for after a flip there
    // must be what ffprobe says too (spread over the whole box, at most 40 ffprobe runs), and every
    // flip vouched for in the sound's description, where ffprobe's decoder reads its configuration.
    expect(vouched.length).toBeLessThan(moovEnd - moov)
    const soun = bytes.indexOf('soun', moov, 'latin1')
    const stsd = soun < 0 ? -1 : bytes.indexOf('stsd', soun, 'latin1') - 4
    const inSound = (at: number) => stsd >= 0 && at >= stsd && at < stsd + bytes.readUInt32BE(stsd)
    const step = Math.max(1, Math.ceil(vouched.length / 40))
    const compared = vouched.filter((at, i) => i % step === 0 || inSound(at))
    if (soun >= 0) expect(compared.filter(inSound).length).toBeGreaterThan(10)
    for (const at of compared) {
      const copy = Buffer.from(bytes)
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
