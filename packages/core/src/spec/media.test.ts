import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { NormalizedRequest } from '../types.js'
import { AUDIO_MAX_BYTES, collectMediaRefs, resolveMedia } from './media.js'

// Counts file reads, to prove each file is read once however often it is referenced.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>()
  return { ...real, createReadStream: vi.fn(real.createReadStream) }
})

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
// Files are judged by their first bytes: fixtures start with their format's signature.
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const riff = (form: string, rest: string): Buffer => Buffer.concat([Buffer.from('RIFF\0\0\0\0'), Buffer.from(form), Buffer.from(rest)])

let dir: string
let spec: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidspec-media-'))
  spec = path.join(dir, 'pages', 'hero.video.ts')
  await mkdir(path.join(dir, 'pages', 'img'), { recursive: true })
  await writeFile(spec, 'export default {}')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  vi.mocked(fs.createReadStream).mockClear()
})

/** A PCM WAV header for `dataBytes` of samples (the bytes themselves follow, as zeros). */
function wavHeader(dataBytes: number, rate: number, channels: number, bits: number): Buffer {
  const h = Buffer.alloc(44)
  h.write('RIFF', 0)
  h.writeUInt32LE(36 + dataBytes, 4)
  h.write('WAVEfmt ', 8)
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20)
  h.writeUInt16LE(channels, 22)
  h.writeUInt32LE(rate, 24)
  h.writeUInt32LE((rate * channels * bits) / 8, 28)
  h.writeUInt16LE((channels * bits) / 8, 32)
  h.writeUInt16LE(bits, 34)
  h.write('data', 36)
  h.writeUInt32LE(dataBytes, 40)
  return h
}

const request = (media: NormalizedRequest['media']): NormalizedRequest => ({ model: 'm', prompt: 'p', media })

describe('collectMediaRefs', () => {
  it('lists every media string with its field path and kind', () => {
    const refs = collectMediaRefs(
      request({
        frame_images: [{ input_image: 'a.png', frame: 'first' }, { input_image: 'b.png' }],
        frame_videos: [{ video: 'c.mp4' }],
        reference_images: ['d.png'],
        reference_videos: [{ video: 'e.mp4' }],
        source_video: { video: 'f.mp4' },
        audio_inputs: ['g.mp3', { audio: 'h.wav' }],
      }),
    )
    expect(refs).toEqual([
      { path: 'media.frame_images[0].input_image', ref: 'a.png', kind: 'image' },
      { path: 'media.frame_images[1].input_image', ref: 'b.png', kind: 'image' },
      { path: 'media.frame_videos[0].video', ref: 'c.mp4', kind: 'video' },
      { path: 'media.reference_images[0]', ref: 'd.png', kind: 'image' },
      { path: 'media.reference_videos[0].video', ref: 'e.mp4', kind: 'video' },
      { path: 'media.source_video.video', ref: 'f.mp4', kind: 'video' },
      { path: 'media.audio_inputs[0]', ref: 'g.mp3', kind: 'audio' },
      { path: 'media.audio_inputs[1].audio', ref: 'h.wav', kind: 'audio' },
    ])
    expect(collectMediaRefs(request({ source_video: 's.mp4' }))).toEqual([{ path: 'media.source_video', ref: 's.mp4', kind: 'video' }])
    expect(collectMediaRefs({ model: 'm' })).toEqual([])
  })
})

