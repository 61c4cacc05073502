import { describe, expect, it } from 'vitest'
import { isVidspecError, showValue } from '../errors.js'
import type { SpecIssue } from '../errors.js'
import { ALLOWED, OBJECT_FIELDS, SPEC_FIELDS, allowedKey, formatPath, videoSpecSchema } from './schema.js'
import { validateSpec } from './validate.js'

// A model the table knows by name only, so only the generic rules apply and no warning is raised.
const base = { model: 'google/veo-3.1', prompt: 'A person walking through a forest' }

function issuesOf(spec: Record<string, unknown>): SpecIssue[] {
  try {
    validateSpec(spec, 'hero.video.ts')
    return []
  } catch (err) {
    if (!isVidspecError(err, 'SPEC_INVALID')) throw err
    return err.issues
  }
}

const valid: Array<[string, unknown]> = [
  ['prompt', 'a'],
  ['prompt', 'x'.repeat(32_000)],
  ['model', 'minimax/hailuo-02'],
  ['negative_prompt', ''],
  ['negative_prompt', 'blurry, low quality'],
  ['width', 1],
  ['width', 1366],
  ['height', 768],
  ['resolution', '720P'],
  ['resolution', '1080P'],
  ...['16:9', '9:16', '1:1', '4:3', '3:4'].map((r): [string, unknown] => ['ratio', r]),
  ['seconds', 1],
  ['seconds', 10],
  ['seconds', '6'],
  ['seconds', '06'],
  ['fps', 1],
  ['fps', 60],
  ['steps', 10],
  ['steps', 50],
  ['guidance_scale', 0.5],
  ['guidance_scale', 8],
  ['guidance_scale', 20],
  ['seed', 0],
  ['seed', 2 ** 32 - 1],
  ['output_format', 'MP4'],
  ['output_format', 'WEBM'],
  ['output_quality', 0],
  ['output_quality', 20],
  ['generate_audio', true],
  ['generate_audio', false],
  ['media', {}],
  [
    'media',
    {
      frame_images: [
        { input_image: 'https://example.com/a.png', frame: 'first' },
        { input_image: 'https://example.com/b.png', frame: 48 },
        { input_image: 'https://example.com/c.png', frame: 'last' },
        { input_image: 'https://example.com/d.png' },
      ],
      frame_videos: [{ video: 'https://example.com/a.mp4' }],
      reference_images: ['./ref.png', 'data:image/png;base64,AAAA'],
      reference_videos: [{ video: 'https://example.com/ref.mp4' }],
      source_video: 'https://example.com/src.mp4',
      audio_inputs: ['./a.mp3', { audio: 'https://example.com/b.wav' }],
    },
  ],
  ['media', { source_video: { video: './src.mp4' } }],
  ['frame_images', [{ input_image: './first.png', frame: 0 }]],
  ['reference_images', ['./ref.png']],
]

describe('valid values', () => {
  it.each(valid)('%s = %j', (field, value) => {
    expect(issuesOf({ ...base, [field]: value })).toEqual([])
  })
})

