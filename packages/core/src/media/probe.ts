import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { VidspecError, isVidspecError } from '../errors.js'
import { ffprobePath, type MediaTools } from './binaries.js'
import { mp4Shape, type Mp4Shape } from './mp4-shape.js'
import { framesFallShort, isoContainer, roundedRate } from './probe-rules.js'
import { runTool } from './run.js'

export interface ProbeResult {
  width: number
  height: number
  /** Seconds. */
  duration: number
  /** Frames per second, from the stream's average (or nominal) frame rate. */
  fps: number
  /** ffprobe's codec name of the video stream: `h264`, `vp9`, `av1`, ... */
  codec: string
  /** `mp4`, `webm`, `mov`, `mkv`, or ffprobe's format name for anything else. */
  container: string
  /** `video/mp4`, `video/webm`, ... (`application/octet-stream` when unknown). */
  mime: string
  /** File extension without the dot: `mp4`, `webm`, ... */
  ext: string
  hasAudio: boolean
  /** Bytes on disk. */
  size: number
  /** The video stream's profile and level as ffprobe names them (`High`, 31): a rendition's codecs string. */
  profile?: string | undefined
  level?: number | undefined
  pixFmt?: string | undefined
  /** ffprobe's codec name (`aac`, `opus`) and profile (`LC`) of the first audio stream. */
  audioCodec?: string | undefined
  audioProfile?: string | undefined
  /** bit/s of the whole file, 0 when unknown. */
  bitrate: number
}

export interface ProbeOptions {
  signal?: AbortSignal | undefined
  /**
   * Read every packet to catch a truncated file. Off only for a file ffmpeg itself just wrote and
   * reported whole (a rendition): the headers then say all that is checked, in half the time.
   * @default true
   */
  countPackets?: boolean
  /** The project's ffprobe (its VIDSPEC_FFPROBE). */
  tools?: MediaTools | undefined
}

interface FfprobeStream {
  codec_type?: string
  codec_name?: string
  profile?: string
  level?: number
  pix_fmt?: string
  width?: number
  height?: number
  avg_frame_rate?: string
  r_frame_rate?: string
  duration?: string
  nb_frames?: string
  nb_read_packets?: string
  disposition?: { attached_pic?: number }
}

interface FfprobeOutput {
  streams?: FfprobeStream[]
  format?: { format_name?: string; duration?: string; bit_rate?: string; tags?: { major_brand?: string } }
}

const ENTRIES = [
  'format=format_name,duration,bit_rate',
  'format_tags=major_brand',
  'stream=codec_type,codec_name,profile,level,pix_fmt,width,height,avg_frame_rate,r_frame_rate,duration,nb_frames,nb_read_packets',
  'stream_disposition=attached_pic',
].join(':')

/**
 * What demuxers and parsers say when the bytes stop early. A file cut inside its last packet still
 * counts every packet, so these messages are the only sign of it.
 */
const TRUNCATION = /partial file|ended prematurely|invalid nal unit size|truncat|end of file/i

const WEBM_CODECS = new Set(['vp8', 'vp9', 'av1', 'opus', 'vorbis'])

function rate(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number)
  if (num === undefined || !Number.isFinite(num) || num <= 0) return 0
  const value = den === undefined ? num : den > 0 ? num / den : 0
  return roundedRate(value)
}

function seconds(text: string | undefined): number {
  const n = Number(text)
  return Number.isFinite(n) && n > 0 ? n : 0
}

function containerOf(out: FfprobeOutput, streams: FfprobeStream[]): { container: string; ext: string; mime: string } {
  const names = (out.format?.format_name ?? '').split(',')
  if (names.includes('mp4')) return isoContainer(out.format?.tags?.major_brand?.trim() === 'qt')
  if (names.includes('webm')) {
    // ffprobe names Matroska and WebM alike; WebM is Matroska holding only web codecs.
    return streams.every((s) => (s.codec_type !== 'video' && s.codec_type !== 'audio') || WEBM_CODECS.has(s.codec_name ?? ''))
      ? { container: 'webm', ext: 'webm', mime: 'video/webm' }
      : { container: 'mkv', ext: 'mkv', mime: 'video/x-matroska' }
  }
  const name = names[0] || 'unknown'
  return { container: name, ext: name, mime: 'application/octet-stream' }
}

function invalid(file: string, why: string, cause?: unknown): VidspecError {
  return new VidspecError('OUTPUT_INVALID', `${file} is not a playable video: ${why}`, { file, cause })
}

/**
 * Probes a clip with ffprobe and reads every packet (no decoding) so that a truncated download is
 * caught even when the index at the front claims the whole duration. Throws `OUTPUT_INVALID` naming
 * the file and the reason for anything that is not a complete video.
 */
