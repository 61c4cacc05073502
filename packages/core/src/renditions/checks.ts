import { VidspecError, isVidspecError } from '../errors.js'
import { ffprobePath, type MediaTools } from '../media/binaries.js'
import { probeVideo, type ProbeResult } from '../media/probe.js'
import { runTool } from '../media/run.js'
import { fastStartProblem } from './boxes.js'
import type { PlaceholderRecipe, PosterRecipe, VideoRecipe } from './types.js'

/** What a rendition is checked against: its master, as probed when it was stored. */
export interface MasterFacts {
  width: number
  height: number
  duration: number
  fps: number
  hasAudio: boolean
}

const VIDEO_CODEC: Record<VideoRecipe['format'], string> = { mp4: 'h264', webm: 'vp9', av1: 'av1' }
const CONTAINER: Record<VideoRecipe['format'], string> = { mp4: 'mp4', webm: 'webm', av1: 'webm' }
const AUDIO_CODEC: Record<VideoRecipe['format'], string> = { mp4: 'aac', webm: 'opus', av1: 'opus' }

function refuse(what: string, check: string, why: string, cause?: unknown): VidspecError {
  return new VidspecError('RENDITION_INVALID', `${what}: failed its ${check} check: ${why}; it was not stored`, { cause })
}

/**
 * Every check a video rendition passes before it is stored (and on `verify`): a playable file (on
 * `verify` and for a fetched one, every packet read; one ffmpeg just wrote and reported whole is
 * read by its headers), the codec and container asked for, the size asked for (never above the
 * master's, aspect kept within rounding, even for H.264), the master's duration within a small
 * tolerance, audio present or absent as asked, and for MP4 fast start (moov before mdat). Throws
 * RENDITION_INVALID naming the check that failed.
 */
export async function checkVideoRendition(
  file: string,
  recipe: VideoRecipe,
  master: MasterFacts,
  what: string,
  opts: { countPackets?: boolean; tools?: MediaTools | undefined } = {},
): Promise<ProbeResult> {
  let p: ProbeResult
  try {
    p = await probeVideo(file, opts)
  } catch (err) {
    if (isVidspecError(err, 'OUTPUT_INVALID')) throw refuse(what, 'playable', err.message, err)
    throw err
  }
  const codec = VIDEO_CODEC[recipe.format]
  if (p.codec !== codec) throw refuse(what, 'codec', `its video is ${p.codec}, not ${codec}`)
  if (p.container !== CONTAINER[recipe.format]) throw refuse(what, 'container', `it is ${p.container}, not ${CONTAINER[recipe.format]}`)
  if (p.width > master.width || p.height > master.height) {
    throw refuse(what, 'size', `it is ${p.width}x${p.height}, larger than its master (${master.width}x${master.height}): upscaled`)
  }
  if (p.width !== recipe.width || p.height !== recipe.height) {
    throw refuse(what, 'size', `it is ${p.width}x${p.height}, not the ${recipe.width}x${recipe.height} asked for`)
  }
  // Rounding to even sides moves the height by at most a pixel or so from the exact aspect.
  const exactHeight = (p.width * master.height) / master.width
  if (Math.abs(p.height - exactHeight) > 1.01) {
    throw refuse(what, 'aspect', `${p.width}x${p.height} does not keep its master's ${master.width}x${master.height} aspect`)
  }
  if (codec === 'h264' && (p.width % 2 !== 0 || p.height % 2 !== 0)) throw refuse(what, 'even size', `H.264 at ${p.width}x${p.height} has an odd side`)
  const tolerance = Math.max(0.15, 2 / (master.fps || 24))
  if (Math.abs(p.duration - master.duration) > tolerance) {
    throw refuse(what, 'duration', `it plays ${p.duration.toFixed(3)} s, its master ${master.duration.toFixed(3)} s (tolerance ${tolerance.toFixed(2)} s)`)
  }
  const wantAudio = recipe.audio === 'keep' && master.hasAudio
  if (p.hasAudio !== wantAudio) {
    throw refuse(what, 'audio', p.hasAudio ? 'it has an audio track, and none was asked for' : 'its audio track is missing')
  }
  if (wantAudio && p.audioCodec !== AUDIO_CODEC[recipe.format]) {
    throw refuse(what, 'audio codec', `its audio is ${p.audioCodec ?? 'unknown'}, not ${AUDIO_CODEC[recipe.format]}`)
  }
  if (recipe.format === 'mp4') {
    const problem = await fastStartProblem(file)
    if (problem) throw refuse(what, 'fast start', problem)
  }
  return p
}

const IMAGE_CODEC: Record<PosterRecipe['format'], string> = { jpg: 'mjpeg', webp: 'webp', png: 'png' }

/** A poster or placeholder: one decodable image of the codec and size asked for. */
export async function checkImageRendition(file: string, recipe: PosterRecipe | PlaceholderRecipe, what: string, tools?: MediaTools): Promise<void> {
  let stdout: string
  try {
    ;({ stdout } = await runTool(
      ffprobePath(tools),
      ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', file],
      { stdout: true, failCode: 'RENDITION_INVALID', what: `probing ${what}` },
    ))
  } catch (err) {
    if (isVidspecError(err, 'RENDITION_INVALID')) throw refuse(what, 'decodable', err.message, err)
    throw err
  }
  const s = (JSON.parse(stdout) as { streams?: Array<{ codec_name?: string; width?: number; height?: number; nb_read_frames?: string }> }).streams?.[0]
  const codec = IMAGE_CODEC[recipe.format]
  if (!s || s.nb_read_frames !== '1') throw refuse(what, 'decodable', 'it holds no decodable image')
  if (s.codec_name !== codec) throw refuse(what, 'codec', `it is ${s.codec_name ?? 'unknown'}, not ${codec}`)
  if (s.width !== recipe.width || s.height !== recipe.height) {
    throw refuse(what, 'size', `it is ${s.width}x${s.height}, not the ${recipe.width}x${recipe.height} asked for`)
  }
}
