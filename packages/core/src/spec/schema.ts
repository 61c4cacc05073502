import type * as Zod from 'zod'
import { zod } from '../zod.js'

const z = zod()

/**
 * The shape of a spec, field by field, as the provider's API names them. Per-model rules (which
 * fields a model takes, its ranges) live in `models.ts`; this schema holds what is true for every model.
 */

const mediaString = z.string().min(1)
const frameImage = z.strictObject({
  input_image: mediaString,
  frame: z.union([z.enum(['first', 'last']), z.number().nonnegative()]).optional(),
})
const videoRef = z.strictObject({ video: mediaString })
const audioRef = z.strictObject({ audio: mediaString })

export const mediaSchema = z.strictObject({
  frame_images: z.array(frameImage).optional(),
  frame_videos: z.array(videoRef).optional(),
  reference_images: z.array(mediaString).optional(),
  reference_videos: z.array(videoRef).optional(),
  source_video: z.union([mediaString, videoRef]).optional(),
  audio_inputs: z.array(z.union([mediaString, audioRef])).optional(),
})

export const PROMPT_MAX = 32_000
/** The API's seed is an unsigned 32-bit integer. */
export const SEED_MAX = 2 ** 32 - 1

export const videoSpecSchema = z.strictObject({
  model: z.string().min(1),
  prompt: z.string().min(1).max(PROMPT_MAX).optional(),
  negative_prompt: z.string().max(PROMPT_MAX).optional(),
  width: z.int().positive().optional(),
  height: z.int().positive().optional(),
  // [OAS] types it a free string; which tiers, in which case, is per model (models.ts).
  resolution: z.string().min(1).optional(),
  ratio: z.enum(['16:9', '9:16', '1:1', '4:3', '3:4']).optional(),
  // The API takes a string; a number reads better in a spec. The range is per model (models.ts).
  seconds: z.union([z.int(), z.string().regex(/^\d+$/)]).optional(),
  fps: z.int().min(1).max(60).optional(),
  steps: z.int().min(10).max(50).optional(),
  guidance_scale: z.number().positive().optional(),
  seed: z.int().min(0).max(SEED_MAX).optional(),
  output_format: z.enum(['MP4', 'WEBM']).optional(),
  output_quality: z.int().min(0).optional(),
  generate_audio: z.boolean().optional(),
  media: mediaSchema.optional(),
  frame_images: z.array(frameImage).optional(),
  reference_images: z.array(mediaString).optional(),
  // What the site ships of the clip (renditions/validate.ts checks it). Never part of the request or the key.
  renditions: z.unknown().optional(),
})

export type ParsedSpec = Zod.infer<typeof videoSpecSchema>

export const SPEC_FIELDS = Object.keys(videoSpecSchema.shape) as Array<keyof ParsedSpec>
export const MEDIA_FIELDS = Object.keys(mediaSchema.shape) as Array<keyof Zod.infer<typeof mediaSchema>>
/** Spec fields that are vidspec's, not the provider's: kept out of the request and the key. */
export const LOCAL_FIELDS = ['renditions'] as const
/** Fields the docs deprecate; still accepted, moved under `media` with a warning. */
export const DEPRECATED_FIELDS = ['frame_images', 'reference_images'] as const

/** The field names each object of a spec allows, keyed like `ALLOWED` (for "unknown field" messages). */
export const OBJECT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': SPEC_FIELDS.filter((f) => !(DEPRECATED_FIELDS as readonly string[]).includes(f)),
  media: MEDIA_FIELDS,
  'media.frame_images[]': Object.keys(frameImage.shape),
  'frame_images[]': Object.keys(frameImage.shape),
  'media.frame_videos[]': Object.keys(videoRef.shape),
  'media.reference_videos[]': Object.keys(videoRef.shape),
  'media.source_video': Object.keys(videoRef.shape),
  'media.audio_inputs[]': Object.keys(audioRef.shape),
}

