import type * as z from 'zod'
import { VidspecError, formatIssues, showValue } from '../errors.js'
import type { SpecIssue } from '../errors.js'
import type { FrameImageInput, FramePosition, NormalizedRequest } from '../types.js'
import { GENERIC_RULE, audioModels, knownModels, matchModelRule } from './models.js'
import type { FrameName, MediaField, MediaFieldRule, ModelRule } from './models.js'
import {
  ALLOWED,
  DEPRECATED_FIELDS,
  MEDIA_FIELDS,
  OBJECT_FIELDS,
  PROMPT_MAX,
  SPEC_FIELDS,
  allowedKey,
  formatPath,
  mediaSchema,
  videoSpecSchema,
} from './schema.js'
import type { ParsedSpec } from './schema.js'

export interface ValidatedSpec {
  request: NormalizedRequest
  /** Each names the file and the field: `hero.video.ts: frame_images: deprecated: use media.frame_images`. */
  warnings: string[]
}

type Fields = Record<string, unknown>
type View = Partial<ParsedSpec>
type MediaView = NonNullable<ParsedSpec['media']>

const GUIDANCE_ADVISED_MAX = 12

/**
 * Checks a spec against the schema and its model's rules, reporting every problem at once (a fix-one,
 * rerun, fix-the-next loop is slow when each try may be a paid one), and returns the normalized
 * request. Throws `SPEC_INVALID` with one issue per field: path, value, and what is allowed.
 */
export function validateSpec(raw: unknown, file: string): ValidatedSpec {
  const report = new Report(file)
  const input = ownFields(raw)
  if (!input) {
    report.add('', raw, ALLOWED[''] ?? '')
    throw report.error()
  }
  collectSchemaIssues(input, report)
  const view = validView(input)
  const where = moveDeprecated(input, view, report)
  if (view.model !== undefined) checkModel(view.model, view, input, where, report)
  if (view.guidance_scale !== undefined && view.guidance_scale > GUIDANCE_ADVISED_MAX) {
    report.warn(
      'guidance_scale',
      `${view.guidance_scale} is above ${GUIDANCE_ADVISED_MAX}, which may cause over-guidance artifacts or unnatural motion (6 to 10 recommended)`,
    )
  }
  if (report.issues.length > 0) throw report.error()
  return { request: normalize(view), warnings: report.warnings }
}

class Report {
  readonly issues: SpecIssue[] = []
  readonly warnings: string[] = []
  constructor(private readonly file: string) {}

  add(path: string, value: unknown, message: string): void {
    if (this.issues.some((i) => i.path === path)) return
    this.issues.push({ path, value: showValue(value), message })
  }

  warn(path: string, text: string): void {
    this.warnings.push(`${this.file}: ${path}: ${text}`)
  }

  error(): VidspecError {
    // Spec order, not discovery order: the message reads top to bottom like the spec does.
    const rank = (path: string): number => {
      const top = SPEC_FIELDS.indexOf(path.split(/[.[]/)[0] as keyof ParsedSpec)
      return top === -1 ? SPEC_FIELDS.length : top
    }
    const issues = [...this.issues].sort((a, b) => rank(a.path) - rank(b.path))
    return new VidspecError('SPEC_INVALID', formatIssues(this.file, issues), { file: this.file, issues })
  }
}

/** A copy with only the string keys: drops the brand symbol and works for null-prototype objects. */
function ownFields(raw: unknown): Fields | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  return Object.fromEntries(Object.entries(raw))
}

function collectSchemaIssues(input: Fields, report: Report): void {
  const parsed = videoSpecSchema.safeParse(input)
  if (parsed.success) return
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) reportUnknownField(input, issue.path, key, report)
      continue
    }
    report.add(formatPath(issue.path), valueAt(input, issue.path), ALLOWED[allowedKey(issue.path)] ?? issue.message)
  }
}

