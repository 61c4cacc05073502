import { VidspecError, showValue, type SpecIssue } from '../errors.js'
import { CRF_RANGE, POSTER_FORMATS, RENDITION_FORMATS } from './defaults.js'
import { isWidth } from './validate.js'
import type { RenditionDirectives, RenditionFormat, RenditionsInput } from './types.js'

/** The directives an import may carry, and what each allows. */
export const DIRECTIVES: Readonly<Record<keyof RenditionDirectives, string>> = {
  w: 'widths in pixels (even, 16 to 7680) or "original", separated by ";", e.g. w=640;1280',
  format: `formats separated by ";", each one of ${RENDITION_FORMATS.join(', ')}, e.g. format=webm;mp4`,
  audio: '"keep" or "strip"',
  crf: `an integer from ${CRF_RANGE.mp4[0]} to ${CRF_RANGE.mp4[1]}`,
  bitrate: 'a bitrate cap in kbit/s: an integer from 50 to 200000',
  poster: `times in seconds separated by ";" (e.g. poster=0;2.5), optionally with image formats (poster=0&posterFormat=webp), or "false"`,
  placeholder: '"true" or "false"',
}

/** `posterFormat` rides along with `poster`. */
const POSTER_FORMAT_ALLOWED = `image formats separated by ";", each one of ${POSTER_FORMATS.join(', ')}`

/**
 * Query parameters Vite and its plugins add to an import on their own (`?import`, `?t=…` on HMR,
 * `?url`, …): never a directive, never an error.
 */
const HOST_PARAMS = new Set(['import', 't', 'v', 'url', 'raw', 'inline', 'direct', 'used', 'worker', 'sharedworker', 'lang.ts', 'vidspec'])
// (`vidspec` only types the import: `@vidspec/vite/client` declares `*&vidspec`.)

/**
 * An import's directives alone, as a query (`?w=640&format=webm;mp4`), or '' when it has none: the
 * parameters a host adds (and the `vidspec` marker) dropped, so one set of directives is one module.
 */
export function directiveQuery(id: string): string {
  const at = id.indexOf('?')
  if (at === -1) return ''
  const params = new URLSearchParams(id.slice(at + 1).replace(/#.*$/, ''))
  for (const host of HOST_PARAMS) params.delete(host)
  const rest = params.toString().replace(/%3B/gi, ';')
  return rest ? `?${rest}` : ''
}

const list = (value: string): string[] => value.split(';').map((s) => s.trim())

/**
 * Parses the query of an import in the vite-imagetools style (`./hero.video?w=640;1280&format=webm;mp4`)
 * into a renditions override: what it sets replaces the spec's and the config's. Pure. Throws
 * SPEC_INVALID naming the file, every bad directive, its value and what is allowed. `query` may
 * start with `?` or be a whole id (`/src/hero.video.ts?w=640`).
 */
export function parseRenditionQuery(query: string | undefined, file: string): RenditionsInput {
  if (!query) return {}
  const at = query.indexOf('?')
  const params = new URLSearchParams(at === -1 ? query : query.slice(at + 1))
  const out: RenditionsInput = {}
  const issues: SpecIssue[] = []
  const bad = (name: string, value: string, allowed: string): void => {
    issues.push({ path: `?${name}`, value: showValue(value), message: allowed })
  }
  let posterFormats: string[] | undefined
  for (const [name, value] of params) {
    switch (name) {
      case 'w': {
        const widths = list(value).map((w) => (w === 'original' ? w : /^\d+$/.test(w) ? Number(w) : w))
        if (widths.every(isWidth)) out.widths = widths
        else bad(name, value, DIRECTIVES.w)
        break
      }
      case 'format': {
        const formats = list(value)
        if (formats.every((f): f is RenditionFormat => (RENDITION_FORMATS as readonly string[]).includes(f))) out.formats = formats
        else bad(name, value, DIRECTIVES.format)
        break
      }
      case 'audio':
        if (value === 'keep' || value === 'strip') out.audio = value
        else bad(name, value, DIRECTIVES.audio)
        break
      case 'crf':
        if (/^\d+$/.test(value) && Number(value) <= CRF_RANGE.mp4[1]) out.crf = Number(value)
        else bad(name, value, DIRECTIVES.crf)
        break
      case 'bitrate':
        if (/^\d+$/.test(value) && Number(value) >= 50 && Number(value) <= 200_000) out.maxBitrate = Number(value)
        else bad(name, value, DIRECTIVES.bitrate)
        break
      case 'poster': {
        if (value === 'false') {
          out.poster = false
          break
        }
        const times = list(value).map((t) => (/^\d+(\.\d+)?$/.test(t) ? Number(t) : Number.NaN))
        if (times.every((t) => Number.isFinite(t))) out.poster = { times }
        else bad(name, value, DIRECTIVES.poster)
        break
      }
      case 'posterFormat':
        posterFormats = list(value)
        if (!posterFormats.every((f) => (POSTER_FORMATS as readonly string[]).includes(f))) bad(name, value, POSTER_FORMAT_ALLOWED)
        break
      case 'placeholder':
        if (value === 'true' || value === 'false') out.placeholder = value === 'true'
        else bad(name, value, DIRECTIVES.placeholder)
        break
      default:
        if (!HOST_PARAMS.has(name)) bad(name, value, `unknown directive; the directives are ${[...Object.keys(DIRECTIVES), 'posterFormat'].join(', ')}`)
    }
  }
  if (posterFormats && out.poster !== false) out.poster = { ...(out.poster || {}), formats: posterFormats as Array<'jpg' | 'webp' | 'png'> }
  if (issues.length > 0) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message} (got ${i.value})`)
    throw new VidspecError('SPEC_INVALID', `${file}: import directives: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
      file,
      issues,
    })
  }
  return out
}
