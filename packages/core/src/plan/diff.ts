import { keyedRequest } from '../key/key.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { canonicalJson } from '../key/canonical.js'

export interface FieldChange {
  /** Field path, e.g. `steps` or `media.frame_images[0].input_image`. */
  path: string
  before: unknown
  after: unknown
  /** `value`: the field itself changed; `content`: same reference, different file content. */
  kind: 'value' | 'content' | 'added' | 'removed'
}

/**
 * What differs between the request a spec was last built from and the one it asks for now, field
 * by field. Media are compared by what enters the key: a local file by its content hash.
 */
export function diffRequests(
  before: { request: NormalizedRequest; media: Record<string, string> },
  after: { request: NormalizedRequest; media: ReadonlyMap<string, ResolvedMedia> },
): FieldChange[] {
  const beforeFlat = flatten(before.request)
  const afterFlat = flatten(after.request)
  const beforeKeyed = flatten(keyedRequest(before.request, mediaFromDigests(before.media)))
  const afterKeyed = flatten(keyedRequest(after.request, after.media))
  const paths = [...new Set([...beforeFlat.keys(), ...afterFlat.keys()])].sort(comparePaths)
  const changes: FieldChange[] = []
  for (const path of paths) {
    const b = beforeFlat.get(path)
    const a = afterFlat.get(path)
    if (!beforeFlat.has(path)) changes.push({ path, before: undefined, after: a, kind: 'added' })
    else if (!afterFlat.has(path)) changes.push({ path, before: b, after: undefined, kind: 'removed' })
    else if (canonicalJson(b) !== canonicalJson(a)) changes.push({ path, before: b, after: a, kind: 'value' })
    else if (beforeKeyed.get(path) !== afterKeyed.get(path)) changes.push({ path, before: b, after: a, kind: 'content' })
  }
  return changes
}

/** `steps: 20 → 30`, `media.frame_images[0].input_image: content changed`. */
export function describeChange(change: FieldChange): string {
  switch (change.kind) {
    case 'content':
      return `${change.path}: content changed`
    case 'added':
      return `${change.path}: (unset) → ${show(change.after)}`
    case 'removed':
      return `${change.path}: ${show(change.before)} → (unset)`
    default:
      return `${change.path}: ${show(change.before)} → ${show(change.after)}`
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function mediaFromDigests(media: Record<string, string>): Map<string, ResolvedMedia> {
  return new Map(Object.entries(media).map(([ref, sha256]) => [ref, { kind: 'file', ref, sha256 }]))
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out))
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) flatten(v, prefix ? `${prefix}.${k}` : k, out)
    }
  } else {
    out.set(prefix, value)
  }
  return out
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
