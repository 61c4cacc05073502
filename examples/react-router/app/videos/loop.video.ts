import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'google/veo-3.0',
  prompt: 'Fireflies in a dark forest, seamless loop',
  seconds: 1,
  width: 1280,
  height: 720,
  output_format: 'WEBM',
  seed: 42,
})
