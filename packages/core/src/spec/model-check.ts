import type { FrameImageInput, FramePosition } from '../types.js'
import { DOCUMENTED_RESOLUTIONS, GENERIC_RULE, audioModels, knownModels, matchModelRule } from './models.js'
import type { FrameName, MediaField, MediaFieldRule, ModelRule } from './models.js'
import { closest, type Report } from './report.js'
import { MEDIA_FIELDS, PROMPT_MAX } from './schema.js'
import type { ParsedSpec } from './schema.js'

type View = Partial<ParsedSpec>
type MediaView = NonNullable<ParsedSpec['media']>
/** Where the spec wrote each media field: `media.x`, or the deprecated top-level `x`. */
export type MediaPaths = (field: MediaField) => string

const GUIDANCE_ADVISED_MAX = 12

/** `"a", "b" or "c"`. */
function quoted(values: readonly string[]): string {
  const all = values.map((v) => `"${v}"`)
  return all.length < 2 ? all.join('') : `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`
}
const listed = (values: readonly number[], unit: string): string => values.map((v) => `${v}${unit}`).join(' or ')

/**
 * Checks the valid part of a spec against its model's rules (`models.ts`). May rewrite
 * `view.resolution` to the case the model's docs use, so the request is sent as documented.
 */
export function checkModel(
  model: string,
  view: View,
  prompt: unknown,
  written: Map<MediaField, unknown>,
  mediaPath: MediaPaths,
  report: Report,
): void {
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

  checkSize(view, rule, model, match !== undefined, report)
  checkSeconds(view, rule, model, forModel, report)
  if (view.fps !== undefined && rule.fps && !rule.fps.includes(view.fps)) {
    report.warn('fps', `${view.fps} is not a frame rate Together's model table lists for ${model} (${listed(rule.fps, '')}); the provider may refuse or ignore it`)
  }
  checkPrompt(view, prompt, rule, match ? model : undefined, report)
  if (rule.negativePromptMax !== undefined && view.negative_prompt !== undefined) {
    const length = view.negative_prompt.length
    if (length > rule.negativePromptMax) {
      report.add('negative_prompt', view.negative_prompt, `at most ${rule.negativePromptMax} characters${forModel} (this one has ${length})`)
    }
  }
  if (rule.seedMax !== undefined && view.seed !== undefined && view.seed > rule.seedMax) {
    report.add('seed', view.seed, `an integer from 0 to ${rule.seedMax}${forModel}`)
  }
  checkGuidance(view, report)
  if (view.generate_audio === true && rule.audio === false) {
    report.add('generate_audio', true, `not supported by ${model}; models that generate audio: ${audioModels().join(', ')}`)
  }
  checkMedia(view.media ?? {}, written, rule, model, mediaPath, report)
}

function checkSize(view: View, rule: ModelRule, model: string, known: boolean, report: Report): void {
  if (rule.size === 'resolution') {
    const tiers = rule.resolutions ? ` (${quoted(rule.resolutions)})` : ''
    for (const field of ['width', 'height'] as const) {
      if (view[field] !== undefined) report.add(field, view[field], `not used by ${model}: set resolution${tiers} and ratio instead`)
    }
  } else if (rule.size === 'dimensions') {
    for (const field of ['resolution', 'ratio'] as const) {
      if (view[field] !== undefined) report.add(field, view[field], `not used by ${model}: set width and height instead`)
    }
  }
  if (view.resolution !== undefined && rule.size !== 'dimensions') checkResolution(view, rule, model, known, report)
  if (rule.sizes && view.width !== undefined && view.height !== undefined) {
    const size = `${view.width}x${view.height}`
    if (!rule.sizes.includes(size)) {
      report.warn('width/height', `${size} is not a documented size of ${model} (${rule.sizes.join(', ')}); the provider may refuse it`)
    }
  }
}

/**
 * The docs spell tiers differently per model ([WAN27] "720P", [SEEDANCE2] "720p"), and the OpenAPI
 * schema types `resolution` as a free string, so the model's own list decides. A listed tier in
 * another case is sent as the docs spell it (with a warning); an unlisted one is refused. A model
 * without a list (unknown) gets a warning for a spelling no model documents, since [OAS] allows any string.
 */