export async function probeVideo(file: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const path = resolve(file)
  let size: number
  try {
    const st = await stat(path)
    if (!st.isFile()) throw invalid(file, 'it is not a regular file')
    size = st.size
  } catch (err) {
    if (isVidspecError(err)) throw err
    throw invalid(file, 'it cannot be read', err)
  }
  if (size === 0) throw invalid(file, 'it is empty (0 bytes)')

  let stdout: string
  let stderr: string
  try {
    ;({ stdout, stderr } = await runTool(
      ffprobePath(opts.tools),
      ['-v', 'error', '-print_format', 'json', ...(opts.countPackets === false ? [] : ['-count_packets']), '-show_entries', ENTRIES, path],
      { signal: opts.signal, failCode: 'OUTPUT_INVALID', what: `probing ${file}`, stdout: true },
    ))
  } catch (err) {
    if (isVidspecError(err, 'OUTPUT_INVALID')) throw invalid(file, err.message.slice(`probing ${file}: `.length).replace(/\n/g, ' '), err)
    throw err
  }

  let out: FfprobeOutput
  try {
    out = JSON.parse(stdout) as FfprobeOutput
  } catch (err) {
    throw invalid(file, 'ffprobe printed no readable description', err)
  }
  const streams = out.streams ?? []
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic)
  if (!video) throw invalid(file, 'it has no video stream')
  const width = video.width ?? 0
  const height = video.height ?? 0
  if (width <= 0 || height <= 0) throw invalid(file, `its video stream has no size (${width}x${height})`)
  const duration = seconds(out.format?.duration) || seconds(video.duration)
  if (duration <= 0) throw invalid(file, 'it has no duration (a still image or an unfinished file?)')
  const fps = rate(video.avg_frame_rate) || rate(video.r_frame_rate)
  if (fps <= 0) throw invalid(file, 'its video stream has no frame rate')

  const audio = streams.find((s) => s.codec_type === 'audio')
  const tail = stderr ? ` (ffprobe: ${stderr.split('\n').slice(-3).join(' | ')})` : ''
  if (TRUNCATION.test(stderr)) throw invalid(file, `it is truncated${tail}`)
  const read = Number(video.nb_read_packets ?? 0)
  const declared = Number(video.nb_frames ?? 0)
  // Without counted packets there is nothing to compare the declared length with.
  if (opts.countPackets !== false) {
    if (declared > 0 && read < declared) throw invalid(file, `it is truncated: ${read} of ${declared} frames present${tail}`)
    if (framesFallShort(duration, read, fps)) {
      throw invalid(file, `it is truncated: frames for ${(read / fps).toFixed(2)} s of ${duration.toFixed(2)} s present${tail}`)
    }
  }

  return {
    width,
    height,
    duration,
    fps,
    codec: video.codec_name ?? 'unknown',
    ...containerOf(out, streams),
    hasAudio: audio !== undefined,
    size,
    profile: video.profile,
    level: video.level,
    pixFmt: video.pix_fmt,
    audioCodec: audio?.codec_name,
    audioProfile: audio?.profile,
    bitrate: Number(out.format?.bit_rate) || 0,
  }
}

/**
 * What committing a clip needs to know of it (its shape, and that it is whole), at the least cost
 * that keeps ffprobe's standard: a plain MP4 with one H.264 track, and at most an AAC LC track
 * ending with it, is read in this process (mp4-shape.ts); anything else, and anything that reader
 * doubts, is probed by ffprobe as before, whose verdict and message stand.
 */
export async function probeClip(file: string, opts: ProbeOptions = {}): Promise<Mp4Shape | ProbeResult> {
  if (!opts.signal?.aborted) {
    const shape = await mp4Shape(resolve(file))
    if (shape) return shape
  }
  return probeVideo(file, opts)
}

/**
 * Why a clip of `duration` seconds is not the whole clip asked for, or undefined when it is (or when
 * the request set no `seconds`). A cut that ends on a packet or fragment boundary leaves a file every
 * container check accepts; only its length gives it away. Longer than asked is never an error: some
 * models round up. The slack covers encoders that end a frame or two early.
 */
export function durationShortfall(requestedSeconds: string | number | undefined, duration: number): string | undefined {
  const asked = Number(requestedSeconds)
  if (requestedSeconds === undefined || !Number.isFinite(asked) || asked <= 0) return undefined
  const slack = Math.max(0.5, asked * 0.1)
  if (duration >= asked - slack) return undefined
  return `it plays ${duration.toFixed(2)} s of the ${asked} s asked for`
}
