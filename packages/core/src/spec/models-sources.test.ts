import { describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import type { SpecIssue } from '../errors.js'
import type { NormalizedRequest } from '../types.js'
import { validateSpec } from './validate.js'

// Issue 14's table, row by row, both ways: what Together's sources document passes and is sent as
// documented; what they rule out fails before any request, naming file, field, value and what is allowed.

const FILE = 'src/clip.video.ts'
const P = 'A person walking through a forest'
type Outcome = { request?: NormalizedRequest; issues: SpecIssue[]; warnings: string[]; message?: string }

function check(spec: Record<string, unknown>): Outcome {
  try {
    const { request, warnings } = validateSpec(spec, FILE)
    return { request, issues: [], warnings }
  } catch (err) {
    if (!isVidspecError(err, 'SPEC_INVALID')) throw err
    return { issues: err.issues, warnings: [], message: err.message }
  }
}

describe('resolution, in the case each model documents', () => {
  it.each(['480p', '720p', '1080p', '4k'])('Seedance 2.0 takes %s and sends it as written', (resolution) => {
    const out = check({ model: 'ByteDance/Seedance-2.0', prompt: P, resolution, ratio: '16:9', seconds: '5' })
    expect(out.issues).toEqual([])
    expect(out.warnings).toEqual([])
    expect(out.request?.resolution).toBe(resolution)
  })

  it('Seedance 2.0: another case of a documented tier is sent in the documented case, with a warning', () => {
    const out = check({ model: 'ByteDance/Seedance-2.0', prompt: P, resolution: '1080P' })
    expect(out.request?.resolution).toBe('1080p')
    expect(out.warnings).toEqual([`${FILE}: resolution: "1080P" is sent as "1080p", the spelling ByteDance/Seedance-2.0's docs use`])
  })

  it('Seedance 2.0 refuses an undocumented tier, naming file, field, value and the tiers', () => {
    const out = check({ model: 'ByteDance/Seedance-2.0', prompt: P, resolution: '2160p' })
    expect(out.issues).toEqual([
      { path: 'resolution', value: '"2160p"', message: 'one of "480p", "720p", "1080p" or "4k" for ByteDance/Seedance-2.0 (as its docs spell them)' },
    ])
    expect(out.message).toContain(FILE)
  })

  it('Wan 2.7 keeps its uppercase tiers, and 480p is not one of them', () => {
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '720P' }).request?.resolution).toBe('720P')
    const lower = check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '720p' })
    expect(lower.request?.resolution).toBe('720P')
    expect(lower.warnings).toHaveLength(1)
    expect(check({ model: 'Wan-AI/wan2.7-t2v', prompt: P, resolution: '480p' }).issues.map((i) => i.message)).toEqual([
      'one of "720P" or "1080P" for Wan-AI/wan2.7-t2v (as its docs spell them)',
    ])
  })

  it('an unknown model may send any tier (the schema types it a free string); an undocumented one warns', () => {
    const out = check({ model: 'acme/video-9', prompt: P, resolution: '8k' })
    expect(out.issues).toEqual([])
    expect(out.request?.resolution).toBe('8k')
    expect(out.warnings.at(-1)).toMatch(/resolution: "8k" is not a resolution any documented model documents/)
  })
})

describe('prompt on Kling models that need none', () => {
  it.each(['kwaivgI/kling-2.1-standard', 'kwaivgI/kling-2.1-pro', 'kwaivgI/kling-1.6-pro'])('%s: a prompt is sent', (model) => {
    const out = check({ model, prompt: P, media: { frame_images: [{ input_image: 'a.png' }] } })
    expect(out.issues).toEqual([])
    expect(out.request?.prompt).toBe(P)
  })

  it('Kling still needs its keyframe', () => {
    expect(check({ model: 'kwaivgI/kling-2.1-standard', prompt: P }).issues.map((i) => i.path)).toEqual(['media.frame_images'])
  })
})

