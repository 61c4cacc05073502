import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Ajv from 'ajv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVidspecError } from '../../packages/core/src/errors.js'
import { runFfmpeg } from '../../packages/core/src/media/run.js'
import { checkTogetherMedia, togetherCreateBody } from '../../packages/core/src/providers/together-media.js'
import type { ProviderRequest } from '../../packages/core/src/providers/types.js'
import type { HostedFile, MediaHost } from '../../packages/core/src/remote/media.js'
import { resolveMedia } from '../../packages/core/src/spec/media.js'
import { validateSpec } from '../../packages/core/src/spec/validate.js'
import { validateCreateBody } from '../fake-together/validate.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { silentWav as wav } from '../../packages/core/src/media/test-helpers.js'

// Issue 14, item 6: every request body vidspec builds, for every model family and every media field,
// validated against Together's own schema (CreateVideoBody and what it references, vendored from
// togethercomputer/openapi at 090263a; see the fixture's $comment) by a real JSON-schema validator,
// and accepted by the fake server, which checks the per-model rules the docs state.

const fixture = JSON.parse(
  await readFile(new URL('../fixtures/together-openapi/create-video-body.json', import.meta.url), 'utf8'),
) as { components: { schemas: Record<string, Record<string, unknown>> } }

const ajv = new Ajv({ allErrors: true })
ajv.addSchema(fixture, 'together')
const official = ajv.compile({ $ref: 'together#/components/schemas/CreateVideoBody' })
// The schema leaves extra fields open; vidspec must send none, so a strict copy closes every object.
const strictCopy = structuredClone(fixture)
for (const name of ['CreateVideoBody', 'VideoMedia', 'VideoFrameImageInput', 'VideoRef', 'AudioRef']) {
  const schema = strictCopy.components.schemas[name]
  if (schema) schema.additionalProperties = false
}
ajv.addSchema(strictCopy, 'together-strict')
const strict = ajv.compile({ $ref: 'together-strict#/components/schemas/CreateVideoBody' })

let project: TempProject
let specFile: string
const host: MediaHost & { asked: HostedFile[] } = {
  asked: [],
  mode: 'read-write',
  where: 's3://bucket',
  urlFor(file) {
    this.asked.push(file)
    return Promise.resolve(`https://bucket.s3.example.com/media/${file.sha256}?X-Amz-Expires=3600&X-Amz-Signature=${'0'.repeat(64)}`)
  },
}

beforeAll(async () => {
  project = await tempProject({ 'clip.video.ts': 'export default {}', 'voice.wav': wav(4) })
  specFile = project.path('clip.video.ts')
  const ff = (args: string[]) => runFfmpeg(['-v', 'error', '-f', 'lavfi', ...args])
  await ff(['-i', 'color=c=red:s=16x16', '-frames:v', '1', project.path('small.png')])
  // Noise does not compress: well above the inline limit.
  await ff(['-i', 'nullsrc=s=200x200,geq=random(1)*255:random(2)*255:random(3)*255', '-frames:v', '1', project.path('big.png')])
  await ff(['-i', 'color=c=blue:s=64x36:r=10', '-t', '1', '-pix_fmt', 'yuv420p', project.path('clip.mp4')])
})
afterAll(() => project?.dispose())

/** The create body vidspec sends for a spec, through the same steps a build takes. */
async function bodyFor(spec: Record<string, unknown>): Promise<{ body: Record<string, unknown>; warnings: string[] }> {
  const { request, warnings } = validateSpec(spec, 'clip.video.ts')
  const { media, issues } = await resolveMedia(request, specFile)
  expect(issues).toEqual([])
  const req: ProviderRequest = { key: 'k'.repeat(64), request, media, spec: 'clip.video.ts' }
  expect(checkTogetherMedia(req, host)).toEqual([])
  return { body: (await togetherCreateBody(req, host)) as unknown as Record<string, unknown>, warnings }
}

const URL_IMG = 'https://cdn.example.com/cat.jpg'
const URL_VID = 'https://cdn.example.com/clip.mp4'
const URL_WAV = 'https://cdn.example.com/voice.mp3'
const P = 'A lighthouse on a cliff at dusk, waves breaking below'
const first = (input_image: string) => ({ input_image, frame: 'first' })

