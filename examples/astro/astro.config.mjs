import { defineConfig } from 'astro/config'
import vidspec from '@vidspec/vite'

// Static output (prerendered HTML). `base` is not `/`, so a clip URL that forgets it shows in the tests.
export default defineConfig({
  base: '/docs',
  vite: { plugins: [vidspec()] },
})