// Together's model table, "Duration" column (Hailuo also 6 s, as Together's own skill sends it).
const DURATIONS: Array<[string, number[], Record<string, unknown>]> = [
  ['google/veo-2.0', [5], {}],
  ['google/veo-3.0', [8], {}],
  ['google/veo-3.0-audio', [8], {}],
  ['google/veo-3.0-fast', [8], {}],
  ['google/veo-3.0-fast-audio', [8], {}],
  ['openai/sora-2', [8], {}],
  ['openai/sora-2-pro', [8], {}],
  ['minimax/hailuo-02', [6, 10], {}],
  ['minimax/video-01-director', [5], {}],
  ['kwaivgI/kling-2.1-master', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['kwaivgI/kling-2.1-standard', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['kwaivgI/kling-2.1-pro', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['kwaivgI/kling-2.0-master', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['kwaivgI/kling-1.6-standard', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['kwaivgI/kling-1.6-pro', [5], { media: { frame_images: [{ input_image: 'a.png' }] } }],
  ['ByteDance/Seedance-1.0-lite', [5], {}],
  ['ByteDance/Seedance-1.0-pro', [5], {}],
  ['pixverse/pixverse-v5', [5], {}],
  ['vidu/vidu-2.0', [8], {}],
  ['vidu/vidu-q1', [5], {}],
]

describe('per-model durations from the model table', () => {
  it.each(DURATIONS)('%s: the listed duration passes silently and is sent as a string', (model, listed, extra) => {
    for (const seconds of listed) {
      const out = check({ model, prompt: P, seconds, ...extra })
      expect(out.issues).toEqual([])
      expect(out.warnings).toEqual([])
      expect(out.request?.seconds).toBe(String(seconds))
    }
  })

  it.each(DURATIONS)('%s: another duration within 1-10 warns, naming the listed one', (model, listed, extra) => {
    const other = listed.includes(7) ? 3 : 7
    const out = check({ model, prompt: P, seconds: other, ...extra })
    expect(out.issues).toEqual([])
    expect(out.warnings).toEqual([
      `${FILE}: seconds: ${other} s is not a duration Together's model table lists for ${model} (${listed.map((s) => `${s} s`).join(' or ')}); the provider may refuse it or bill the listed length`,
    ])
  })

  it.each(DURATIONS)('%s: a duration outside the documented 1-10 is refused', (model, _listed, extra) => {
    expect(check({ model, prompt: P, seconds: 11, ...extra }).issues).toEqual([
      { path: 'seconds', value: '11', message: `an integer from 1 to 10 for ${model}` },
    ])
  })
})

describe('where the sources disagree, a warning and the value sent as written', () => {
  it('guidance_scale: a float (parameter page) against an integer (OpenAPI)', () => {
    const out = check({ model: 'minimax/hailuo-02', prompt: P, guidance_scale: 7.5 })
    expect(out.issues).toEqual([])
    expect(out.request?.guidance_scale).toBe(7.5)
    expect(out.warnings).toEqual([expect.stringMatching(/^src\/clip\.video\.ts: guidance_scale: 7\.5 is not a whole number: the API schema types/)])
    expect(check({ model: 'minimax/hailuo-02', prompt: P, guidance_scale: 8 }).warnings).toEqual([])
  })

  it('keyframes past two without a frame (parameter page: required; OpenAPI: evenly spaced)', () => {
    const media = { frame_images: [{ input_image: 'a.png' }, { input_image: 'b.png', frame: 48 }, { input_image: 'c.png' }] }
    const out = check({ model: 'acme/video-9', prompt: P, media })
    expect(out.issues).toEqual([])
    expect(out.warnings.at(-1)).toMatch(/^src\/clip\.video\.ts: media\.frame_images: 3 keyframes, not all with a frame/)
    const marked = { frame_images: [{ input_image: 'a.png', frame: 'first' }, { input_image: 'b.png', frame: 48 }, { input_image: 'c.png', frame: 'last' }] }
    expect(check({ model: 'acme/video-9', prompt: P, media: marked }).warnings.filter((w) => w.includes('keyframes'))).toEqual([])
  })

  it('a one-character prompt (model table: 2 or more; OpenAPI: 1 or more)', () => {
    expect(check({ model: 'google/veo-3.0', prompt: 'x' }).warnings).toEqual([
      `${FILE}: prompt: Together's model table gives google/veo-3.0 prompts of at least 2 characters (the API schema allows 1); the provider may refuse it`,
    ])
    expect(check({ model: 'openai/sora-2', prompt: 'x' }).warnings).toEqual([])
  })

  it('fps the table does not list for the model', () => {
    expect(check({ model: 'pixverse/pixverse-v5', prompt: P, fps: 16 }).warnings).toEqual([])
    expect(check({ model: 'pixverse/pixverse-v5', prompt: P, fps: 30 }).warnings).toEqual([
      `${FILE}: fps: 30 is not a frame rate Together's model table lists for pixverse/pixverse-v5 (16 or 24); the provider may refuse or ignore it`,
    ])
  })
})