describe('resolveMedia', () => {
  it('hashes a URL as written', async () => {
    const url = 'https://example.com/start.png?v=2'
    const { media, issues } = await resolveMedia(request({ frame_images: [{ input_image: url }] }), spec)
    expect(issues).toEqual([])
    expect(media.get(url)).toEqual({ kind: 'url', ref: url, sha256: sha256(url), mime: 'image/png' })
    expect(fs.createReadStream).not.toHaveBeenCalled()
  })

  it('hashes a data: URI as written, with its MIME type and size', async () => {
    const uri = `data:image/png;base64,${Buffer.from('0123456789').toString('base64')}`
    const { media, issues } = await resolveMedia(request({ reference_images: [uri] }), spec)
    expect(issues).toEqual([])
    expect(media.get(uri)).toEqual({ kind: 'data', ref: uri, sha256: sha256(uri), mime: 'image/png', size: 10 })
  })

  it('refuses a data: URI of the wrong kind', async () => {
    const uri = 'data:text/plain,hello'
    const { media, issues } = await resolveMedia(request({ reference_images: [uri] }), spec)
    expect(media.size).toBe(0)
    expect(issues).toEqual([
      { path: 'media.reference_images[0]', value: JSON.stringify(uri), message: 'an image file: .png, .jpg, .jpeg, .webp or .gif' },
    ])
  })

  it('reads a local file relative to the spec and hashes its bytes', async () => {
    const bytes = Buffer.concat([PNG, Buffer.from('the rest of a png')])
    await writeFile(path.join(dir, 'pages', 'img', 'first.png'), bytes)
    const { media, issues } = await resolveMedia(request({ frame_images: [{ input_image: './img/first.png' }] }), spec)
    expect(issues).toEqual([])
    expect(media.get('./img/first.png')).toEqual({
      kind: 'file',
      ref: './img/first.png',
      path: path.join(dir, 'pages', 'img', 'first.png'),
      sha256: sha256(bytes),
      mime: 'image/png',
      size: bytes.length,
    })
  })

  it('changes the hash when one byte changes', async () => {
    const file = path.join(dir, 'pages', 'img', 'edit.jpg')
    const ref = { frame_images: [{ input_image: 'img/edit.jpg' }] }
    await writeFile(file, Buffer.from([0xff, 0xd8, 0xff, 4]))
    const before = (await resolveMedia(request(ref), spec)).media.get('img/edit.jpg')?.sha256
    await writeFile(file, Buffer.from([0xff, 0xd8, 0xff, 5]))
    const after = (await resolveMedia(request(ref), spec)).media.get('img/edit.jpg')?.sha256
    expect(before).toMatch(/^[0-9a-f]{64}$/)
    expect(after).toMatch(/^[0-9a-f]{64}$/)
    expect(after).not.toBe(before)
  })

  it('reads a file once, whatever spellings and fields name it', async () => {
    const file = path.join(dir, 'pages', 'img', 'same.webp')
    await writeFile(file, riff('WEBP', 'webp bytes'))
    const { media, issues } = await resolveMedia(
      request({
        frame_images: [{ input_image: 'img/same.webp' }],
        reference_images: ['./img/same.webp', file, pathToFileURL(file).href],
      }),
      spec,
    )
    expect(issues).toEqual([])
    expect(media.size).toBe(4)
    expect(new Set([...media.values()].map((m) => m.sha256))).toEqual(new Set([sha256(riff('WEBP', 'webp bytes'))]))
    expect([...media.values()].every((m) => m.kind === 'file' && m.path === file)).toBe(true)
    expect(fs.createReadStream).toHaveBeenCalledTimes(1)
  })

  it('reports a missing file with the path it looked at', async () => {
    const { media, issues } = await resolveMedia(request({ frame_images: [{ input_image: './missing.png' }] }), spec)
    expect(media.size).toBe(0)
    expect(issues).toEqual([
      {
        path: 'media.frame_images[0].input_image',
        value: '"./missing.png"',
        message: `an existing file; ${path.join(dir, 'pages', 'missing.png')} does not exist (paths are relative to the spec file)`,
      },
    ])
  })

  it('reports a directory where a file should be', async () => {
    await mkdir(path.join(dir, 'pages', 'clip.mp4'), { recursive: true })
    const { issues } = await resolveMedia(request({ source_video: 'clip.mp4' }), spec)
    expect(issues).toEqual([
      { path: 'media.source_video', value: '"clip.mp4"', message: `a file; ${path.join(dir, 'pages', 'clip.mp4')} is not one` },
    ])
  })

  it('refuses audio over 15 MB and takes audio at the limit', async () => {
    const big = path.join(dir, 'pages', 'big.mp3')
    const ok = path.join(dir, 'pages', 'ok.wav')
    await writeFile(big, 'ID3')
    await truncate(big, AUDIO_MAX_BYTES + 1)
    // A real WAV (ffprobe checks it): 96 kHz, 8 channels, 32-bit is 3,072,000 bytes a second, so 15 MB lasts 4.9 s.
    await writeFile(ok, wavHeader(AUDIO_MAX_BYTES - 44, 96_000, 8, 32))
    await truncate(ok, AUDIO_MAX_BYTES)
    const { media, issues } = await resolveMedia(request({ audio_inputs: ['big.mp3', { audio: 'ok.wav' }] }), spec)
    expect(issues).toEqual([
      { path: 'media.audio_inputs[0]', value: '"big.mp3"', message: 'an audio file of at most 15 MB (this one is 15.0 MB)' },
    ])
    expect(media.get('ok.wav')).toMatchObject({ kind: 'file', mime: 'audio/wav', size: AUDIO_MAX_BYTES })
  })

  it.each([
    [{ frame_images: [{ input_image: 'first.bmp' }] }, 'media.frame_images[0].input_image', 'an image file: .png, .jpg, .jpeg, .webp or .gif'],
    [{ reference_images: ['ref'] }, 'media.reference_images[0]', 'an image file: .png, .jpg, .jpeg, .webp or .gif'],
    [{ audio_inputs: ['voice.ogg'] }, 'media.audio_inputs[0]', 'an audio file: .wav or .mp3'],
    [{ frame_videos: [{ video: 'clip.avi' }] }, 'media.frame_videos[0].video', 'a video file: .mp4, .webm or .mov'],
    [{ source_video: 'clip.png' }, 'media.source_video', 'a video file: .mp4, .webm or .mov'],
  ])('refuses a wrong extension: %j', async (media, at, message) => {
    const { issues } = await resolveMedia(request(media), spec)
    expect(issues.map((i) => [i.path, i.message])).toEqual([[at, message]])
    expect(fs.createReadStream).not.toHaveBeenCalled()
  })

  it('accepts extensions in any case', async () => {
    await writeFile(path.join(dir, 'pages', 'UPPER.MOV'), Buffer.from('\0\0\0\x14ftypqt  mov bytes', 'latin1'))
    const { media, issues } = await resolveMedia(request({ reference_videos: [{ video: 'UPPER.MOV' }] }), spec)
    expect(issues).toEqual([])
    expect(media.get('UPPER.MOV')?.mime).toBe('video/quicktime')
  })

  it('refuses URL schemes it cannot read', async () => {
    const { issues } = await resolveMedia(request({ reference_images: ['ftp://example.com/a.png'] }), spec)
    expect(issues.map((i) => i.message)).toEqual(['a local file path, an http(s) URL or a data: URI'])
  })

  it('reports every problem, in field order', async () => {
    const { issues } = await resolveMedia(
      request({ frame_images: [{ input_image: 'nope.png' }], reference_images: ['x.bmp'], audio_inputs: ['gone.mp3'] }),
      spec,
    )
    expect(issues.map((i) => i.path)).toEqual(['media.frame_images[0].input_image', 'media.reference_images[0]', 'media.audio_inputs[0]'])
  })
})

