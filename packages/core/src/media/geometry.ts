import { VidspecError, showValue } from '../errors.js'
import type { NormalizedRequest, OutputFormat, Ratio, Resolution } from '../types.js'

export interface OutputGeometry {
  width: number
  height: number
  fps: number
  seconds: number
  format: OutputFormat
}

/** Used when a request names neither width/height nor resolution/ratio. */
/** The file extension of a clip in this output format (MP4 unless the request asks for WebM). */
export function outputExt(format: OutputFormat | undefined): 'mp4' | 'webm' {
  return format === 'WEBM' ? 'webm' : 'mp4'
}

export const DEFAULT_SIZE = { width: 1366, height: 768 } as const
export const DEFAULT_FPS = 24
export const DEFAULT_SECONDS = 6
export const DEFAULT_FORMAT: OutputFormat = 'MP4'
/** Wan 2.7 defaults when only one of resolution/ratio is given. */
export const DEFAULT_RESOLUTION: Resolution = '1080P'
export const DEFAULT_RATIO: Ratio = '16:9'

/** Pixel sizes Wan 2.7 produces for each resolution and ratio. */
export const RESOLUTION_TABLE: Readonly<Record<'720P' | '1080P', Readonly<Record<Ratio, readonly [number, number]>>>> = {
  '720P': { '16:9': [1280, 720], '9:16': [720, 1280], '1:1': [960, 960], '4:3': [1104, 832], '3:4': [832, 1104] },
  '1080P': { '16:9': [1920, 1080], '9:16': [1080, 1920], '1:1': [1440, 1440], '4:3': [1648, 1248], '3:4': [1248, 1648] },
}

/**
 * The pixel size of a tier. Seedance 2.0 spells tiers in lowercase and publishes no size map, so its
 * 480p and 4k are scaled from the 1080P row (even sides): a best guess, used to describe previews only.
 */
function tierSize(resolution: Resolution, ratio: Ratio): readonly [number, number] {
  const tier = resolution.toUpperCase()
  if (tier === '720P' || tier === '1080P') return RESOLUTION_TABLE[tier][ratio]
  const [w, h] = RESOLUTION_TABLE['1080P'][ratio]
  const factor = tier === '480P' ? 480 / 1080 : 2
  const even = (n: number) => Math.round((n * factor) / 2) * 2
  return [even(w), even(h)]
}

function size(request: NormalizedRequest): { width: number; height: number } {
  const { width, height } = request
  if (width !== undefined && height !== undefined) return { width, height }
  // One side alone keeps the default aspect, the closest guess to what the server would make.
  if (width !== undefined) return { width, height: Math.round((width * DEFAULT_SIZE.height) / DEFAULT_SIZE.width) }
  if (height !== undefined) return { width: Math.round((height * DEFAULT_SIZE.width) / DEFAULT_SIZE.height), height }
  if (request.resolution !== undefined || request.ratio !== undefined) {
    const [w, h] = tierSize(request.resolution ?? DEFAULT_RESOLUTION, request.ratio ?? DEFAULT_RATIO)
    return { width: w, height: h }
  }
  return { ...DEFAULT_SIZE }
}

/**
 * The size, frame rate, length and format a request's clip will have, with the defaults filled in.
 * Shared by the offline renderer and anything that must describe a clip before it exists.
 */
export function outputGeometry(request: NormalizedRequest): OutputGeometry {
  const seconds = request.seconds === undefined ? DEFAULT_SECONDS : Number(request.seconds)
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new VidspecError('SPEC_INVALID', `seconds must be a positive number (got ${showValue(request.seconds)})`)
  }
  return {
    ...size(request),
    fps: request.fps ?? DEFAULT_FPS,
    seconds,
    format: request.output_format ?? DEFAULT_FORMAT,
  }
}