const SECONDS_RANGE = 'an integer from 1 to 10'
// [field, value, path of the issue, what the message must say]
const invalid: Array<[string, unknown, string, string]> = [
  ['prompt', '', 'prompt', ALLOWED.prompt!],
  ['prompt', 'x'.repeat(32_001), 'prompt', ALLOWED.prompt!],
  ['prompt', 5, 'prompt', ALLOWED.prompt!],
  ['model', '', 'model', ALLOWED.model!],
  ['model', 42, 'model', ALLOWED.model!],
  ['negative_prompt', 5, 'negative_prompt', ALLOWED.negative_prompt!],
  ['negative_prompt', 'x'.repeat(32_001), 'negative_prompt', ALLOWED.negative_prompt!],
  ['width', 0, 'width', ALLOWED.width!],
  ['width', -1366, 'width', ALLOWED.width!],
  ['width', 1366.5, 'width', ALLOWED.width!],
  ['width', '1366', 'width', ALLOWED.width!],
  ['height', 0, 'height', ALLOWED.height!],
  ['height', Number.NaN, 'height', ALLOWED.height!],
  ['resolution', '', 'resolution', ALLOWED.resolution!],
  ['resolution', 720, 'resolution', ALLOWED.resolution!],
  ['ratio', '21:9', 'ratio', ALLOWED.ratio!],
  ['ratio', '16/9', 'ratio', ALLOWED.ratio!],
  ['seconds', 0, 'seconds', SECONDS_RANGE],
  ['seconds', 11, 'seconds', SECONDS_RANGE],
  ['seconds', '11', 'seconds', SECONDS_RANGE],
  ['seconds', -1, 'seconds', SECONDS_RANGE],
  ['seconds', 6.5, 'seconds', ALLOWED.seconds!],
  ['seconds', '6.5', 'seconds', ALLOWED.seconds!],
  ['seconds', 'six', 'seconds', ALLOWED.seconds!],
  ['seconds', ' 6', 'seconds', ALLOWED.seconds!],
  ['seconds', true, 'seconds', ALLOWED.seconds!],
  ['fps', 0, 'fps', ALLOWED.fps!],
  ['fps', 61, 'fps', ALLOWED.fps!],
  ['fps', 23.976, 'fps', ALLOWED.fps!],
  ['steps', 9, 'steps', ALLOWED.steps!],
  ['steps', 51, 'steps', ALLOWED.steps!],
  ['steps', 20.5, 'steps', ALLOWED.steps!],
  ['guidance_scale', 0, 'guidance_scale', ALLOWED.guidance_scale!],
  ['guidance_scale', -1, 'guidance_scale', ALLOWED.guidance_scale!],
  ['guidance_scale', '8', 'guidance_scale', ALLOWED.guidance_scale!],
  ['guidance_scale', Number.POSITIVE_INFINITY, 'guidance_scale', ALLOWED.guidance_scale!],
  ['seed', -1, 'seed', ALLOWED.seed!],
  ['seed', 1.5, 'seed', ALLOWED.seed!],
  ['seed', 2 ** 32, 'seed', ALLOWED.seed!],
  ['seed', '42', 'seed', ALLOWED.seed!],
  ['output_format', 'mp4', 'output_format', ALLOWED.output_format!],
  ['output_format', 'GIF', 'output_format', ALLOWED.output_format!],
  ['output_quality', -1, 'output_quality', ALLOWED.output_quality!],
  ['output_quality', 1.5, 'output_quality', ALLOWED.output_quality!],
  ['generate_audio', 'true', 'generate_audio', ALLOWED.generate_audio!],
  ['generate_audio', 1, 'generate_audio', ALLOWED.generate_audio!],
  ['media', 'first.png', 'media', ALLOWED.media!],
  ['media', [], 'media', ALLOWED.media!],
  ['media', { frame_images: {} }, 'media.frame_images', ALLOWED['media.frame_images']!],
  ['media', { frame_images: ['a.png'] }, 'media.frame_images[0]', ALLOWED['media.frame_images[]']!],
  ['media', { frame_images: [{}] }, 'media.frame_images[0].input_image', ALLOWED['media.frame_images[].input_image']!],
  ['media', { frame_images: [{ input_image: '' }] }, 'media.frame_images[0].input_image', ALLOWED['media.frame_images[].input_image']!],
  ['media', { frame_images: [{ input_image: 'a.png', frame: -1 }] }, 'media.frame_images[0].frame', ALLOWED['media.frame_images[].frame']!],
  ['media', { frame_images: [{ input_image: 'a.png', frame: 'middle' }] }, 'media.frame_images[0].frame', ALLOWED['media.frame_images[].frame']!],
  ['media', { frame_videos: ['a.mp4'] }, 'media.frame_videos[0]', ALLOWED['media.frame_videos[]']!],
  ['media', { frame_videos: [{ video: '' }] }, 'media.frame_videos[0].video', ALLOWED['media.frame_videos[].video']!],
  ['media', { reference_images: 'a.png' }, 'media.reference_images', ALLOWED['media.reference_images']!],
  ['media', { reference_images: [3] }, 'media.reference_images[0]', ALLOWED['media.reference_images[]']!],
  ['media', { reference_videos: ['a.mp4'] }, 'media.reference_videos[0]', ALLOWED['media.reference_videos[]']!],
  ['media', { source_video: '' }, 'media.source_video', ALLOWED['media.source_video']!],
  ['media', { source_video: 3 }, 'media.source_video', ALLOWED['media.source_video']!],
  ['media', { source_video: { video: '' } }, 'media.source_video.video', ALLOWED['media.source_video.video']!],
  ['media', { audio_inputs: 'a.mp3' }, 'media.audio_inputs', ALLOWED['media.audio_inputs']!],
  ['media', { audio_inputs: [3] }, 'media.audio_inputs[0]', ALLOWED['media.audio_inputs[]']!],
  ['media', { audio_inputs: [{ audio: 3 }] }, 'media.audio_inputs[0]', ALLOWED['media.audio_inputs[]']!],
  ['frame_images', [{ input_image: 'a.png', frame: 'middle' }], 'frame_images[0].frame', ALLOWED['frame_images[].frame']!],
  ['reference_images', [''], 'reference_images[0]', ALLOWED['reference_images[]']!],
]

