import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import type { HostedFile, MediaHost } from '../remote/media.js'
import { INLINE_IMAGE_MAX_CHARS, checkTogetherMedia, togetherCreateBody } from './together-media.js'
import type { ProviderRequest } from './types.js'

let dir: string
const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'together-media-'))
  await writeFile(join(dir, 'first.png'), png)
  await writeFile(join(dir, 'voice.mp3'), 'ID3')
  await writeFile(join(dir, 'big.png'), bigPng)
  await writeFile(join(dir, 'edge.png'), edgePng)
  await writeFile(join(dir, 'clip.mp4'), 'x')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

function file(ref: string, name: string, bytes: Buffer | string, mime?: string): [string, ResolvedMedia] {
  return [ref, { kind: 'file', ref, path: join(dir, name), sha256: sha(bytes), size: Buffer.byteLength(bytes), ...(mime ? { mime } : {}) }]
}
/** A media host that records what it was asked to host. */
function recordingHost(): MediaHost & { asked: HostedFile[] } {
  const asked: HostedFile[] = []
  return {
    asked,
    mode: 'read-write',
    where: 's3://b',
    urlFor: (f) => {
      asked.push(f)
      return Promise.resolve(`https://b.example/media/${f.sha256}?sig=1`)
    },
  }
}
// The largest image that still fits inline as a PNG data: URI, and one byte more.
const PREFIX = 'data:image/png;base64,'.length
const fits = Math.floor((INLINE_IMAGE_MAX_CHARS - PREFIX) / 4) * 3
const bigPng = Buffer.concat([png, Buffer.alloc(fits + 1 - png.length, 7)])
const edgePng = Buffer.concat([png, Buffer.alloc(fits - png.length, 7)])
function url(ref: string): [string, ResolvedMedia] {
  return [ref, { kind: 'url', ref, sha256: sha(ref) }]
}
function providerRequest(request: NormalizedRequest, media: Array<[string, ResolvedMedia]>): ProviderRequest {
  return { key: 'k', request, media: new Map(media), spec: 'hero.video.ts' }
}

describe('checkTogetherMedia', () => {
  it('rejects local video and audio files, naming the field', () => {
    const req = providerRequest(
      {
        model: 'Wan-AI/wan2.7-i2v',
        media: {
          audio_inputs: ['./voice.mp3', { audio: 'https://cdn.example/a.mp3' }],
          frame_videos: [{ video: './clip.mp4' }],
          source_video: { video: './src.mp4' },
        },
      },
      [
        file('./voice.mp3', 'voice.mp3', 'ID3', 'audio/mpeg'),
        url('https://cdn.example/a.mp3'),
        file('./clip.mp4', 'clip.mp4', 'x', 'video/mp4'),
        file('./src.mp4', 'src.mp4', 'y', 'video/mp4'),
      ],
    )
    const issues = checkTogetherMedia(req)
    expect(issues.map((i) => i.path)).toEqual([
      'media.frame_videos[0].video',
      'media.source_video.video',
      'media.audio_inputs[0]',
    ])
    expect(issues[2]?.message).toMatch(/^a local audio file reaches Together only as a URL: set `remote` in the vidspec config/)
    expect(issues[2]?.value).toBe('"./voice.mp3"')
  })

  it('accepts local images, URLs and data URIs', () => {
    const req = providerRequest(
      {
        model: 'm',
        media: {
          frame_images: [{ input_image: './first.png', frame: 'first' }],
          reference_images: ['https://cdn.example/r.png', 'data:image/png;base64,AAAA'],
        },
      },
      [file('./first.png', 'first.png', png), url('https://cdn.example/r.png')],
    )
    expect(checkTogetherMedia(req)).toEqual([])
  })

  it('rejects a local non-image where an image goes', () => {
    const req = providerRequest({ model: 'm', media: { reference_images: ['./clip.mp4'] } }, [
      file('./clip.mp4', 'clip.mp4', 'x', 'video/mp4'),
    ])
    expect(checkTogetherMedia(req)[0]).toMatchObject({ path: 'media.reference_images[0]' })
  })
})

