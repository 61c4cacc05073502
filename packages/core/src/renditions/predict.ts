import type { VideoRecipe } from './types.js'

/** H.264 levels: [level_idc, max macroblocks per second, max frame size in macroblocks]. */
const AVC_LEVELS: ReadonlyArray<readonly [number, number, number]> = [
  [10, 1485, 99], [11, 3000, 396], [12, 6000, 396], [13, 11880, 396], [21, 19800, 792], [22, 20250, 1620],
  [30, 40500, 1620], [31, 108000, 3600], [32, 216000, 5120], [40, 245760, 8192], [42, 522240, 8704],
  [50, 589824, 22080], [51, 983040, 36864], [52, 2073600, 36864],
]

/** The level x264 picks for this size and frame rate (the lowest whose limits it fits). */
export function avcLevel(width: number, height: number, fps: number): number {
  const frame = Math.ceil(width / 16) * Math.ceil(height / 16)
  const rate = frame * fps
  return AVC_LEVELS.find(([, mbps, fs]) => frame <= fs && rate <= mbps)?.[0] ?? 52
}

/**
 * The `<source type>` a rendition not made yet will have, from its recipe: exact once it is made
 * (its probe says), a close prediction before (a remux keeps the master's own profile and level).
 */
export function predictedType(recipe: VideoRecipe, fps: number, masterHasAudio: boolean | undefined): string {
  const audio = recipe.audio === 'keep' && masterHasAudio !== false
  switch (recipe.format) {
    case 'mp4':
      return `video/mp4; codecs="avc1.6400${avcLevel(recipe.width, recipe.height, fps).toString(16).padStart(2, '0')}${audio ? ', mp4a.40.2' : ''}"`
    case 'webm':
      return `video/webm; codecs="vp9${audio ? ', opus' : ''}"`
    case 'av1':
      return `video/webm; codecs="av01.0.08M.08${audio ? ', opus' : ''}"`
  }
}