function reportUnknownField(input: Fields, parent: ReadonlyArray<PropertyKey>, key: string, report: Report): void {
  const allowed = OBJECT_FIELDS[allowedKey(parent)] ?? []
  const guess = closest(key, allowed)
  const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`
  report.add(
    formatPath([...parent, key]),
    valueAt(input, [...parent, key]),
    `unknown field${hint}; allowed fields are ${allowed.join(', ')}`,
  )
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = root
  for (const seg of path) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<PropertyKey, unknown>)[seg]
  }
  return value
}

/**
 * The fields that passed the schema, parsed, each on its own (media field by field), so the model
 * rules can still check the valid part of a spec that has other mistakes.
 */
function validView(input: Fields): View {
  const view: Fields = {}
  const shape = videoSpecSchema.shape as Record<string, z.ZodType>
  for (const [field, value] of Object.entries(input)) {
    const schema = shape[field]
    if (schema === undefined || value === undefined) continue
    if (field === 'media') {
      const media = mediaView(value)
      if (media) view.media = media
      continue
    }
    const parsed = schema.safeParse(value)
    if (parsed.success) view[field] = parsed.data
  }
  return view as View
}

function mediaView(value: unknown): MediaView | undefined {
  const fields = ownFields(value)
  if (!fields) return undefined
  const view: Fields = {}
  const shape = mediaSchema.shape as Record<string, z.ZodType>
  for (const field of MEDIA_FIELDS) {
    if (fields[field] === undefined) continue
    const parsed = shape[field]?.safeParse(fields[field])
    if (parsed?.success) view[field] = parsed.data
  }
  return view as MediaView
}

/** Where the spec wrote each media field: `media.x`, or the deprecated top-level `x`. */
type MediaPaths = (field: MediaField) => string

function moveDeprecated(input: Fields, view: View, report: Report): MediaPaths {
  const moved = new Set<string>()
  const media = ownFields(input.media)
  for (const field of DEPRECATED_FIELDS) {
    if (input[field] === undefined) continue
    if (media?.[field] !== undefined) {
      report.add(field, input[field], `set media.${field} only (${field} is its deprecated spelling, and both are set)`)
      continue
    }
    report.warn(field, `deprecated: use media.${field}`)
    moved.add(field)
    const value = view[field]
    delete view[field]
    if (value !== undefined) view.media = { ...view.media, [field]: value }
  }
  return (field) => (moved.has(field) ? field : `media.${field}`)
}

function checkModel(model: string, view: View, input: Fields, mediaPath: MediaPaths, report: Report): void {
  const match = matchModelRule(model)
  const rule = match?.rule ?? GENERIC_RULE
  if (!match) {
    const guess = closest(model, knownModels())
    report.warn(
      'model',
      `unknown model ${model}: checked against the generic rules only${guess === undefined ? '' : ` (did you mean ${guess}?)`}`,
    )
  } else if (match.key !== model) {
    report.warn('model', `unknown model ${model}: checked against the ${match.key} family rules only`)
  }
  const forModel = match ? ` for ${model}` : ''

  checkSize(view, rule, model, report)

  const seconds = rule.seconds ?? GENERIC_RULE.seconds
  if (view.seconds !== undefined && seconds) {
    const n = Number(view.seconds)
    if (n < seconds.min || n > seconds.max) {
      report.add('seconds', view.seconds, `an integer from ${seconds.min} to ${seconds.max}${forModel}`)
    }
  }

  checkPrompt(view, input, rule, match ? model : undefined, report)
  if (rule.negativePromptMax !== undefined && view.negative_prompt !== undefined) {
    const length = view.negative_prompt.length
    if (length > rule.negativePromptMax) {
      report.add('negative_prompt', view.negative_prompt, `at most ${rule.negativePromptMax} characters${forModel} (this one has ${length})`)
    }
  }
  if (rule.seedMax !== undefined && view.seed !== undefined && view.seed > rule.seedMax) {
    report.add('seed', view.seed, `an integer from 0 to ${rule.seedMax}${forModel}`)
  }
  if (view.generate_audio === true && rule.audio === false) {
    report.add('generate_audio', true, `not supported by ${model}; models that generate audio: ${audioModels().join(', ')}`)
  }
  checkMedia(view.media ?? {}, writtenMedia(input), rule, model, mediaPath, report)
}

function checkSize(view: View, rule: ModelRule, model: string, report: Report): void {
  if (rule.size === 'resolution') {
    for (const field of ['width', 'height'] as const) {
      if (view[field] !== undefined) {
        report.add(field, view[field], `not used by ${model}: set resolution ("720P" or "1080P") and ratio instead`)
      }
    }
  } else if (rule.size === 'dimensions') {
    for (const field of ['resolution', 'ratio'] as const) {
      if (view[field] !== undefined) report.add(field, view[field], `not used by ${model}: set width and height instead`)
    }
  }
  if (rule.sizes && view.width !== undefined && view.height !== undefined) {
    const size = `${view.width}x${view.height}`
    if (!rule.sizes.includes(size)) {
      report.warn('width', `${size} is not a size ${model} documents (${rule.sizes.join(', ')}); the provider may refuse it`)
    }
  }
}

function checkPrompt(view: View, input: Fields, rule: ModelRule, known: string | undefined, report: Report): void {
  const written = input.prompt !== undefined
  if (rule.prompt === 'rejected' && written) {
    const instead = rule.needs?.includes('frame_images') ? ' (the video follows media.frame_images)' : ''
    report.add('prompt', input.prompt, `not accepted by ${known}: remove it${instead}`)
  } else if (rule.prompt === 'required' && !written) {
    const max = (rule.promptMax ?? PROMPT_MAX).toLocaleString('en-US')
    const by = known === undefined ? ' (every model but Kling takes one)' : ` by ${known}`
    report.add('prompt', undefined, `required${by}: a text of 1 to ${max} characters`)
  } else if (rule.promptMax !== undefined && view.prompt !== undefined && view.prompt.length > rule.promptMax) {
    const max = rule.promptMax.toLocaleString('en-US')
    report.add('prompt', view.prompt, `at most ${max} characters for ${known} (this one has ${view.prompt.length})`)
  }
}

/** Media fields the spec wrote, valid or not, under `media` or at the deprecated top level. */
function writtenMedia(input: Fields): Map<MediaField, unknown> {
  const written = new Map<MediaField, unknown>()
  const media = ownFields(input.media)
  for (const field of MEDIA_FIELDS) {
    const value = media?.[field] ?? ((DEPRECATED_FIELDS as readonly string[]).includes(field) ? input[field] : undefined)
    if (value !== undefined) written.set(field, value)
  }
  return written
}

function checkMedia(
  media: MediaView,
  written: Map<MediaField, unknown>,
  rule: ModelRule,
  model: string,
  mediaPath: MediaPaths,
  report: Report,
): void {
  if (rule.needs && !rule.needs.some((field) => written.has(field))) {
    const first = rule.needs[0] as MediaField
    report.add(mediaPath(first), undefined, `required by ${model}: set ${rule.needs.map((f) => `media.${f}`).join(' or ')}`)
  }
  if (rule.media) {
    const accepted = Object.keys(rule.media).map((f) => `media.${f}`)
    const takes = accepted.length === 0 ? 'no media' : accepted.join(', ')
    for (const [field, value] of written) {
      if (rule.media[field] === undefined) report.add(mediaPath(field), value, `not accepted by ${model}, which takes ${takes}`)
    }
  }
  for (const field of MEDIA_FIELDS) {
    const fieldRule = rule.media?.[field]
    const value = media[field]
    if (!fieldRule || !Array.isArray(value)) continue
    if (fieldRule.max !== undefined && value.length > fieldRule.max) {
      const items = `${fieldRule.max} item${fieldRule.max === 1 ? '' : 's'}`
      report.add(mediaPath(field), value, `at most ${items} for ${model}; this list has ${value.length}`)
    } else if (field === 'frame_images') {
      checkFrames(value as FrameImageInput[], fieldRule, model, mediaPath(field), report)
    }
  }
}

function checkFrames(frames: FrameImageInput[], rule: MediaFieldRule, model: string, at: string, report: Report): void {
  const allowed = rule.frames
  if (!allowed) return
  const wanted = allowed.map((f) => `"${f}"`).join(' or ')
  const seen = new Set<string>()
  frames.forEach((item, index) => {
    const position = framePosition(item.frame, index, frames.length, rule.namedFramesOnly === true)
    const path = `${at}[${index}].frame`
    if (position === undefined || !(allowed as readonly string[]).includes(position)) {
      const unmarked = item.frame === undefined ? `; left out, it means the ${position} frame` : ''
      report.add(path, item.frame, `${wanted} for ${model}${unmarked}`)
    } else if (seen.has(position)) {
      report.add(path, item.frame, `each of ${wanted} at most once for ${model}`)
    }
    if (position !== undefined) seen.add(position)
  })
}

/** Where a keyframe lands. Unmarked images follow the API's rule: first, last, then evenly between. */
function framePosition(frame: FramePosition | undefined, index: number, count: number, namedOnly: boolean): FrameName | 'middle' | undefined {
  if (frame === 'first' || frame === 'last') return frame
  if (typeof frame === 'number') return frame === 0 && !namedOnly ? 'first' : undefined
  if (index === 0) return 'first'
  return index === count - 1 ? 'last' : 'middle'
}

/** The request as sent and keyed: only what the spec set, `seconds` as the API's string, JSON-safe. */
function normalize(view: View): NormalizedRequest {
  const request: Fields = {}
  for (const field of SPEC_FIELDS) {
    const value = view[field]
    if (value === undefined) continue
    request[field] = field === 'seconds' ? String(Number(value)) : jsonCopy(value)
  }
  return request as unknown as NormalizedRequest
}

function jsonCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonCopy)
  if (typeof value !== 'object' || value === null) return value
  const out: Fields = {}
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = jsonCopy(item)
  return out
}

/** The option closest to `word` (case-insensitive edit distance), when close enough to be a typo. */
function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const option of options) {
    const distance = editDistance(word.toLowerCase(), option.toLowerCase())
    if (distance < bestDistance) {
      best = option
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 5)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