describe('togetherCreateBody', () => {
  it('inlines local images as data URIs and leaves the request untouched', async () => {
    const request: NormalizedRequest = {
      model: 'm',
      prompt: 'p',
      seconds: '5',
      media: { frame_images: [{ input_image: './first.png', frame: 'first' }], reference_images: ['https://cdn.example/r.png'] },
    }
    const body = await togetherCreateBody(providerRequest(request, [file('./first.png', 'first.png', png), url('https://cdn.example/r.png')]))
    expect(body.media?.frame_images?.[0]).toEqual({ input_image: `data:image/png;base64,${png.toString('base64')}`, frame: 'first' })
    expect(body.media?.reference_images).toEqual(['https://cdn.example/r.png'])
    expect(body.seconds).toBe('5')
    expect(request.media?.frame_images?.[0]?.input_image).toBe('./first.png')
  })

  it('refuses an image whose bytes no longer match the key', async () => {
    const req = providerRequest({ model: 'm', media: { frame_images: [{ input_image: './first.png' }] } }, [
      file('./first.png', 'first.png', 'other bytes'),
    ])
    await expect(togetherCreateBody(req)).rejects.toMatchObject({ code: 'SPEC_LOAD_FAILED' })
  })
})

describe('local media beyond inline images (issue 14)', () => {
  const images = (ref: string, name: string, bytes: Buffer) =>
    providerRequest({ model: 'm', media: { frame_images: [{ input_image: ref }] } }, [file(ref, name, bytes, 'image/png')])

  it(`inlines an image up to ${INLINE_IMAGE_MAX_CHARS} characters, and no further without a remote`, async () => {
    const edge = await togetherCreateBody(images('./edge.png', 'edge.png', edgePng))
    const inline = edge.media?.frame_images?.[0]?.input_image ?? ''
    expect(inline.startsWith('data:image/png;base64,')).toBe(true)
    expect(inline.length).toBeLessThanOrEqual(INLINE_IMAGE_MAX_CHARS)
    expect(inline.length).toBeGreaterThan(INLINE_IMAGE_MAX_CHARS - 4)
    const issues = checkTogetherMedia(images('./big.png', 'big.png', bigPng))
    expect(issues).toEqual([
      {
        path: 'media.frame_images[0].input_image',
        value: '"./big.png"',
        message: expect.stringMatching(/^a local image above the inline limit \(as a data: URI it would be 61,44[1-4] characters; at most 61,440 are sent inline\) reaches Together only as a URL: set `remote`/),
      },
    ])
  })

  it('with a media host, local video and large images are sent as its URLs, small images stay inline', async () => {
    const host = recordingHost()
    const req = providerRequest(
      {
        model: 'm',
        media: { frame_images: [{ input_image: './big.png' }, { input_image: './first.png' }], source_video: './clip.mp4' },
      },
      [file('./big.png', 'big.png', bigPng, 'image/png'), file('./first.png', 'first.png', png), file('./clip.mp4', 'clip.mp4', 'x', 'video/mp4')],
    )
    expect(checkTogetherMedia(req, host)).toEqual([])
    const body = await togetherCreateBody(req, host)
    expect(body.media?.frame_images?.[0]?.input_image).toBe(`https://b.example/media/${sha(bigPng)}?sig=1`)
    expect(body.media?.frame_images?.[1]?.input_image).toMatch(/^data:image\/png;base64,/)
    expect(body.media?.source_video).toBe(`https://b.example/media/${sha('x')}?sig=1`)
    expect(host.asked.map((f) => [f.field, f.mime])).toEqual([
      ['media.frame_images[0].input_image', 'image/png'],
      ['media.source_video', 'video/mp4'],
    ])
  })
})
