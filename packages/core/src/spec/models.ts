import type { MediaInput } from '../types.js'

/**
 * What each model takes, as data. Sources: Together's parameter docs, the Wan 2.7 quickstart and the
 * model tables summarized in reference/together-video-api.md §7. Where the docs say nothing, a rule
 * says nothing (an absent field is "not documented", never "forbidden"), so a gap in our knowledge
 * never blocks a valid request; where they are explicit, the rule is strict, so a mistake fails here
 * for free instead of at the provider.
 */

export type MediaField = keyof MediaInput
export type FrameName = 'first' | 'last'

export interface MediaFieldRule {
  /** The most items the model takes. */
  max?: number
  /** `frame_images` only: the keyframe positions the model takes. */
  frames?: readonly FrameName[]
  /** `frame_images` only: `frame` must be written "first" or "last" (a frame number such as 0 is refused). */
  namedFramesOnly?: boolean
}

export interface ModelRule {
  /** How the output size is chosen: `width`/`height`, `resolution`/`ratio`, or either (undocumented). */
  size: 'dimensions' | 'resolution' | 'either'
  /** Documented `WxH` combinations; another size is a warning, as the lists are known to drift. */
  sizes?: readonly string[]
  /** Allowed `seconds`; the generic range applies when absent. */
  seconds?: { min: number; max: number }
  prompt: 'required' | 'optional' | 'rejected'
  promptMax?: number
  negativePromptMax?: number
  seedMax?: number
  /** Whether `generate_audio: true` is honoured; absent when the docs do not say. */
  audio?: boolean
  /** The media fields the model takes; any other is refused. Absent: not documented, nothing refused. */
  media?: Partial<Record<MediaField, MediaFieldRule>>
  /** At least one of these media fields must be set. */
  needs?: readonly MediaField[]
}

/** What every model is checked against, and all an unknown model is checked against. */
export const GENERIC_RULE: ModelRule = { size: 'either', prompt: 'required', seconds: { min: 1, max: 10 } }

// Models the changelog names without documenting their parameters: known, but checked generically.
const LISTED_ONLY: ModelRule = GENERIC_RULE

const firstFrame = { frame_images: { max: 1, frames: ['first'] } } as const
const firstLastFrames = { frame_images: { max: 2, frames: ['first', 'last'] } } as const

const minimax = { size: 'dimensions', prompt: 'required', promptMax: 3000, audio: false, media: firstFrame } as const
const veo3Sizes = ['1280x720', '720x1280', '1920x1080', '1080x1920']
const veo3 = { size: 'dimensions', sizes: veo3Sizes, prompt: 'required', promptMax: 3000, media: firstFrame } as const
const seedance1 = {
  size: 'dimensions',
  sizes: ['864x480', '736x544', '640x640', '960x416', '416x960', '1248x704', '1120x832', '960x960', '1504x640', '640x1504'],
  prompt: 'required',
  promptMax: 3000,
  audio: false,
  media: firstLastFrames,
} as const
const klingFullHd = ['1920x1080', '1080x1080', '1080x1920']
// Kling animates keyframes: `media.frame_images` replaces the prompt, which some versions refuse.
const kling = {
  size: 'dimensions',
  sizes: klingFullHd,
  prompt: 'optional',
  promptMax: 2500,
  audio: false,
  media: firstFrame,
  needs: ['frame_images'],
} as const
const wan27 = {
  size: 'resolution',
  prompt: 'required',
  promptMax: 5000,
  negativePromptMax: 500,
  seedMax: 2_147_483_647,
} as const
const wanFrames = { max: 2, frames: ['first', 'last'], namedFramesOnly: true } as const

/**
 * Keyed by model id; a key ending in `*` is a family pattern for ids the table does not list
 * (the longest matching pattern wins, an exact id always wins).
 */
