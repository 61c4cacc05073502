import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/**
 * Why the file's container says it is longer than it is, or undefined when it ends where its own
 * structure says it ends (or the format is not one we can tell).
 *
 * A Content-Length check cannot catch a server or proxy that announces a short length and then
 * stops there, and ffprobe reads only the packets, so a cut inside trailing data (an MP4 `free` box,
 * WebM cues) passes both. The container's own sizes do not lie: MP4 top-level boxes must fit inside
 * the file, and a WebM segment of known size must too.
 *
 * Synchronous: it reads a few box headers (16 bytes each) of a file just written, and each read
 * through the promise API is a thread-pool round trip costing far more than the read.
 */
export function containerOverrun(file: string, ext: string): string | undefined {
  const fd = openSync(file, 'r')
  try {
    const { size } = fstatSync(fd)
    if (ext === 'mp4' || ext === 'mov') return mp4Overrun(fd, size)
    if (ext === 'webm' || ext === 'mkv') return ebmlOverrun(fd, size)
    return undefined
  } finally {
    closeSync(fd)
  }
}

function read(fd: number, at: number, length: number): Buffer {
  const buf = Buffer.alloc(length)
  return buf.subarray(0, readSync(fd, buf, 0, length, at))
}

function mp4Overrun(fd: number, size: number): string | undefined {
  let at = 0
  // A fragmented MP4 is a run of moof (sample table) + mdat (the samples) pairs: a moof is whole
  // only when the mdat after it holds every byte its track runs point at.
  let moof: { at: number; size: number; needs: number | undefined } | undefined
  while (at < size) {
    const head = read(fd, at, 16)
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
    // Only an mdat right after its moof is judged: the format allows other boxes in between.
    if (moof && type === 'mdat' && moof.needs !== undefined && moof.needs > moof.size + boxSize) {
      return `its MP4 fragment at byte ${moof.at} points at ${moof.needs} bytes but its data ends after ${moof.size + boxSize}`
    }
    moof = undefined
    if (type === 'moof' && boxSize <= MAX_MOOF) {
      moof = { at, size: boxSize, needs: fragmentExtent(read(fd, at, boxSize)) }
    }
    at += boxSize
  }
  if (moof) return `its last MP4 fragment (at byte ${moof.at}) ends before its sample data (mdat)`
  return undefined
}

/** Sample tables are small; a bigger moof is not one we parse. */
const MAX_MOOF = 16 << 20

/** Child boxes of the box whose payload spans buf[from, to). */
function* children(buf: Buffer, from: number, to: number): Generator<{ type: string; start: number; end: number }> {
  let at = from
  while (at + 8 <= to) {
    const size = buf.readUInt32BE(at)
    if (size < 8 || at + size > to) return
    yield { type: buf.toString('latin1', at + 4, at + 8), start: at + 8, end: at + size }
    at += size
  }
}

/**
 * How many bytes from the start of the moof its track runs reach (data offset + sample sizes), or
 * undefined when that cannot be told from the moof alone (sizes from the trex defaults, offsets
 * not relative to the moof).
 */
function fragmentExtent(moof: Buffer): number | undefined {
  let needs = 0
  for (const traf of children(moof, 8, moof.length)) {
    if (traf.type !== 'traf') continue
    let defaultSize: number | undefined
    let moofRelative = false
    for (const box of children(moof, traf.start, traf.end)) {
      if (box.end - box.start < 8) return undefined
      const flags = moof.readUInt32BE(box.start) & 0xffffff
      if (box.type === 'tfhd') {
        let at = box.start + 8
        if (flags & 0x01) return undefined // an absolute base offset: not ours to follow
        if (flags & 0x02) at += 4
        if (flags & 0x08) at += 4
        if (flags & 0x10 && at + 4 <= box.end) defaultSize = moof.readUInt32BE(at)
        moofRelative = (flags & 0x20000) !== 0
      } else if (box.type === 'trun') {
        if (!moofRelative || !(flags & 0x01)) return undefined
        const count = moof.readUInt32BE(box.start + 4)
        const offset = moof.readInt32BE(box.start + 8)
        let at = box.start + 12 + (flags & 0x04 ? 4 : 0)
        const perSample = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4
        let bytes = 0
        for (let i = 0; i < count; i++) {
          if (flags & 0x200) {
            const sizeAt = at + (flags & 0x100 ? 4 : 0)
            if (sizeAt + 4 > box.end) return undefined
            bytes += moof.readUInt32BE(sizeAt)
          } else if (defaultSize !== undefined) bytes += defaultSize
          else return undefined
          at += perSample
        }
        needs = Math.max(needs, offset + bytes)
      }
    }
  }
  return needs
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

function ebmlOverrun(fd: number, size: number): string | undefined {
  let at = 0
  for (let element = 0; element < 2; element++) {
    const head = read(fd, at, 12)
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
