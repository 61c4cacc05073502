import { readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import pLimit from 'p-limit'
import { isPlainAacLc } from './aac-config.js'
import { spsPictureSize } from './h264-sps.js'
import { framesFallShort, isoContainer, roundedRate } from './probe-rules.js'

/*
 * A clip's shape read from its MP4 boxes, in this process, for the one case that is nearly every
 * paid clip: a plain (not fragmented) MP4 or QuickTime file with one video track, and at most one
 * sound track (models that generate audio) that ends no later than the picture. Starting ffprobe
 * costs ~40 ms of CPU per clip (a fork of this process, then ffprobe's own start), more than the
 * rest of a job's client work together.
 *
 * It only ever says "this file is whole, and this is its shape", never "this file is bad": anything
 * it does not know, or any doubt at all, is `undefined`, and the caller asks ffprobe, whose verdict
 * and message stand. So it must hold a file to at least ffprobe's standard: ffprobe with
 * `-count_packets` reads every sample of every track and fails on a short read; here every sample's
 * byte range is checked to lie inside an `mdat` box inside the file, the tables must agree on the
 * sample count, and each H.264 sample's NAL units must tile it exactly. The figures are the
 * ones ffprobe reports for such a file (its mov demuxer reads the same fields).
 */

export interface Mp4Shape {
  width: number
  height: number
  duration: number
  fps: number
  codec: string
  container: 'mp4' | 'mov'
  mime: string
  ext: string
}

/**
 * A clip is read whole (its NAL units are walked), so bigger files go to ffprobe, and two at most are
 * in memory at once: a build committing eight clips together must not hold eight of them.
 */
const MAX_BYTES = 32 << 20
const SYNC_BYTES = 1 << 20
const reading = pLimit(2)

/**
 * The sample entries read here, with ffprobe's codec name: H.264 with its parameter sets in the
 * index (avc1), which is what providers send. Other codecs (and avc3, whose parameter sets may change
 * inside the stream) take their size from the bitstream, which only ffprobe reads.
 */
const CODECS: Record<string, string> = { avc1: 'h264' }

/**
 * The sound that may ride along: AAC LC in an `mp4a` entry (aac-config.ts). A clip's shape is its
 * picture's, so the sound is held to what ffprobe asks of it: every sample inside the file, the
 * tables agreeing, a configuration its decoder opens. Other sound (MP3, Opus, AC-3, HE-AAC,
 * QuickTime's layouts) goes to ffprobe.
 */
const SOUND = 'mp4a'

interface Box {
  type: string
  /** Payload start (after the header) and end, as offsets into the buffer. */
  start: number
  end: number
}

class Doubt extends Error {}
const doubt = (): never => {
  throw new Doubt()
}

/** The boxes in buf[from, to); a size that does not fit is a doubt, not a stop. */
function boxes(buf: Buffer, from: number, to: number, topLevel = false): Box[] {
  const out: Box[] = []
  let at = from
  while (at < to) {
    if (at + 8 > to) doubt()
    let size = buf.readUInt32BE(at)
    const type = buf.toString('latin1', at + 4, at + 8)
    let header = 8
    if (size === 1) {
      if (at + 16 > to) doubt()
      size = Number(buf.readBigUInt64BE(at + 8))
      header = 16
    } else if (size === 0 && topLevel) size = to - at
    if (size < header || at + size > to) doubt()
    out.push({ type, start: at + header, end: at + size })
    at += size
  }
  return out
}

const only = (list: Box[], type: string): Box => {
  const found = list.filter((b) => b.type === type)
  if (found.length !== 1) doubt()
  return found[0] as Box
}

const u32 = (buf: Buffer, at: number, end: number): number => (at + 4 <= end ? buf.readUInt32BE(at) : doubt())
const u16 = (buf: Buffer, at: number, end: number): number => (at + 2 <= end ? buf.readUInt16BE(at) : doubt())
const u64 = (buf: Buffer, at: number, end: number): number => (at + 8 <= end ? Number(buf.readBigUInt64BE(at)) : doubt())

/** A full box's (timescale, duration) pair, for mvhd and mdhd alike (version 0 or 1). */
function timing(buf: Buffer, box: Box): { timescale: number; duration: number } {
  const version = buf[box.start]
  if (version === 1) return { timescale: u32(buf, box.start + 20, box.end), duration: u64(buf, box.start + 24, box.end) }
  if (version === 0) return { timescale: u32(buf, box.start + 12, box.end), duration: u32(buf, box.start + 16, box.end) }
  return doubt()
}

interface Track {
  handler: string
  timescale: number
  fourcc: string
  width: number
  height: number
  /** Bytes of the length before each NAL unit (H.264), 0 for other codecs. */
  nalLength: number
  samples: number
  /** Sum of the sample durations (stts), in the track's timescale. */
  ticks: number
  /** The one edit's length in the movie's timescale, when the track has an edit list. */
  edit?: number | undefined
}

/**
 * The track's one sample entry. For H.264 its size must be what the SPS in its avcC declares (where
 * ffprobe reads it) and what the track header says, so no single wrong byte goes unnoticed; a
 * sound track's `mp4a` must hold plain AAC LC (checkSoundEntry).
 */
function sampleEntry(buf: Buffer, stsd: Box, tkhd: Box, handler: string): { fourcc: string; width: number; height: number; nalLength: number } {
  if (u32(buf, stsd.start + 4, stsd.end) !== 1) doubt()
  const [entry] = boxes(buf, stsd.start + 8, stsd.end)
  if (!entry) return doubt()
  if (!(entry.type in CODECS)) {
    if (handler === 'soun' && entry.type === SOUND) checkSoundEntry(buf, entry)
    return { fourcc: entry.type, width: 0, height: 0, nalLength: 0 }
  }
  // A visual sample entry: 6 reserved bytes, the data reference (the one there is), 16 more reserved
  // bytes, then width and height, then 50 more.
  if (u16(buf, entry.start + 6, entry.end) !== 1) doubt()
  const width = u16(buf, entry.start + 24, entry.end)
  const height = u16(buf, entry.start + 26, entry.end)
  const avcC = only(boxes(buf, entry.start + 78, entry.end), 'avcC')
  // configurationVersion 1, then exactly one SPS.
  if (buf[avcC.start] !== 1 || avcC.end - avcC.start < 8 || ((buf[avcC.start + 5] as number) & 0x1f) !== 1) doubt()
  const nalLength = ((buf[avcC.start + 4] as number) & 0x3) + 1
  if (nalLength === 3) doubt()
  const spsEnd = avcC.start + 8 + u16(buf, avcC.start + 6, avcC.end)
  // The SPS, then a byte counting the picture parameter sets, inside the box.
  if (spsEnd >= avcC.end) doubt()
  const sps = spsPictureSize(buf.subarray(avcC.start + 8, spsEnd)) ?? doubt()
  // Then the picture parameter sets, each a whole NAL unit of type 8 (ffmpeg parses them all).
  const ppsCount = buf[spsEnd] as number
  let pps = spsEnd + 1
  if (ppsCount === 0) doubt()
  for (let i = 0; i < ppsCount; i++) {
    const length = u16(buf, pps, avcC.end)
    if (length === 0 || pps + 2 + length > avcC.end || ((buf[pps + 2] as number) & 0x1f) !== 8) doubt()
    pps += 2 + length
  }
  // The track header's size is 16.16 fixed point, after a version-dependent run of fields.
  const at = tkhd.start + (buf[tkhd.start] === 1 ? 88 : 76)
  const shown = { width: u32(buf, at, tkhd.end) / 0x10000, height: u32(buf, at + 4, tkhd.end) / 0x10000 }
  if (sps.width !== width || sps.height !== height || shown.width !== width || shown.height !== height) doubt()
  return { fourcc: entry.type, width, height, nalLength }
}

/**
 * An `mp4a` sample entry of the ISO layout (version 0): 6 reserved bytes, the data reference (the
 * one there is), a version, 6 more bytes, a channel count, a sample size, 4 bytes and a sample rate
 * (16.16); then its boxes, one of them the `esds` holding plain AAC LC.
 */
function checkSoundEntry(buf: Buffer, entry: Box): void {
  if (u16(buf, entry.start + 6, entry.end) !== 1 || u16(buf, entry.start + 8, entry.end) !== 0) doubt()
  if (u16(buf, entry.start + 16, entry.end) === 0 || u32(buf, entry.start + 24, entry.end) === 0) doubt()
  const esds = only(boxes(buf, entry.start + 28, entry.end), 'esds')
  if (!isPlainAacLc(buf.subarray(esds.start, esds.end))) doubt()
}

/** Reads a track's tables and checks that every sample lies inside one of `mdats`, whole. */
function track(buf: Buffer, trak: Box, mdats: Box[]): Track {
  const inTrak = boxes(buf, trak.start, trak.end)
  const mdia = only(inTrak, 'mdia')
  const inMdia = boxes(buf, mdia.start, mdia.end)
  const media = timing(buf, only(inMdia, 'mdhd'))
  const hdlr = only(inMdia, 'hdlr')
  const handler = buf.toString('latin1', hdlr.start + 8, hdlr.start + 12)
  const minf = only(inMdia, 'minf')
  const inMinf = boxes(buf, minf.start, minf.end)
  selfContained(buf, only(inMinf, 'dinf'))
  const stbl = only(inMinf, 'stbl')
  const tables = boxes(buf, stbl.start, stbl.end)
  const entry = sampleEntry(buf, only(tables, 'stsd'), only(inTrak, 'tkhd'), handler)

  const stts = only(tables, 'stts')
  let samples = 0
  let ticks = 0
  for (let i = 0, n = entries(buf, stts, 8); i < n; i++) {
    const count = u32(buf, stts.start + 8 + i * 8, stts.end)
    samples += count
    ticks += count * u32(buf, stts.start + 12 + i * 8, stts.end)
  }

  const stsz = only(tables, 'stsz')
  const fixedSize = u32(buf, stsz.start + 4, stsz.end)
  if (entries(buf, stsz, fixedSize ? 0 : 4, 4) !== samples) doubt()
  const sizeOf = (i: number) => fixedSize || u32(buf, stsz.start + 12 + i * 4, stsz.end)
  checkSyncSamples(buf, tables, samples)
  const delay = reorderDelay(buf, tables, samples)

  const co = tables.filter((b) => b.type === 'stco' || b.type === 'co64')
  if (co.length !== 1) doubt()
  const offsets = co[0] as Box
  const wide = offsets.type === 'co64'
  const chunks = entries(buf, offsets, wide ? 8 : 4)
  const chunkAt = (i: number) => (wide ? u64(buf, offsets.start + 8 + i * 8, offsets.end) : u32(buf, offsets.start + 8 + i * 4, offsets.end))

  const stsc = only(tables, 'stsc')
  const runs = entries(buf, stsc, 12)
  let sample = 0
  for (let r = 0; r < runs; r++) {
    const first = u32(buf, stsc.start + 8 + r * 12, stsc.end) - 1
    const perChunk = u32(buf, stsc.start + 12 + r * 12, stsc.end)
    const last = r + 1 < runs ? u32(buf, stsc.start + 20 + r * 12, stsc.end) - 1 : chunks
    // Every run names the one sample entry there is.
    if (u32(buf, stsc.start + 16 + r * 12, stsc.end) !== 1) doubt()
    if (first < 0 || last < first || last > chunks || (r === 0 && first !== 0)) doubt()
    for (let c = first; c < last; c++) {
      let at = chunkAt(c)
      const mdat = mdats.find((m) => at >= m.start && at < m.end) ?? doubt()
      for (let s = 0; s < perChunk; s++) {
        if (sample >= samples) doubt()
        const end = at + sizeOf(sample++)
        if (end > mdat.end) doubt()
        if (entry.nalLength > 0) nalUnitsTile(buf, at, end, entry.nalLength)
        at = end
      }
    }
  }
  if (sample !== samples) doubt()
  const edit = oneEdit(buf, inTrak)
  // An edit may skip the decoder's reordering delay (B-frames), never presented frames; a sound
  // track's may skip the encoder's priming samples, never the whole track.
  const skippable = handler === 'soun' ? ticks - 1 : delay
  if (edit && (edit.mediaTime < 0 || edit.mediaTime > skippable)) doubt()
  // ffprobe takes a stream's length from mdhd: it must be the samples' own.
  if (media.duration !== ticks) doubt()
  return { handler, timescale: media.timescale, ...entry, samples, ticks, edit: edit?.length }
}

/** The track's samples must be in this file: one data reference, a `url ` flagged self-contained. */
function selfContained(buf: Buffer, dinf: Box): void {
  const dref = only(boxes(buf, dinf.start, dinf.end), 'dref')
  if (u32(buf, dref.start + 4, dref.end) !== 1) doubt()
  const [url, ...more] = boxes(buf, dref.start + 8, dref.end)
  if (!url || more.length > 0 || url.type !== 'url ' || url.end - url.start !== 4 || u32(buf, url.start, url.end) !== 1) doubt()
}

/**
 * The length of a track's one edit, or undefined without an edit list. Several edits (a trimmed or
 * spliced track) or a rate other than 1 make the presented length a matter of interpretation.
 */
function oneEdit(buf: Buffer, inTrak: Box[]): { length: number; mediaTime: number } | undefined {
  if (!inTrak.some((b) => b.type === 'edts')) return undefined
  const edts = only(inTrak, 'edts')
  const elst = only(boxes(buf, edts.start, edts.end), 'elst')
  const v1 = buf[elst.start] === 1
  if (entries(buf, elst, v1 ? 20 : 12) !== 1) doubt()
  const entry = elst.start + 8
  const rate = u32(buf, entry + (v1 ? 16 : 8), elst.end)
  if (rate !== 0x10000) doubt()
  if (v1) return { length: u64(buf, entry, elst.end), mediaTime: Number(buf.readBigInt64BE(entry + 8)) }
  return { length: u32(buf, entry, elst.end), mediaTime: buf.readInt32BE(entry + 4) }
}

/**
 * A table's entry count, when its entries fill the box exactly (a count that disagrees with the
 * box's size is a flipped byte, or a cut). `skip`: bytes between the version and the count.
 */
function entries(buf: Buffer, box: Box, size: number, skip = 0): number {
  const count = u32(buf, box.start + 4 + skip, box.end)
  if (box.end - box.start !== 8 + skip + count * size) doubt()
  return count
}

/** Key frames (stss), when listed, are sample numbers within the track, in order. */
function checkSyncSamples(buf: Buffer, tables: Box[], samples: number): void {
  if (!tables.some((b) => b.type === 'stss')) return
  const stss = only(tables, 'stss')
  let last = 0
  for (let i = 0, n = entries(buf, stss, 4); i < n; i++) {
    const sample = u32(buf, stss.start + 8 + i * 4, stss.end)
    if (sample <= last || sample > samples) doubt()
    last = sample
  }
}

/** The largest composition offset (ctts): how far reordering delays the first frame, 0 without B-frames. */
function reorderDelay(buf: Buffer, tables: Box[], samples: number): number {
  if (!tables.some((b) => b.type === 'ctts')) return 0
  const ctts = only(tables, 'ctts')
  const signed = buf[ctts.start] === 1
  let covered = 0
  let delay = 0
  for (let i = 0, n = entries(buf, ctts, 8); i < n; i++) {
    covered += u32(buf, ctts.start + 8 + i * 8, ctts.end)
    const offset = signed ? buf.readInt32BE(ctts.start + 12 + i * 8) : u32(buf, ctts.start + 12 + i * 8, ctts.end)
    delay = Math.max(delay, offset)
  }
  if (covered !== samples) doubt()
  return delay
}

/** A length-prefixed sample must be a run of NAL units that ends exactly where the sample does. */
function nalUnitsTile(buf: Buffer, from: number, to: number, lengthBytes: number): void {
  let at = from
  while (at < to) {
    if (at + lengthBytes > to) doubt()
    const length = buf.readUIntBE(at, lengthBytes)
    if (length === 0) doubt()
    at += lengthBytes + length
  }
  if (at !== to) doubt()
}

/**
 * The shape of a plain MP4/QuickTime clip that is whole, or undefined when this cannot vouch for it
 * (another format, a fragmented file, an unknown codec, anything that does not add up): then ask
 * ffprobe.
 */
export function mp4Shape(file: string): Promise<Mp4Shape | undefined> {
  return reading(() => shapeOf(file))
}

/**
 * The whole file, when its size is one this reads. The size, and a file up to 1 MB, are read
 * synchronously: each promise-API call is a thread-pool round trip costing more than the call, and
 * a run of short jobs commits one clip after another. A clip of several MB is read off the main thread.
 */
async function smallFile(file: string): Promise<Buffer | undefined> {
  const { size } = statSync(file)
  if (size < 16 || size > MAX_BYTES) return undefined
  const buf = size <= SYNC_BYTES ? readFileSync(file) : await readFile(file)
  return buf.length === size ? buf : undefined
}

async function shapeOf(file: string): Promise<Mp4Shape | undefined> {
  try {
    const buf = await smallFile(file)
    if (!buf) return undefined
    const top = boxes(buf, 0, buf.length, true)
    if (top[0]?.type !== 'ftyp' || top.some((b) => b.type === 'moof' || b.type === 'mvex')) return undefined
    const brand = buf.toString('latin1', (top[0] as Box).start, (top[0] as Box).start + 4)
    const moov = only(top, 'moov')
    const inMoov = boxes(buf, moov.start, moov.end)
    if (inMoov.some((b) => b.type === 'mvex')) return undefined
    const movie = timing(buf, only(inMoov, 'mvhd'))
    const mdats = top.filter((b) => b.type === 'mdat')
    const tracks = inMoov.filter((b) => b.type === 'trak').map((t) => track(buf, t, mdats))
    // One picture, and at most one sound of a known entry; any other track with samples goes to ffprobe.
    const playing = tracks.filter((t) => t.samples > 0)
    const [video, ...videos] = playing.filter((t) => t.handler === 'vide')
    const [sound, ...sounds] = playing.filter((t) => t.handler === 'soun')
    if (!video || videos.length > 0 || sounds.length > 0 || playing.length !== (sound ? 2 : 1) || !(video.fourcc in CODECS)) return undefined
    if (sound && (sound.fourcc !== SOUND || sound.timescale <= 0)) return undefined
    if (video.width <= 0 || video.height <= 0 || video.ticks <= 0 || video.timescale <= 0 || movie.timescale <= 0) return undefined
    const duration = Math.round((video.ticks / video.timescale) * 1e6) / 1e6
    // The movie's length must be the picture's, to the movie's own tick, or (with sound) no more
    // than the sound's samples take: a muxer counts the priming that the sound's edit skips.
    const tick = 1 / movie.timescale
    const longest = sound ? Math.max(duration, sound.ticks / sound.timescale) : duration
    const movieLength = movie.duration / movie.timescale
    if (movieLength < duration - tick || movieLength > longest + tick) return undefined
    if (video.edit !== undefined && Math.abs(video.edit / movie.timescale - duration) > tick) return undefined
    // ffprobe gives a clip its longest stream's length (after priming and edits): vouched for only
    // when the sound ends with the picture or before it, so that length is the picture's.
    if (sound && (sound.edit !== undefined ? sound.edit / movie.timescale : sound.ticks / sound.timescale) > duration + tick) return undefined
    const fps = roundedRate((video.timescale * video.samples) / video.ticks)
    // What probeVideo calls truncated (frames for less time than the file claims): ffprobe says why.
    if (!(fps > 0) || framesFallShort(duration, video.samples, fps)) return undefined
    return { width: video.width, height: video.height, duration, fps, codec: CODECS[video.fourcc] as string, ...isoContainer(brand === 'qt  ') }
  } catch {
    // A doubt, or a file that cannot be read: ffprobe says what it is.
    return undefined
  }
}
