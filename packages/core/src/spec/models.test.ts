import { describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import type { SpecIssue } from '../errors.js'
import { GENERIC_RULE, MODEL_RULES, audioModels, knownModels, matchModelRule, modelRules } from './models.js'
import { MEDIA_FIELDS } from './schema.js'
import { validateSpec } from './validate.js'

type Outcome = { issues: SpecIssue[]; warnings: string[] }

function check(spec: Record<string, unknown>): Outcome {
  try {
    return { issues: [], warnings: validateSpec(spec, 'clip.video.ts').warnings }
  } catch (err) {
    if (!isVidspecError(err, 'SPEC_INVALID')) throw err
    return { issues: err.issues, warnings: [] }
  }
}

const frame = (input_image: string, f?: 'first' | 'last' | number) =>
  f === undefined ? { input_image } : { input_image, frame: f }
const P = 'A person walking through a forest'

describe('modelRules', () => {
  it('finds a model by its exact id', () => {
    expect(modelRules('Wan-AI/wan2.7-t2v')).toBe(MODEL_RULES['Wan-AI/wan2.7-t2v'])
    expect(matchModelRule('kwaivgI/kling-2.1-pro')?.key).toBe('kwaivgI/kling-2.1-pro')
  })

  it('falls back to a family pattern for an unlisted version', () => {
    expect(matchModelRule('kwaivgI/kling-3.0-master')).toEqual({ key: 'kwaivgI/kling-*', rule: MODEL_RULES['kwaivgI/kling-*'] })
  })

  it('knows nothing of an unlisted model, nor of a differently cased id', () => {
    expect(modelRules('acme/video-9')).toBeUndefined()
    expect(modelRules('wan-ai/wan2.7-t2v')).toBeUndefined()
  })

  it('lists the audio models the docs name', () => {
    expect(audioModels().sort()).toEqual(
      ['ByteDance/Seedance-2.0', 'Wan-AI/wan2.7-i2v', 'Wan-AI/wan2.7-t2v', 'google/veo-3.0-audio', 'google/veo-3.0-fast-audio'].sort(),
    )
  })

  it('covers the models of the contract', () => {
    const ids = knownModels()
    for (const id of [
      'minimax/hailuo-02',
      'minimax/video-01-director',
      'google/veo-3.0',
      'google/veo-3.1',
      'ByteDance/Seedance-1.0-pro',
      'ByteDance/Seedance-2.0',
      'pixverse/pixverse-v5',
      'vidu/vidu-q3',
      'openai/sora-2-pro',
      'Wan-AI/wan2.7-videoedit',
      'alibaba/happyhorse-1.1-r2v',
      'kwaivgI/kling-1.6-pro',
    ]) {
      expect(ids).toContain(id)
    }
    expect(ids).not.toContain('kwaivgI/kling-*')
  })

  it('holds consistent data', () => {
    for (const [id, rule] of Object.entries(MODEL_RULES)) {
      for (const field of Object.keys(rule.media ?? {})) expect(MEDIA_FIELDS, id).toContain(field)
      for (const field of rule.needs ?? []) {
        if (rule.media) expect(rule.media[field], `${id} needs ${field} but refuses it`).toBeDefined()
      }
      const frames = rule.media?.frame_images
      if (frames?.frames && frames.max !== undefined) expect(frames.max, id).toBeLessThanOrEqual(frames.frames.length)
      for (const size of rule.sizes ?? []) expect(size, id).toMatch(/^\d+x\d+$/)
      if (rule.seconds) expect(rule.seconds.min, id).toBeLessThanOrEqual(rule.seconds.max)
      if (rule.size === 'resolution') expect(rule.sizes, id).toBeUndefined()
      if (rule.resolutions) expect(rule.size, id).toBe('resolution')
      const range = rule.seconds ?? GENERIC_RULE.seconds
      for (const d of rule.durations ?? []) expect(range && d >= range.min && d <= range.max, `${id} lists ${d} s`).toBe(true)
      if (rule.promptMin !== undefined) expect(rule.promptMin, id).toBeLessThanOrEqual(rule.promptMax ?? Infinity)
    }
    expect(GENERIC_RULE.seconds).toEqual({ min: 1, max: 10 })
  })
})

describe('Wan 2.7', () => {
  it('takes resolution and ratio', () => {
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '720P', ratio: '9:16', seconds: '15' })).toEqual({
      issues: [],
      warnings: [],
    })
  })

  it('refuses width and height', () => {
    const { issues } = check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, width: 1280, height: 720 })
    expect(issues).toEqual([
      { path: 'width', value: '1280', message: 'not used by Wan-AI/wan2.7-t2v: set resolution ("720P" or "1080P") and ratio instead' },
      { path: 'height', value: '720', message: 'not used by Wan-AI/wan2.7-t2v: set resolution ("720P" or "1080P") and ratio instead' },
    ])
  })

  it.each([
    ['Wan-AI/wan2.7-t2v', 16, 'an integer from 2 to 15 for Wan-AI/wan2.7-t2v'],
    ['Wan-AI/wan2.7-t2v', 1, 'an integer from 2 to 15 for Wan-AI/wan2.7-t2v'],
  ])('%s: seconds %s is out of its range', (model, seconds, message) => {
    expect(check({ model, prompt: P, seconds }).issues).toEqual([{ path: 'seconds', value: String(seconds), message }])
  })

  it('caps prompt, negative_prompt and seed lower than the generic rules', () => {
    const { issues } = check({
      model: 'Wan-AI/wan2.7-t2v',
      prompt: 'x'.repeat(5001),
      negative_prompt: 'y'.repeat(501),
      seed: 2 ** 31,
    })
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['prompt', 'at most 5,000 characters for Wan-AI/wan2.7-t2v (this one has 5001)'],
      ['negative_prompt', 'at most 500 characters for Wan-AI/wan2.7-t2v (this one has 501)'],
      ['seed', 'an integer from 0 to 2147483647 for Wan-AI/wan2.7-t2v'],
    ])
  })

  it('t2v takes one audio input and no other media', () => {
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, media: { audio_inputs: ['./a.mp3'] } }).issues).toEqual([])
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, media: { audio_inputs: ['./a.mp3', './b.mp3'] } }).issues).toEqual([
      { path: 'media.audio_inputs', value: '["./a.mp3","./b.mp3"]', message: 'at most 1 item for Wan-AI/wan2.7-t2v; this list has 2' },
    ])
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, media: { frame_images: [frame('a.png')] } }).issues).toEqual([
      {
        path: 'media.frame_images',
        value: '[{"input_image":"a.png"}]',
        message: 'not accepted by Wan-AI/wan2.7-t2v, which takes media.audio_inputs',
      },
    ])
  })

  it('i2v takes first and/or last frames, named', () => {
    const i2v = { model: 'Wan-AI/wan2.7-i2v', prompt: P }
    expect(check({ ...i2v, media: { frame_images: [frame('a.png', 'first'), frame('b.png', 'last')] } }).issues).toEqual([])
    expect(check({ ...i2v, media: { frame_images: [frame('b.png', 'last')] } }).issues).toEqual([])
    expect(check({ ...i2v, media: { frame_images: [frame('a.png', 0)] } }).issues).toEqual([
      { path: 'media.frame_images[0].frame', value: '0', message: '"first" or "last" for Wan-AI/wan2.7-i2v' },
    ])
    expect(check({ ...i2v, media: { frame_images: [frame('a.png', 'last'), frame('b.png', 'last')] } }).issues).toEqual([
      { path: 'media.frame_images[1].frame', value: '"last"', message: 'each of "first" or "last" at most once for Wan-AI/wan2.7-i2v' },
    ])
    expect(check({ ...i2v, media: { frame_images: [frame('a.png'), frame('b.png'), frame('c.png')] } }).issues).toEqual([
      expect.objectContaining({ path: 'media.frame_images', message: 'at most 2 items for Wan-AI/wan2.7-i2v; this list has 3' }),
    ])
  })

  it('i2v takes a single continuation clip and needs a frame or a clip', () => {
    const i2v = { model: 'Wan-AI/wan2.7-i2v', prompt: P }
    expect(check({ ...i2v, media: { frame_videos: [{ video: 'a.mp4' }] } }).issues).toEqual([])
    expect(check({ ...i2v, media: { frame_videos: [{ video: 'a.mp4' }, { video: 'b.mp4' }] } }).issues).toHaveLength(1)
    expect(check(i2v).issues).toEqual([
      {
        path: 'media.frame_images',
        value: 'undefined',
        message: 'required by Wan-AI/wan2.7-i2v: set media.frame_images or media.frame_videos',
      },
    ])
  })

  it('r2v takes reference images and videos, many of them', () => {
    const r2v = { model: 'Wan-AI/wan2.7-r2v', prompt: P }
    const refs = { reference_images: ['a.png', 'b.png', 'c.png'], reference_videos: [{ video: 'a.mp4' }, { video: 'b.mp4' }] }
    expect(check({ ...r2v, media: refs }).issues).toEqual([])
    expect(check({ ...r2v, media: { ...refs, audio_inputs: ['a.mp3'] } }).issues.map((i) => i.path)).toEqual(['media.audio_inputs'])
    expect(check(r2v).issues.map((i) => i.message)).toEqual([
      'required by Wan-AI/wan2.7-r2v: set media.reference_images or media.reference_videos',
    ])
  })

  it('videoedit needs a source video and takes one reference image', () => {
    const edit = { model: 'Wan-AI/wan2.7-videoedit', prompt: P }
    expect(check({ ...edit, media: { source_video: 'in.mp4', reference_images: ['a.png'] } }).issues).toEqual([])
    expect(check({ ...edit, media: { source_video: { video: 'in.mp4' } } }).issues).toEqual([])
    expect(check({ ...edit, media: { reference_images: ['a.png'] } }).issues.map((i) => i.message)).toEqual([
      'required by Wan-AI/wan2.7-videoedit: set media.source_video',
    ])
    expect(check({ ...edit, media: { source_video: 'in.mp4', reference_images: ['a.png', 'b.png'] } }).issues.map((i) => i.path)).toEqual([
      'media.reference_images',
    ])
    expect(check({ ...edit, seconds: 11, media: { source_video: 'in.mp4' } }).issues.map((i) => i.message)).toEqual([
      'an integer from 2 to 10 for Wan-AI/wan2.7-videoedit',
    ])
  })
})

