import { createHash } from 'node:crypto'
import { mapMediaRefs } from '../spec/media-slots.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { canonicalJson } from './canonical.js'

/**
 * Bump when the key's recipe changes meaning; every key changes with it, and nothing old is ever
 * served for a request it was not made from.
 */
export const KEY_VERSION = 1

export interface KeyInput {
  /** The provider's namespace: previews and real generations never share a key. */
  provider: string
  request: NormalizedRequest
  /** Written ref -> resolution; local files enter the key by content, never by path. */
  media: ReadonlyMap<string, ResolvedMedia>
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The request as it enters the key: every local file and data URI replaced by its content hash. */
export function keyedRequest(request: NormalizedRequest, media: ReadonlyMap<string, ResolvedMedia>): NormalizedRequest {
  if (!request.media) return request
  return { ...request, media: mapMediaRefs(request.media, (ref) => mediaIdentity(ref, media)) }
}

export function computeKey(input: KeyInput): string {
  return sha256Hex(
    canonicalJson({ v: KEY_VERSION, provider: input.provider, request: keyedRequest(input.request, input.media) }),
  )
}

function mediaIdentity(ref: string, media: ReadonlyMap<string, ResolvedMedia>): string {
  const resolved = media.get(ref)
  // A remote URL is hashed as given: its content is the provider's to fetch, not ours.
  if (!resolved || resolved.kind === 'url') return ref
  return `sha256:${resolved.sha256}`
}
