import { describe, expect, it } from 'vitest'
import { estimateTogetherCost } from './together-pricing.js'

describe('estimateTogetherCost', () => {
  it('prices Seedance 2.0 per second by resolution', () => {
    expect(estimateTogetherCost({ model: 'ByteDance/Seedance-2.0', resolution: '720P', seconds: '5' })).toBeCloseTo(0.8)
    expect(estimateTogetherCost({ model: 'ByteDance/Seedance-2.0', width: 1920, height: 1080, seconds: '10' })).toBeCloseTo(4)
  })

  it('prices HappyHorse at 1080p only', () => {
    expect(estimateTogetherCost({ model: 'alibaba/happyhorse-1.0-t2v', resolution: '1080P', seconds: '4' })).toBeCloseTo(0.96)
    expect(estimateTogetherCost({ model: 'alibaba/happyhorse-1.0-t2v', resolution: '720P', seconds: '4' })).toBeUndefined()
  })

  it('does not guess', () => {
    expect(estimateTogetherCost({ model: 'minimax/hailuo-02', width: 1366, height: 768, seconds: '6' })).toBeUndefined()
    expect(estimateTogetherCost({ model: 'ByteDance/Seedance-2.0', resolution: '720P' })).toBeUndefined()
    expect(estimateTogetherCost({ model: 'ByteDance/Seedance-2.0', seconds: '5' })).toBeUndefined()
  })
})
