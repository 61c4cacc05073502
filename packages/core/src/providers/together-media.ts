import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { VidspecError, showValue, type SpecIssue } from '../errors.js'
import type { MediaInput, NormalizedRequest } from '../types.js'
import type { ProviderRequest } from './types.js'

type MediaKind = 'image' | 'video' | 'audio'

/** One place in `media` that holds a reference, and how to replace it in a copy of the request. */
interface MediaSlot {
  path: string
  ref: string
  kind: MediaKind
  set(value: string): void
}

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
}

/** Every media reference of a request, in a stable order. */
function mediaSlots(media: MediaInput | undefined): MediaSlot[] {
  if (!media) return []
  const slots: MediaSlot[] = []
  media.frame_images?.forEach((f, i) =>
    slots.push({ path: `media.frame_images[${i}].input_image`, ref: f.input_image, kind: 'image', set: (v) => (f.input_image = v) }),
  )
  const refs = media.reference_images
  refs?.forEach((r, i) =>
    slots.push({ path: `media.reference_images[${i}]`, ref: r, kind: 'image', set: (v) => (refs[i] = v) }),
  )
  for (const field of ['frame_videos', 'reference_videos'] as const) {
    media[field]?.forEach((v, i) =>
      slots.push({ path: `media.${field}[${i}].video`, ref: v.video, kind: 'video', set: (x) => (v.video = x) }),
    )
  }
  const source = media.source_video
  if (typeof source === 'string') {
    slots.push({ path: 'media.source_video', ref: source, kind: 'video', set: (v) => (media.source_video = v) })
  } else if (source) {
    slots.push({ path: 'media.source_video.video', ref: source.video, kind: 'video', set: (v) => (source.video = v) })
  }
  const audio = media.audio_inputs
  audio?.forEach((a, i) => {
    if (typeof a === 'string') {
      slots.push({ path: `media.audio_inputs[${i}]`, ref: a, kind: 'audio', set: (v) => (audio[i] = v) })
    } else {
      slots.push({ path: `media.audio_inputs[${i}].audio`, ref: a.audio, kind: 'audio', set: (v) => (a.audio = v) })
    }
  })
  return slots
}

function isRemoteOrInline(ref: string): boolean {
  return /^https?:\/\//i.test(ref) || /^data:/i.test(ref)
}

function imageMime(mime: string | undefined, path: string | undefined): string | undefined {
  if (mime?.startsWith('image/')) return mime
  if (mime) return undefined
  return path ? IMAGE_TYPES[extname(path).toLowerCase()] : undefined
}

/**
 * What Together cannot be sent: it takes URLs (and, for images, inline base64), so a local video or
 * audio file has no way to reach it. Checked before any request, so it never costs anything.
 */
export function checkTogetherMedia(req: ProviderRequest): SpecIssue[] {
  const issues: SpecIssue[] = []
  for (const slot of mediaSlots(req.request.media)) {
    const resolved = req.media.get(slot.ref)
    if (!resolved) {
      if (!isRemoteOrInline(slot.ref)) {
        issues.push({ path: slot.path, value: showValue(slot.ref), message: 'a local file that was never resolved (internal error)' })
      }
      continue
    }
    if (resolved.kind !== 'file') continue
    if (slot.kind !== 'image') {
      issues.push({
        path: slot.path,
        value: showValue(slot.ref),
        message: `a local ${slot.kind} file cannot be sent to Together; host it and use an https URL`,
      })
    } else if (!imageMime(resolved.mime, resolved.path ?? slot.ref)) {
      issues.push({
        path: slot.path,
        value: showValue(slot.ref),
        message: `a local image must be PNG, JPEG, WebP or GIF to be sent inline (got ${resolved.mime ?? 'an unknown type'})`,
      })
    }
  }
  return issues
}

/**
 * The create body: the normalized request with every local image inlined as a `data:` URI. The
 * bytes are checked against the hash the key was computed from, so a file edited mid-build can never
 * be paid for under the key of its old content.
 */
export async function togetherCreateBody(req: ProviderRequest): Promise<NormalizedRequest> {
  const body = structuredClone(req.request)
  for (const slot of mediaSlots(body.media)) {
    const resolved = req.media.get(slot.ref)
    if (resolved?.kind !== 'file') continue
    const file = resolved.path ?? slot.ref
    const mime = imageMime(resolved.mime, file)
    if (slot.kind !== 'image' || !mime) {
      throw new VidspecError('SPEC_INVALID', `${req.spec}: ${slot.path}: a local file cannot be sent to Together`, {
        file: req.spec,
      })
    }
    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch (err) {
      throw new VidspecError('SPEC_LOAD_FAILED', `${req.spec}: ${slot.path}: cannot read ${file}`, { cause: err, file: req.spec })
    }
    if (createHash('sha256').update(bytes).digest('hex') !== resolved.sha256) {
      throw new VidspecError(
        'SPEC_LOAD_FAILED',
        `${req.spec}: ${slot.path}: ${file} changed after the cache key was computed; run again`,
        { file: req.spec },
      )
    }
    slot.set(`data:${mime};base64,${bytes.toString('base64')}`)
  }
  return body
}
