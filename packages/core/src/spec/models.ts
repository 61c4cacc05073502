import type { MediaInput } from '../types.js'

/**
 * What each model takes, as data, each rule with its source beside it. The sources, cited by tag:
 *
 * - [TABLE] Together's model table: `togethercomputer/skills`, `skills/together-video/references/models.md`
 *   (commit 644d382): per-model duration, dimensions, fps, keyframes, prompt limits, "no prompt required".
 *   The older docs overview page (reference/together-video-api.md §7.2) holds the same table.
 * - [PARAMS] Together's parameter page (reference/video-generation-parameters.md): generic ranges,
 *   "prompt: required for every model except Kling", the media object, audio "WAV or MP3, 3-30s, up to 15 MB".
 * - [OAS] Together's OpenAPI spec: `togethercomputer/openapi`, `openapi.yaml` (commit 090263a),
 *   `CreateVideoBody`, `VideoMedia`, `VideoFrameImageInput`.
 * - [WAN27] the Wan 2.7 quickstart (docs.together.ai/docs/wan2.7-quickstart, via reference/together-video-api.md §3.3, §7.1).
 * - [SEEDANCE2] the Seedance 2.0 quickstart (docs.together.ai/docs/seedance2.0-quickstart): limits table and example.
 * - [CHANGELOG] Together's changelog (reference/together-video-api.md §7.3).
 *
 * Where the sources say nothing, a rule says nothing (absent is "not documented", never "forbidden"),
 * so a gap in our knowledge never blocks a valid request. Where they are explicit and agree, the rule
 * refuses, so a mistake fails here for free instead of at the provider. Where they disagree, or a
 * source only describes the usual case, the rule warns (see `durations`, `fps`, `promptMin`).
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
  /**
   * `resolution` values exactly as the model's docs spell them (Wan 2.7 "720P", Seedance 2.0 "720p").
   * Another case of a listed value is sent in the documented case, with a warning; an unlisted value is refused.
   */
  resolutions?: readonly string[]
  /** Allowed `seconds`; the generic range applies when absent. */
  seconds?: { min: number; max: number }
  /**
   * The durations the model table lists. Another value inside `seconds` is a warning, not an error:
   * the table gives one value per model, but the parameter page documents "1" through "10" for all, and
   * Together's own skill sends `seconds: "6"` to minimax/hailuo-02 whose table entry says 10 s.
   */
  durations?: readonly number[]
  /** The frame rates the model table lists; another `fps` is a warning (the API documents 15-60 generally). */
  fps?: readonly number[]
  prompt: 'required' | 'optional'
  /**
   * The model table's shortest prompt ("2-3,000 characters"). Shorter is a warning: the OpenAPI
   * schema's `minLength` is 1, so the two sources disagree and neither wins outright.
   */
  promptMin?: number
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

/** [PARAMS] "seconds: accepted range is "1" through "10""; every model is checked against it, an unknown one only against it. */
export const GENERIC_RULE: ModelRule = { size: 'either', prompt: 'required', seconds: { min: 1, max: 10 } }

/** Every `resolution` spelling some model's docs use: [WAN27] "720P"/"1080P", [SEEDANCE2] "480p"/"720p"/"1080p", [CHANGELOG] "4k". */
export const DOCUMENTED_RESOLUTIONS = ['720P', '1080P', '480p', '720p', '1080p', '4k'] as const

// [CHANGELOG] Models the changelog names without documenting their parameters: known, checked generically.
const LISTED_ONLY: ModelRule = GENERIC_RULE

// [TABLE] "Keyframes" column: "First" or "First, Last".
const firstFrame = { frame_images: { max: 1, frames: ['first'] } } as const
const firstLastFrames = { frame_images: { max: 2, frames: ['first', 'last'] } } as const
// [TABLE] "Prompt Limits": "Most models 2-3,000 characters".
const mostPrompts = { promptMin: 2, promptMax: 3000 } as const