function checkResolution(view: View, rule: ModelRule, model: string, known: boolean, report: Report): void {
  const value = view.resolution
  if (value === undefined) return
  const tiers: readonly string[] = rule.resolutions ?? DOCUMENTED_RESOLUTIONS
  if (tiers.includes(value)) return
  const documented = tiers.find((t) => t.toLowerCase() === value.toLowerCase())
  if (rule.resolutions && documented !== undefined) {
    report.warn('resolution', `"${value}" is sent as "${documented}", the spelling ${model}'s docs use`)
    view.resolution = documented as NonNullable<View['resolution']>
  } else if (rule.resolutions) {
    report.add('resolution', value, `one of ${quoted(rule.resolutions)} for ${model} (as its docs spell them)`)
  } else {
    const who = known ? model : 'any documented model'
    report.warn('resolution', `"${value}" is not a resolution ${who} documents (${quoted(DOCUMENTED_RESOLUTIONS)}); sent as written`)
  }
}

function checkSeconds(view: View, rule: ModelRule, model: string, forModel: string, report: Report): void {
  if (view.seconds === undefined) return
  const range = rule.seconds ?? GENERIC_RULE.seconds
  const n = Number(view.seconds)
  if (range && (n < range.min || n > range.max)) {
    report.add('seconds', view.seconds, `an integer from ${range.min} to ${range.max}${forModel}`)
  } else if (rule.durations && !rule.durations.includes(n)) {
    // [TABLE] lists one duration per model, [PARAMS] documents 1-10 for all: a warning, not a refusal.
    report.warn(
      'seconds',
      `${n} s is not a duration Together's model table lists for ${model} (${listed(rule.durations, ' s')}); the provider may refuse it or bill the listed length`,
    )
  }
}

function checkPrompt(view: View, prompt: unknown, rule: ModelRule, known: string | undefined, report: Report): void {
  const written = prompt !== undefined
  if (rule.prompt === 'required' && !written) {
    const max = (rule.promptMax ?? PROMPT_MAX).toLocaleString('en-US')
    const by = known === undefined ? ' (every model but Kling takes one)' : ` by ${known}`
    report.add('prompt', undefined, `required${by}: a text of ${rule.promptMin ?? 1} to ${max} characters`)
  } else if (rule.promptMax !== undefined && view.prompt !== undefined && view.prompt.length > rule.promptMax) {
    const max = rule.promptMax.toLocaleString('en-US')
    report.add('prompt', view.prompt, `at most ${max} characters for ${known} (this one has ${view.prompt.length})`)
  } else if (rule.promptMin !== undefined && view.prompt !== undefined && view.prompt.length < rule.promptMin) {
    // [TABLE] "2-3,000 characters" against [OAS] minLength 1: the sources disagree, so only a warning.
    report.warn('prompt', `Together's model table gives ${known} prompts of at least ${rule.promptMin} characters (the API schema allows 1); the provider may refuse it`)
  }
}

function checkGuidance(view: View, report: Report): void {
  const g = view.guidance_scale
  if (g === undefined) return
  if (g > GUIDANCE_ADVISED_MAX) {
    report.warn('guidance_scale', `${g} is above ${GUIDANCE_ADVISED_MAX}, which may cause over-guidance artifacts or unnatural motion (6 to 10 recommended)`)
  }
  if (!Number.isInteger(g)) {
    // [PARAMS] types it a float and sends 6.0 / 10.0; [OAS] types it integer. Sent as written.
    report.warn('guidance_scale', `${g} is not a whole number: the API schema types guidance_scale as an integer (its parameter page as a float); sent as written, the provider may refuse or round it`)
  }
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
  const frames = media.frame_images
  if (frames && frames.length > 2 && frames.some((f) => f.frame === undefined)) {
    // [PARAMS] "if more than 2, frame must be specified per image"; [OAS] spaces unmarked ones evenly.
    report.warn(
      mediaPath('frame_images'),
      `${frames.length} keyframes, not all with a frame: the parameter page says each needs one past two, the API schema spaces unmarked ones evenly between first and last; set frame on each to be sure`,
    )
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

/** Where a keyframe lands. Unmarked images follow [OAS]: one is first, two are first and last, more spread evenly. */
function framePosition(frame: FramePosition | undefined, index: number, count: number, namedOnly: boolean): FrameName | 'middle' | undefined {
  if (frame === 'first' || frame === 'last') return frame
  if (typeof frame === 'number') return frame === 0 && !namedOnly ? 'first' : undefined
  if (index === 0) return 'first'
  return index === count - 1 ? 'last' : 'middle'
}
