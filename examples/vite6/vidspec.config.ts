import { defineConfig } from '@vidspec/core'

export default defineConfig({ cacheDir: '.vidspec', include: ['src/**/*.video.ts'] })