describe('Kling', () => {
  it('needs media.frame_images, and a prompt is optional', () => {
    expect(check({ model: 'kwaivgI/kling-2.1-master', media: { frame_images: [frame('a.png')] } })).toEqual({ issues: [], warnings: [] })
    expect(check({ model: 'kwaivgI/kling-2.1-master', prompt: P, media: { frame_images: [frame('a.png')] } }).issues).toEqual([])
    expect(check({ model: 'kwaivgI/kling-2.1-master', prompt: P }).issues).toEqual([
      { path: 'media.frame_images', value: 'undefined', message: 'required by kwaivgI/kling-2.1-master: set media.frame_images' },
    ])
  })

  it('counts the deprecated top-level frame_images', () => {
    const { issues, warnings } = check({ model: 'kwaivgI/kling-1.6-standard', frame_images: [frame('a.png')] })
    expect(issues).toEqual([])
    expect(warnings).toEqual(['clip.video.ts: frame_images: deprecated: use media.frame_images'])
  })

  // Together's model table: "No prompt required: Kling 2.1 Standard/Pro, Kling 1.6 Pro". Not required is not refused.
  it.each(['kwaivgI/kling-2.1-standard', 'kwaivgI/kling-2.1-pro', 'kwaivgI/kling-1.6-pro'])('%s takes a prompt or none', (model) => {
    expect(check({ model, prompt: P, media: { frame_images: [frame('a.png')] } })).toEqual({ issues: [], warnings: [] })
    expect(check({ model, media: { frame_images: [frame('a.png')] } })).toEqual({ issues: [], warnings: [] })
    expect(validateSpec({ model, prompt: P, media: { frame_images: [frame('a.png')] } }, 'k.video.ts').request.prompt).toBe(P)
  })

  it('takes a last frame only on 2.1 pro', () => {
    const frames = { frame_images: [frame('a.png', 'first'), frame('b.png', 'last')] }
    expect(check({ model: 'kwaivgI/kling-2.1-pro', media: frames }).issues).toEqual([])
    expect(check({ model: 'kwaivgI/kling-2.1-master', media: frames }).issues.map((i) => i.message)).toEqual([
      'at most 1 item for kwaivgI/kling-2.1-master; this list has 2',
    ])
    expect(check({ model: 'kwaivgI/kling-2.1-master', media: { frame_images: [frame('b.png', 'last')] } }).issues).toEqual([
      { path: 'media.frame_images[0].frame', value: '"last"', message: '"first" for kwaivgI/kling-2.1-master' },
    ])
  })

  it('an unlisted version gets the family rules, with a warning', () => {
    const { issues, warnings } = check({ model: 'kwaivgI/kling-3.0', prompt: P, media: { frame_images: [frame('a.png', 'last')] } })
    expect(issues).toEqual([])
    expect(warnings).toEqual(['clip.video.ts: model: unknown model kwaivgI/kling-3.0: checked against the kwaivgI/kling-* family rules only'])
    expect(check({ model: 'kwaivgI/kling-3.0', prompt: P }).issues.map((i) => i.path)).toEqual(['media.frame_images'])
  })
})

