import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { isVidspecError } from '../errors.js'
import { ffprobePath, type MediaTools } from '../media/binaries.js'
import { runTool } from '../media/run.js'

/**
 * What Together takes as `media.audio_inputs`, checked before any money is spent. Source: the
 * parameter page's media table ("WAV or MP3, 3-30s, up to 15 MB"), repeated by the audio-input page
 * and the Wan 2.7 quickstart (reference/together-video-api.md §3.3).
 */
export const AUDIO_MIN_SECONDS = 3
export const AUDIO_MAX_SECONDS = 30
/** "up to 15 MB". */
export const AUDIO_MAX_BYTES = 15_000_000
export const AUDIO_ALLOWED = `a WAV or MP3 file of ${AUDIO_MIN_SECONDS} to ${AUDIO_MAX_SECONDS} seconds and at most 15 MB`

/**
 * URL extensions that name some other audio or video format. A URL with one of them is refused
 * (the docs take WAV or MP3 only); a URL with no extension, or one that names no media format
 * (`/audio?id=3`, `.php`), cannot be judged here and is sent as written.
 */
const OTHER_AUDIO_EXTS = new Set(['ogg', 'oga', 'opus', 'm4a', 'aac', 'flac', 'wma', 'aif', 'aiff', 'amr', 'mka', 'webm', 'mp4', 'mov', 'caf'])

/** The problem with an audio URL, judged by its extension, or undefined. */
export function audioUrlProblem(ref: string): string | undefined {
  let ext: string
  try {
    ext = path.posix.extname(new URL(ref).pathname).slice(1).toLowerCase()
  } catch {
    return undefined
  }
  if (!OTHER_AUDIO_EXTS.has(ext)) return undefined
  return `${AUDIO_ALLOWED}; a .${ext} URL is neither (convert it to .wav or .mp3)`
}

interface FfprobeAudio {
  streams?: Array<{ codec_type?: string; codec_name?: string; duration?: string }>
  format?: { format_name?: string; duration?: string }
}

/**
 * Probes audio bytes with ffprobe: the container must be WAV or MP3 (whatever the name says), with
 * an audio stream of 3 to 30 seconds, and at most 15 MB. Returns the problem, or undefined when it fits.
 */
export async function audioProblem(source: { file: string } | { bytes: Buffer }, size: number, tools?: MediaTools): Promise<string | undefined> {
  if (size > AUDIO_MAX_BYTES) return `${AUDIO_ALLOWED} (this one is ${(size / 1_000_000).toFixed(1)} MB)`
  if ('file' in source) return probe(source.file, tools)
  // A data: URI's bytes go through a private temp file: ffprobe reads files, and the bytes are small.
  const dir = await mkdtemp(path.join(tmpdir(), 'vidspec-audio-'))
  try {
    const file = path.join(dir, 'input')
    await writeFile(file, source.bytes)
    return await probe(file, tools)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function probe(file: string, tools: MediaTools | undefined): Promise<string | undefined> {
  let out: FfprobeAudio
  try {
    const { stdout } = await runTool(
      ffprobePath(tools),
      ['-v', 'error', '-print_format', 'json', '-show_entries', 'format=format_name,duration:stream=codec_type,codec_name,duration', file],
      { failCode: 'SPEC_INVALID', what: 'probing an audio input', stdout: true },
    )
    out = JSON.parse(stdout) as FfprobeAudio
  } catch (err) {
    if (isVidspecError(err, 'SPEC_INVALID') || err instanceof SyntaxError) return `${AUDIO_ALLOWED}; ffprobe cannot read it as audio`
    throw err
  }
  const formats = (out.format?.format_name ?? '').split(',')
  const format = formats.includes('wav') ? 'WAV' : formats.includes('mp3') ? 'MP3' : undefined
  const stream = out.streams?.find((s) => s.codec_type === 'audio')
  if (!format || !stream) return `${AUDIO_ALLOWED}; this one is ${formats[0] ? `${formats[0]} data` : 'not audio'}`
  const duration = Number(out.format?.duration ?? stream.duration)
  if (!Number.isFinite(duration) || duration <= 0) return `${AUDIO_ALLOWED}; its length cannot be read`
  if (duration < AUDIO_MIN_SECONDS || duration > AUDIO_MAX_SECONDS) {
    return `${AUDIO_ALLOWED} (this ${format} is ${duration.toFixed(1)} s)`
  }
  return undefined
}

/** The bytes a `data:` URI carries (base64 or percent-encoded). */
export function dataUriBytes(ref: string): Buffer {
  const comma = ref.indexOf(',')
  const meta = ref.slice(0, comma)
  const payload = ref.slice(comma + 1)
  if (/;base64$/i.test(meta)) return Buffer.from(payload, 'base64')
  try {
    return Buffer.from(decodeURIComponent(payload), 'latin1')
  } catch {
    return Buffer.from(payload, 'latin1')
  }
}