// [TABLE] MiniMax: 25 fps, first keyframe, no audio (the feature table lists only Veo 3.0 + Audio).
const minimax = { size: 'dimensions', prompt: 'required', ...mostPrompts, fps: [25], audio: false, media: firstFrame } as const
// [TABLE] Veo 3.0 (all four variants): 8 s, these four sizes, 24 fps, first keyframe.
const veo3 = {
  size: 'dimensions',
  sizes: ['1280x720', '720x1280', '1920x1080', '1080x1920'],
  durations: [8],
  fps: [24],
  prompt: 'required',
  ...mostPrompts,
  media: firstFrame,
} as const
// [TABLE] Seedance 1.0 Lite/Pro: 5 s, "Seedance Dimensions", 24 fps, first and last keyframes.
const seedance1 = {
  size: 'dimensions',
  sizes: ['864x480', '736x544', '640x640', '960x416', '416x960', '1248x704', '1120x832', '960x960', '1504x640', '640x1504'],
  durations: [5],
  fps: [24],
  prompt: 'required',
  ...mostPrompts,
  audio: false,
  media: firstLastFrames,
} as const
const klingFullHd = ['1920x1080', '1080x1080', '1080x1920']
// [PARAMS] "Kling requires keyframe images via media.frame_images instead of a prompt"; [TABLE] 5 s, 24 fps.
// [TABLE] "No prompt required: Kling 2.1 Standard/Pro, Kling 1.6 Pro". Not required is not refused:
// a prompt is accepted and sent; no source gives these models a prompt limit of their own.
const klingNoPrompt = {
  size: 'dimensions',
  sizes: klingFullHd,
  durations: [5],
  fps: [24],
  prompt: 'optional',
  audio: false,
  media: firstFrame,
  needs: ['frame_images'],
} as const
// [TABLE] "Kling 2.1 Master 2-2,500 characters"; the older table gives 2.0 Master and 1.6 Standard the same.
const kling = { ...klingNoPrompt, promptMin: 2, promptMax: 2500 } as const
// [WAN27] prompt up to 5000, negative_prompt up to 500, seed 0-2,147,483,647, resolution "720P"/"1080P".
const wan27 = {
  size: 'resolution',
  resolutions: ['720P', '1080P'],
  prompt: 'required',
  promptMax: 5000,
  negativePromptMax: 500,
  seedMax: 2_147_483_647,
} as const
// [WAN27] I2V: "frame must be "first" or "last"".
const wanFrames = { max: 2, frames: ['first', 'last'], namedFramesOnly: true } as const
// [TABLE] "Sora 2 / 2 Pro 1-4,000 characters", 8 s, 1280x720 / 720x1280, no fps listed, first keyframe.
const sora = {
  size: 'dimensions',
  sizes: ['1280x720', '720x1280'],
  durations: [8],
  prompt: 'required',
  promptMax: 4000,
  audio: false,
  media: firstFrame,
} as const

/**
 * Keyed by model id; a key ending in `*` is a family pattern for ids the table does not list
 * (the longest matching pattern wins, an exact id always wins).
 */