describe('generate_audio', () => {
  it.each(['google/veo-3.0-audio', 'google/veo-3.0-fast-audio', 'Wan-AI/wan2.7-t2v', 'ByteDance/Seedance-2.0'])('is fine on %s', (model) => {
    expect(check({ model, prompt: P, generate_audio: true }).issues).toEqual([])
  })

  it('is an error on a model without audio, naming the ones with it', () => {
    const { issues } = check({ model: 'minimax/hailuo-02', prompt: P, generate_audio: true })
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe('generate_audio')
    expect(issues[0]?.message).toMatch(/^not supported by minimax\/hailuo-02; models that generate audio: .*google\/veo-3\.0-audio/)
  })

  it('false is harmless anywhere', () => {
    expect(check({ model: 'minimax/hailuo-02', prompt: P, generate_audio: false }).issues).toEqual([])
  })
})

describe('sizes', () => {
  it('models sized by width and height refuse resolution and ratio', () => {
    expect(check({ model: 'minimax/hailuo-02', prompt: P, resolution: '1080P', ratio: '16:9' }).issues).toEqual([
      { path: 'resolution', value: '"1080P"', message: 'not used by minimax/hailuo-02: set width and height instead' },
      { path: 'ratio', value: '"16:9"', message: 'not used by minimax/hailuo-02: set width and height instead' },
    ])
  })

  it('an undocumented size is a warning, not an error', () => {
    expect(check({ model: 'minimax/hailuo-02', prompt: P, width: 1920, height: 1080 })).toEqual({ issues: [], warnings: [] })
    const { issues, warnings } = check({ model: 'minimax/hailuo-02', prompt: P, width: 1000, height: 700 })
    expect(issues).toEqual([])
    expect(warnings).toEqual([
      'clip.video.ts: width/height: 1000x700 is not a documented size of minimax/hailuo-02 (1366x768, 1920x1080); the provider may refuse it',
    ])
  })

  it('Seedance 2.0 is sized by resolution and has its own duration range', () => {
    expect(check({ model: 'ByteDance/Seedance-2.0', prompt: P, resolution: '720P', ratio: '16:9', seconds: 15 }).issues).toEqual([])
    expect(check({ model: 'ByteDance/Seedance-2.0', prompt: P, seconds: 3 }).issues.map((i) => i.message)).toEqual([
      'an integer from 4 to 15 for ByteDance/Seedance-2.0',
    ])
  })
})

