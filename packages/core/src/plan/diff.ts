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
  /**
   * For a `value` change of a local media reference (a renamed or replaced file): whether the
   * file's content differs too (false: renamed, same bytes).
   */
  contentChanged?: boolean
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
    else if (canonicalJson(b) !== canonicalJson(a)) {
      // A local media ref is keyed by its content hash: a rename shows as a new name, and whether
      // the bytes changed too is the question a reviewer asks next.
      const media = beforeKeyed.get(path) !== b && afterKeyed.get(path) !== a
      changes.push({ path, before: b, after: a, kind: 'value', ...(media ? { contentChanged: beforeKeyed.get(path) !== afterKeyed.get(path) } : {}) })
    }
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
    default: {
      const media = change.contentChanged === undefined ? '' : change.contentChanged ? ' (renamed, and its content changed too)' : ' (renamed; same content)'
      if (typeof change.before === 'string' && typeof change.after === 'string') {
        const [b, a] = wordDiff(change.before, change.after)
        return `${change.path}: ${b} → ${a}${media}`
      }
      return `${change.path}: ${show(change.before)} → ${show(change.after)}${media}`
    }
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const CONTEXT_WORDS = 3
const SHORT = 60

/**
 * Two strings as a reviewer wants them: whole when short, else only the words that differ with a
 * few words of context on each side (`"…forest at dawn, camera…" → "…forest at dusk, camera…"`),
 * never two identical truncated prefixes.
 */
export function wordDiff(before: string, after: string): [string, string] {
  if (before.length <= SHORT && after.length <= SHORT) return [JSON.stringify(before), JSON.stringify(after)]
  const bw = before.split(/(\s+)/)
  const aw = after.split(/(\s+)/)
  let start = 0
  while (start < bw.length && start < aw.length && bw[start] === aw[start]) start++
  let end = 0
  while (end < bw.length - start && end < aw.length - start && bw[bw.length - 1 - end] === aw[aw.length - 1 - end]) end++
  // Tokens alternate word, space: context counts words, so twice as many tokens.
  const from = Math.max(0, start - CONTEXT_WORDS * 2)
  const cut = (tokens: string[]) => {
    const to = Math.min(tokens.length, tokens.length - end + CONTEXT_WORDS * 2)
    const middle = tokens.slice(from, to).join('').trim()
    return JSON.stringify(`${from > 0 ? '…' : ''}${middle}${to < tokens.length ? '…' : ''}`)
  }
  return [cut(bw), cut(aw)]
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
