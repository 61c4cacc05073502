import { describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import type { NormalizedRequest } from '../types.js'
import { outputGeometry } from './geometry.js'

const base: NormalizedRequest = { model: 'some/model' }

describe('outputGeometry', () => {
  it('fills every default when the request sets nothing', () => {
    expect(outputGeometry(base)).toEqual({ width: 1366, height: 768, fps: 24, seconds: 6, format: 'MP4' })
  })

  it('takes width, height, fps, seconds and format from the request', () => {
    const g = outputGeometry({ ...base, width: 640, height: 480, fps: 30, seconds: '2.5', output_format: 'WEBM' })
    expect(g).toEqual({ width: 640, height: 480, fps: 30, seconds: 2.5, format: 'WEBM' })
  })

  it('keeps the default aspect when only one side is given', () => {
    expect(outputGeometry({ ...base, width: 683 })).toMatchObject({ width: 683, height: 384 })
    expect(outputGeometry({ ...base, height: 384 })).toMatchObject({ width: 683, height: 384 })
  })

  it.each([
    ['720P', '16:9', 1280, 720],
    ['720P', '9:16', 720, 1280],
    ['720P', '1:1', 960, 960],
    ['720P', '4:3', 1104, 832],
    ['720P', '3:4', 832, 1104],
    ['1080P', '16:9', 1920, 1080],
    ['1080P', '9:16', 1080, 1920],
    ['1080P', '1:1', 1440, 1440],
    ['1080P', '4:3', 1648, 1248],
    ['1080P', '3:4', 1248, 1648],
  ] as const)('maps %s %s to %ix%i', (resolution, ratio, width, height) => {
    expect(outputGeometry({ ...base, resolution, ratio })).toMatchObject({ width, height })
  })

  it('uses 1080P or 16:9 for the missing half of resolution/ratio', () => {
    expect(outputGeometry({ ...base, resolution: '720P' })).toMatchObject({ width: 1280, height: 720 })
    expect(outputGeometry({ ...base, ratio: '9:16' })).toMatchObject({ width: 1080, height: 1920 })
  })

  it('rejects a seconds value that is not a positive number', () => {
    for (const seconds of ['abc', '0', '-1']) {
      let caught: unknown
      try {
        outputGeometry({ ...base, seconds })
      } catch (err) {
        caught = err
      }
      expect(isVidspecError(caught, 'SPEC_INVALID')).toBe(true)
    }
  })
})
