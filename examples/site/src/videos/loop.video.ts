import { defineVideo } from '@vidspec/core'
import { brand } from '../brand'

// WebM: smaller for the background loop.
export default defineVideo({
  model: 'google/veo-3.0',
  prompt: `Abstract ink drifting in water, seamless loop, ${brand.look}`,
  seconds: 8,
  width: 1280,
  height: 720,
  fps: 24,
  output_format: 'WEBM',
  seed: 3,
})
