import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'google/veo-3.0',
  prompt: 'Rain on a window at night, city lights behind',
  seconds: 1,
  width: 1280,
  height: 720,
  output_format: 'WEBM',
  seed: 22,
})
