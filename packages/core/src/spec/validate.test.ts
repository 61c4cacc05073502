import { describe, expect, it } from 'vitest'
import { defineVideo } from '../define.js'
import { VidspecError, isVidspecError } from '../errors.js'
import { videoSpecSchema } from './schema.js'
import { definedFields, validView, validateSpec } from './validate.js'

const FILE = 'src/pages/hero.video.ts'
const P = 'A person walking through a forest'

function thrown(fn: () => unknown): VidspecError {
  try {
    fn()
  } catch (err) {
    if (err instanceof VidspecError) return err
    throw err
  }
  throw new Error('expected validateSpec to throw')
}

describe('normalization', () => {
  it('keeps only the fields the spec set', () => {
    const { request, warnings } = validateSpec({ model: 'minimax/hailuo-02', prompt: P }, FILE)
    expect(request).toEqual({ model: 'minimax/hailuo-02', prompt: P })
    expect(Object.keys(request)).toEqual(['model', 'prompt'])
    expect(warnings).toEqual([])
  })

  it('keeps an explicit default, which is not the same request as leaving it out', () => {
    const { request } = validateSpec({ model: 'minimax/hailuo-02', prompt: P, output_format: 'MP4', output_quality: 20 }, FILE)
    expect(request).toEqual({ model: 'minimax/hailuo-02', prompt: P, output_format: 'MP4', output_quality: 20 })
  })

  it('treats an explicit undefined as not set', () => {
    const { request } = validateSpec(
      { model: 'minimax/hailuo-02', prompt: P, seed: undefined, media: { frame_images: [{ input_image: 'a.png', frame: undefined }] } },
      FILE,
    )
    expect(request).toEqual({ model: 'minimax/hailuo-02', prompt: P, media: { frame_images: [{ input_image: 'a.png' }] } })
    expect('seed' in request).toBe(false)
  })

  it('drops the brand symbol and returns a plain, JSON-safe object', () => {
    const spec = defineVideo({
      model: 'minimax/hailuo-02',
      prompt: P,
      seconds: 6,
      width: 1366,
      height: 768,
      steps: 30,
      guidance_scale: 8,
      seed: 42,
      media: { frame_images: [{ input_image: './first-frame.png', frame: 'first' }] },
    })
    const { request } = validateSpec(spec, FILE)
    expect(Object.getOwnPropertySymbols(request)).toEqual([])
    expect(Object.getPrototypeOf(request)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(request))).toEqual(request)
    expect(request).toEqual({
      model: 'minimax/hailuo-02',
      prompt: P,
      width: 1366,
      height: 768,
      seconds: '6',
      steps: 30,
      guidance_scale: 8,
      seed: 42,
      media: { frame_images: [{ input_image: './first-frame.png', frame: 'first' }] },
    })
  })

  it('does not share objects with the spec', () => {
    const media = { reference_images: ['a.png'] }
    const { request } = validateSpec({ model: 'vidu/vidu-2.0', prompt: P, media }, FILE)
    request.media?.reference_images?.push('b.png')
    expect(media.reference_images).toEqual(['a.png'])
  })

  it.each([
    [6, '6'],
    ['6', '6'],
    ['06', '6'],
    [10, '10'],
    ['010', '10'],
    [1, '1'],
    [6.0, '6'],
  ])('seconds %j -> %j', (seconds, expected) => {
    expect(validateSpec({ model: 'minimax/hailuo-02', prompt: P, seconds }, FILE).request.seconds).toBe(expected)
  })
})

describe('the view of a spec that passed whole', () => {
  // validateSpec takes it from the one parse of the whole spec; it must be what the field-by-field
  // view (used when some other field is wrong) gives, or a spec's key would depend on its neighbours.
  it.each([
    ['the least', { model: 'minimax/hailuo-02', prompt: P }],
    ['undefined members', { model: 'm', prompt: P, seed: undefined, media: { reference_images: ['a.png'], frame_images: undefined } }],
    [
      'every field',
      {
        model: 'm',
        prompt: P,
        negative_prompt: 'n',
        width: 1366,
        height: 768,
        resolution: '720p',
        ratio: '16:9',
        seconds: '6',
        fps: 24,
        steps: 20,
        guidance_scale: 7.5,
        seed: 0,
        output_format: 'WEBM',
        output_quality: 30,
        generate_audio: false,
        media: {
          frame_images: [{ input_image: 'a.png', frame: 'last' }, { input_image: 'b.png', frame: 2 }],
          frame_videos: [{ video: 'v.mp4' }],
          reference_images: ['r.png'],
          reference_videos: [{ video: 'w.mp4' }],
          source_video: { video: 's.mp4' },
          audio_inputs: ['x.mp3', { audio: 'y.mp3' }],
        },
        frame_images: [{ input_image: 'c.png' }],
        reference_images: ['d.png'],
        renditions: { formats: ['webm'] },
      },
    ],
  ])('%s: the same as field by field', (_name, spec) => {
    const view = definedFields(videoSpecSchema.parse(spec))
    expect(view).toEqual(validView(spec))
    expect(Object.keys(view).sort()).toEqual(Object.keys(validView(spec)).sort())
    if (view.media) expect(Object.keys(view.media).sort()).toEqual(Object.keys(validView(spec).media ?? {}).sort())
  })
})

