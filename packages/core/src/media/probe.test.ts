import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import { durationShortfall, probeVideo } from './probe.js'
import { runFfmpeg } from './run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-probe-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function clip(name: string, encode: string[], input = 'testsrc2=s=160x90:r=24:d=1'): Promise<string> {
  const file = join(dir, name)
  await runFfmpeg(['-f', 'lavfi', '-i', input, ...encode, '-y', file])
  return file
}

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']
const VP9 = ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p']

async function invalidReason(file: string): Promise<string> {
  try {
    await probeVideo(file)
  } catch (err) {
    expect(isVidspecError(err, 'OUTPUT_INVALID')).toBe(true)
    const message = (err as Error).message
    expect(message).toContain(file)
    return message
  }
  throw new Error(`${file} probed as valid`)
}

async function cut(file: string, name: string, keep: (size: number) => number): Promise<string> {
  const bytes = await readFile(file)
  const out = join(dir, name)
  await writeFile(out, bytes.subarray(0, keep(bytes.length)))
  return out
}

describe('probeVideo', () => {
  it('describes an MP4', async () => {
    const file = await clip('a.mp4', [...H264, '-movflags', '+faststart'])
    const p = await probeVideo(file)
    expect(p).toMatchObject({ width: 160, height: 90, fps: 24, codec: 'h264', container: 'mp4', ext: 'mp4', mime: 'video/mp4', hasAudio: false })
    expect(p.duration).toBeCloseTo(1, 1)
    expect(p.size).toBe((await readFile(file)).length)
  })

  it('describes a WebM with audio and a fractional frame rate', async () => {
    const file = join(dir, 'b.webm')
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=30000/1001:d=1', '-f', 'lavfi', '-i', 'sine=d=1',
      ...VP9, '-c:a', 'libopus', '-y', file,
    ])
    const p = await probeVideo(file)
    expect(p).toMatchObject({ width: 160, height: 90, fps: 29.97, codec: 'vp9', container: 'webm', ext: 'webm', mime: 'video/webm', hasAudio: true })
  })

  it('tells Matroska holding H.264 from WebM', async () => {
    const p = await probeVideo(await clip('c.mkv', [...H264, '-f', 'matroska']))
    expect(p).toMatchObject({ container: 'mkv', ext: 'mkv', mime: 'video/x-matroska', codec: 'h264' })
  })

  it('rejects an MP4 cut in half, index at the front or at the end', async () => {
    const front = await clip('front.mp4', [...H264, '-movflags', '+faststart'])
    expect(await invalidReason(await cut(front, 'front-half.mp4', (n) => Math.floor(n / 2)))).toMatch(/truncated/)
    const back = await clip('back.mp4', H264)
    expect(await invalidReason(await cut(back, 'back-half.mp4', (n) => Math.floor(n / 2)))).toMatch(/moov atom not found/)
  })

  it('rejects files missing only their last bytes', async () => {
    const mp4 = await clip('tail.mp4', [...H264, '-movflags', '+faststart'])
    expect(await invalidReason(await cut(mp4, 'tail-cut.mp4', (n) => n - 100))).toMatch(/truncated/)
    const webm = await clip('tail.webm', VP9)
    expect(await invalidReason(await cut(webm, 'tail-cut.webm', (n) => n - 100))).toMatch(/truncated/)
  })

  it('rejects a WebM cut in half', async () => {
    const webm = await clip('half.webm', VP9)
    expect(await invalidReason(await cut(webm, 'half-cut.webm', (n) => Math.floor(n / 2)))).toMatch(/truncated/)
  })

  it('rejects text, empty and missing files', async () => {
    const text = join(dir, 'text.mp4')
    await writeFile(text, 'this is not a video, only a line of text\n')
    expect(await invalidReason(text)).toMatch(/Invalid data/)
    const empty = join(dir, 'empty.mp4')
    await writeFile(empty, '')
    expect(await invalidReason(empty)).toMatch(/empty/)
    expect(await invalidReason(join(dir, 'missing.mp4'))).toMatch(/cannot be read/)
  })

  it('rejects audio without video and a still image', async () => {
    const audio = join(dir, 'audio.m4a')
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', '-y', audio])
    expect(await invalidReason(audio)).toMatch(/no video stream/)
    const still = await clip('still.png', ['-frames:v', '1'])
    expect(await invalidReason(still)).toMatch(/no duration/)
  })

  it('is ABORTED when the signal has fired', async () => {
    const file = await clip('abort.mp4', H264)
    await expect(probeVideo(file, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' })
  })
})

describe('durationShortfall', () => {
  it('accepts a clip as long as asked, a little short of it, or longer; and anything when no seconds were asked', () => {
    expect(durationShortfall('4', 4)).toBeUndefined()
    expect(durationShortfall('4', 3.6)).toBeUndefined()
    expect(durationShortfall('4', 8)).toBeUndefined()
    expect(durationShortfall(undefined, 0.1)).toBeUndefined()
    expect(durationShortfall('1', 0.6)).toBeUndefined()
  })

  it('names a clip cut short, with both lengths', () => {
    expect(durationShortfall('4', 2)).toBe('it plays 2.00 s of the 4 s asked for')
    expect(durationShortfall(10, 8.5)).toMatch(/8\.50 s of the 10 s/)
  })
})
