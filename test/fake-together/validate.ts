export interface InvalidParam {
  param: string
  message: string
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)
const isUrl = (v: unknown) => typeof v === 'string' && /^https?:\/\/\S+$/i.test(v)
/** Images may also come inline: a data URI or bare base64. */
const isImage = (v: unknown) =>
  isUrl(v) || (typeof v === 'string' && (/^data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=]+$/.test(v) || /^[A-Za-z0-9+/]{16,}={0,2}$/.test(v)))

/**
 * The checks the real API makes at create time: the schema's, then the per-model rules Together's
 * docs state (see `documentedRules`). Returns the first problem, as Together reports one at a time.
 */
export function validateCreateBody(body: unknown): InvalidParam | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { param: '', message: 'The request body must be a JSON object.' }
  }
  const b = body as Record<string, unknown>
  if (typeof b.model !== 'string' || !b.model) return { param: 'model', message: 'model is required and must be a string.' }
  if (b.prompt !== undefined) {
    if (typeof b.prompt !== 'string') return { param: 'prompt', message: 'prompt must be a string.' }
    if (b.prompt.length < 1 || b.prompt.length > 32000) {
      return { param: 'prompt', message: `prompt length must be between 1 and 32000 characters (got ${b.prompt.length}).` }
    }
  }
  if (b.steps !== undefined && !(isInt(b.steps) && b.steps >= 10 && b.steps <= 50)) {
    return { param: 'steps', message: `steps must be an integer between 10 and 50 (got ${JSON.stringify(b.steps)}).` }
  }
  if (b.output_format !== undefined && b.output_format !== 'MP4' && b.output_format !== 'WEBM') {
    return { param: 'output_format', message: `output_format must be one of MP4, WEBM (got ${JSON.stringify(b.output_format)}).` }
  }
  // The API types seconds as a string; docs examples also send numbers, so both pass.
  if (b.seconds !== undefined) {
    const n = typeof b.seconds === 'string' || typeof b.seconds === 'number' ? Number(b.seconds) : NaN
    if (!Number.isFinite(n) || n <= 0) {
      return { param: 'seconds', message: `seconds must be a positive number as a string (got ${JSON.stringify(b.seconds)}).` }
    }
  }
  for (const field of ['width', 'height', 'fps', 'seed', 'output_quality'] as const) {
    if (b[field] !== undefined && !isInt(b[field])) return { param: field, message: `${field} must be an integer.` }
  }
  if (b.guidance_scale !== undefined && typeof b.guidance_scale !== 'number') {
    return { param: 'guidance_scale', message: 'guidance_scale must be a number.' }
  }
  return validateMedia(b.media) ?? documentedRules(b)
}

/** The longest inline image field Together's i2v models take ("Range of input length should be [1, 61440]"). */
const INLINE_MAX = 61_440
/** Audio formats other than the documented WAV and MP3, by URL extension. */
const OTHER_AUDIO = /\.(ogg|oga|opus|m4a|aac|flac|wma|aiff?|amr|mka|webm|mp4|mov|caf)$/i
/** Resolution tiers as each family's docs spell them (Wan 2.7 quickstart; Seedance 2.0 quickstart and changelog). */
const TIERS: Array<[RegExp, string[]]> = [
  [/^Wan-AI\/wan2\.7-/, ['720P', '1080P']],
  [/^ByteDance\/Seedance-2\.0$/, ['480p', '720p', '1080p', '4k']],
]
/** Model families Together's docs describe; the fake applies no per-model rule to any other id. */
const DOCUMENTED = /^(minimax|google|openai|ByteDance|pixverse|vidu|kwaivgI|Wan-AI)\//
/** Duration ranges the docs give (Wan 2.7 quickstart, Seedance 2.0 quickstart). */
const SECONDS: Array<[RegExp, number, number]> = [
  [/^Wan-AI\/wan2\.7-(t2v|i2v)$/, 2, 15],
  [/^Wan-AI\/wan2\.7-(r2v|videoedit)$/, 2, 10],
  [/^ByteDance\/Seedance-2\.0$/, 4, 15],
]

/**
 * The rules Together's docs state beyond the schema, as the real API would enforce them: a prompt
 * for every model but Kling, keyframes for Kling (parameter page), each family's resolution spelling
 * and duration range, WAV or MP3 audio, inline images within the reported field limit.
 */
