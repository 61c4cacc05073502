import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { VidspecError, showValue, type SpecIssue } from '../errors.js'
import type { MediaHost } from '../remote/media.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { MEDIA_TYPES, mediaSlots, type MediaSlot } from '../spec/media-slots.js'
import type { ProviderRequest } from './types.js'

function isRemoteOrInline(ref: string): boolean {
  return /^https?:\/\//i.test(ref) || /^data:/i.test(ref)
}

function imageMime(mime: string | undefined, path: string | undefined): string | undefined {
  if (mime?.startsWith('image/')) return mime
  if (mime) return undefined
  return path ? MEDIA_TYPES.image[extname(path).slice(1).toLowerCase()] : undefined
}

/**
 * The longest inline image vidspec sends, in characters of its `data:` URI. Together documents no
 * limit ([OAS] `input_image`: "URL path to hosted image"; its skill: "Image URL or base64-encoded
 * image data"), but its i2v models are reported to refuse longer fields with "Range of input length
 * should be [1, 61440]" (Hugging Face's Together provider, reference/together-video-api.md §3.4).
 * About 45 KB of image; anything larger goes through the remote as a URL.
 */
export const INLINE_IMAGE_MAX_CHARS = 61_440

function inlineLength(mime: string, size: number): number {
  return `data:${mime};base64,`.length + 4 * Math.ceil(size / 3)
}

/** How a local file reaches Together: inline (small images) or as a URL (everything else). */
function delivery(slot: MediaSlot, resolved: ResolvedMedia): { inline: string } | { url: string } | { bad: string } {
  if (slot.kind !== 'image') return { url: `a local ${slot.kind} file` }
  const mime = imageMime(resolved.mime, resolved.path ?? slot.ref)
  if (!mime) return { bad: `a local image must be PNG, JPEG, WebP or GIF (got ${resolved.mime ?? 'an unknown type'})` }
  const length = inlineLength(mime, resolved.size ?? 0)
  if (length <= INLINE_IMAGE_MAX_CHARS) return { inline: mime }
  return {
    url: `a local image above the inline limit (as a data: URI it would be ${length.toLocaleString('en-US')} characters; at most ${INLINE_IMAGE_MAX_CHARS.toLocaleString('en-US')} are sent inline)`,
  }
}

/**
 * What Together cannot be sent, checked before any request so it never costs anything. Together
 * takes URLs (and small inline images): without a media host (a \`remote\` in the config) a local
 * video, audio or large image has no way to reach it. A read-only host passes here and is asked at
 * create time, before the create, whether a trusted build already uploaded the file.
 */
export function checkTogetherMedia(req: ProviderRequest, host?: MediaHost): SpecIssue[] {
  const issues: SpecIssue[] = []
  for (const slot of mediaSlots(req.request.media)) {
    const resolved = req.media.get(slot.ref)
    const issue = (message: string) => issues.push({ path: slot.path, value: showValue(slot.ref), message })
    if (!resolved) {
      if (!isRemoteOrInline(slot.ref)) issue('a local file that was never resolved (internal error)')
      continue
    }
    if (resolved.kind === 'data' && slot.kind === 'image' && slot.ref.length > INLINE_IMAGE_MAX_CHARS) {
      issue(
        `an inline image of at most ${INLINE_IMAGE_MAX_CHARS.toLocaleString('en-US')} characters (this data: URI has ${slot.ref.length.toLocaleString('en-US')}); save it as a file and set \`remote\` in the vidspec config so vidspec uploads it, or host it and use an https URL`,
      )
    }
    if (resolved.kind !== 'file') continue
    const how = delivery(slot, resolved)
    if ('bad' in how) issue(how.bad)
    else if ('url' in how && !host) {
      issue(
        `${how.url} reaches Together only as a URL: set \`remote\` in the vidspec config (an S3 bucket; vidspec uploads it there once and sends a presigned URL), or host it yourself and use an https URL`,
      )
    }
  }
  return issues
}

/**
 * The create body: small local images inlined as \`data:\` URIs, other local media uploaded to the
 * media host and replaced by a presigned URL. Inlined bytes are checked against the hash the key was
 * computed from (the host checks its own), so a file edited mid-build is never paid for under the
 * key of its old content.
 */
export async function togetherCreateBody(req: ProviderRequest, host?: MediaHost): Promise<NormalizedRequest> {
  const body = structuredClone(req.request)
  for (const slot of mediaSlots(body.media)) {
    const resolved = req.media.get(slot.ref)
    if (resolved?.kind !== 'file') continue
    const file = resolved.path ?? slot.ref
    const how = delivery(slot, resolved)
    if ('bad' in how || ('url' in how && !host)) {
      throw new VidspecError('SPEC_INVALID', `${req.spec}: ${slot.path}: a local file cannot be sent to Together`, { file: req.spec })
    }
    if ('url' in how) {
      // Checked just above; kept for the type.
      if (!host) continue
      const mime = resolved.mime ?? 'application/octet-stream'
      slot.set(await host.urlFor({ path: file, sha256: resolved.sha256, size: resolved.size, mime, spec: req.spec, field: slot.path }))
      continue
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
    slot.set(`data:${how.inline};base64,${bytes.toString('base64')}`)
  }
  return body
}