export const MODEL_RULES: Readonly<Record<string, ModelRule>> = {
  // [TABLE] Video 01 Director: 5 s, 1366x768.
  'minimax/video-01-director': { ...minimax, sizes: ['1366x768'], durations: [5] },
  // [TABLE] Hailuo 02: 10 s ("10 second duration: Hailuo 02"), 1366x768 and 1920x1080. 6 s is listed too:
  // Together's skill sends it in its advanced example, and an earlier version of it (commit be1f3a0)
  // says hailuo-02 "currently accepts "6" and "10"".
  'minimax/hailuo-02': { ...minimax, sizes: ['1366x768', '1920x1080'], durations: [6, 10] },

  // [TABLE] Veo 2.0: 5 s, 1280x720 / 720x1280, 24 fps, first and last keyframes.
  'google/veo-2.0': {
    size: 'dimensions',
    sizes: ['1280x720', '720x1280'],
    durations: [5],
    fps: [24],
    prompt: 'required',
    ...mostPrompts,
    audio: false,
    media: firstLastFrames,
  },
  // [TABLE] "Audio generation: Veo 3.0 + Audio, Veo 3.0 Fast + Audio".
  'google/veo-3.0': { ...veo3, audio: false },
  'google/veo-3.0-fast': { ...veo3, audio: false },
  'google/veo-3.0-audio': { ...veo3, audio: true },
  'google/veo-3.0-fast-audio': { ...veo3, audio: true },
  'google/veo-3.1': LISTED_ONLY,
  'google/veo-3.1-lite': LISTED_ONLY,

  'ByteDance/Seedance-1.0-lite': seedance1,
  'ByteDance/Seedance-1.0-pro': seedance1,
  // [SEEDANCE2] "Duration 4 to 15 seconds (integer)", "Resolutions 480p, 720p, 1080p" (lowercase, its
  // example sends resolution="720p"), [CHANGELOG] 2026-06-25 adds "4k"; "Audio output: generated by
  // default"; up to 9 reference images, 3 reference videos, 3 reference audios, 2 frame images (first, last).
  'ByteDance/Seedance-2.0': {
    size: 'resolution',
    resolutions: ['480p', '720p', '1080p', '4k'],
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

  // [TABLE] PixVerse v5: 5 s, "PixVerse v5 Dimensions", 16 or 24 fps, first and last, "2-2,048 characters".
  'pixverse/pixverse-v5': {
    size: 'dimensions',
    sizes: [
      '640x360', '480x360', '360x360', '270x360', '360x640', '960x540', '720x540', '540x540', '405x540', '540x960',
      '1280x720', '960x720', '720x720', '540x720', '720x1280', '1920x1080', '1440x1080', '1080x1080', '810x1080',
      '1080x1920',
    ],
    durations: [5],
    fps: [16, 24],
    prompt: 'required',
    promptMin: 2,
    promptMax: 2048,
    audio: false,
    media: firstLastFrames,
  },

  // [PARAMS] every Kling takes media.frame_images instead of a prompt.
  'kwaivgI/kling-*': { size: 'dimensions', prompt: 'optional', needs: ['frame_images'] },
  'kwaivgI/kling-2.1-master': kling,
  'kwaivgI/kling-2.1-standard': klingNoPrompt,
  // [TABLE] "First + Last keyframe: ... Kling 2.1 Pro".
  'kwaivgI/kling-2.1-pro': { ...klingNoPrompt, media: firstLastFrames },
  // [TABLE] Kling 2.0 Master: 1280x720, 720x720, 720x1280.
  'kwaivgI/kling-2.0-master': { ...kling, sizes: ['1280x720', '720x720', '720x1280'] },
  // [TABLE] Kling 1.6 Standard: "30, 24" fps.
  'kwaivgI/kling-1.6-standard': { ...kling, fps: [30, 24] },
  'kwaivgI/kling-1.6-pro': klingNoPrompt,

  // [TABLE] Wan 2.2: every column "-": known, nothing documented.
  'Wan-AI/Wan2.2-I2V-A14B': LISTED_ONLY,
  'Wan-AI/Wan2.2-T2V-A14B': LISTED_ONLY,
  // [WAN27] "Media Compatibility by Model" ("Unsupported fields are rejected"); T2V/I2V 2-15 s, R2V/Edit 2-10 s;
  // T2V and I2V take one audio input and generate audio.
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

  // [TABLE] Vidu 2.0: 8 s, "Vidu 2.0 Dimensions", 24 fps, first and last; "Reference images: Vidu 2.0".
  'vidu/vidu-2.0': {
    size: 'dimensions',
    sizes: ['1920x1080', '1080x1080', '1080x1920', '1280x720', '720x720', '720x1280', '640x360', '360x360', '360x640'],
    durations: [8],
    fps: [24],
    prompt: 'required',
    ...mostPrompts,
    audio: false,
    media: { ...firstLastFrames, reference_images: {} },
  },
  // [TABLE] Vidu Q1: 5 s, 1920x1080 / 1080x1080 / 1080x1920, 24 fps, first and last.
  'vidu/vidu-q1': {
    size: 'dimensions',
    sizes: klingFullHd,
    durations: [5],
    fps: [24],
    prompt: 'required',
    ...mostPrompts,
    audio: false,
    media: firstLastFrames,
  },
  'vidu/vidu-q3': LISTED_ONLY,
  'vidu/vidu-q3-turbo': LISTED_ONLY,

  'openai/sora-2': sora,
  'openai/sora-2-pro': sora,

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
