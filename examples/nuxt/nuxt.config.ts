import { fileURLToPath } from 'node:url'
import vidspec from '@vidspec/vite'

export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  // Not `/`, so a clip URL that forgets the base shows in the tests.
  app: { baseURL: '/site/' },
  telemetry: false,
  // Nuxt 4.3's payload cache refuses the key of the root route (unstorage: Invalid key "/") when prerendering.
  experimental: { payloadExtraction: false },
  devtools: { enabled: false },
  // Nuxt runs Vite with `app/` as its root; vidspec's project (vidspec.config.ts, .vidspec/) is this folder.
  vite: { plugins: [vidspec({ root: fileURLToPath(new URL('./', import.meta.url)) })] },
})