describe('resolveMedia: where a file may come from', () => {
  const PNG_BYTES = Buffer.concat([PNG, Buffer.from('png body')])
  let outside: string

  beforeAll(async () => {
    outside = await mkdtemp(path.join(os.tmpdir(), 'vidspec-media-outside-'))
    await writeFile(path.join(outside, 'secret.txt'), 'not for the provider')
    await writeFile(path.join(outside, 'shared.png'), PNG_BYTES)
    await writeFile(path.join(dir, 'pages', 'img', 'inside.png'), PNG_BYTES)
    await fs.promises.symlink(path.join(outside, 'shared.png'), path.join(dir, 'pages', 'img', 'escape.png'))
    await fs.promises.symlink(path.join(dir, 'pages', 'img', 'inside.png'), path.join(dir, 'pages', 'img', 'alias.png'))
  })
  afterAll(async () => {
    await rm(outside, { recursive: true, force: true })
  })

  const frame = (ref: string) => request({ frame_images: [{ input_image: ref }] })

  it('takes files inside the root, through a symlink that stays inside too', async () => {
    const { media, issues } = await resolveMedia(request({ reference_images: ['img/inside.png', 'img/alias.png'] }), spec, { root: dir })
    expect(issues).toEqual([])
    expect(media.get('img/alias.png')?.sha256).toBe(sha256(PNG_BYTES))
  })

  it('refuses a symlink that leads out of the root and an absolute path outside it, without reading them', async () => {
    const link = await resolveMedia(frame('img/escape.png'), spec, { root: dir })
    expect(link.issues).toHaveLength(1)
    expect(link.issues[0]?.message).toMatch(/a file inside the project .* or a folder listed in media\.allow; .*escape\.png links to .*shared\.png, outside it/)
    const abs = await resolveMedia(frame(path.join(outside, 'shared.png')), spec, { root: dir })
    expect(abs.issues[0]?.message).toMatch(/shared\.png is outside it/)
    expect(fs.createReadStream).not.toHaveBeenCalled()
  })

  it('takes a file from a folder in media.allow', async () => {
    const { media, issues } = await resolveMedia(frame('img/escape.png'), spec, { root: dir, allow: [outside] })
    expect(issues).toEqual([])
    expect(media.get('img/escape.png')).toMatchObject({ mime: 'image/png', sha256: sha256(PNG_BYTES) })
  })

  it('judges a file by its bytes, not its name', async () => {
    await writeFile(path.join(dir, 'pages', 'img', 'text.png'), 'just text')
    await writeFile(path.join(dir, 'pages', 'img', 'really-jpeg.png'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]))
    await writeFile(path.join(dir, 'pages', 'img', 'image.mp3'), PNG_BYTES)
    const text = await resolveMedia(frame('img/text.png'), spec, { root: dir })
    expect(text.issues[0]?.message).toMatch(/an image file \(PNG, JPEG, WebP or GIF\); .*text\.png is not one: its bytes look like text/)
    // A JPEG named .png is still an image, and is sent as what it is.
    const jpeg = await resolveMedia(frame('img/really-jpeg.png'), spec, { root: dir })
    expect(jpeg.issues).toEqual([])
    expect(jpeg.media.get('img/really-jpeg.png')?.mime).toBe('image/jpeg')
    const audio = await resolveMedia(request({ audio_inputs: ['img/image.mp3'] }), spec, { root: dir })
    expect(audio.issues[0]?.message).toMatch(/a WAV or MP3 file of 3 to 30 seconds and at most 15 MB; .*image\.mp3 is an image file \(PNG\)/)
  })
})
