import type { MediaInput } from '../types.js'

export type MediaKind = 'image' | 'video' | 'audio'

/** One place in a request's `media` that holds a reference: its field path, what it holds, and how to replace it. */
export interface MediaSlot {
  /** Field path, e.g. `media.frame_images[0].input_image`. */
  path: string
  /** The string the spec wrote (or, in a copy being rewritten, what it holds now). */
  ref: string
  kind: MediaKind
  /** Replaces the reference in the object the slots were taken from (a copy: the spec's request is not mutated by callers). */
  set(value: string): void
}

/** The media formats the provider takes, by extension: what validation accepts and what a URL's type is guessed from. */
export const MEDIA_TYPES: Readonly<Record<MediaKind, Readonly<Record<string, string>>>> = {
  image: { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' },
  video: { mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime' },
  audio: { wav: 'audio/wav', mp3: 'audio/mpeg' },
}

/** The fields of `media` that hold references; a new one is added here and every walker sees it. */
const MEDIA_FIELDS = ['frame_images', 'frame_videos', 'reference_images', 'reference_videos', 'source_video', 'audio_inputs'] as const

/**
 * Every media reference of a `media` object, in a stable order: the one walk validation, the key and
 * the providers share, so a field cannot be checked in one and forgotten in another.
 */
export function mediaSlots(media: MediaInput | undefined): MediaSlot[] {
  if (!media) return []
  const slots: MediaSlot[] = []
  media.frame_images?.forEach((f, i) =>
    slots.push({ path: `media.frame_images[${i}].input_image`, ref: f.input_image, kind: 'image', set: (v) => (f.input_image = v) }),
  )
  media.frame_videos?.forEach((v, i) => slots.push({ path: `media.frame_videos[${i}].video`, ref: v.video, kind: 'video', set: (x) => (v.video = x) }))
  const refs = media.reference_images
  refs?.forEach((r, i) => slots.push({ path: `media.reference_images[${i}]`, ref: r, kind: 'image', set: (v) => (refs[i] = v) }))
  media.reference_videos?.forEach((v, i) =>
    slots.push({ path: `media.reference_videos[${i}].video`, ref: v.video, kind: 'video', set: (x) => (v.video = x) }),
  )
  const source = media.source_video
  if (typeof source === 'string') {
    slots.push({ path: 'media.source_video', ref: source, kind: 'video', set: (v) => (media.source_video = v) })
  } else if (source) {
    slots.push({ path: 'media.source_video.video', ref: source.video, kind: 'video', set: (v) => (source.video = v) })
  }
  const audio = media.audio_inputs
  audio?.forEach((a, i) => {
    if (typeof a === 'string') slots.push({ path: `media.audio_inputs[${i}]`, ref: a, kind: 'audio', set: (v) => (audio[i] = v) })
    else slots.push({ path: `media.audio_inputs[${i}].audio`, ref: a.audio, kind: 'audio', set: (v) => (a.audio = v) })
  })
  return slots
}

/** A copy of `media` with only its reference fields, every reference replaced by `fn(ref)`. */
export function mapMediaRefs(media: MediaInput, fn: (ref: string) => string): MediaInput {
  const out: Record<string, unknown> = {}
  for (const field of MEDIA_FIELDS) if (media[field] !== undefined) out[field] = structuredClone(media[field])
  const copy = out as MediaInput
  for (const slot of mediaSlots(copy)) slot.set(fn(slot.ref))
  return copy
}