/** Every model family and every media field (URL, local inline, local hosted, data: URI, both spellings). */
const MATRIX: Array<[string, Record<string, unknown>]> = [
  ['MiniMax Hailuo, every plain field', { model: 'minimax/hailuo-02', prompt: P, negative_prompt: 'blurry', width: 1366, height: 768, seconds: 6, fps: 25, steps: 30, guidance_scale: 8, seed: 42, output_format: 'MP4', output_quality: 20, media: { frame_images: [first('./small.png')] } }],
  ['MiniMax Director, deprecated top-level frame_images', { model: 'minimax/video-01-director', prompt: P, width: 1366, height: 768, seconds: '5', frame_images: [{ input_image: URL_IMG, frame: 0 }] }],
  ['Veo 2.0, first and last', { model: 'google/veo-2.0', prompt: P, width: 1280, height: 720, seconds: 5, media: { frame_images: [first('./big.png'), { input_image: URL_IMG, frame: 'last' }] } }],
  ['Veo 3.0 + audio', { model: 'google/veo-3.0-audio', prompt: P, width: 1920, height: 1080, seconds: 8, generate_audio: true, output_format: 'WEBM' }],
  ['Sora 2 Pro', { model: 'openai/sora-2-pro', prompt: P, width: 720, height: 1280, seconds: 8 }],
  ['Kling 2.1 Standard with a prompt', { model: 'kwaivgI/kling-2.1-standard', prompt: P, width: 1920, height: 1080, media: { frame_images: [first('./small.png')] } }],
  ['Kling 2.1 Pro without a prompt', { model: 'kwaivgI/kling-2.1-pro', media: { frame_images: [first(URL_IMG), { input_image: './big.png', frame: 'last' }] } }],
  ['Seedance 1.0 Pro', { model: 'ByteDance/Seedance-1.0-pro', prompt: P, width: 1248, height: 704, seconds: 5, media: { frame_images: [first('./small.png')] } }],
  ['Seedance 2.0, every media field it takes', { model: 'ByteDance/Seedance-2.0', prompt: P, resolution: '720p', ratio: '16:9', seconds: '5', media: { frame_images: [first('./small.png')], reference_images: [URL_IMG, './big.png'], reference_videos: [{ video: './clip.mp4' }, { video: URL_VID }], audio_inputs: ['./voice.wav', { audio: URL_WAV }] } }],
  ['PixVerse v5', { model: 'pixverse/pixverse-v5', prompt: P, width: 1280, height: 720, seconds: 5, fps: 16 }],
  ['Vidu 2.0 with reference images', { model: 'vidu/vidu-2.0', prompt: P, width: 1280, height: 720, seconds: 8, media: { reference_images: [`data:image/png;base64,${Buffer.from('x').toString('base64')}`] } }],
  ['Vidu Q1', { model: 'vidu/vidu-q1', prompt: P, width: 1920, height: 1080, seconds: 5 }],
  ['Wan 2.7 T2V with local audio', { model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '1080P', ratio: '9:16', seconds: 10, media: { audio_inputs: [{ audio: './voice.wav' }] } }],
  ['Wan 2.7 I2V with a local clip', { model: 'Wan-AI/wan2.7-i2v', prompt: P, resolution: '720P', ratio: '16:9', seconds: 5, media: { frame_videos: [{ video: './clip.mp4' }], audio_inputs: [URL_WAV] } }],
  ['Wan 2.7 I2V keyframes', { model: 'Wan-AI/wan2.7-i2v', prompt: P, media: { frame_images: [first('./small.png'), { input_image: URL_IMG, frame: 'last' }] } }],
  ['Wan 2.7 R2V', { model: 'Wan-AI/wan2.7-r2v', prompt: P, resolution: '1080P', ratio: '1:1', seconds: 5, media: { reference_images: ['./small.png'], reference_videos: [{ video: './clip.mp4' }] } }],
  ['Wan 2.7 Video Edit, source_video as a string', { model: 'Wan-AI/wan2.7-videoedit', prompt: P, media: { source_video: './clip.mp4', reference_images: [URL_IMG] } }],
  ['Wan 2.7 Video Edit, source_video as an object', { model: 'Wan-AI/wan2.7-videoedit', prompt: P, media: { source_video: { video: URL_VID } } }],
  ['an unknown model', { model: 'acme/video-9', prompt: P, seconds: 3, media: { frame_images: [first('./small.png')] } }],
]

