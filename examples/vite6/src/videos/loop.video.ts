import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'google/veo-3.0',
  prompt: 'Ink drifting in water, seamless loop',
  seconds: 1,
  width: 320,
  height: 180,
  output_format: 'WEBM',
  seed: 2,
})
