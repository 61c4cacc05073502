import { randomBytes } from 'node:crypto'
import { rename, rm } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { VidspecError } from '../errors.js'
import type { MediaTools } from './binaries.js'
import { runFfmpeg } from './run.js'

export interface PosterOptions {
  signal?: AbortSignal | undefined
  /** Where in the clip to take the frame, in seconds. Default: the first frame. */
  at?: number
  /** The project's ffmpeg (its VIDSPEC_FFMPEG). */
  tools?: MediaTools | undefined
}

/** Encoder arguments per image type; bitexact so one clip always gives the same poster bytes. */
const ENCODERS: Record<string, string[]> = {
  '.jpg': ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3'],
  '.jpeg': ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3'],
  '.png': ['-c:v', 'png', '-pix_fmt', 'rgb24'],
  '.webp': ['-c:v', 'libwebp', '-quality', '80', '-pix_fmt', 'yuv420p'],
}

/**
 * Writes one frame of `videoFile` as an image at the clip's size; the type follows `outFile`'s
 * extension (`.jpg`/`.jpeg`, `.png`, `.webp`). Written to a temp file beside it and renamed, so a
 * reader never sees half an image.
 */
export async function extractPoster(videoFile: string, outFile: string, opts: PosterOptions = {}): Promise<void> {
  const ext = extname(outFile).toLowerCase()
  const encoder = ENCODERS[ext]
  if (!encoder) {
    throw new VidspecError('INTERNAL', `poster ${outFile}: unsupported image type "${ext}" (use .jpg, .png or .webp)`)
  }
  const out = resolve(outFile)
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`)
  const seek = opts.at && opts.at > 0 ? ['-ss', String(opts.at)] : []
  try {
    await runFfmpeg(
      [
        ...seek,
        '-i', resolve(videoFile),
        '-map', '0:v:0',
        '-frames:v', '1',
        ...encoder,
        '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1',
        // image2 would read a `%` in the name as a sequence pattern; `update` writes exactly this file.
        '-f', 'image2', '-update', '1',
        '-y', tmp,
      ],
      { signal: opts.signal, what: `extracting a poster from ${videoFile}`, tools: opts.tools },
    )
    await rename(tmp, out)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