describe('prompt', () => {
  it('is required by non-Kling models', () => {
    expect(check({ model: 'openai/sora-2' }).issues).toEqual([
      { path: 'prompt', value: 'undefined', message: 'required by openai/sora-2: a text of 1 to 4,000 characters' },
    ])
    expect(check({ model: 'acme/video-9' }).issues).toEqual([
      { path: 'prompt', value: 'undefined', message: 'required (every model but Kling takes one): a text of 1 to 32,000 characters' },
    ])
  })

  it('respects the per-model length', () => {
    expect(check({ model: 'pixverse/pixverse-v5', prompt: 'x'.repeat(2048) }).issues).toEqual([])
    expect(check({ model: 'pixverse/pixverse-v5', prompt: 'x'.repeat(2049) }).issues.map((i) => i.message)).toEqual([
      'at most 2,048 characters for pixverse/pixverse-v5 (this one has 2049)',
    ])
  })
})

describe('media on models with documented keyframes', () => {
  it('refuses media the model does not take', () => {
    expect(check({ model: 'minimax/hailuo-02', prompt: P, media: { reference_images: ['a.png'] } }).issues).toEqual([
      { path: 'media.reference_images', value: '["a.png"]', message: 'not accepted by minimax/hailuo-02, which takes media.frame_images' },
    ])
    expect(check({ model: 'vidu/vidu-2.0', prompt: P, media: { reference_images: ['a.png'] } }).issues).toEqual([])
  })

  it('reads unmarked keyframes the way the API does', () => {
    const two = { frame_images: [frame('a.png'), frame('b.png')] }
    expect(check({ model: 'google/veo-2.0', prompt: P, media: two }).issues).toEqual([])
    expect(check({ model: 'minimax/hailuo-02', prompt: P, media: { frame_images: [frame('a.png', 0)] } }).issues).toEqual([])
    expect(check({ model: 'minimax/hailuo-02', prompt: P, media: { frame_images: [frame('a.png', 48)] } }).issues).toEqual([
      { path: 'media.frame_images[0].frame', value: '48', message: '"first" for minimax/hailuo-02' },
    ])
  })
})

describe('unknown models', () => {
  it('pass with a warning, checked against the generic rules', () => {
    expect(check({ model: 'acme/video-9', prompt: P, width: 640, height: 360, resolution: '720P' })).toEqual({
      issues: [],
      warnings: ['clip.video.ts: model: unknown model acme/video-9: checked against the generic rules only'],
    })
    expect(check({ model: 'acme/video-9', prompt: P, seconds: 11 }).issues.map((i) => i.message)).toEqual(['an integer from 1 to 10'])
  })

  it('suggest the model a typo was meant to be', () => {
    expect(check({ model: 'minimax/hailuo-2', prompt: P }).warnings).toEqual([
      'clip.video.ts: model: unknown model minimax/hailuo-2: checked against the generic rules only (did you mean minimax/hailuo-02?)',
    ])
  })
})
