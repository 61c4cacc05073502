import { defineVideo } from '@vidspec/core'
import { brand } from '../brand'

// Pinned first frame: the product shot from the design team.
export default defineVideo({
  model: 'minimax/hailuo-02',
  prompt: `The product rotates slowly on a pedestal, ${brand.look}`,
  seconds: 6,
  width: 1366,
  height: 768,
  fps: 25,
  steps: brand.steps,
  seed: 7,
  media: { frame_images: [{ input_image: '../assets/first-frame.png', frame: 'first' }] },
})
