/**
 * What a site ships, derived from a paid master: the shapes of a renditions recipe as a user writes
 * it (config, spec, import directives) and as it enters a rendition's key.
 */

/** `mp4`: H.264/AAC, fast start. `webm`: VP9/Opus. `av1`: AV1/Opus in WebM (libaom). */
export type RenditionFormat = 'mp4' | 'webm' | 'av1'
export type PosterFormat = 'jpg' | 'webp' | 'png'
export type AudioChoice = 'keep' | 'strip'

/**
 * `renditions` in `vidspec.config.ts`, in `defineVideo({ …, renditions })` and (a subset) in import
 * directives. Each level replaces the fields it sets: a spec's `widths` replaces the config's `widths`.
 * Never part of the generation key: changing it never costs a generation.
 */
export interface RenditionsInput {
  /**
   * Video formats, one rendition per format and width.
   * @default ['mp4']
   */
  formats?: RenditionFormat[]
  /**
   * Widths in pixels, or `'original'` for the master's width. Never upscaled: a width above the
   * master's is the master's. Heights keep the aspect (even sizes).
   * @default ['original']
   */
  widths?: Array<number | 'original'>
  /**
   * Constant quality (lower is better), one number for every format or one per format.
   * @default { mp4: 23, webm: 33, av1: 35 }
   */
  crf?: number | Partial<Record<RenditionFormat, number>>
  /**
   * A bitrate cap in kbit/s (undefined: no cap). A master above it is re-encoded even where a remux would do.
   * @default undefined
   */
  maxBitrate?: number
  /**
   * Keep the master's audio track (when it has one) or strip it.
   * @default 'keep'
   */
  audio?: AudioChoice
  /**
   * Poster images: the times (seconds into the clip) and image formats; `false` for none.
   * @default { times: [0], formats: ['jpg'] }
   */
  poster?: false | { times?: number[]; formats?: PosterFormat[] }
  /**
   * A tiny blurred image as a data URI (`VideoAsset.placeholder`), so the layout does not jump.
   * @default true
   */
  placeholder?: boolean
  /**
   * Config only: share renditions through the remote cache (worth it for slow AV1 encodes).
   * @default false
   */
  remote?: boolean
}

/** The import directives (`./hero.video?w=640;1280&format=webm;mp4`), as the query spells them. */
export interface RenditionDirectives {
  /** Widths, `;`-separated: `w=640;1280` (or `original`). */
  w?: string
  /** Formats, `;`-separated: `format=webm;mp4`. */
  format?: string
  /** `keep` or `strip`. */
  audio?: string
  /** An integer: the CRF for every format. */
  crf?: string
  /** kbit/s. */
  bitrate?: string
  /** Poster times in seconds, `;`-separated (`poster=0;2.5`), or `false`. */
  poster?: string
  /** `true` or `false`. */
  placeholder?: string
}

/** Every field filled in (defaults applied). */
export interface ResolvedRenditions {
  formats: RenditionFormat[]
  widths: Array<number | 'original'>
  crf: Record<RenditionFormat, number>
  maxBitrate: number | undefined
  audio: AudioChoice
  poster: { times: number[]; formats: PosterFormat[] } | false
  placeholder: boolean
  remote: boolean
}

/** One video rendition as it enters its key: sizes resolved against the master, defaults filled. */
export interface VideoRecipe {
  kind: 'video'
  format: RenditionFormat
  width: number
  height: number
  crf: number
  /** kbit/s; null for no cap. */
  maxBitrate: number | null
  audio: AudioChoice
}

export interface PosterRecipe {
  kind: 'poster'
  format: PosterFormat
  /** Seconds into the clip. */
  at: number
  width: number
  height: number
}

export interface PlaceholderRecipe {
  kind: 'placeholder'
  format: 'jpg'
  width: number
  height: number
  /** Gaussian blur sigma in pixels of the tiny image. */
  blur: number
}

export type Recipe = VideoRecipe | PosterRecipe | PlaceholderRecipe

/** What a derived object was made with: the ffmpeg build and each encoder library it used. */
export interface EncoderIdentity {
  /** `ffmpeg version …` as the binary prints it. */
  ffmpeg: string
  /** Short hash of the whole `ffmpeg -version` text (configuration and library versions). */
  build: string
  /** Encoder name -> short hash of its `ffmpeg -h encoder=NAME` description (its library's options). */
  encoders: Record<string, string>
}

/** One thing `renditionPlan` says a spec ships, and the key it is cached under. */
export interface RenditionItem {
  /** Stable within a plan: `mp4-1366w`, `webm-640w-noaudio`, `poster-0s-jpg`, `placeholder`. */
  id: string
  /** Project-relative spec id. */
  spec: string
  /** The master it is made from. */
  master: { key: string; digest: string; ext: string }
  recipe: Recipe
  /** sha256 of master digest + canonical recipe + encoder identity + RENDITION_FORMAT_VERSION. */
  key: string
  /** MIME type; for video with codecs (`video/mp4; codecs="avc1.64001f, mp4a.40.2"`). */
  type: string
  width: number
  height: number
  /** File extension without the dot. */
  ext: string
  /** Whether this process (or an earlier one) has it stored already: no encoder would run for it. */
  cached: boolean
}

/** Everything a spec ships, best first. */
export interface RenditionPlan {
  spec: string
  master: { key: string; digest: string; ext: string; width: number; height: number; duration: number }
  /** Video renditions, best first (AV1, then WebM, then MP4; larger first). */
  sources: RenditionItem[]
  posters: RenditionItem[]
  placeholder: RenditionItem | undefined
  /** Whether renditions go to (and come from) the remote cache. */
  remote: boolean
}

/** A rendition in the store, verified. */
export interface Rendition {
  item: RenditionItem
  /** Path of the verified object in the store (read-only: never write to it). */
  path: string
  digest: string
  bytes: number
  type: string
  width: number
  height: number
  /** Where it came from this time. */
  source: 'store' | 'remote' | 'made'
}

/** `derived/<renditionKey>.json`: what a derived object was made from and of. */
export interface DerivedRecord {
  version: 1
  key: string
  kind: Recipe['kind']
  /** sha256 of the master's bytes. */
  master: string
  recipe: Recipe
  encoder: EncoderIdentity
  digest: string
  ext: string
  size: number
  /** MIME type, with codecs for video. */
  type: string
  width: number
  height: number
  /** Seconds (0 for images). */
  duration: number
  /** The master as probed when this was made: what `verify` checks the object against again. */
  from: { width: number; height: number; duration: number; fps: number; hasAudio: boolean }
  /** A placeholder's bytes in base64 (well under 1 KB): its data URI needs no file read, only a hash of these. */
  inline?: string | undefined
  /** How it was made: `remux` (stream copy) or `encode`. */
  method: 'remux' | 'encode'
  /** Project-relative spec that first asked for it. */
  spec: string
  createdAt: string
}
