import { FORMAT_RANK, PLACEHOLDER, renditionDefaults } from './defaults.js'
import type { PlaceholderRecipe, PosterRecipe, RenditionFormat, RenditionsInput, ResolvedRenditions, VideoRecipe } from './types.js'

/**
 * The recipe in force: the config's `renditions`, then the spec's, then the import's directives,
 * each replacing the fields it sets (a list replaces a list; `crf` per format merges), every
 * default filled in. Inputs are already checked (renditionsIssues / parseRenditionQuery).
 */
export function resolveRenditions(...levels: Array<RenditionsInput | undefined>): ResolvedRenditions {
  const out: ResolvedRenditions = {
    ...renditionDefaults,
    crf: { ...renditionDefaults.crf },
    poster: renditionDefaults.poster && { ...renditionDefaults.poster },
  }
  for (const level of levels) {
    if (!level) continue
    if (level.formats) out.formats = dedupe(level.formats)
    if (level.widths) out.widths = dedupe(level.widths)
    if (typeof level.crf === 'number') out.crf = { mp4: level.crf, webm: level.crf, av1: level.crf }
    else if (level.crf) out.crf = { ...out.crf, ...level.crf }
    if (level.maxBitrate !== undefined) out.maxBitrate = level.maxBitrate
    if (level.audio) out.audio = level.audio
    if (level.poster === false) out.poster = false
    else if (level.poster) {
      const base = out.poster || renditionDefaults.poster || { times: [0], formats: ['jpg'] }
      out.poster = { times: dedupe(level.poster.times ?? base.times), formats: dedupe(level.poster.formats ?? base.formats) }
    }
    if (level.placeholder !== undefined) out.placeholder = level.placeholder
    if (level.remote !== undefined) out.remote = level.remote
  }
  return out
}

function dedupe<T>(items: T[]): T[] {
  return [...new Set(items)]
}

export interface MasterSize {
  width: number
  height: number
}

/**
 * The size of a rendition `width` wide: never above the master's (no upscaling), the aspect kept,
 * both sides even (H.264 and 4:2:0 chroma need it). The master's own size stays as it is when it is
 * already even, so a remux can keep it.
 */
export function renditionSize(master: MasterSize, width: number | 'original'): MasterSize {
  const w = width === 'original' ? master.width : Math.min(width, master.width)
  const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2)
  const outW = even(w)
  if (outW === master.width && master.height % 2 === 0) return { width: master.width, height: master.height }
  const nearest = Math.round((outW * master.height) / master.width / 2) * 2
  return { width: outW, height: even(Math.min(nearest, master.height)) }
}

/** The video recipes of a resolved recipe for this master, deduplicated, best first. */
export function videoRecipes(r: ResolvedRenditions, master: MasterSize): VideoRecipe[] {
  const seen = new Map<string, VideoRecipe>()
  for (const format of r.formats) {
    for (const width of r.widths) {
      const size = renditionSize(master, width)
      const recipe: VideoRecipe = {
        kind: 'video',
        format,
        ...size,
        crf: r.crf[format],
        maxBitrate: r.maxBitrate ?? null,
        audio: r.audio,
      }
      seen.set(`${format}:${size.width}`, recipe)
    }
  }
  return [...seen.values()].sort((a, b) => FORMAT_RANK[a.format] - FORMAT_RANK[b.format] || b.width - a.width)
}

export function posterRecipes(r: ResolvedRenditions, master: MasterSize, duration: number): PosterRecipe[] {
  if (!r.poster) return []
  const out: PosterRecipe[] = []
  for (const format of r.poster.formats) {
    for (const t of r.poster.times) {
      // A time past the end is the last moment there is a frame for.
      const at = Math.max(0, Math.min(t, Math.max(0, duration - 0.1)))
      out.push({ kind: 'poster', format, at: Math.round(at * 1000) / 1000, width: master.width, height: master.height })
    }
  }
  return out
}

export function placeholderRecipe(r: ResolvedRenditions, master: MasterSize): PlaceholderRecipe | undefined {
  if (!r.placeholder) return undefined
  const size = renditionSize(master, Math.min(PLACEHOLDER.width, master.width))
  return { kind: 'placeholder', format: 'jpg', ...size, blur: PLACEHOLDER.blur }
}

/** A plan item's id: stable and readable (`webm-640w`, `mp4-1366w-noaudio`). */
export function videoId(recipe: VideoRecipe): string {
  return `${recipe.format}-${recipe.width}w${recipe.audio === 'strip' ? '-noaudio' : ''}`
}

export const FORMAT_EXT: Readonly<Record<RenditionFormat, string>> = { mp4: 'mp4', webm: 'webm', av1: 'webm' }