describe('request bodies against the official CreateVideoBody schema', () => {
  it.each(MATRIX)('%s', async (_name, spec) => {
    const { body } = await bodyFor(spec)
    expect(official(body) ? [] : official.errors).toEqual([])
    expect(strict(body) ? [] : strict.errors).toEqual([])
    expect(validateCreateBody(body)).toBeUndefined()
    expect(JSON.stringify(body)).not.toMatch(/"\.\/[^"]*"/)
  })

  it('the matrix covers every family and every media field, and local media took both routes', async () => {
    host.asked.length = 0
    const fields = new Set<string>()
    const families = new Set<string>()
    for (const [, spec] of MATRIX) {
      const { body } = await bodyFor(spec)
      families.add(String(body.model).split(/[/-]/)[0] ?? '')
      for (const f of Object.keys((body.media as object | undefined) ?? {})) fields.add(f)
    }
    expect([...fields].sort()).toEqual(['audio_inputs', 'frame_images', 'frame_videos', 'reference_images', 'reference_videos', 'source_video'])
    expect([...families].sort()).toEqual(['ByteDance', 'Wan', 'acme', 'google', 'kwaivgI', 'minimax', 'openai', 'pixverse', 'vidu'])
    expect(new Set(host.asked.map((f) => f.path.split('/').pop()))).toEqual(new Set(['big.png', 'clip.mp4', 'voice.wav']))
  })

  it('the validator is real: a body off the schema fails it', () => {
    expect(official({ model: 'm', steps: 5 })).toBe(false)
    expect(official({ model: 'm', seconds: 5 })).toBe(false)
    expect(official({ model: 'm', media: { source_video: 7 } })).toBe(false)
    expect(strict({ model: 'm', settings: { audio: false } })).toBe(false)
  })

  it('guidance_scale 7.5: the schema says integer, the parameter page float; vidspec warns and sends it', async () => {
    const { body, warnings } = await bodyFor({ model: 'minimax/hailuo-02', prompt: P, guidance_scale: 7.5 })
    expect(body.guidance_scale).toBe(7.5)
    expect(warnings.join('\n')).toMatch(/guidance_scale: 7\.5 is not a whole number/)
    expect(official(body)).toBe(false)
    expect(official.errors?.map((e) => e.dataPath)).toEqual(['.guidance_scale'])
  })
})

describe('what the docs rule out, vidspec refuses up front and the fake refuses too', () => {
  const refusedBy = (spec: Record<string, unknown>) => {
    try {
      validateSpec(spec, 'clip.video.ts')
      return []
    } catch (err) {
      if (!isVidspecError(err, 'SPEC_INVALID')) throw err
      return err.issues.map((i) => i.path)
    }
  }
  it.each<[string, Record<string, unknown>, string]>([
    ['Seedance 2.0, a tier it does not list', { model: 'ByteDance/Seedance-2.0', prompt: P, resolution: '2k' }, 'resolution'],
    ['Wan 2.7, a lowercase tier', { model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '480p' }, 'resolution'],
    ['Wan 2.7 T2V, 16 s', { model: 'Wan-AI/wan2.7-t2v', prompt: P, seconds: '16' }, 'seconds'],
    ['Kling without keyframes', { model: 'kwaivgI/kling-2.1-master', prompt: P }, 'media.frame_images'],
    ['Sora without a prompt', { model: 'openai/sora-2' }, 'prompt'],
  ])('%s', (_name, spec, field) => {
    expect(refusedBy(spec)).toEqual([field])
    expect(validateCreateBody(spec)?.param).toBe(field)
  })

  it('an .ogg audio URL and an over-long inline image', async () => {
    const ogg = { model: 'Wan-AI/wan2.7-t2v', prompt: P, media: { audio_inputs: ['https://cdn.example.com/a.ogg'] } }
    expect((await resolveMedia(validateSpec(ogg, 'clip.video.ts').request, specFile)).issues.map((i) => i.path)).toEqual(['media.audio_inputs[0]'])
    expect(validateCreateBody(ogg)?.param).toBe('media.audio_inputs[0]')
    const big = await readFile(join(project.root, 'big.png'))
    const inline = { model: 'minimax/hailuo-02', prompt: P, media: { frame_images: [{ input_image: `data:image/png;base64,${big.toString('base64')}` }] } }
    expect(validateCreateBody(inline)?.param).toBe('media.frame_images[0].input_image')
    const { request, warnings } = validateSpec(inline, 'clip.video.ts')
    expect(warnings).toEqual([])
    const { media } = await resolveMedia(request, specFile)
    const issues = checkTogetherMedia({ key: 'k', request, media, spec: 'clip.video.ts' }, host)
    expect(issues.map((i) => [i.path, i.message.split(' (')[0]])).toEqual([
      ['media.frame_images[0].input_image', 'an inline image of at most 61,440 characters'],
    ])
  })
})
