import { describe, expect, it } from 'vitest'
import { formatWarningGroup, groupWarnings, warningSummary } from './warnings.js'

const size = 'width/height: 640x360 is not a documented size of minimax/hailuo-02 (1366x768, 1920x1080); the provider may refuse it'

describe('spec warnings', () => {
  it('says each distinct warning once, with the count and every spec it concerns', () => {
    const groups = groupWarnings([
      { spec: 'c.video.ts', warning: `c.video.ts: ${size}` },
      { spec: 'a.video.ts', warning: `a.video.ts: ${size}` },
      { spec: 'b.video.ts', warning: `b.video.ts: ${size}` },
      { spec: 'b.video.ts', warning: 'b.video.ts: frame_images: deprecated: use media.frame_images' },
      { spec: 'a.video.ts', warning: `a.video.ts: ${size}` },
    ])
    expect(groups.map(formatWarningGroup)).toEqual([
      `3 specs (a.video.ts, b.video.ts, c.video.ts): ${size}`,
      'b.video.ts: frame_images: deprecated: use media.frame_images',
    ])
    expect(warningSummary(groups)).toBe('2 distinct warnings about 3 specs; run "vidspec plan" to see them')
    expect(warningSummary([])).toBeUndefined()
  })

  it('names at most five specs and counts the rest', () => {
    const specs = Array.from({ length: 7 }, (_, i) => `s${i}.video.ts`)
    const [group] = groupWarnings(specs.map((spec) => ({ spec, warning: `${spec}: ${size}` })))
    expect(formatWarningGroup(group!)).toBe(`7 specs (s0.video.ts, s1.video.ts, s2.video.ts, s3.video.ts, s4.video.ts, +2 more): ${size}`)
  })
})
