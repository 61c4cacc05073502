import type { RenditionsInput } from './renditions/types.js'

/**
 * The shapes every part of vidspec shares. Field names of the request are the provider's own
 * (snake_case), so every example in Together's docs carries over unchanged.
 */

export type FramePosition = 'first' | 'last' | number

export interface FrameImageInput {
  /** A local path (relative to the spec file), an https URL, or a data: URI. */
  input_image: string
  frame?: FramePosition
}

export interface VideoRefInput {
  video: string
}

export interface AudioRefInput {
  audio: string
}

export interface MediaInput {
  frame_images?: FrameImageInput[]
  frame_videos?: VideoRefInput[]
  reference_images?: string[]
  reference_videos?: VideoRefInput[]
  source_video?: string | VideoRefInput
  /** WAV or MP3, at most 15 MB each. */
  audio_inputs?: Array<string | AudioRefInput>
}

/** As the model's docs spell it: Wan 2.7 `720P`/`1080P`, Seedance 2.0 `480p`/`720p`/`1080p`/`4k`. */
export type Resolution = '720P' | '1080P' | '480p' | '720p' | '1080p' | '4k'
export type Ratio = '16:9' | '9:16' | '1:1' | '4:3' | '3:4'
export type OutputFormat = 'MP4' | 'WEBM'

/** What a `*.video.ts` file passes to `defineVideo()`. */
export interface VideoSpecInput {
  /** Model id, e.g. `minimax/hailuo-02`. Unknown models pass with a warning. */
  model: string
  /** Up to 32,000 characters. Required for every model except Kling. */
  prompt?: string
  negative_prompt?: string
  width?: number
  height?: number
  /** Wan 2.7 (`720P`, `1080P`) and Seedance 2.0 (`480p`, `720p`, `1080p`, `4k`): instead of width/height. */
  resolution?: Resolution
  /** Wan 2.7 and Seedance 2.0: instead of width/height. */
  ratio?: Ratio
  /** 1 to 10; sent to the API as a string. */
  seconds?: number | string
  fps?: number
  /** 10 to 50. */
  steps?: number
  /** Recommended 6 to 10; above 12 warns. */
  guidance_scale?: number
  seed?: number
  output_format?: OutputFormat
  /** Lower is higher fidelity. */
  output_quality?: number
  generate_audio?: boolean
  media?: MediaInput
  /** @deprecated use `media.frame_images` */
  frame_images?: FrameImageInput[]
  /** @deprecated use `media.reference_images` */
  reference_images?: string[]
  /**
   * What the site ships of this clip, over the config's `renditions` (an import's directives win
   * over both). Never part of the generation key: changing it never costs a generation.
   */
  renditions?: RenditionsInput
}

/** One `<source>` of a video: a rendition made from the master. */
export interface VideoSource {
  /** URL of the rendition. */
  src: string
  /** MIME type with codecs, e.g. `video/mp4; codecs="avc1.64001f, mp4a.40.2"`. */
  type: string
  width: number
  height: number
  bytes: number
}

/** What `import hero from './hero.video'` gives a page. */
export interface VideoAsset {
  /** URL of the clip (hashed asset in a build, a dev-server URL in dev). */
  src: string
  /** MIME type: `video/mp4` or `video/webm`. */
  type: string
  width: number
  height: number
  /** Seconds. */
  duration: number
  fps: number
  /** URL of a poster image (first frame), when one was extracted. */
  poster?: string | undefined
  /** The renditions, best first (a browser plays the first it can); `src` is the last (the fast-start MP4). */
  sources?: VideoSource[] | undefined
  /** A tiny blurred image of the first frame as a data URI: a background while the video loads. */
  placeholder?: string | undefined
  /** True while the real clip is still being generated (dev only) or when the clip is an offline preview. */
  pending?: boolean | undefined
  preview?: boolean | undefined
  /** The cache key the clip belongs to. */
  key?: string | undefined
}

/**
 * A media reference after resolution. A local file is replaced, in the key, by its content hash; the
 * path is kept only to read the bytes when a provider needs them.
 */
export interface ResolvedMedia {
  kind: 'file' | 'url' | 'data'
  /** What the spec wrote. */
  ref: string
  /** Absolute path for `file`. */
  path?: string
  /** sha256 hex of the bytes (`file`) or of the string (`url`/`data`). */
  sha256: string
  /** Best-known MIME type (`image/png`, `audio/mpeg`, ...). */
  mime?: string
  size?: number
}

/**
 * The validated, normalized request: deprecated fields moved under `media`, `seconds` as the API's
 * string, only the fields the spec set (an omitted field and an explicit default are different keys).
 * Media strings are still as written; `mediaFiles` maps each written ref to its resolution.
 */
export interface NormalizedRequest {
  model: string
  prompt?: string
  negative_prompt?: string
  width?: number
  height?: number
  resolution?: Resolution
  ratio?: Ratio
  seconds?: string
  fps?: number
  steps?: number
  guidance_scale?: number
  seed?: number
  output_format?: OutputFormat
  output_quality?: number
  generate_audio?: boolean
  media?: MediaInput
}

/** The record of what a key produced (`entries/<key>.json`). Never holds a secret. */
export interface Entry {
  version: 1
  key: string
  /** sha256 hex of the object's bytes. */
  digest: string
  /** File extension of the object, without dot: `mp4` or `webm`. */
  ext: string
  size: number
  mime: string
  width: number
  height: number
  duration: number
  fps: number
  codec: string
  provider: string
  preview: boolean
  model: string
  jobId?: string | undefined
  cost?: number | undefined
  seed?: number | undefined
  createdAt: string
  /** Project-relative spec path that first produced it. */
  spec: string
  request: NormalizedRequest
}

/**
 * The journal of a paid job (`jobs/<key>.json`). Written, fsynced, *before* the create request leaves
 * the process (a write-ahead intent, no `jobId` yet); the job id joins it the moment the answer
 * arrives. An intent without a job id that a later run finds means the create's answer was lost: the
 * key is uncertain (see `UncertainCreate`) and no process creates it again on its own.
 */
export interface JournalRecord {
  version: 1
  key: string
  provider: string
  /** Absent while the record is only an intent. */
  jobId?: string | undefined
  spec: string
  /** When the intent was written (the create was sent at or right after this moment). */
  createdAt: string
  /** Where and with which account the job was created, to explain a later "job not found". */
  origin?: JobOrigin | undefined
}

/** A journal that holds a job id: a paid job the next run resumes. */
export type JournaledJob = JournalRecord & { jobId: string }

/** Where a remote job lives. Never the API key itself: `account` is a short fingerprint of it. */
export interface JobOrigin {
  baseURL: string
  account: string
}

/**
 * A create that was sent but whose answer never came (`jobs/<key>.uncertain.json`): a paid job may
 * exist without its id. Until someone decides, no process creates that key again.
 */
export interface UncertainCreate {
  version: 1
  key: string
  provider: string
  spec: string
  at: string
  reason: string
}
