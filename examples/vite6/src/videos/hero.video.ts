import { defineVideo } from '@vidspec/core'

export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: 'A paper boat drifting on a pond',
  seconds: 2,
  width: 320,
  height: 180,
  seed: 1,
})
