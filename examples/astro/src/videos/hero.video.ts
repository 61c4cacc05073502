import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: 'A lighthouse on a cliff at dusk, slow push in',
  seconds: 2,
  width: 1366,
  height: 768,
  seed: 7,
})
