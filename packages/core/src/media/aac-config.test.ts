import { describe, expect, it } from 'vitest'
import { isAacLcConfig, isPlainAacLc } from './aac-config.js'

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex')

/** An esds payload as ffmpeg writes it: version 0, ES, decoder config (AAC, 44.1 kHz stereo), sync layer 2. */
const FFMPEG_ESDS = hex('00000000 03808080 25000200 04808080 17401500 00000001 103d0001 103d0580 80800512 0856e500 06808080 0102')

describe('isAacLcConfig', () => {
  it.each([
    ['AAC LC, 44.1 kHz, stereo', '1210'],
    ['AAC LC, 48 kHz, mono', '1188'],
    ['AAC LC, 7.35 kHz (the last listed rate), 7.1 channels', '1638'],
    ['the explicit "no SBR" signal after it', '1208 56e5 00'],
  ])('accepts %s', (_what, config) => {
    expect(isAacLcConfig(hex(config))).toBe(true)
  })

  it.each([
    ['HE-AAC (object type 5)', '2b09 8800'],
    ['AAC Main (object type 1)', '0a10'],
    ['a reserved sampling rate index (13)', '1690'],
    ['an explicit sampling rate (index 15)', '1780 5622 1000'],
    ['channels from a program config element (0)', '1200'],
    ['960-sample frames', '1214'],
    ['an extension flag', '1211'],
    ['a byte too many', '1210 00'],
    ['a sync extension announcing SBR', '1208 56e5 80'],
    ['a sync extension of another type', '1208 56e3 00'],
    ['nothing but one byte', '12'],
    ['nothing at all', ''],
  ])('refuses %s', (_what, config) => {
    expect(isAacLcConfig(hex(config))).toBe(false)
  })
})

describe('isPlainAacLc', () => {
  it('accepts the esds ffmpeg writes, and the one-byte lengths other muxers write', () => {
    expect(isPlainAacLc(FFMPEG_ESDS)).toBe(true)
    expect(isPlainAacLc(hex('00000000 0319 000200 0411 4015 000000 00011000 00011000 0502 1210 0601 02'))).toBe(true)
  })

  it('refuses any changed byte that breaks its structure', () => {
    // The stream's id, buffer size and bit rates are free; the rest is structure, identity or configuration.
    const free = new Set([9, 10, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
    for (let at = 0; at < FFMPEG_ESDS.length; at++) {
      if (free.has(at)) continue
      const copy = Buffer.from(FFMPEG_ESDS)
      copy[at] = (copy[at] as number) ^ 0xff
      expect({ at, plain: isPlainAacLc(copy) }).toEqual({ at, plain: false })
    }
  })

  it('refuses a payload cut short or followed by more', () => {
    for (let keep = 0; keep < FFMPEG_ESDS.length; keep++) expect(isPlainAacLc(FFMPEG_ESDS.subarray(0, keep)), `${keep} bytes`).toBe(false)
    expect(isPlainAacLc(Buffer.concat([FFMPEG_ESDS, hex('00')]))).toBe(false)
  })
})
