import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: 'A hot air balloon over a valley at sunrise',
  seconds: 2,
  width: 1366,
  height: 768,
  seed: 31,
})
