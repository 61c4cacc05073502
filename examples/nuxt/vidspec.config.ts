import { defineConfig } from '@vidspec/core'

export default defineConfig({ cacheDir: '.vidspec', include: ['app/**/*.video.ts'] })
