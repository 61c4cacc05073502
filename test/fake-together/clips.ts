import { execFile } from 'node:child_process'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

export interface ClipGeometry {
  width: number
  height: number
  seconds: number
  fps: number
}

export type ClipFormat = 'MP4' | 'WEBM'

/** Tiny by default: tests download many of these on a 2-core machine. */
export const TINY_CLIP: ClipGeometry = { width: 160, height: 90, seconds: 1, fps: 10 }

// Shared by every fake in the process, and kept on disk across runs: each geometry is encoded once.
const CACHE_DIR = join(tmpdir(), 'vidspec-fake-together-clips')
const memory = new Map<string, Promise<Buffer>>()

export function ffmpegPath(): string {
  return process.env.VIDSPEC_FFMPEG || (require('@ffmpeg-installer/ffmpeg') as { path: string }).path
}

export function ffprobePath(): string {
  return process.env.VIDSPEC_FFPROBE || (require('@ffprobe-installer/ffprobe') as { path: string }).path
}

/**
 * A real, playable clip (a moving test pattern) of the given geometry and format; with `sound`, a
 * tone of the same length too (AAC in MP4, Opus in WebM), as audio-generating models send.
 */
export function clip(geometry: ClipGeometry, format: ClipFormat, sound = false): Promise<Buffer> {
  const { width, height, seconds, fps } = geometry
  const name = `${width}x${height}-${seconds}s-${fps}fps${sound ? '-sound' : ''}.${format === 'WEBM' ? 'webm' : 'mp4'}`
  let pending = memory.get(name)
  if (!pending) {
    pending = load(name, geometry, format, sound)
    memory.set(name, pending)
    pending.catch(() => memory.delete(name))
  }
  return pending
}

async function load(name: string, g: ClipGeometry, format: ClipFormat, sound: boolean): Promise<Buffer> {
  const file = join(CACHE_DIR, name)
  try {
    return await readFile(file)
  } catch {
    // not encoded yet
  }
  await mkdir(CACHE_DIR, { recursive: true })
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  const codec =
    format === 'WEBM'
      ? ['-c:v', 'libvpx', '-b:v', '200k', '-deadline', 'realtime', '-cpu-used', '8', '-f', 'webm']
      : ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4']
  try {
    await run(ffmpegPath(), [
      '-v', 'error', '-y', '-f', 'lavfi',
      '-i', `testsrc2=size=${g.width}x${g.height}:rate=${g.fps}:duration=${g.seconds}`,
      ...(sound ? ['-f', 'lavfi', '-i', `sine=duration=${g.seconds}`, '-c:a', format === 'WEBM' ? 'libopus' : 'aac'] : []),
      ...codec, tmp,
    ])
    await rename(tmp, file)
  } finally {
    await rm(tmp, { force: true })
  }
  return readFile(file)
}

/**
 * The header of an ISO-BMFF `free` box that pads a clip up to `total` bytes. A trailing `free` box is
 * valid MP4 (players and ffprobe skip it), so a padded clip stays playable while its size is arbitrary.
 */
export function freeBoxHeader(clipBytes: number, total: number): Buffer {
  const boxSize = total - clipBytes
  if (boxSize < 8) throw new Error(`a padded result must be at least ${clipBytes + 8} bytes (asked ${total})`)
  if (boxSize <= 0xffffffff) {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(boxSize, 0)
    head.write('free', 4, 'latin1')
    return head
  }
  // 64-bit "largesize" form, for results past 4 GiB.
  const head = Buffer.alloc(16)
  head.writeUInt32BE(1, 0)
  head.write('free', 4, 'latin1')
  head.writeBigUInt64BE(BigInt(boxSize), 8)
  return head
}
