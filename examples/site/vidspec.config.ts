import { defineConfig } from '@vidspec/core'

export default defineConfig({
  cacheDir: '.vidspec',
  concurrency: 2,
  include: ['src/**/*.video.ts'],
})
