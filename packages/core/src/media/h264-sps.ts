import { Bits } from './bits.js'

/*
 * The picture size an H.264 sequence parameter set declares (ITU-T H.264, 7.3.2.1.1), as ffmpeg's
 * decoder reports it: the coded macroblocks less the cropping. ffprobe takes a clip's width and height
 * from here, not from the MP4 sample entry, so mp4-shape.ts vouches for a size only when both agree.
 */

/** Profiles whose SPS carries chroma format, bit depths and scaling lists. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135, 144])

/** The NAL unit's payload with its emulation prevention bytes (00 00 03) taken out. */
function unescape(nal: Uint8Array): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue
    out.push(nal[i] as number)
  }
  return Uint8Array.from(out)
}

function skipScalingList(r: Bits, size: number): void {
  let last = 8
  let next = 8
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256
    last = next === 0 ? last : next
  }
}

/**
 * The width and height an SPS NAL unit (header byte included) declares, or undefined for one this
 * does not follow (cropping at the left or top, which ffmpeg may round). Throws RangeError when the
 * bytes end inside it.
 */
export function spsPictureSize(nal: Uint8Array): { width: number; height: number } | undefined {
  if (((nal[0] ?? 0) & 0x1f) !== 7) return undefined
  const r = new Bits(unescape(nal.subarray(1)))
  const profile = r.bits(8)
  r.bits(16) // constraint flags, level
  r.ue() // seq_parameter_set_id
  let chroma = 1
  let separatePlanes = 0
  if (HIGH_PROFILES.has(profile)) {
    chroma = r.ue()
    if (chroma > 3) return undefined
    if (chroma === 3) separatePlanes = r.bit()
    r.ue() // bit depths
    r.ue()
    r.bit() // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64)
  }
  r.ue() // log2_max_frame_num_minus4
  const pocType = r.ue()
  if (pocType === 0) r.ue()
  else if (pocType === 1) {
    r.bit()
    r.se()
    r.se()
    for (let i = 0, n = r.ue(); i < n; i++) r.se()
  } else if (pocType !== 2) return undefined
  r.ue() // max_num_ref_frames
  r.bit() // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1
  const heightUnits = r.ue() + 1
  const frameMbsOnly = r.bit()
  if (!frameMbsOnly) r.bit()
  r.bit() // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0]
  if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()]
  const [left, right, top, bottom] = crop as [number, number, number, number]
  if (left !== 0 || top !== 0) return undefined
  const arrayType = separatePlanes ? 0 : chroma
  const cropX = arrayType === 0 ? 1 : arrayType === 3 ? 1 : 2
  const cropY = (arrayType === 0 ? 1 : arrayType === 1 ? 2 : 1) * (2 - frameMbsOnly)
  const width = widthMbs * 16 - cropX * right
  const height = (2 - frameMbsOnly) * heightUnits * 16 - cropY * bottom
  return width > 0 && height > 0 ? { width, height } : undefined
}
