import { open, type FileHandle } from 'node:fs/promises'

/**
 * Why the file's container says it is longer than it is, or undefined when it ends where its own
 * structure says it ends (or the format is not one we can tell).
 *
 * A Content-Length check cannot catch a server or proxy that announces a short length and then
 * stops there, and ffprobe reads only the packets, so a cut inside trailing data (an MP4 `free` box,
 * WebM cues) passes both. The container's own sizes do not lie: MP4 top-level boxes must fit inside
 * the file, and a WebM segment of known size must too.
 */
export async function containerOverrun(file: string, ext: string): Promise<string | undefined> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    if (ext === 'mp4' || ext === 'mov') return await mp4Overrun(fh, size)
    if (ext === 'webm' || ext === 'mkv') return await ebmlOverrun(fh, size)
    return undefined
  } finally {
    await fh.close()
  }
}

async function read(fh: FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await fh.read(buf, 0, length, at)
  return buf.subarray(0, bytesRead)
}

async function mp4Overrun(fh: FileHandle, size: number): Promise<string | undefined> {
  let at = 0
  while (at < size) {
    const head = await read(fh, at, 16)
    if (head.length < 8) return `its last MP4 box header is cut off at byte ${size}`
    const type = head.toString('latin1', 4, 8)
    let boxSize = head.readUInt32BE(0)
    if (boxSize === 0) return undefined // "to the end of the file"
    if (boxSize === 1) {
      if (head.length < 16) return `its MP4 box "${type}" header is cut off at byte ${size}`
      boxSize = Number(head.readBigUInt64BE(8))
    }
    if (boxSize < 8) return `its MP4 box "${type}" at byte ${at} has an impossible size ${boxSize}`
    if (at + boxSize > size) {
      return `its MP4 box "${type}" at byte ${at} needs ${boxSize} bytes but the file ends after ${size - at}`
    }
    at += boxSize
  }
  return undefined
}

const EBML_ID = 0x1a45dfa3
const SEGMENT_ID = 0x18538067

/** An EBML variable-length integer: its length in bytes and value (undefined for "unknown size"). */
function vint(buf: Buffer, at: number): { length: number; value: number | undefined } | undefined {
  const first = buf[at]
  if (first === undefined || first === 0) return undefined
  const length = Math.clz32(first) - 23
  if (at + length > buf.length) return undefined
  let value = first & (0xff >> length)
  let allOnes = value === 0xff >> length
  for (let i = 1; i < length; i++) {
    const byte = buf[at + i] as number
    value = value * 256 + byte
    allOnes &&= byte === 0xff
  }
  return { length, value: allOnes ? undefined : value }
}

async function ebmlOverrun(fh: FileHandle, size: number): Promise<string | undefined> {
  let at = 0
  for (let element = 0; element < 2; element++) {
    const head = await read(fh, at, 12)
    if (head.length < 5) return `its WebM header is cut off at byte ${size}`
    const id = head.readUInt32BE(0)
    if (id !== (element === 0 ? EBML_ID : SEGMENT_ID)) return undefined
    const len = vint(head, 4)
    if (!len) return `its WebM header is cut off at byte ${size}`
    // A segment of unknown size (a live stream) has no length to check.
    if (len.value === undefined) return undefined
    const end = at + 4 + len.length + len.value
    if (end > size) return `its WebM ${element === 0 ? 'header' : 'segment'} needs ${end} bytes but the file has ${size}`
    at = end
  }
  return undefined
}