export const MODEL_RULES: Readonly<Record<string, ModelRule>> = {
  'minimax/video-01-director': { ...minimax, sizes: ['1366x768'] },
  'minimax/hailuo-02': { ...minimax, sizes: ['1366x768', '1920x1080'] },

  'google/veo-2.0': {
    size: 'dimensions',
    sizes: ['1280x720', '720x1280'],
    prompt: 'required',
    promptMax: 3000,
    audio: false,
    media: firstLastFrames,
  },
  'google/veo-3.0': { ...veo3, audio: false },
  'google/veo-3.0-fast': { ...veo3, audio: false },
  'google/veo-3.0-audio': { ...veo3, audio: true },
  'google/veo-3.0-fast-audio': { ...veo3, audio: true },
  'google/veo-3.1': LISTED_ONLY,
  'google/veo-3.1-lite': LISTED_ONLY,

  'ByteDance/Seedance-1.0-lite': seedance1,
  'ByteDance/Seedance-1.0-pro': seedance1,
  'ByteDance/Seedance-2.0': {
    size: 'resolution',
    seconds: { min: 4, max: 15 },
    prompt: 'required',
    audio: true,
    media: {
      frame_images: { max: 2, frames: ['first', 'last'] },
      reference_images: { max: 9 },
      reference_videos: { max: 3 },
      audio_inputs: { max: 3 },
    },
  },

  'pixverse/pixverse-v5': {
    size: 'dimensions',
    sizes: [
      '640x360', '480x360', '360x360', '270x360', '360x640', '960x540', '720x540', '540x540', '405x540', '540x960',
      '1280x720', '960x720', '720x720', '540x720', '720x1280', '1920x1080', '1440x1080', '1080x1080', '810x1080',
      '1080x1920',
    ],
    prompt: 'required',
    promptMax: 2048,
    audio: false,
    media: firstLastFrames,
  },

  'kwaivgI/kling-*': { size: 'dimensions', prompt: 'optional', needs: ['frame_images'] },
  'kwaivgI/kling-2.1-master': kling,
  'kwaivgI/kling-2.1-standard': { ...kling, prompt: 'rejected' },
  'kwaivgI/kling-2.1-pro': { ...kling, prompt: 'rejected', media: firstLastFrames },
  'kwaivgI/kling-2.0-master': { ...kling, sizes: ['1280x720', '720x720', '720x1280'] },
  'kwaivgI/kling-1.6-standard': kling,
  'kwaivgI/kling-1.6-pro': { ...kling, prompt: 'rejected' },

  'Wan-AI/Wan2.2-I2V-A14B': LISTED_ONLY,
  'Wan-AI/Wan2.2-T2V-A14B': LISTED_ONLY,
  'Wan-AI/wan2.7-t2v': { ...wan27, seconds: { min: 2, max: 15 }, audio: true, media: { audio_inputs: { max: 1 } } },
  'Wan-AI/wan2.7-i2v': {
    ...wan27,
    seconds: { min: 2, max: 15 },
    audio: true,
    media: { frame_images: wanFrames, frame_videos: { max: 1 }, audio_inputs: { max: 1 } },
    needs: ['frame_images', 'frame_videos'],
  },
  'Wan-AI/wan2.7-r2v': {
    ...wan27,
    seconds: { min: 2, max: 10 },
    media: { reference_images: {}, reference_videos: {} },
    needs: ['reference_images', 'reference_videos'],
  },
  'Wan-AI/wan2.7-videoedit': {
    ...wan27,
    seconds: { min: 2, max: 10 },
    media: { source_video: {}, reference_images: { max: 1 } },
    needs: ['source_video'],
  },

  'vidu/vidu-2.0': {
    size: 'dimensions',
    sizes: ['1920x1080', '1080x1080', '1080x1920', '1280x720', '720x720', '720x1280', '640x360', '360x360', '360x640'],
    prompt: 'required',
    promptMax: 3000,
    audio: false,
    media: { ...firstLastFrames, reference_images: {} },
  },
  'vidu/vidu-q1': {
    size: 'dimensions',
    sizes: klingFullHd,
    prompt: 'required',
    promptMax: 3000,
    audio: false,
    media: firstLastFrames,
  },
  'vidu/vidu-q3': LISTED_ONLY,
  'vidu/vidu-q3-turbo': LISTED_ONLY,

  'openai/sora-2': {
    size: 'dimensions',
    sizes: ['1280x720', '720x1280'],
    prompt: 'required',
    promptMax: 4000,
    audio: false,
    media: firstFrame,
  },
  'openai/sora-2-pro': {
    size: 'dimensions',
    sizes: ['1280x720', '720x1280'],
    prompt: 'required',
    promptMax: 4000,
    audio: false,
    media: firstFrame,
  },

  'alibaba/happyhorse-1.0-t2v': LISTED_ONLY,
  'alibaba/happyhorse-1.0-i2v': LISTED_ONLY,
  'alibaba/happyhorse-1.0-r2v': LISTED_ONLY,
  'alibaba/happyhorse-1.1-t2v': LISTED_ONLY,
  'alibaba/happyhorse-1.1-i2v': LISTED_ONLY,
  'alibaba/happyhorse-1.1-r2v': LISTED_ONLY,
  'HappyHorse/HappyHorse-1.0-T2V': LISTED_ONLY,
}

export interface ModelMatch {
  /** The table key that matched: the model id itself, or a family pattern such as `kwaivgI/kling-*`. */
  key: string
  rule: ModelRule
}

export function matchModelRule(model: string): ModelMatch | undefined {
  const exact = MODEL_RULES[model]
  if (exact) return { key: model, rule: exact }
  let best: ModelMatch | undefined
  for (const [key, rule] of Object.entries(MODEL_RULES)) {
    if (!key.endsWith('*')) continue
    const prefix = key.slice(0, -1)
    if (model.startsWith(prefix) && (!best || prefix.length > best.key.length - 1)) best = { key, rule }
  }
  return best
}

/** The rules for a model id, or undefined for a model the table does not know. */
export function modelRules(model: string): ModelRule | undefined {
  return matchModelRule(model)?.rule
}

/** Every model id the table lists by name (patterns left out). */
export function knownModels(): string[] {
  return Object.keys(MODEL_RULES).filter((key) => !key.endsWith('*'))
}

/** Model ids whose docs say they generate audio. */
export function audioModels(): string[] {
  return knownModels().filter((id) => MODEL_RULES[id]?.audio === true)
}