describe('invalid values', () => {
  it.each(invalid)('%s = %j', (field, value, path, message) => {
    const issues = issuesOf({ ...base, [field]: value })
    const issue = issues.find((i) => i.path === path)
    expect(issue, JSON.stringify(issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })

  it('shows the value the spec wrote', () => {
    expect(issuesOf({ ...base, steps: 51 })).toEqual([{ path: 'steps', value: '51', message: ALLOWED.steps }])
    const issues = issuesOf({ ...base, media: { frame_images: [{ input_image: 'a.png', frame: -2 }] } })
    expect(issues).toEqual([
      { path: 'media.frame_images[0].frame', value: '-2', message: ALLOWED['media.frame_images[].frame'] },
    ])
  })
})

describe('unknown fields', () => {
  it.each([
    ['guidence_scale', 'guidance_scale'],
    ['negativePrompt', 'negative_prompt'],
    ['duration', undefined],
  ])('top-level %s is an error naming every allowed field', (key, guess) => {
    const issues = issuesOf({ ...base, [key]: 8 })
    expect(issues).toHaveLength(1)
    const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`
    expect(issues[0]).toEqual({
      path: key,
      value: '8',
      message: `unknown field${hint}; allowed fields are ${OBJECT_FIELDS['']!.join(', ')}`,
    })
    expect(OBJECT_FIELDS['']).not.toContain('frame_images')
  })

  it('inside media and inside media items', () => {
    const issues = issuesOf({
      ...base,
      media: { frame_image: [], frame_images: [{ input_image: 'a.png', frames: 'first' }], source_video: { url: 'b.mp4' } },
    })
    expect(Object.fromEntries(issues.map((i) => [i.path, i.message]))).toEqual({
      'media.frame_image': expect.stringMatching(/^unknown field \(did you mean frame_images\?\); allowed fields are frame_images, /),
      'media.frame_images[0].frames': 'unknown field (did you mean frame?); allowed fields are input_image, frame',
      // Neither a string nor a { video }: the union's message says both forms.
      'media.source_video': ALLOWED['media.source_video'],
    })
  })
})

describe('ALLOWED', () => {
  it('has a message for every top-level field', () => {
    for (const field of SPEC_FIELDS) expect(ALLOWED[field], field).toBeTruthy()
  })

  it('never lets a zod message through for the invalid values above', () => {
    for (const [field, value] of invalid) {
      for (const issue of issuesOf({ ...base, [field]: value })) expect(issue.message).not.toMatch(/Invalid|Too (big|small)/)
    }
  })

  it('is keyed by paths with list indexes collapsed', () => {
    expect(allowedKey(['media', 'frame_images', 3, 'frame'])).toBe('media.frame_images[].frame')
    expect(formatPath(['media', 'frame_images', 3, 'frame'])).toBe('media.frame_images[3].frame')
    expect(formatPath([])).toBe('')
  })
})

describe('videoSpecSchema', () => {
  it('is strict at every level', () => {
    expect(videoSpecSchema.safeParse({ model: 'm', extra: 1 }).success).toBe(false)
    expect(videoSpecSchema.safeParse({ model: 'm', media: { extra: 1 } }).success).toBe(false)
    expect(videoSpecSchema.safeParse({ model: 'm', media: { frame_videos: [{ video: 'a', extra: 1 }] } }).success).toBe(false)
  })

  it('requires a model and nothing else', () => {
    expect(videoSpecSchema.safeParse({ model: 'm' }).success).toBe(true)
    expect(videoSpecSchema.safeParse({ prompt: 'p' }).success).toBe(false)
  })

  it('values render through showValue', () => {
    expect(issuesOf({ ...base, prompt: 'x'.repeat(32_001) })[0]?.value).toBe(showValue('x'.repeat(32_001)))
  })
})
