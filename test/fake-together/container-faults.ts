import { execFile } from 'node:child_process'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { TINY_CLIP, clip, ffmpegPath, type ClipFormat } from './clips.js'
import type { FaultMatch } from './faults.js'

const run = promisify(execFile)

/**
 * Result-file faults about what arrives rather than how the transfer goes: a clip that is valid but
 * not whole, or whole but in another container than asked. Kept apart from faults.ts so the
 * transfer faults and these evolve independently.
 */
export type ContainerFault = { times?: number; match?: FaultMatch } & (
  /**
   * A fragmented MP4 (one fragment per second) of `seconds`, cut after `keepFragments` whole
   * fragments (default: all of them), sent without Content-Length.
   */
  | { kind: 'download-fragmented'; seconds: number; keepFragments?: number }
  /** The job's clip sent chunked (no Content-Length): whole, or only its first `bytes` bytes, then a clean end. */
  | { kind: 'download-no-length'; bytes?: number }
  /** A valid clip of the other container than the job asked for (WEBM asked: MP4 sent). */
  | { kind: 'download-other-format' }
)

export const CONTAINER_FAULT_KINDS = new Set(['download-fragmented', 'download-no-length', 'download-other-format'])

export interface ContainerResult {
  bytes: Buffer
  contentType: string
  /** Send without Content-Length (chunked). */
  noLength: boolean
}

/** The body to send for a container fault, or undefined for other faults. */
export async function containerResult(
  fault: { kind: string } | undefined,
  job: { format: ClipFormat },
  geometry: typeof TINY_CLIP,
): Promise<ContainerResult | undefined> {
  const f = fault as ContainerFault | undefined
  switch (f?.kind) {
    case 'download-no-length': {
      const whole = await clip(geometry, job.format)
      return { bytes: whole.subarray(0, f.bytes ?? whole.length), contentType: mime(job.format), noLength: true }
    }
    case 'download-other-format': {
      const other: ClipFormat = job.format === 'WEBM' ? 'MP4' : 'WEBM'
      // The header says what the bytes are; a real CDN would too.
      return { bytes: await clip(geometry, other), contentType: mime(other), noLength: false }
    }
    case 'download-fragmented': {
      const whole = await fragmentedClip(f.seconds)
      return { bytes: keepFragments(whole, f.keepFragments ?? Infinity), contentType: 'video/mp4', noLength: true }
    }
    default:
      return undefined
  }
}

const mime = (format: ClipFormat): string => (format === 'WEBM' ? 'video/webm' : 'video/mp4')

const CACHE_DIR = join(tmpdir(), 'vidspec-fake-together-clips')
const memory = new Map<number, Promise<Buffer>>()

/** A real fragmented MP4 (moof+mdat per second, offsets relative to each moof), TINY_CLIP-sized. */
export function fragmentedClip(seconds: number): Promise<Buffer> {
  let pending = memory.get(seconds)
  if (!pending) {
    pending = encodeFragmented(seconds)
    memory.set(seconds, pending)
    pending.catch(() => memory.delete(seconds))
  }
  return pending
}

async function encodeFragmented(seconds: number): Promise<Buffer> {
  const { width, height, fps } = TINY_CLIP
  const file = join(CACHE_DIR, `${width}x${height}-${seconds}s-${fps}fps-fragmented.mp4`)
  try {
    return await readFile(file)
  } catch {
    // not encoded yet
  }
  await mkdir(CACHE_DIR, { recursive: true })
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    await run(ffmpegPath(), [
      '-v', 'error', '-y', '-f', 'lavfi',
      '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-g', String(fps), '-keyint_min', String(fps), '-sc_threshold', '0',
      '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', tmp,
    ])
    await rename(tmp, file)
  } finally {
    await rm(tmp, { force: true })
  }
  return readFile(file)
}

/** Top-level boxes of an MP4, as [type, start, end]. */
export function topLevelBoxes(bytes: Buffer): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = []
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at)
    if (size < 8) break
    out.push([bytes.toString('latin1', at + 4, at + 8), at, at + size])
    at += size
  }
  return out
}

/** The file up to and including its `n`th moof+mdat pair: a cut exactly on a fragment boundary. */
export function keepFragments(bytes: Buffer, n: number): Buffer {
  let seen = 0
  let end = 0
  for (const [type, , boxEnd] of topLevelBoxes(bytes)) {
    if (type === 'moof') seen++
    if (seen > n || type === 'mfra') break
    end = boxEnd
  }
  return bytes.subarray(0, end)
}