const MEDIA_REF = 'a local file path (relative to the spec), an http(s) URL or a data: URI'
const FRAME_IMAGES = 'a list of { input_image, frame? } objects'
const FRAME_IMAGE = 'an object { input_image, frame? } with no other fields'
const FRAME = '"first", "last" or a frame number of 0 or more'
const REFERENCE_IMAGES = 'a list of image references (file paths or URLs)'

/**
 * What each field allows, in words, keyed by its path with list indexes written `[]`. Error messages
 * come from here rather than from zod, so they say what to write instead of what went wrong inside.
 */
export const ALLOWED: Readonly<Record<string, string>> = {
  '': 'an object passed to defineVideo({ ... })',
  model: 'a model id, e.g. "minimax/hailuo-02"',
  prompt: `a text of 1 to ${PROMPT_MAX.toLocaleString('en-US')} characters`,
  negative_prompt: `a text of at most ${PROMPT_MAX.toLocaleString('en-US')} characters`,
  width: 'a positive integer (pixels)',
  height: 'a positive integer (pixels)',
  resolution: 'a resolution tier as the model\'s docs spell it: "720P" or "1080P" (Wan 2.7), "480p", "720p", "1080p" or "4k" (Seedance 2.0)',
  ratio: 'one of "16:9", "9:16", "1:1", "4:3", "3:4"',
  seconds: 'a whole number of seconds, as a number (6) or a numeric string ("6")',
  fps: 'an integer from 1 to 60',
  steps: 'an integer from 10 to 50',
  guidance_scale: 'a number above 0 (6 to 10 recommended)',
  seed: `an integer from 0 to ${SEED_MAX}`,
  output_format: 'one of "MP4", "WEBM"',
  output_quality: 'an integer of 0 or more (lower is higher fidelity)',
  generate_audio: 'true or false',
  renditions: 'an object of rendition options (formats, widths, crf, maxBitrate, audio, poster, placeholder)',
  media: `an object with some of ${MEDIA_FIELDS.join(', ')}`,
  'media.frame_images': FRAME_IMAGES,
  'media.frame_images[]': FRAME_IMAGE,
  'media.frame_images[].input_image': MEDIA_REF,
  'media.frame_images[].frame': FRAME,
  'media.frame_videos': 'a list of { video } objects',
  'media.frame_videos[]': 'an object { video } with no other fields',
  'media.frame_videos[].video': MEDIA_REF,
  'media.reference_images': REFERENCE_IMAGES,
  'media.reference_images[]': MEDIA_REF,
  'media.reference_videos': 'a list of { video } objects',
  'media.reference_videos[]': 'an object { video } with no other fields',
  'media.reference_videos[].video': MEDIA_REF,
  'media.source_video': `${MEDIA_REF}, or an object { video }`,
  'media.source_video.video': MEDIA_REF,
  'media.audio_inputs': 'a list of audio references (.wav or .mp3, at most 15 MB each)',
  'media.audio_inputs[]': `${MEDIA_REF}, or an object { audio }`,
  'media.audio_inputs[].audio': MEDIA_REF,
  frame_images: FRAME_IMAGES,
  'frame_images[]': FRAME_IMAGE,
  'frame_images[].input_image': MEDIA_REF,
  'frame_images[].frame': FRAME,
  reference_images: REFERENCE_IMAGES,
  'reference_images[]': MEDIA_REF,
}

/** Renders a zod-style path the way messages show it: `media.frame_images[0].frame`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return joinPath(path, (index) => `[${index}]`)
}

/** The `ALLOWED` key for a path: list indexes collapsed to `[]`. */
export function allowedKey(path: ReadonlyArray<PropertyKey>): string {
  return joinPath(path, () => '[]')
}

function joinPath(path: ReadonlyArray<PropertyKey>, index: (i: number) => string): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += index(seg)
    else out += out === '' ? String(seg) : `.${String(seg)}`
  }
  return out
}
