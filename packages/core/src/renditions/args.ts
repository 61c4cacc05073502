import type { PlaceholderRecipe, PosterRecipe, VideoRecipe } from './types.js'

/** What a master is, as far as choosing a remux over an encode goes. */
export interface MasterStreams {
  container: string
  videoCodec: string
  /** undefined when the master has no audio. */
  audioCodec: string | undefined
  width: number
  height: number
  /** bit/s of the whole file (0 when unknown). */
  bitrate: number
}

/**
 * A remux (stream copy, no re-encode, nothing lost) makes this rendition when the master already is
 * what it asks for: H.264 at the same size, with AAC or no audio (or audio stripped), under any cap.
 */
export function canRemux(recipe: VideoRecipe, master: MasterStreams): boolean {
  if (recipe.format !== 'mp4' || master.videoCodec !== 'h264') return false
  if (recipe.width !== master.width || recipe.height !== master.height) return false
  if (recipe.audio === 'keep' && master.audioCodec !== undefined && master.audioCodec !== 'aac') return false
  if (recipe.maxBitrate !== null && (master.bitrate === 0 || master.bitrate > recipe.maxBitrate * 1000)) return false
  return true
}

/** Same bytes for the same input and recipe: no encoder banner, no creation time, no metadata. */
const BITEXACT = ['-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact']

function audioArgs(recipe: VideoRecipe, masterHasAudio: boolean, codec: string[]): string[] {
  if (recipe.audio === 'strip' || !masterHasAudio) return ['-an']
  return ['-map', '0:a:0', ...codec]
}

function cap(recipe: VideoRecipe): string[] {
  return recipe.maxBitrate === null ? [] : ['-maxrate', `${recipe.maxBitrate}k`, '-bufsize', `${recipe.maxBitrate * 2}k`]
}

/** ffmpeg arguments (after the global ones) that make a video rendition of `input` into `output`. */
export function videoArgs(recipe: VideoRecipe, master: MasterStreams, input: string, output: string, remux: boolean): string[] {
  const hasAudio = master.audioCodec !== undefined
  const head = ['-i', input, '-map', '0:v:0']
  if (remux) {
    return [...head, ...audioArgs(recipe, hasAudio, ['-c:a', 'copy']), '-c:v', 'copy', ...BITEXACT, '-movflags', '+faststart', '-f', 'mp4', '-y', output]
  }
  const scale = recipe.width === master.width && recipe.height === master.height ? [] : ['-vf', `scale=${recipe.width}:${recipe.height}:flags=lanczos`]
  const video = head.concat(scale, ['-pix_fmt', 'yuv420p'])
  switch (recipe.format) {
    case 'mp4':
      return [
        ...video,
        '-c:v', 'libx264', '-preset', 'medium', '-profile:v', 'high', '-crf', String(recipe.crf), ...cap(recipe),
        ...audioArgs(recipe, hasAudio, ['-c:a', 'aac', '-b:a', '128k']),
        ...BITEXACT, '-movflags', '+faststart', '-f', 'mp4', '-y', output,
      ]
    case 'webm':
      return [
        ...video,
        '-c:v', 'libvpx-vp9', '-crf', String(recipe.crf),
        // Constant quality unless capped: then the cap is the target, the CRF the floor.
        '-b:v', recipe.maxBitrate === null ? '0' : `${recipe.maxBitrate}k`,
        '-deadline', 'good', '-cpu-used', '2', '-row-mt', '1',
        ...audioArgs(recipe, hasAudio, ['-c:a', 'libopus', '-b:a', '96k']),
        ...BITEXACT, '-f', 'webm', '-y', output,
      ]
    case 'av1':
      return [
        ...video,
        '-c:v', 'libaom-av1', '-strict', 'experimental', '-crf', String(recipe.crf),
        '-b:v', recipe.maxBitrate === null ? '0' : `${recipe.maxBitrate}k`,
        '-cpu-used', '8',
        ...audioArgs(recipe, hasAudio, ['-c:a', 'libopus', '-b:a', '96k']),
        ...BITEXACT, '-f', 'webm', '-y', output,
      ]
  }
}

const IMAGE_CODEC: Record<PosterRecipe['format'], string[]> = {
  jpg: ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3'],
  webp: ['-c:v', 'libwebp', '-quality', '80', '-pix_fmt', 'yuv420p'],
  png: ['-c:v', 'png', '-pix_fmt', 'rgb24'],
}

function imageArgs(input: string, output: string, at: number, filter: string | undefined, codec: string[]): string[] {
  return [
    ...(at > 0 ? ['-ss', String(at)] : []),
    '-i', input, '-map', '0:v:0', '-frames:v', '1',
    ...(filter ? ['-vf', filter] : []),
    ...codec, '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1',
    // image2 would read a `%` in the name as a sequence pattern; `update` writes exactly this file.
    '-f', 'image2', '-update', '1', '-y', output,
  ]
}

export function posterArgs(recipe: PosterRecipe, input: string, output: string): string[] {
  return imageArgs(input, output, recipe.at, undefined, IMAGE_CODEC[recipe.format])
}

export function placeholderArgs(recipe: PlaceholderRecipe, input: string, output: string): string[] {
  const filter = `scale=${recipe.width}:${recipe.height}:flags=area,gblur=sigma=${recipe.blur}`
  return imageArgs(input, output, 0, filter, ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '8'])
}
