import { defineVideo } from '@vidspec/core'
import { brand } from '../brand'

export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: `A person walking through a forest at dawn, camera slowly tracking alongside, ${brand.look}`,
  negative_prompt: brand.negative,
  seconds: 6,
  width: 1366,
  height: 768,
  fps: 25,
  steps: brand.steps,
  guidance_scale: brand.guidance,
  seed: 42,
})
