import { defineVideo } from '@vidspec/core'
import { brand } from '../brand'

// Wan 2.7 takes a resolution tier and an aspect ratio instead of width/height.
export default defineVideo({
  model: 'Wan-AI/wan2.7-t2v',
  prompt: `A drone shot rising over a coastal town at golden hour, ${brand.look}`,
  negative_prompt: brand.negative,
  resolution: '720P',
  ratio: '16:9',
  seconds: 3,
  seed: 11,
})