function documentedRules(b: Record<string, unknown>): InvalidParam | undefined {
  const model = String(b.model)
  const media = (typeof b.media === 'object' && b.media !== null ? b.media : {}) as Record<string, unknown>
  const kling = model.startsWith('kwaivgI/kling-')
  if (DOCUMENTED.test(model) && !kling && b.prompt === undefined) return { param: 'prompt', message: `prompt is required for ${model}.` }
  const frames = media.frame_images ?? b.frame_images
  if (kling && !(Array.isArray(frames) && frames.length > 0)) {
    return { param: 'media.frame_images', message: `${model} requires media.frame_images.` }
  }
  const tiers = TIERS.find(([re]) => re.test(model))?.[1]
  if (tiers && b.resolution !== undefined && !tiers.includes(String(b.resolution))) {
    return { param: 'resolution', message: `resolution must be one of ${tiers.join(', ')} for ${model} (got ${JSON.stringify(b.resolution)}).` }
  }
  const range = SECONDS.find(([re]) => re.test(model))
  if (range && b.seconds !== undefined) {
    const n = Number(b.seconds)
    if (!(n >= range[1] && n <= range[2])) {
      return { param: 'seconds', message: `seconds must be between ${range[1]} and ${range[2]} for ${model} (got ${JSON.stringify(b.seconds)}).` }
    }
  }
  const audio = Array.isArray(media.audio_inputs) ? (media.audio_inputs as unknown[]) : []
  const badAudio = audio.findIndex((a) => {
    const url = typeof a === 'string' ? a : (a as { audio?: unknown })?.audio
    return typeof url === 'string' && OTHER_AUDIO.test(url.split(/[?#]/)[0] ?? '')
  })
  if (badAudio >= 0) return { param: `media.audio_inputs[${badAudio}]`, message: 'audio inputs must be WAV or MP3.' }
  const images: Array<[string, unknown]> = [
    ...(Array.isArray(frames) ? frames : []).map((f, i): [string, unknown] => [`media.frame_images[${i}].input_image`, (f as { input_image?: unknown })?.input_image]),
    ...(Array.isArray(media.reference_images) ? media.reference_images : []).map((r, i): [string, unknown] => [`media.reference_images[${i}]`, r]),
  ]
  const long = images.find(([, v]) => typeof v === 'string' && !isUrl(v) && v.length > INLINE_MAX)
  if (long) return { param: long[0], message: `Range of input length should be [1, ${INLINE_MAX}].` }
  return undefined
}

function validateMedia(media: unknown): InvalidParam | undefined {
  if (media === undefined) return undefined
  if (typeof media !== 'object' || media === null) return { param: 'media', message: 'media must be an object.' }
  const m = media as Record<string, unknown>
  const list = (name: string) => (Array.isArray(m[name]) ? (m[name] as unknown[]) : m[name] === undefined ? [] : null)
  const checks: Array<[string, (v: unknown) => boolean, string]> = [
    ['frame_images', (v) => isImage((v as { input_image?: unknown })?.input_image), 'input_image must be an image URL or base64 data'],
    ['reference_images', isImage, 'must be an image URL or base64 data'],
    ['frame_videos', (v) => isUrl((v as { video?: unknown })?.video), 'video must be a URL'],
    ['reference_videos', (v) => isUrl((v as { video?: unknown })?.video), 'video must be a URL'],
    ['audio_inputs', (v) => isUrl(typeof v === 'string' ? v : (v as { audio?: unknown })?.audio), 'must be an audio URL'],
  ]
  for (const [name, ok, what] of checks) {
    const items = list(name)
    if (items === null) return { param: `media.${name}`, message: `media.${name} must be an array.` }
    const bad = items.findIndex((v) => !ok(v))
    if (bad >= 0) return { param: `media.${name}[${bad}]`, message: `media.${name}[${bad}]: ${what}.` }
  }
  const source = m.source_video
  if (source !== undefined && !isUrl(typeof source === 'string' ? source : (source as { video?: unknown })?.video)) {
    return { param: 'media.source_video', message: 'media.source_video must be a URL or { video: URL }.' }
  }
  return undefined
}
