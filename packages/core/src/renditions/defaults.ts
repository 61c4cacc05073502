import type { PosterFormat, RenditionFormat, ResolvedRenditions } from './types.js'

/**
 * Bump when what a recipe makes changes meaning (encoder settings below, the checks, the record):
 * every rendition key changes with it and is made again from its master, never a generation.
 */
export const RENDITION_FORMAT_VERSION = 1

export const RENDITION_FORMATS: readonly RenditionFormat[] = ['mp4', 'webm', 'av1']
export const POSTER_FORMATS: readonly PosterFormat[] = ['jpg', 'webp', 'png']

/** The one default: a fast-start MP4 at the master's size (a remux when the master is H.264/AAC). */
export const renditionDefaults: Readonly<ResolvedRenditions> = Object.freeze({
  formats: ['mp4'],
  widths: ['original'],
  crf: { mp4: 23, webm: 33, av1: 35 },
  maxBitrate: undefined,
  audio: 'keep',
  poster: { times: [0], formats: ['jpg'] },
  placeholder: true,
  remote: false,
} satisfies ResolvedRenditions)

/** Allowed CRF range per format (the encoders' own). */
export const CRF_RANGE: Readonly<Record<RenditionFormat, readonly [number, number]>> = { mp4: [0, 51], webm: [0, 63], av1: [0, 63] }

/** The placeholder: this wide, blurred this much, inlined as a JPEG data URI (well under 1 KB). */
export const PLACEHOLDER = { width: 24, blur: 2 } as const

/** Best first: the order `<source>` elements are listed in (a browser takes the first it can play). */
export const FORMAT_RANK: Readonly<Record<RenditionFormat, number>> = { av1: 0, webm: 1, mp4: 2 }
