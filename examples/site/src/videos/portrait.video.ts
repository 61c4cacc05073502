import { defineVideo } from '@vidspec/core'
import { brand } from '../brand'

export default defineVideo({
  model: 'ByteDance/Seedance-1.0-lite',
  prompt: `A barista pouring latte art, close-up, vertical framing, ${brand.look}`,
  seconds: 5,
  width: 416,
  height: 960,
  fps: 24,
  steps: brand.steps,
  guidance_scale: brand.guidance,
  seed: 5,
})
