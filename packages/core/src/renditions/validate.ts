import { showValue, type SpecIssue } from '../errors.js'
import { CRF_RANGE, POSTER_FORMATS, RENDITION_FORMATS } from './defaults.js'
import type { RenditionsInput } from './types.js'

const FIELDS = ['formats', 'widths', 'crf', 'maxBitrate', 'audio', 'poster', 'placeholder', 'remote'] as const

export const RENDITIONS_ALLOWED = {
  '': `an object with some of ${FIELDS.join(', ')} (or false in vidspec.config.ts: ship the clips only)`,
  formats: `a non-empty list of ${RENDITION_FORMATS.map((f) => `"${f}"`).join(', ')}`,
  widths: 'a non-empty list of widths in pixels (even integers from 16 to 7680) or "original"',
  crf: `an integer (mp4: ${CRF_RANGE.mp4.join(' to ')}, webm/av1: ${CRF_RANGE.webm.join(' to ')}), or one per format, e.g. { mp4: 23, webm: 33 }`,
  maxBitrate: 'a bitrate cap in kbit/s: an integer from 50 to 200000',
  audio: '"keep" or "strip"',
  poster: 'false, or { times?: seconds (numbers >= 0), formats?: "jpg" | "webp" | "png" list }',
  'poster.times': 'a non-empty list of times in seconds (numbers of 0 or more)',
  'poster.formats': `a non-empty list of ${POSTER_FORMATS.map((f) => `"${f}"`).join(', ')}`,
  placeholder: 'true or false',
  remote: 'true or false (only in vidspec.config.ts)',
} as const

type Field = keyof typeof RENDITIONS_ALLOWED

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)
const nonEmptyList = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0

export function isWidth(v: unknown): v is number | 'original' {
  return v === 'original' || (isInt(v) && v >= 16 && v <= 7680 && v % 2 === 0)
}

/**
 * Every problem of a `renditions` value, each with its path (under `prefix`), value and what is
 * allowed. `where` says whether `remote` may be set (the config only: it is not a per-spec choice).
 */
export function renditionsIssues(input: unknown, prefix: string, where: 'config' | 'spec'): SpecIssue[] {
  const issues: SpecIssue[] = []
  const add = (field: Field, path: string, value: unknown): void => {
    issues.push({ path: path ? `${prefix}.${path}` : prefix, value: showValue(value), message: RENDITIONS_ALLOWED[field] })
  }
  if (input === undefined || (input === false && where === 'config')) return issues
  if (!isObj(input)) {
    add('', '', input)
    return issues
  }
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    switch (key) {
      case 'formats':
        if (!nonEmptyList(value)) add('formats', key, value)
        else value.forEach((f, i) => (RENDITION_FORMATS as readonly unknown[]).includes(f) || add('formats', `${key}[${i}]`, f))
        break
      case 'widths':
        if (!nonEmptyList(value)) add('widths', key, value)
        else value.forEach((w, i) => isWidth(w) || add('widths', `${key}[${i}]`, w))
        break
      case 'crf':
        if (isObj(value)) {
          for (const [format, crf] of Object.entries(value)) {
            const range = CRF_RANGE[format as keyof typeof CRF_RANGE] as readonly [number, number] | undefined
            if (!range || !isInt(crf) || crf < range[0] || crf > range[1]) add('crf', `${key}.${format}`, crf)
          }
        } else if (!isInt(value) || value < 0 || value > CRF_RANGE.mp4[1]) add('crf', key, value)
        break
      case 'maxBitrate':
        if (!isInt(value) || value < 50 || value > 200_000) add('maxBitrate', key, value)
        break
      case 'audio':
        if (value !== 'keep' && value !== 'strip') add('audio', key, value)
        break
      case 'poster':
        posterIssues(value, add)
        break
      case 'placeholder':
        if (typeof value !== 'boolean') add('placeholder', key, value)
        break
      case 'remote':
        if (where === 'spec' || typeof value !== 'boolean') add('remote', key, value)
        break
      default:
        issues.push({ path: `${prefix}.${key}`, value: showValue(value), message: `unknown option; the options here are ${FIELDS.join(', ')}` })
    }
  }
  return issues
}

function posterIssues(value: unknown, add: (field: Field, path: string, value: unknown) => void): void {
  if (value === false) return
  if (!isObj(value)) return add('poster', 'poster', value)
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue
    if (key === 'times') {
      if (!nonEmptyList(v)) add('poster.times', 'poster.times', v)
      else v.forEach((t, i) => (typeof t === 'number' && Number.isFinite(t) && t >= 0) || add('poster.times', `poster.times[${i}]`, t))
    } else if (key === 'formats') {
      if (!nonEmptyList(v)) add('poster.formats', 'poster.formats', v)
      else v.forEach((f, i) => (POSTER_FORMATS as readonly unknown[]).includes(f) || add('poster.formats', `poster.formats[${i}]`, f))
    } else add('poster', `poster.${key}`, v)
  }
}

/** The input as given, known to be valid (callers check with renditionsIssues first). */
export function asRenditionsInput(input: unknown): RenditionsInput | undefined {
  return isObj(input) ? (input as RenditionsInput) : undefined
}
