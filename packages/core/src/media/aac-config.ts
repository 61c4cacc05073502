import { Bits } from './bits.js'

/*
 * The one sound configuration mp4-shape.ts vouches for: AAC LC as encoders write it into an `esds`
 * box (ISO/IEC 14496-1 descriptors around a 14496-3 AudioSpecificConfig). ffprobe opens a decoder
 * for every stream, and refuses the whole file when the AAC decoder rejects its configuration, so a
 * flipped bit there must never pass. Rather than follow ffmpeg's parser into every object type and
 * extension, only the plain form is accepted, each descriptor filling its parent exactly; anything
 * else (HE-AAC, another codec, another muxer's layout) is left to ffprobe.
 */

interface Descriptor {
  tag: number
  start: number
  end: number
}

/** The descriptor at `at`: a tag, then a length of 1 to 4 bytes of 7 bits each, then that payload inside `end`. */
function descriptor(buf: Uint8Array, at: number, end: number): Descriptor | undefined {
  const tag = buf[at]
  if (tag === undefined || at >= end) return undefined
  let length = 0
  let i = at + 1
  for (let n = 0; ; n++) {
    const c = buf[i++]
    if (n === 4 || c === undefined || i > end) return undefined
    length = length * 128 + (c & 0x7f)
    if (!(c & 0x80)) break
  }
  return i + length <= end ? { tag, start: i, end: i + length } : undefined
}

/**
 * Whether an `esds` box's payload (after its header) is plain AAC LC: version 0, an ES descriptor
 * with no dependency, URL or clock reference, MPEG-4 audio (0x40) in an audio stream, the
 * AudioSpecificConfig, and the predefined MP4 sync layer, each exactly where the last one ends.
 */
export function isPlainAacLc(esds: Uint8Array): boolean {
  if (esds.length < 4 || esds[0] !== 0 || esds[1] !== 0 || esds[2] !== 0 || esds[3] !== 0) return false
  const es = descriptor(esds, 4, esds.length)
  if (!es || es.tag !== 0x03 || es.end !== esds.length || es.end - es.start < 3 || esds[es.start + 2] !== 0) return false
  // Object type, stream type, buffer size and two bit rates, then the decoder's own configuration.
  const config = descriptor(esds, es.start + 3, es.end)
  if (!config || config.tag !== 0x04 || config.end - config.start < 13 || esds[config.start] !== 0x40 || esds[config.start + 1] !== 0x15) return false
  const specific = descriptor(esds, config.start + 13, config.end)
  if (!specific || specific.tag !== 0x05 || specific.end !== config.end) return false
  const sl = descriptor(esds, config.end, es.end)
  if (!sl || sl.tag !== 0x06 || sl.end !== es.end || sl.end - sl.start !== 1 || esds[sl.start] !== 0x02) return false
  return isAacLcConfig(esds.subarray(specific.start, specific.end))
}

/**
 * An AudioSpecificConfig of AAC LC (object type 2) at a listed sampling rate (index 0-12), with 1 to
 * 7 channels, 1024-sample frames and no core coder or extension; then nothing, or the explicit "no
 * SBR" signal some encoders append (sync extension 0x2b7, object type 5, flag 0, zeros to the byte).
 */
export function isAacLcConfig(asc: Uint8Array): boolean {
  try {
    const r = new Bits(asc)
    if (r.bits(5) !== 2 || r.bits(4) > 12) return false
    const channels = r.bits(4)
    if (channels < 1 || channels > 7 || r.bits(3) !== 0) return false
    if (r.left === 0) return true
    return r.left === 24 && r.bits(11) === 0x2b7 && r.bits(5) === 5 && r.bit() === 0 && r.bits(7) === 0
  } catch {
    return false
  }
}
