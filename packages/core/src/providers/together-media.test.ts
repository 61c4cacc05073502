import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { checkTogetherMedia, togetherCreateBody } from './together-media.js'
import type { ProviderRequest } from './types.js'

let dir: string
const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'together-media-'))
  await writeFile(join(dir, 'first.png'), png)
  await writeFile(join(dir, 'voice.mp3'), 'ID3')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

function file(ref: string, name: string, bytes: Buffer | string, mime?: string): [string, ResolvedMedia] {
  return [ref, { kind: 'file', ref, path: join(dir, name), sha256: sha(bytes), ...(mime ? { mime } : {}) }]
}
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
    expect(issues[2]?.message).toMatch(/cannot be sent to Together; host it and use an https URL/)
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
