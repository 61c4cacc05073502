import { describe, expect, it } from 'vitest'
import type { ProviderRequest } from '../providers/types.js'
import { JobDurations } from './durations.js'

const req = (over: Partial<ProviderRequest['request']> = {}): ProviderRequest => ({
  key: 'k',
  spec: 'a.video.ts',
  media: new Map(),
  request: { model: 'minimax/hailuo-02', prompt: 'a harbour', width: 1366, height: 768, seconds: '6', ...over },
})

describe('JobDurations', () => {
  it('leaves a new job alone for 80% of the shortest of the last 8 of its kind until a few say how much they vary, and knows nothing before one finished', () => {
    const d = new JobDurations()
    expect(d.quietMs('together', req(), 50)).toBe(0)
    d.record('together', req(), 1000)
    expect(d.quietMs('together', req(), 50)).toBe(800)
    d.record('together', req({ prompt: 'another prompt', seed: 7 }), 500)
    expect(d.quietMs('together', req(), 50)).toBe(400)
    // Eight slower ones push the fast one out; they vary by 7 ms in all, less than one interval.
    for (let i = 0; i < 8; i++) d.record('together', req(), 2000 + i)
    expect(d.quietMs('together', req(), 50)).toBe(1950)
  })

  it('leaves a job of a kind seen taking alike times alone until one interval, or the gap between one time and the next, before the shortest', () => {
    const d = new JobDurations()
    for (const ms of [1000, 1010, 1005]) d.record('together', req(), ms)
    // Alike: the interval is the larger.
    expect(d.quietMs('together', req(), 20)).toBe(980)
    // Three times 1,000-1,010 ms apart by 5 ms on average: a 4 ms interval leaves the gap.
    expect(d.quietMs('together', req(), 4)).toBe(995)
    // Times that vary widely: the share holds, never less.
    d.record('together', req(), 3000)
    expect(d.quietMs('together', req(), 20)).toBe(800)
  })

  it('judges a job only by jobs of its provider, model, size, length and steps', () => {
    const d = new JobDurations()
    d.record('together', req(), 1000)
    for (const other of [req({ model: 'google/veo-3.0' }), req({ width: 1920, height: 1080 }), req({ seconds: '10' }), req({ steps: 40 })]) {
      expect(d.quietMs('together', other, 50)).toBe(0)
    }
    expect(d.quietMs('offline', req(), 50)).toBe(0)
  })
})