describe('deprecated top-level fields', () => {
  it('moves frame_images and reference_images under media, with a warning each', () => {
    const { request, warnings } = validateSpec(
      {
        model: 'vidu/vidu-2.0',
        prompt: P,
        frame_images: [{ input_image: 'a.png', frame: 'first' }],
        reference_images: ['ref.png'],
      },
      FILE,
    )
    expect(request).toEqual({
      model: 'vidu/vidu-2.0',
      prompt: P,
      media: { frame_images: [{ input_image: 'a.png', frame: 'first' }], reference_images: ['ref.png'] },
    })
    expect(warnings).toEqual([
      `${FILE}: frame_images: deprecated: use media.frame_images`,
      `${FILE}: reference_images: deprecated: use media.reference_images`,
    ])
  })

  it('merges with the other media fields', () => {
    const { request } = validateSpec(
      { model: 'vidu/vidu-2.0', prompt: P, reference_images: ['ref.png'], media: { frame_images: [{ input_image: 'a.png' }] } },
      FILE,
    )
    expect(request.media).toEqual({ frame_images: [{ input_image: 'a.png' }], reference_images: ['ref.png'] })
  })

  it('is an error when both spellings are set', () => {
    const err = thrown(() =>
      validateSpec({ model: 'vidu/vidu-2.0', prompt: P, reference_images: ['a.png'], media: { reference_images: ['b.png'] } }, FILE),
    )
    expect(err.issues).toEqual([
      {
        path: 'reference_images',
        value: '["a.png"]',
        message: 'set media.reference_images only (reference_images is its deprecated spelling, and both are set)',
      },
    ])
  })

  it('names the deprecated path in model errors', () => {
    const err = thrown(() => validateSpec({ model: 'minimax/hailuo-02', prompt: P, reference_images: ['a.png'] }, FILE))
    expect(err.issues.map((i) => i.path)).toEqual(['reference_images'])
  })
})

describe('warnings', () => {
  it('guidance_scale above 12 warns, naming the file and the field', () => {
    const { warnings } = validateSpec({ model: 'minimax/hailuo-02', prompt: P, guidance_scale: 13 }, FILE)
    expect(warnings).toEqual([
      `${FILE}: guidance_scale: 13 is above 12, which may cause over-guidance artifacts or unnatural motion (6 to 10 recommended)`,
    ])
    expect(validateSpec({ model: 'minimax/hailuo-02', prompt: P, guidance_scale: 12 }, FILE).warnings).toEqual([])
  })
})

describe('errors', () => {
  it('are SPEC_INVALID with the file and every issue', () => {
    const err = thrown(() => validateSpec({ model: 'minimax/hailuo-02', prompt: P, steps: 60 }, FILE))
    expect(isVidspecError(err, 'SPEC_INVALID')).toBe(true)
    expect(err.file).toBe(FILE)
    expect(err.issues).toEqual([{ path: 'steps', value: '60', message: 'an integer from 10 to 50' }])
  })

  it('a spec that is not an object', () => {
    for (const raw of [undefined, null, 'hero', [], 42]) {
      const err = thrown(() => validateSpec(raw, FILE))
      expect(err.issues).toHaveLength(1)
      expect(err.issues[0]?.path).toBe('')
      expect(err.message).toContain('(spec): an object passed to defineVideo({ ... })')
    }
  })

  it('a spec with several mistakes names the file, every field, every value and what is allowed', () => {
    const err = thrown(() =>
      validateSpec(
        {
          model: 'Wan-AI/wan2.7-i2v',
          prompt: '',
          width: 1280,
          seconds: '20',
          steps: 5,
          guidance_scale: -1,
          seed: -7,
          output_format: 'mov',
          generate_audio: 'yes',
          guidence_scale: 8,
          media: {
            frame_images: [{ input_image: './a.png', frame: 'middle' }],
            reference_images: ['./ref.png'],
            audio_inputs: ['./a.mp3', './b.mp3'],
          },
        },
        FILE,
      ),
    )
    expect(err.message).toBe(
      [
        `${FILE}: 12 problems`,
        '  - prompt: a text of 1 to 32,000 characters (got "")',
        '  - width: not used by Wan-AI/wan2.7-i2v: set resolution ("720P" or "1080P") and ratio instead (got 1280)',
        '  - seconds: an integer from 2 to 15 for Wan-AI/wan2.7-i2v (got "20")',
        '  - steps: an integer from 10 to 50 (got 5)',
        '  - guidance_scale: a number above 0 (6 to 10 recommended) (got -1)',
        '  - seed: an integer from 0 to 4294967295 (got -7)',
        '  - output_format: one of "MP4", "WEBM" (got "mov")',
        '  - generate_audio: true or false (got "yes")',
        '  - media.frame_images[0].frame: "first", "last" or a frame number of 0 or more (got "middle")',
        '  - media.reference_images: not accepted by Wan-AI/wan2.7-i2v, which takes media.frame_images, media.frame_videos, media.audio_inputs (got ["./ref.png"])',
        '  - media.audio_inputs: at most 1 item for Wan-AI/wan2.7-i2v; this list has 2 (got ["./a.mp3","./b.mp3"])',
        '  - guidence_scale: unknown field (did you mean guidance_scale?); allowed fields are model, prompt, negative_prompt, width, height, resolution, ratio, seconds, fps, steps, guidance_scale, seed, output_format, output_quality, generate_audio, media, renditions (got 8)',
      ].join('\n'),
    )
    expect(err.issues).toHaveLength(12)
  })

  it('a missing model is reported, and model rules are skipped', () => {
    const err = thrown(() => validateSpec({ prompt: P, width: 1280 }, FILE))
    expect(err.issues).toEqual([{ path: 'model', value: 'undefined', message: 'a model id, e.g. "minimax/hailuo-02"' }])
  })
})
