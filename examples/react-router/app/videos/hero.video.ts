import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: 'A train crossing a snowy bridge',
  seconds: 2,
  width: 1366,
  height: 768,
  seed: 41,
})
