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
  it('leaves a new job alone for 80% of the shortest of the last 8 of its kind, and knows nothing before one finished', () => {
    const d = new JobDurations()
    expect(d.quietMs('together', req())).toBe(0)
    d.record('together', req(), 1000)
    expect(d.quietMs('together', req())).toBe(800)
    d.record('together', req({ prompt: 'another prompt', seed: 7 }), 500)
    expect(d.quietMs('together', req())).toBe(400)
    // Eight slower ones push the fast one out.
    for (let i = 0; i < 8; i++) d.record('together', req(), 2000 + i)
    expect(d.quietMs('together', req())).toBe(1600)
  })

  it('judges a job only by jobs of its provider, model, size, length and steps', () => {
    const d = new JobDurations()
    d.record('together', req(), 1000)
    for (const other of [req({ model: 'google/veo-3.0' }), req({ width: 1920, height: 1080 }), req({ seconds: '10' }), req({ steps: 40 })]) {
      expect(d.quietMs('together', other)).toBe(0)
    }
    expect(d.quietMs('offline', req())).toBe(0)
  })
})
