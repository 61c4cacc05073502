import type * as z from 'zod'
import { asRenditionsInput, renditionsIssues } from '../renditions/validate.js'
import type { RenditionsInput } from '../renditions/types.js'
import type { NormalizedRequest } from '../types.js'
import { checkModel, type MediaPaths } from './model-check.js'
import type { MediaField } from './models.js'
import { Report, closest } from './report.js'
import {
  ALLOWED,
  DEPRECATED_FIELDS,
  LOCAL_FIELDS,
  MEDIA_FIELDS,
  OBJECT_FIELDS,
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
  /** The spec's `renditions` (what the site ships): never in the request, never in the key. */
  renditions?: RenditionsInput | undefined
}

type Fields = Record<string, unknown>
type View = Partial<ParsedSpec>
type MediaView = NonNullable<ParsedSpec['media']>

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
  const parsed = collectSchemaIssues(input, report)
  const view = parsed ? definedFields(parsed) : validView(input)
  const where = moveDeprecated(input, view, report)
  if (view.model !== undefined) checkModel(view.model, view, input.prompt, writtenMedia(input), where, report)
  report.issues.push(...renditionsIssues(input.renditions, 'renditions', 'spec'))
  if (report.issues.length > 0) throw report.error()
  const renditions = asRenditionsInput(input.renditions)
  return { request: normalize(view), warnings: report.warnings, ...(renditions ? { renditions: jsonCopy(renditions) as RenditionsInput } : {}) }
}

/** A copy with only the string keys: drops the brand symbol and works for null-prototype objects. */
function ownFields(raw: unknown): Fields | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  return Object.fromEntries(Object.entries(raw))
}

/** The parsed spec when the whole of it passed the schema; otherwise each issue, reported. */
function collectSchemaIssues(input: Fields, report: Report): ParsedSpec | undefined {
  const parsed = videoSpecSchema.safeParse(input)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) reportUnknownField(input, issue.path, key, report)
      continue
    }
    report.add(formatPath(issue.path), valueAt(input, issue.path), ALLOWED[allowedKey(issue.path)] ?? issue.message)
  }
  return undefined
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
export function validView(input: Fields): View {
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

/**
 * What `validView` gives for a spec that passed whole, without parsing each field again (a cold plan
 * validates every spec): the parsed fields that are set, and of media the same.
 */
export function definedFields(parsed: ParsedSpec): View {
  const view: Fields = {}
  for (const [field, value] of Object.entries(parsed)) {
    if (value === undefined) continue
    view[field] = field === 'media' ? Object.fromEntries(Object.entries(value as Fields).filter(([, v]) => v !== undefined)) : value
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

/** The request as sent and keyed: only what the spec set, `seconds` as the API's string, JSON-safe. */
function normalize(view: View): NormalizedRequest {
  const request: Fields = {}
  for (const field of SPEC_FIELDS) {
    if ((LOCAL_FIELDS as readonly string[]).includes(field)) continue
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

